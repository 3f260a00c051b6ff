import Core
import NN
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A denoising diffusion probabilistic model seen as a hierarchical VAE whose encoder
/// q(x_1…x_T | x_0) is the fixed noising process of ``GaussianDiffusion``: no encoder
/// parameters. The only network is the ε-predictor `denoiser`, which the diffusion math is
/// handed, not owns.
///
/// Data enter on their dataset scale; binary data {0, 1} are diffused as {−1, 1}, and their
/// decoder p(x_0 | x_1) is the discretized Gaussian with 2 levels (a probit Bernoulli).
public final class DDPM: LatentVariableModel {
    public let configuration: DDPMConfiguration
    /// The noising process and its posteriors (constants in Double).
    public let diffusion: GaussianDiffusion
    /// p_θ(x_{t−1} | x_t) and L_{t−1} from the network's outputs: shared by evaluation and training.
    let reverseProcess: ReverseProcess
    /// ε_θ(x_t, t): an MLP on [x_t, e(t)] or a U-Net on the image x_t (``DDPMConfiguration/architecture``)
    /// → ε̂ (and, for learned-range, v).
    public let denoiser: any DenoisingNetwork
    public let likelihood: Likelihood
    /// e(s(t)) of every timestep, computed once (``DDPMConfiguration/timestepScaling``).
    public let timestepEmbedding: DiffusionTimestepEmbedding
    /// Fourier features stacked on x_t before the network (``DDPMConfiguration/fourierExponents``), or `nil`.
    public let fourierFeatures: FourierFeatures?

    /// Rows per network call during evaluation: bounds memory while keeping the products
    /// efficient. An MLP row costs a few KB of activations, a U-Net row (an image) a few
    /// hundred KB, so the U-Net is called on fewer rows at once.
    public var evaluationRowsPerCall: Int

    /// ``evaluationRowsPerCall`` for an architecture.
    public static func defaultEvaluationRowsPerCall(_ architecture: NetworkArchitecture) -> Int {
        architecture == .conv ? 256 : 16384
    }

    public init(configuration: DDPMConfiguration, using generator: inout RandomGenerator) throws {
        try configuration.validate()
        try Self.refuseContinuousTime(configuration)
        self.configuration = configuration
        self.likelihood = configuration.likelihood
        diffusion = GaussianDiffusion(schedule: configuration.schedule, timestepCount: configuration.timestepCount)
        reverseProcess = ReverseProcess(diffusion: diffusion, variance: configuration.variance,
                                        clipsPredictedStart: configuration.clipsPredictedStart, decoderLevels: configuration.likelihood.levels)
        timestepEmbedding = DiffusionTimestepEmbedding(configuration: configuration)
        fourierFeatures = configuration.fourierFeatures
        evaluationRowsPerCall = Self.defaultEvaluationRowsPerCall(configuration.architecture)
        denoiser = Self.makeDenoiser(configuration, outputsPerValue: configuration.variance == .learnedRange ? 2 : 1, using: &generator)
    }

    /// The ε-network of a configuration: an MLP on [x_t (with its Fourier features) | e(t)] or
    /// a U-Net on the image (with its features as extra channels), `outputsPerValue` outputs
    /// per value of x (ε̂, and v for learned-range).
    static func makeDenoiser(_ configuration: DDPMConfiguration, outputsPerValue: Int, using generator: inout RandomGenerator) -> any DenoisingNetwork {
        switch configuration.architecture {
        case .mlp:
            return MLP(sizes: [configuration.networkInputWidth + configuration.embeddingDimension] + configuration.hiddenSizes
                              + [outputsPerValue * configuration.dataDimension],
                       activation: configuration.activation, using: &generator)
        case .conv:
            // validate() guarantees the settings.
            let settings = configuration.convolution!
            return UNet(settings: settings, embeddingDimension: configuration.embeddingDimension,
                        outputChannels: outputsPerValue * settings.image.channels,
                        inputChannels: configuration.fourierFeatures?.outputChannels, using: &generator)
        }
    }

    /// A DDPM around a given denoiser (closed-form tests set one by hand).
    public init(configuration: DDPMConfiguration, denoiser: any DenoisingNetwork) throws {
        try configuration.validate()
        try Self.refuseContinuousTime(configuration)
        self.configuration = configuration
        self.likelihood = configuration.likelihood
        diffusion = GaussianDiffusion(schedule: configuration.schedule, timestepCount: configuration.timestepCount)
        reverseProcess = ReverseProcess(diffusion: diffusion, variance: configuration.variance,
                                        clipsPredictedStart: configuration.clipsPredictedStart, decoderLevels: configuration.likelihood.levels)
        timestepEmbedding = DiffusionTimestepEmbedding(configuration: configuration)
        fourierFeatures = configuration.fourierFeatures
        evaluationRowsPerCall = Self.defaultEvaluationRowsPerCall(configuration.architecture)
        self.denoiser = denoiser
    }

    /// A continuous-time configuration is a ``ContinuousTimeDDPM``'s.
    static func refuseContinuousTime(_ configuration: DDPMConfiguration) throws {
        guard configuration.continuousTime == nil else {
            throw ModelError.invalidConfiguration("DDPM: a continuous-time configuration builds a ContinuousTimeDDPM, not a DDPM of T steps")
        }
    }

    public var kind: ModelKind { .ddpm }
    public var dataDimension: Int { configuration.dataDimension }
    public var latentLayerCount: Int { configuration.timestepCount }
    /// The encoder is a fixed diffusion: zero parameters.
    public var encoderParameterCount: Int { 0 }
    public var decoderParameterCount: Int { parameterCount }

    /// Levels of the decoder's discretization on the diffusion scale (binary → 2), or `nil`.
    var decoderLevels: Int? { reverseProcess.decoderLevels }

    // MARK: - Scales and the network

    /// Data on the diffusion scale: binary {0, 1} → {−1, 1}; others unchanged.
    func diffusionScale(_ x: [Float]) -> [Double] {
        likelihood == .binary ? x.map { 2 * Double($0) - 1 } : x.map(Double.init)
    }

    /// ε_θ on a batch: `xt` [rows, D], one timestep per row → network output [rows, D or 2D].
    /// A ``TimestepDenoisingNetwork`` (the oracle) is handed the timesteps themselves.
    public func network(_ xt: Tensor, timesteps: [Int]) -> Tensor {
        if let timestepDenoiser = denoiser as? any TimestepDenoisingNetwork {
            return timestepDenoiser.denoise(xt, timesteps: timesteps)
        }
        return denoiser.denoise(fourierFeatures.map { $0(xt) } ?? xt, embedding: timestepEmbedding(timesteps))
    }

    /// Network outputs without recording, for rows of x_t in Double, [rows, D or 2D]: at most
    /// ``evaluationRowsPerCall`` rows per network call (sampling many chains at once stays
    /// within the same memory as evaluation). A row's output does not depend on the others.
    func predict(_ xt: [Double], timesteps: [Int]) -> [Float] {
        let dimension = dataDimension
        return predictInChunks(rows: timesteps.count, perCall: evaluationRowsPerCall) { range in
            let part = xt[(range.lowerBound * dimension)..<(range.upperBound * dimension)].map(Float.init)
            return network(Tensor(shape: [range.count, dimension], storage: part), timesteps: Array(timesteps[range])).storage
        }
    }

    /// ε̂ and, for learned-range, v of element `d` of row `row` of a network output [rows, D or 2D].
    @inline(__always)
    func networkOutput(_ output: UnsafeBufferPointer<Float>, row: Int, d: Int) -> (epsilon: Double, interpolation: Double?) {
        if configuration.variance == .learnedRange {
            let width = 2 * dataDimension
            return (Double(output[row * width + d]), Double(output[row * width + dataDimension + d]))
        }
        return (Double(output[row * dataDimension + d]), nil)
    }

    /// (μ_θ, log σ_t²) of p_θ(x_{t−1} | x_t) for element `d` of a row of network output.
    @inline(__always)
    func reverseStep(_ t: Int, xt: Double, output: UnsafeBufferPointer<Float>, row: Int, d: Int) -> (mean: Double, logVariance: Double) {
        let (epsilon, interpolation) = networkOutput(output, row: row, d: d)
        return reverseProcess.reverseMeanAndLogVariance(xt: xt, epsilon: epsilon, interpolation: interpolation, at: t)
    }

    // MARK: - The exact ELBO

    /// −ELBO = L_T + Σ_{t=2}^{T} L_{t−1} + L_0 per example, with the closed-form Gaussian KLs of
    /// Ho et al. and one draw of x_t ~ q(x_t | x_0) per t (improved-diffusion's `calc_bpd_loop`).
    /// Layer j (1…T) of the result is L_j, the KL for latent x_j; the reconstruction is −L_0.
    /// docs/math.md#per-timestep-bound-term
    public func elbo(_ x: Tensor, using generator: inout RandomGenerator) -> ELBOTerms {
        elbo(x) { noise in noise.withUnsafeMutableBufferPointer { generator.fillNormal($0) } }
    }

    /// The same ELBO with the standard normal draws supplied by `fillNoise`, called once per
    /// group of timesteps with a buffer laid out [t, example, dimension] (t ascending). With all
    /// draws zero every x_t sits at its mean √ᾱ_t x_0: a deterministic value tests can check.
    public func elbo(_ x: Tensor, fillNoise: (inout [Float]) -> Void) -> ELBOTerms {
        let batch = x.shape[0], dimension = dataDimension, steps = configuration.timestepCount
        let x0 = diffusionScale(x.storage)
        var reconstruction = [Double](repeating: 0, count: batch)
        var layerKL = [[Double]](repeating: [Double](repeating: 0, count: batch), count: steps)
        for i in 0..<batch {
            var total = 0.0
            for d in 0..<dimension { total += diffusion.priorKL(x0: x0[i * dimension + d]) }
            layerKL[steps - 1][i] = total
        }
        let stepsPerCall = Swift.max(1, evaluationRowsPerCall / Swift.max(batch, 1))
        var first = 1
        while first <= steps {
            let last = Swift.min(steps, first + stepsPerCall - 1)
            var xt = [Double](repeating: 0, count: (last - first + 1) * batch * dimension)
            var timesteps: [Int] = []
            var noise = [Float](repeating: 0, count: xt.count)
            fillNoise(&noise)
            for t in first...last {
                let base = (t - first) * batch * dimension
                for j in 0..<(batch * dimension) { xt[base + j] = diffusion.qSample(start: x0[j], noise: Double(noise[base + j]), at: t) }
                timesteps += [Int](repeating: t, count: batch)
            }
            let output = predict(xt, timesteps: timesteps)
            output.withUnsafeBufferPointer { output in
                for t in first...last {
                    for i in 0..<batch {
                        let row = (t - first) * batch + i
                        var total = 0.0
                        for d in 0..<dimension {
                            let (epsilon, interpolation) = networkOutput(output, row: row, d: d)
                            total += reverseProcess.boundTerm(start: x0[i * dimension + d], xt: xt[row * dimension + d],
                                                              epsilon: epsilon, interpolation: interpolation, at: t)
                        }
                        // L_0 = −log p_θ(x_0 | x_1): the reconstruction is its negative, exactly (rounding is
                        // symmetric); 0 − total rather than −total keeps an exact zero +0.
                        if t == 1 { reconstruction[i] = 0 - total } else { layerKL[t - 2][i] = total }
                    }
                }
            }
            first = last + 1
        }
        let names = (1...steps).map { "L_\($0)" }
        return ELBOTerms(reconstruction: reconstruction, layerNames: names, layerKL: layerKL)
    }

    // MARK: - The generic hierarchical-VAE view

    /// log w = log p(x_T) + Σ_{t=2}^{T} log p_θ(x_{t−1} | x_t) + log p_θ(x_0 | x_1) − Σ_{t=1}^{T} log q(x_t | x_{t−1})
    /// for K chains x_{1:T} sampled forward step by step from q(x_{1:T} | x_0), exactly as for any
    /// hierarchical VAE with a Markov encoder. E[log w] is the ELBO; log-mean-exp over K is IWAE_K.
    /// docs/math.md#markov-chain-log-importance-weight
    public func logImportanceWeights(_ x: Tensor, samples: Int, using generator: inout RandomGenerator) -> LogImportanceWeights {
        precondition(samples >= 1, "K must be at least 1")
        let batch = x.shape[0], dimension = dataDimension
        let x0 = diffusionScale(x.storage)
        var values = [Double](repeating: 0, count: samples * batch)
        let chainsPerCall = Swift.max(1, evaluationRowsPerCall)
        let totalChains = samples * batch
        var firstChain = 0
        while firstChain < totalChains {
            let chains = Swift.min(chainsPerCall, totalChains - firstChain)
            let logWeights = logWeightsOfChains(x0: x0, chainRange: firstChain..<(firstChain + chains), batch: batch, dimension: dimension, using: &generator)
            for c in 0..<chains { values[firstChain + c] = logWeights[c] }
            firstChain += chains
        }
        return LogImportanceWeights(samples: samples, batch: batch, values: values)
    }

    /// Chains are numbered k · batch + i (sample k of example i), matching the row-major
    /// [K, batch] layout of the weights.
    private func logWeightsOfChains(x0: [Double], chainRange: Range<Int>, batch: Int, dimension: Int,
                                    using generator: inout RandomGenerator) -> [Double] {
        let chains = chainRange.count
        var previous = [Double](repeating: 0, count: chains * dimension)
        var start = [Double](repeating: 0, count: chains * dimension)
        for (c, chain) in chainRange.enumerated() {
            let i = chain % batch
            for d in 0..<dimension { start[c * dimension + d] = x0[i * dimension + d] }
        }
        previous = start
        var logWeight = [Double](repeating: 0, count: chains)
        var current = [Double](repeating: 0, count: chains * dimension)
        var noise = [Float](repeating: 0, count: chains * dimension)
        for t in 1...configuration.timestepCount {
            let rootAlpha = diffusion.alphas[t - 1].squareRoot()
            let logBeta = log(diffusion.betas[t - 1])
            let rootBeta = diffusion.betas[t - 1].squareRoot()
            noise.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
            for j in 0..<(chains * dimension) {
                current[j] = rootAlpha * previous[j] + rootBeta * Double(noise[j])
                logWeight[j / dimension] -= GaussianFormulas.logDensity(current[j], mean: rootAlpha * previous[j], logVariance: logBeta)
            }
            let output = predict(current, timesteps: [Int](repeating: t, count: chains))
            output.withUnsafeBufferPointer { output in
                for c in 0..<chains {
                    for d in 0..<dimension {
                        let p = reverseStep(t, xt: current[c * dimension + d], output: output, row: c, d: d)
                        if t == 1 {
                            logWeight[c] += reverseProcess.decoderLogLikelihood(start: start[c * dimension + d], mean: p.mean, logVariance: p.logVariance)
                        } else {
                            logWeight[c] += GaussianFormulas.logDensity(previous[c * dimension + d], mean: p.mean, logVariance: p.logVariance)
                        }
                    }
                }
            }
            swap(&previous, &current)
        }
        // previous now holds x_T.
        for j in 0..<(chains * dimension) { logWeight[j / dimension] += GaussianFormulas.logDensity(previous[j], mean: 0, logVariance: 0) }
        return logWeight
    }

    // MARK: - Sampling

    /// Ancestral sampling: x_T ~ N(0, I), x_{t−1} ~ p_θ(x_{t−1} | x_t), then x_0 ~ p_θ(x_0 | x_1),
    /// returned on the dataset's scale. The loop is ``ancestralChains(count:weighted:using:)``.
    public func sample(count: Int, using generator: inout RandomGenerator) -> Tensor {
        ancestralChains(count: count, weighted: false, using: &generator).samples
    }
}
