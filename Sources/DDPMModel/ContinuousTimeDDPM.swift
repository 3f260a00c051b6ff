import Core
import NN
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The DDPM as T → ∞ (Kingma et al. 2021, "Variational Diffusion Models"): the same
/// hierarchical VAE with a fixed Gaussian encoder, its latents z_t = α_t x + σ_t ε indexed by
/// t ∈ [0, 1] and its noise given by a log-SNR schedule γ(t) (``LogSNRSchedule``: fixed, or
/// learned with a few parameters — then the encoder has those, and only those).
///
/// −ELBO_∞(x) = KL(q(z_1|x) ‖ N(0, I)) − E log p(x | z_0) + ½ E_{t~U(0,1), ε} [γ'(t) ‖ε − ε̂(z_t; t)‖²]
///
/// (docs/math.md#continuous-time-elbo). The same model read on a grid of T steps
/// (t = i/T, i = 0…T) is a hierarchical VAE with T + 1 latent layers z_0, z_{1/T}, …, z_1, whose
/// ELBO_T is at most ELBO_∞ and grows with T (docs/math.md#discrete-time-elbo-of-a-continuous-model):
/// ``elbo(_:using:)``, the importance weights and sampling use ``timestepCount`` steps, and
/// ``continuousELBO(_:using:)`` gives the limit.
///
/// The decoder p(x | z_0) is the data's family (discretized Gaussian on the levels, binary as
/// 2 levels of ±1, or a Gaussian density) with mean z_0/α_0 and scale σ_0/α_0 = e^{γ(0)/2}: no
/// network, as in VDM. The reverse step p(z_s | z_t) = q(z_s | z_t, x = x̂(z_t; t)) with
/// x̂ = (z_t − σ_t ε̂)/α_t, unclipped. Parameter keys: `denoiser.…` as every DDPM, then
/// `schedule.…` (learned schedules only).
public final class ContinuousTimeDDPM: LatentVariableModel {
    public let configuration: DDPMConfiguration
    /// The schedule's kind and (initial) end points.
    public let settings: ContinuousTimeSettings
    public let likelihood: Likelihood
    /// ε̂(z_t; γ_t): an MLP on [z_t (with Fourier features) | e(c(γ_t))] or a U-Net.
    public let denoiser: any DenoisingNetwork
    /// γ(t), fixed or learned.
    public let schedule: LogSNRSchedule
    /// Fourier features stacked on z_t before the network, or `nil`.
    public let fourierFeatures: FourierFeatures?
    /// T of the discrete-time reading used by ``elbo(_:using:)``, the importance weights and
    /// sampling: the configuration's, unless an evaluation asks for another.
    public var timestepCount: Int
    /// Rows per network call during evaluation (as ``DDPM/evaluationRowsPerCall``).
    public var evaluationRowsPerCall: Int
    /// Levels of the decoder's discretization on the diffusion scale (binary → 2), or `nil`.
    let decoderLevels: Int?
    /// The sinusoidal embedding's frequencies fᵢ = 10000^{−i/h} (docs/math.md#timestep-embedding).
    let frequencies: [Float]

    /// A fresh model: the ε-network's weights, then the learned schedule's, drawn from `generator`.
    public convenience init(configuration: DDPMConfiguration, using generator: inout RandomGenerator) throws {
        let settings = try Self.validatedSettings(configuration)
        let denoiser = DDPM.makeDenoiser(configuration, outputsPerValue: 1, using: &generator)
        try self.init(configuration: configuration, denoiser: denoiser, schedule: LogSNRSchedule(settings: settings, using: &generator))
    }

    /// A continuous-time DDPM around a given denoiser and schedule (closed-form tests, and the
    /// same network under another schedule in lesson 4).
    public init(configuration: DDPMConfiguration, denoiser: any DenoisingNetwork, schedule: LogSNRSchedule) throws {
        let settings = try Self.validatedSettings(configuration)
        self.configuration = configuration
        self.settings = settings
        likelihood = configuration.likelihood
        fourierFeatures = configuration.fourierFeatures
        self.denoiser = denoiser
        self.schedule = schedule
        timestepCount = configuration.timestepCount
        evaluationRowsPerCall = DDPM.defaultEvaluationRowsPerCall(configuration.architecture)
        decoderLevels = configuration.likelihood.levels
        frequencies = sinusoidalFrequencies(dimension: configuration.embeddingDimension)
    }

    /// The configuration's continuous-time settings, once the whole configuration is valid.
    static func validatedSettings(_ configuration: DDPMConfiguration) throws -> ContinuousTimeSettings {
        try configuration.validate()
        guard let settings = configuration.continuousTime else {
            throw ModelError.invalidConfiguration("DDPM: a ContinuousTimeDDPM needs a continuous-time configuration")
        }
        return settings
    }

    public var kind: ModelKind { .ddpm }
    public var dataDimension: Int { configuration.dataDimension }
    /// z_0, z_{1/T}, …, z_1.
    public var latentLayerCount: Int { timestepCount + 1 }
    /// The learned schedule's parameters (q(z_t | x) depends on them); 0 for a fixed schedule.
    public var encoderParameterCount: Int { schedule.parameterCount }
    /// The ε-network's (the schedule's end points enter p too, but are counted once, above).
    public var decoderParameterCount: Int { denoiser.parameterCount }

    /// Refuses parameters that give no increasing schedule (after a checkpoint is loaded).
    public func checkParameters() throws { try schedule.check() }

    // MARK: - Scales and the network

    /// Data on the diffusion scale: binary {0, 1} → {−1, 1}; others unchanged.
    func diffusionScale(_ x: [Float]) -> [Double] {
        likelihood == .binary ? x.map { 2 * Double($0) - 1 } : x.map(Double.init)
    }

    /// The same as Float32 for training, cut from the graph.
    func trainingScale(_ x: Tensor) -> Tensor {
        likelihood == .binary ? Tensor(shape: x.shape, storage: x.storage.map { 2 * $0 - 1 }) : x.detached()
    }

    /// e(c) with c = 1000 (γ − γ₀ⁱⁿⁱᵗ)/(γ₁ⁱⁿⁱᵗ − γ₀ⁱⁿⁱᵗ): the noise level on the 0…1000 scale of
    /// the timestep embedding, from the configuration's (initial) end points, so that the
    /// network is a function of (z, γ) — the schedule-invariant parameterization of VDM — and
    /// gradients reach γ through it. [rows, 1] → [rows, E]. docs/math.md#continuous-time-elbo
    func embedding(_ negativeLogSNR: Tensor) -> Tensor {
        let scale = Float(1000 / (settings.endNegativeLogSNR - settings.startNegativeLogSNR))
        let level = (negativeLogSNR - Float(settings.startNegativeLogSNR)) * scale
        let angles = level * Tensor(shape: [1, frequencies.count], storage: frequencies)
        return Tensor.concatenate([angles.sine(), angles.cosine()], axis: 1)
    }

    /// ε̂ for rows of z_t [rows, D] at γ [rows, 1] → [rows, D].
    public func network(_ zt: Tensor, negativeLogSNR: Tensor) -> Tensor {
        if let closedForm = denoiser as? any LogSNRDenoisingNetwork {
            return closedForm.denoise(zt, negativeLogSNR: negativeLogSNR)
        }
        return denoiser.denoise(fourierFeatures.map { $0(zt) } ?? zt, embedding: embedding(negativeLogSNR))
    }

    /// ε̂ without recording for rows of z_t in Double at one γ per row, at most
    /// ``evaluationRowsPerCall`` rows per call: [rows · D].
    func predict(_ zt: [Double], negativeLogSNR: [Double]) -> [Float] {
        let dimension = dataDimension
        return predictInChunks(rows: negativeLogSNR.count, perCall: evaluationRowsPerCall) { range in
            let part = zt[(range.lowerBound * dimension)..<(range.upperBound * dimension)].map(Float.init)
            let levels = Tensor(shape: [range.count, 1], storage: negativeLogSNR[range].map(Float.init))
            return network(Tensor(shape: [range.count, dimension], storage: part), negativeLogSNR: levels).storage
        }
    }

    /// γ(i/T) for i = 0…T.
    public func negativeLogSNRGrid(_ steps: Int) -> [Double] {
        schedule.valuesAndDerivatives(at: (0...steps).map { Double($0) / Double(steps) }).map(\.value)
    }

    // MARK: - The two terms every reading shares

    /// log p(x | z_0) per element, for z_0/α_0 = `rescaled` (docs/math.md#continuous-time-elbo).
    @inline(__always)
    func decoderLogLikelihood(start: Double, rescaled: Double, startNegativeLogSNR gamma0: Double) -> Double {
        if let levels = decoderLevels {
            return DiscretizedGaussian.logProbabilityAndGradient(start, mean: rescaled, logScale: 0.5 * gamma0, levels: levels).value
        }
        return GaussianFormulas.logDensity(start, mean: rescaled, logVariance: gamma0)
    }

    /// KL(q(z_1 | x) ‖ N(0, 1)) per element.
    @inline(__always)
    func priorKL(start: Double, endNegativeLogSNR gamma1: Double) -> Double {
        GaussianFormulas.kl(mean1: LogSNRFormulas.alpha(gamma1) * start, logVariance1: LogSNRFormulas.logSigmaSquared(gamma1),
                            mean2: 0, logVariance2: 0)
    }

    /// Reconstruction (one draw of z_0) and prior KL per example.
    func reconstructionAndPrior(_ x0: [Double], batch: Int, using generator: inout RandomGenerator) -> (reconstruction: [Double], prior: [Double]) {
        let dimension = dataDimension
        let (gamma0, gamma1) = schedule.endPoints
        let scale0 = exp(0.5 * gamma0)
        var noise = [Float](repeating: 0, count: batch * dimension)
        noise.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
        var reconstruction = [Double](repeating: 0, count: batch), prior = [Double](repeating: 0, count: batch)
        for i in 0..<batch {
            for d in 0..<dimension {
                let j = i * dimension + d
                reconstruction[i] += decoderLogLikelihood(start: x0[j], rescaled: x0[j] + scale0 * Double(noise[j]), startNegativeLogSNR: gamma0)
                prior[i] += priorKL(start: x0[j], endNegativeLogSNR: gamma1)
            }
        }
        return (reconstruction, prior)
    }

    /// ‖ε − ε̂(z_t; γ_t)‖² per row for rows of (example, γ): z_t = α_t x + σ_t ε with ε from
    /// `noise` [rows · D]. `examples[r]` is row r's example.
    func squaredNoiseErrors(_ x0: [Double], examples: [Int], negativeLogSNR: [Double], noise: [Float]) -> [Double] {
        let dimension = dataDimension, rows = examples.count
        var zt = [Double](repeating: 0, count: rows * dimension)
        for r in 0..<rows {
            let alpha = LogSNRFormulas.alpha(negativeLogSNR[r]), sigma = LogSNRFormulas.sigma(negativeLogSNR[r])
            for d in 0..<dimension { zt[r * dimension + d] = alpha * x0[examples[r] * dimension + d] + sigma * Double(noise[r * dimension + d]) }
        }
        let output = predict(zt, negativeLogSNR: negativeLogSNR)
        var result = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            var total = 0.0
            for d in 0..<dimension {
                let e = Double(noise[r * dimension + d]) - Double(output[r * dimension + d])
                total += e * e
            }
            result[r] = total
        }
        return result
    }

    // MARK: - The continuous-time ELBO

    /// −ELBO_∞ per example: layers `L_diffusion` (½ γ'(t) ‖ε − ε̂‖², one t per example per draw)
    /// and `L_prior`; the reconstruction is log p(x | z_0). With `draws` > 1 each example's
    /// diffusion term averages that many t. The t of one draw are spread over the batch with
    /// one uniform offset, tᵢ = (u + i/n) mod 1 (each tᵢ uniform, the batch's mean of lower
    /// variance). docs/math.md#continuous-time-elbo
    public func continuousELBO(_ x: Tensor, draws: Int = 1, using generator: inout RandomGenerator) -> ELBOTerms {
        precondition(draws >= 1, "at least one draw")
        let batch = x.shape[0], dimension = dataDimension
        let x0 = diffusionScale(x.storage)
        let (reconstruction, prior) = reconstructionAndPrior(x0, batch: batch, using: &generator)
        var diffusion = [Double](repeating: 0, count: batch)
        for _ in 0..<draws {
            let offset = generator.nextUniform()
            let times = (0..<batch).map { i in (offset + Double(i) / Double(batch)).truncatingRemainder(dividingBy: 1) }
            let levels = schedule.valuesAndDerivatives(at: times)
            var noise = [Float](repeating: 0, count: batch * dimension)
            noise.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
            let errors = squaredNoiseErrors(x0, examples: Array(0..<batch), negativeLogSNR: levels.map(\.value), noise: noise)
            for i in 0..<batch { diffusion[i] += 0.5 * levels[i].derivative * errors[i] / Double(draws) }
        }
        return ELBOTerms(reconstruction: reconstruction, layerNames: ["L_diffusion", "L_prior"], layerKL: [diffusion, prior])
    }

    // MARK: - The discrete-time reading at T

    /// −ELBO_T per example, exactly as for any hierarchical VAE with a Markov encoder, one draw
    /// of z_t ~ q(z_t | x) per step: layer j = 1…T is the KL for latent z_{(j−1)/T},
    ///   L_j = ½ expm1(γ(j/T) − γ((j−1)/T)) ‖ε − ε̂(z_{j/T})‖²,
    /// layer T + 1 the prior KL for z_1, and the reconstruction log p(x | z_0).
    /// docs/math.md#discrete-time-elbo-of-a-continuous-model
    public func elbo(_ x: Tensor, using generator: inout RandomGenerator) -> ELBOTerms {
        let batch = x.shape[0], dimension = dataDimension, steps = timestepCount
        let x0 = diffusionScale(x.storage)
        let grid = negativeLogSNRGrid(steps)
        let (reconstruction, prior) = reconstructionAndPrior(x0, batch: batch, using: &generator)
        var layerKL = [[Double]](repeating: [Double](repeating: 0, count: batch), count: steps + 1)
        layerKL[steps] = prior
        let stepsPerCall = Swift.max(1, evaluationRowsPerCall / Swift.max(batch, 1))
        var first = 1
        while first <= steps {
            let last = Swift.min(steps, first + stepsPerCall - 1)
            let rows = (last - first + 1) * batch
            var noise = [Float](repeating: 0, count: rows * dimension)
            noise.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
            let examples = (0..<rows).map { $0 % batch }
            let levels = (0..<rows).map { grid[first + $0 / batch] }
            let errors = squaredNoiseErrors(x0, examples: examples, negativeLogSNR: levels, noise: noise)
            for j in first...last {
                let coefficient = LogSNRFormulas.stepKLCoefficient(from: grid[j - 1], to: grid[j])
                for i in 0..<batch { layerKL[j - 1][i] = coefficient * errors[(j - first) * batch + i] }
            }
            first = last + 1
        }
        return ELBOTerms(reconstruction: reconstruction, layerNames: (1...(steps + 1)).map { "L_\($0)" }, layerKL: layerKL)
    }

    /// log w = log N(z_1; 0, I) + Σ_{j=1}^{T} log p(z_{(j−1)/T} | z_{j/T}) + log p(x | z_0)
    ///         − log q(z_0 | x) − Σ_{j=1}^{T} log q(z_{j/T} | z_{(j−1)/T})
    /// for K chains drawn forward from q, step by step: E[log w] = ELBO_T, log-mean-exp over K
    /// is IWAE_K. docs/math.md#markov-chain-log-importance-weight
    public func logImportanceWeights(_ x: Tensor, samples: Int, using generator: inout RandomGenerator) -> LogImportanceWeights {
        precondition(samples >= 1, "K must be at least 1")
        let batch = x.shape[0]
        let x0 = diffusionScale(x.storage)
        let grid = negativeLogSNRGrid(timestepCount)
        var values = [Double](repeating: 0, count: samples * batch)
        let totalChains = samples * batch, perCall = Swift.max(1, evaluationRowsPerCall)
        var firstChain = 0
        while firstChain < totalChains {
            let chains = Swift.min(perCall, totalChains - firstChain)
            let start = (firstChain..<(firstChain + chains)).flatMap { chain in x0[((chain % batch) * dataDimension)..<((chain % batch + 1) * dataDimension)] }
            let logWeights = logWeightsOfChains(start: start, grid: grid, using: &generator)
            for c in 0..<chains { values[firstChain + c] = logWeights[c] }
            firstChain += chains
        }
        return LogImportanceWeights(samples: samples, batch: batch, values: values)
    }

    /// The log weights of chains started at the rows of `start` [chains · D] (diffusion scale).
    private func logWeightsOfChains(start: [Double], grid: [Double], using generator: inout RandomGenerator) -> [Double] {
        let dimension = dataDimension, chains = start.count / dimension, steps = grid.count - 1
        var noise = [Float](repeating: 0, count: start.count)
        var logWeight = [Double](repeating: 0, count: chains)
        // z_0 ~ q(z_0 | x) = N(α_0 x, σ_0²), and the decoder's term.
        let gamma0 = grid[0]
        let alpha0 = LogSNRFormulas.alpha(gamma0), logVariance0 = LogSNRFormulas.logSigmaSquared(gamma0)
        noise.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
        var previous = [Double](repeating: 0, count: start.count)
        for j in 0..<start.count {
            previous[j] = alpha0 * start[j] + exp(0.5 * logVariance0) * Double(noise[j])
            logWeight[j / dimension] += decoderLogLikelihood(start: start[j], rescaled: previous[j] / alpha0, startNegativeLogSNR: gamma0)
                - GaussianFormulas.logDensity(previous[j], mean: alpha0 * start[j], logVariance: logVariance0)
        }
        var current = previous
        for i in 1...steps {
            let transition = LogSNRFormulas.transition(from: grid[i - 1], to: grid[i])
            let rootVariance = exp(0.5 * transition.logVariance)
            noise.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
            for j in 0..<start.count {
                current[j] = transition.scale * previous[j] + rootVariance * Double(noise[j])
                logWeight[j / dimension] -= GaussianFormulas.logDensity(current[j], mean: transition.scale * previous[j], logVariance: transition.logVariance)
            }
            let output = predict(current, negativeLogSNR: [Double](repeating: grid[i], count: chains))
            for j in 0..<start.count {
                let p = LogSNRFormulas.reverseStep(zt: current[j], epsilon: Double(output[j]), from: grid[i], to: grid[i - 1])
                logWeight[j / dimension] += GaussianFormulas.logDensity(previous[j], mean: p.mean, logVariance: p.logVariance)
            }
            swap(&previous, &current)
        }
        // previous holds z_1.
        for j in 0..<start.count { logWeight[j / dimension] += GaussianFormulas.logDensity(previous[j], mean: 0, logVariance: 0) }
        return logWeight
    }

    // MARK: - Sampling

    /// Ancestral sampling at ``timestepCount`` steps: z_1 ~ N(0, I), z_s ~ p(z_s | z_t) down the
    /// grid, x ~ p(x | z_0); on the dataset's scale.
    public func sample(count: Int, using generator: inout RandomGenerator) -> Tensor {
        ancestralChains(count: count, weighted: false, using: &generator).samples
    }

    /// Samples with the log weight log p(x, z*) − log q(z* | x) of the chain z* that made each
    /// (docs/math.md#sandwich-bounds); the samples equal ``sample(count:using:)``'s bit for bit.
    public func ancestralSample(count: Int, using generator: inout RandomGenerator) -> AncestralSample {
        let draws = ancestralChains(count: count, weighted: true, using: &generator)
        return AncestralSample(samples: draws.samples, generatingLogWeights: draws.logWeights!)
    }

    func ancestralChains(count: Int, weighted: Bool, using generator: inout RandomGenerator) -> (samples: Tensor, logWeights: [Double]?) {
        let dimension = dataDimension, size = count * dimension
        let grid = negativeLogSNRGrid(timestepCount)
        var current = (0..<size).map { _ in generator.nextNormal() }
        var logWeight = [Double](repeating: 0, count: weighted ? count : 0)
        if weighted { for j in 0..<size { logWeight[j / dimension] += GaussianFormulas.logDensity(current[j], mean: 0, logVariance: 0) } }
        for i in stride(from: timestepCount, through: 1, by: -1) {
            let output = predict(current, negativeLogSNR: [Double](repeating: grid[i], count: count))
            let transition = LogSNRFormulas.transition(from: grid[i - 1], to: grid[i])
            var next = current
            for j in 0..<size {
                let p = LogSNRFormulas.reverseStep(zt: current[j], epsilon: Double(output[j]), from: grid[i], to: grid[i - 1])
                next[j] = p.mean + exp(0.5 * p.logVariance) * generator.nextNormal()
                if weighted {
                    logWeight[j / dimension] += GaussianFormulas.logDensity(next[j], mean: p.mean, logVariance: p.logVariance)
                        - GaussianFormulas.logDensity(current[j], mean: transition.scale * next[j], logVariance: transition.logVariance)
                }
            }
            current = next
        }
        // x ~ p(x | z_0): the Gaussian around z_0/α_0, rounded to its level for discrete data.
        let gamma0 = grid[0], alpha0 = LogSNRFormulas.alpha(gamma0), logVariance0 = LogSNRFormulas.logSigmaSquared(gamma0)
        var result = [Float](repeating: 0, count: size)
        for j in 0..<size {
            let rescaled = current[j] / alpha0
            let draw = rescaled + exp(0.5 * gamma0) * generator.nextNormal()
            let (start, stored) = decodedSample(draw, levels: decoderLevels, binary: likelihood == .binary)
            result[j] = stored
            if weighted {
                logWeight[j / dimension] += decoderLogLikelihood(start: start, rescaled: rescaled, startNegativeLogSNR: gamma0)
                    - GaussianFormulas.logDensity(current[j], mean: alpha0 * start, logVariance: logVariance0)
            }
        }
        return (Tensor(shape: [count, dimension], storage: result), weighted ? logWeight : nil)
    }

    // MARK: - Posteriors

    /// q(z_{(j−1)/T} | x) = N(α x, σ²) for layer j = 1…T + 1 of the discrete-time reading.
    public func latentPosterior(layer j: Int, of x: Tensor) -> LatentGaussians? {
        guard j >= 1 && j <= timestepCount + 1 else { return nil }
        let n = x.shape[0], dimension = dataDimension
        let x0 = diffusionScale(x.storage)
        let gamma = schedule(Double(j - 1) / Double(timestepCount))
        let alpha = LogSNRFormulas.alpha(gamma), variance = exp(LogSNRFormulas.logSigmaSquared(gamma))
        return LatentGaussians(means: (0..<n).map { i in (0..<dimension).map { alpha * x0[i * dimension + $0] } },
                               variances: [[Double]](repeating: [Double](repeating: variance, count: dimension), count: n))
    }
}
