import Core
import NN
import Tensor

/// The inference networks of an ``HVAE``: every parameter of q(z_{1:L} | x), under `encoder.`.
public final class HVAEEncoder: Module {
    /// Top-down inference only: the deterministic bottom-up blocks, `deterministic[i − 1]`
    /// computing dᵢ = act(fᵢ(dᵢ₋₁)) with d₀ = x. Empty for bottom-up inference, and for
    /// top-down inference without hidden layers (then dᵢ = x).
    public let deterministic: [MLP]
    /// `posteriors[i − 1]` gives the parameters of q(zᵢ | ·):
    /// - bottom-up: [μ | log σ²] of q(zᵢ | zᵢ₋₁) (z₀ = x);
    /// - top-down: [μ | log σ²] of q(z_L | x) from d_L for i = L, and for i < L the residual
    ///   [Δμ | Δlog σ²] added to the prior's parameters, from concat(dᵢ, zᵢ₊₁).
    public let posteriors: [MLP]

    init(deterministic: [MLP], posteriors: [MLP]) {
        self.deterministic = deterministic
        self.posteriors = posteriors
    }
}

/// The generative networks of an ``HVAE``: every parameter of p(x, z_{1:L}), under `decoder.`.
public final class HVAEDecoder: Module {
    /// `priors[i − 1]` gives [μ | log σ²] of p(zᵢ | zᵢ₊₁), i = 1 … L − 1 (p(z_L) = N(0, I)).
    public let priors: [MLP]
    /// z₁ → the likelihood parameters of p(x | z₁).
    public let output: MLP

    init(priors: [MLP], output: MLP) {
        self.priors = priors
        self.output = output
    }
}

/// A hierarchical VAE with L Gaussian latent layers and a Markov generative chain
/// p(z_L) = N(0, I), p(zᵢ | zᵢ₊₁) = N(μ_θ(zᵢ₊₁), diag σ²_θ(zᵢ₊₁)), p(x | z₁) via ``Likelihood``.
///
/// Inference is bottom-up (Markov, the shape of the diffusion encoder) or top-down (ladder):
/// see ``HVAEInference``.
///
/// With ``HVAEConfiguration/architecture`` `.conv` the latent layers are maps on the image's
/// lower resolutions and the networks are ResNets (top-down inference only; see
/// HVAE+Convolutional.swift, ``ConvolutionalHVAEEncoder`` and ``ConvolutionalHVAEDecoder``).
/// Each map is flattened to a row [rows, H·W·s] wherever a distribution is formed, so the
/// objectives and estimators below are the same code for both architectures.
///
/// MLP parameter keys (weights [outputs, inputs]):
/// - `encoder.deterministic.<i>.layers.<j>.weight|bias` (top-down only; d_{i+1}),
/// - `encoder.posteriors.<i>.layers.<j>.weight|bias` (q(z_{i+1} | ·)),
/// - `decoder.priors.<i>.layers.<j>.weight|bias` (p(z_{i+1} | z_{i+2})),
/// - `decoder.output.layers.<j>.weight|bias` (p(x | z₁)).
/// Convolutional keys are listed by ``ConvolutionalHVAEEncoder`` and ``ConvolutionalHVAEDecoder``;
/// every parameter of q is under `encoder.`, every parameter of p under `decoder.`.
///
/// Estimators of the per-layer KL terms (per example, nats; ELBO = reconstruction − Σ KL, with
/// the reconstruction log p(x | z₁) at one joint draw z_{1:L} ~ q):
/// - Bottom-up, layer L: KL(q(z_L | z_{L−1}) ‖ N(0, I)) in closed form at the drawn z_{L−1}.
/// - Bottom-up, layer i < L: log q(zᵢ | zᵢ₋₁) − log p(zᵢ | zᵢ₊₁), a single-sample Monte Carlo
///   estimate at the drawn zᵢ, zᵢ₊₁ (no closed form: the two Gaussians condition on different
///   variables). Its expectation is the layer's share of the KL, but one value may be negative.
/// - Top-down, every layer: KL(q(zᵢ | zᵢ₊₁, x) ‖ p(zᵢ | zᵢ₊₁)) in closed form at the drawn zᵢ₊₁
///   (both Gaussians condition on the same zᵢ₊₁); layer L: KL(q(z_L | x) ‖ N(0, I)).
/// Each sum is an unbiased estimate of E_q[log q(z_{1:L} | x) − log p(z_{1:L})].
public final class HVAE: LatentVariableModel {
    /// Every parameter of q: an ``HVAEEncoder`` (MLPs) or a ``ConvolutionalHVAEEncoder``.
    public let encoder: any Module
    /// Every parameter of p: an ``HVAEDecoder`` (MLPs) or a ``ConvolutionalHVAEDecoder``.
    public let decoder: any Module
    /// The hyperparameters this model was built from.
    public let configuration: HVAEConfiguration
    /// Where the parts of a convolutional model live; `nil` for MLPs.
    let convolutionalPlan: ConvolutionalHVAEPlan?

    /// The number of rows (examples × samples) pushed through the networks at once by
    /// ``logImportanceWeights(_:samples:using:)`` (and by the convolutional ``sample(count:using:)``),
    /// which bounds their memory: 65 536 rows for MLPs, 256 images for ResNets (``VAE``'s reasons).
    public static func maximumRowsPerChunk(_ architecture: NetworkArchitecture) -> Int {
        architecture == .conv ? 256 : 65_536
    }

    /// A model with freshly initialized weights (PyTorch's default initialization), drawn from
    /// `generator` in key order: for MLPs deterministic blocks, posteriors, priors, output; for
    /// ResNets the encoder's, then the decoder's.
    /// - Throws: ``ModelError/invalidConfiguration(_:)`` when ``HVAEConfiguration/validate()`` does.
    public init(configuration: HVAEConfiguration, using generator: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        if configuration.architecture == .conv {
            // validate() guarantees the settings.
            let plan = ConvolutionalHVAEPlan(settings: configuration.convolution!, latentSizes: configuration.latentSizes)
            convolutionalPlan = plan
            encoder = ConvolutionalHVAEEncoder(plan: plan, using: &generator)
            decoder = ConvolutionalHVAEDecoder(plan: plan, outputsPerDimension: configuration.likelihood.outputsPerDimension, using: &generator)
            return
        }
        convolutionalPlan = nil
        let c = configuration
        let sizes = c.latentSizes
        let layers = sizes.count
        let hidden = c.hiddenSizes
        var deterministic: [MLP] = []
        var posteriors: [MLP] = []
        switch c.inference {
        case .bottomUp:
            for i in 0..<layers {
                let inputs = i == 0 ? c.dataDimension : sizes[i - 1]
                posteriors.append(MLP(sizes: [inputs] + hidden + [2 * sizes[i]], activation: c.activation, using: &generator))
            }
        case .topDown:
            if !hidden.isEmpty {
                for i in 0..<layers {
                    let inputs = i == 0 ? c.dataDimension : hidden.last!
                    deterministic.append(MLP(sizes: [inputs] + hidden, activation: c.activation, using: &generator))
                }
            }
            let feature = hidden.last ?? c.dataDimension
            for i in 0..<layers {
                let inputs = i == layers - 1 ? feature : feature + sizes[i + 1]
                posteriors.append(MLP(sizes: [inputs] + hidden + [2 * sizes[i]], activation: c.activation, using: &generator))
            }
        }
        encoder = HVAEEncoder(deterministic: deterministic, posteriors: posteriors)
        var priors: [MLP] = []
        for i in 0..<(layers - 1) {
            priors.append(MLP(sizes: [sizes[i + 1]] + hidden + [2 * sizes[i]], activation: c.activation, using: &generator))
        }
        let output = MLP(sizes: [sizes[0]] + hidden + [c.likelihood.outputsPerDimension * c.dataDimension],
                         activation: c.activation, using: &generator)
        decoder = HVAEDecoder(priors: priors, output: output)
    }

    // MARK: LatentVariableModel

    public var kind: ModelKind { .hvae }
    public var likelihood: Likelihood { configuration.likelihood }
    public var dataDimension: Int { configuration.dataDimension }
    public var latentLayerCount: Int { configuration.latentSizes.count }
    /// `z1`, …, `zL`.
    public var layerNames: [String] { (1...latentLayerCount).map { "z\($0)" } }

    /// The MLP networks (``HVAEConfiguration/architecture`` `.mlp`).
    var perceptronEncoder: HVAEEncoder { encoder as! HVAEEncoder }
    var perceptronDecoder: HVAEDecoder { decoder as! HVAEDecoder }

    public var encoderParameterCount: Int {
        namedParameters.filter { $0.key.hasPrefix("encoder.") }.reduce(0) { $0 + $1.tensor.count }
    }

    public var decoderParameterCount: Int {
        namedParameters.filter { !$0.key.hasPrefix("encoder.") }.reduce(0) { $0 + $1.tensor.count }
    }

    // MARK: Forward pass

    /// One joint draw z_{1:L} ~ q(z_{1:L} | x) with every distribution it touched (public so
    /// that tests can hold the per-layer terms against log q − log p at the drawn latents).
    public struct Pass {
        /// z₁ … z_L, each [rows, sizeᵢ] (conv: the map flattened, [rows, H_ℓ · W_ℓ · sᵢ]).
        public var latents: [Tensor]
        /// q(zᵢ | ·) at the drawn parents.
        public var posteriors: [DiagonalGaussian]
        /// p(zᵢ | zᵢ₊₁) at the drawn zᵢ₊₁; the last is N(0, I).
        public var priors: [DiagonalGaussian]
        /// The parameters of p(x | z₁).
        public var decoderOutput: Tensor
    }

    private func gaussian(_ parameters: Tensor, size: Int) -> DiagonalGaussian {
        DiagonalGaussian(mean: parameters.slice(axis: 1, 0..<size),
                         logVariance: parameters.slice(axis: 1, size..<(2 * size)).guarded(to: LogScaleBounds.logVariance))
    }

    /// The per-example part of inference, computed once per example even when K joint samples
    /// are drawn: bottom-up, the parameters of q(z₁ | x); top-down, d₁ … d_{L−1} and the
    /// parameters of q(z_L | x). Every tensor is [batch, ·].
    public func context(_ x: Tensor) -> [Tensor] {
        if configuration.architecture == .conv { return convolutionalContext(x) }
        let layers = latentLayerCount
        let encoder = perceptronEncoder
        switch configuration.inference {
        case .bottomUp:
            return [encoder.posteriors[0](x)]
        case .topDown:
            var features: [Tensor] = []
            var d = x
            for i in 0..<layers {
                if !encoder.deterministic.isEmpty { d = configuration.activation(encoder.deterministic[i](d)) }
                features.append(d)
            }
            features[layers - 1] = encoder.posteriors[layers - 1](features[layers - 1])
            return features
        }
    }

    /// Draws z_{1:L} ~ q(· | x) given ``context(_:)`` rows (one per row of the draw) and decodes z₁.
    /// With `latents` (z₁ … z_L, each [rows, sizeᵢ]) nothing is drawn: the pass evaluates q and p
    /// at the given latents (the sandwich bound's generating weight, docs/math.md#sandwich-bounds).
    public func pass(context: [Tensor], given latents: [Tensor]? = nil, using generator: inout RandomGenerator) -> Pass {
        if configuration.architecture == .conv {
            return convolutionalPass(context: context, rows: context[0].shape[0], given: latents, using: &generator)
        }
        let given = latents
        let encoder = perceptronEncoder, decoder = perceptronDecoder
        let sizes = configuration.latentSizes
        let layers = sizes.count
        let rows = context[0].shape[0]
        var latents = [Tensor?](repeating: nil, count: layers)
        var posteriors = [DiagonalGaussian?](repeating: nil, count: layers)
        var priors = [DiagonalGaussian?](repeating: nil, count: layers)
        priors[layers - 1] = DiagonalGaussian.standard(shape: [rows, sizes[layers - 1]])
        switch configuration.inference {
        case .bottomUp:
            for i in 0..<layers {
                let parameters = i == 0 ? context[0] : encoder.posteriors[i](latents[i - 1]!)
                let q = gaussian(parameters, size: sizes[i])
                posteriors[i] = q
                latents[i] = given?[i] ?? q.sample(using: &generator)
            }
            for i in 0..<(layers - 1) {
                priors[i] = gaussian(decoder.priors[i](latents[i + 1]!), size: sizes[i])
            }
        case .topDown:
            let top = gaussian(context[layers - 1], size: sizes[layers - 1])
            posteriors[layers - 1] = top
            latents[layers - 1] = given?[layers - 1] ?? top.sample(using: &generator)
            for i in stride(from: layers - 2, through: 0, by: -1) {
                let parent = latents[i + 1]!
                let priorParameters = decoder.priors[i](parent)
                let delta = encoder.posteriors[i](Tensor.concatenate([context[i], parent], axis: 1))
                let q = gaussian(priorParameters + delta, size: sizes[i])
                priors[i] = gaussian(priorParameters, size: sizes[i])
                posteriors[i] = q
                latents[i] = given?[i] ?? q.sample(using: &generator)
            }
        }
        return Pass(latents: latents.map { $0! }, posteriors: posteriors.map { $0! }, priors: priors.map { $0! },
                    decoderOutput: decoder.output(latents[0]!))
    }

    /// The estimate of layer `i`'s KL term for every element, [rows, sizeᵢ] (see the type's
    /// documentation): Monte Carlo log q − log p for bottom-up layers below the top, closed form
    /// otherwise.
    public func layerKLPerElement(_ pass: Pass, layer i: Int) -> Tensor {
        if configuration.inference == .bottomUp && i < latentLayerCount - 1 {
            return pass.posteriors[i].logDensityPerElement(pass.latents[i]) - pass.priors[i].logDensityPerElement(pass.latents[i])
        }
        return pass.posteriors[i].klPerElement(to: pass.priors[i])
    }

    // MARK: Objectives and estimators

    /// The batch mean of −[reconstruction − β Σᵢ max(KLᵢ, λ)] at training step `step`, with β from
    /// ``HVAEConfiguration/klWeight(step:)`` (LVAE warm-up) and the max with the free bits λ
    /// applied to each layer's batch-mean KL (IAF free bits) when configured. One joint
    /// reparameterized draw per example.
    public func trainingLoss(_ x: Tensor, step: Int, using generator: inout RandomGenerator) -> Tensor {
        let pass = pass(context: context(x), using: &generator)
        let reconstruction = likelihood.logProbability(of: x, decoderOutput: pass.decoderOutput).mean()
        var kl: Tensor? = nil
        for i in 0..<latentLayerCount {
            var layer = layerKLPerElement(pass, layer: i).sum(axis: -1).mean()
            if let freeBits = configuration.freeBits, Double(layer.scalar) < freeBits {
                // max(KL, λ) = λ here: a constant, so this layer's KL receives no gradient.
                layer = Tensor(Float(freeBits))
            }
            kl = kl.map { $0 + layer } ?? layer
        }
        let beta = Float(configuration.klWeight(step: step))
        return kl! * beta - reconstruction
    }

    /// Per example: reconstruction log p(x | z₁) and the per-layer KL estimates `z1` … `zL` at one
    /// joint draw z_{1:L} ~ q(· | x), summed over dimensions in Double; β = 1. docs/math.md#evidence-lower-bound
    public func elbo(_ x: Tensor, using generator: inout RandomGenerator) -> ELBOTerms {
        GradientMode.withoutRecording {
            let pass = pass(context: context(x), using: &generator)
            let reconstruction = likelihood.logProbabilityInDouble(of: x, decoderOutput: pass.decoderOutput)
            let kl = (0..<latentLayerCount).map { layerKLPerElement(pass, layer: $0).rowSumsInDouble() }
            return ELBOTerms(reconstruction: reconstruction, layerNames: layerNames, layerKL: kl)
        }
    }

    /// log w_k = log p(x | z₁) + Σᵢ log p(zᵢ | zᵢ₊₁) − Σᵢ log q(zᵢ | ·) (with p(z_L) = N(0, I)) for K
    /// joint draws z_{1:L} ~ q(· | x), all terms at the drawn values, summed in Double
    /// (docs/math.md#markov-chain-log-importance-weight).
    ///
    /// The per-example part of inference (``context(_:)``) runs once; it and x are repeated K
    /// times into rows `k · batch + i`, processed in chunks of at most ``maximumRowsPerChunk(_:)`` rows.
    public func logImportanceWeights(_ x: Tensor, samples: Int, using generator: inout RandomGenerator) -> LogImportanceWeights {
        precondition(samples >= 1, "logImportanceWeights needs at least one sample")
        precondition(x.rank == 2 && x.shape[1] == dataDimension, "x must be [batch, \(dataDimension)], got \(x.shape)")
        let batch = x.shape[0]
        let total = samples * batch
        var values: [Double] = []
        values.reserveCapacity(total)
        GradientMode.withoutRecording {
            let perExample = context(x)
            let perChunk = Self.maximumRowsPerChunk(configuration.architecture)
            var start = 0
            while start < total {
                let end = Swift.min(total, start + perChunk)
                let rows = (start..<end).map { $0 % batch }
                let pass = pass(context: perExample.map { $0.gather(rows: rows) }, using: &generator)
                values += logWeights(of: pass, x: x.gather(rows: rows))
                start = end
            }
        }
        return LogImportanceWeights(samples: samples, batch: batch, values: values)
    }

    /// log p(x | z₁) + Σᵢ log p(zᵢ | zᵢ₊₁) − Σᵢ log q(zᵢ | ·) per row of `pass`, every term at the
    /// pass's latents, summed in Double; `x` holds the pass's rows [rows, D].
    public func logWeights(of pass: Pass, x: Tensor) -> [Double] {
        var logWeights = likelihood.logProbabilityInDouble(of: x, decoderOutput: pass.decoderOutput)
        for i in 0..<latentLayerCount {
            let prior = pass.priors[i].logDensityPerElement(pass.latents[i]).rowSumsInDouble()
            let proposal = pass.posteriors[i].logDensityPerElement(pass.latents[i]).rowSumsInDouble()
            for r in logWeights.indices { logWeights[r] += prior[r] - proposal[r] }
        }
        return logWeights
    }

    /// `count` draws x ~ p(x | z₁), z₁ ~ p(z₁ | z₂), …, z_L ~ N(0, I): [count, D].
    public func sample(count: Int, using generator: inout RandomGenerator) -> Tensor {
        if configuration.architecture == .conv { return convolutionalSample(count: count, using: &generator).samples }
        return perceptronSample(count: count, using: &generator).samples
    }

    /// The MLP's ancestral draws: x [count, D] and the latents z₁ … z_L that generated it.
    func perceptronSample(count: Int, using generator: inout RandomGenerator) -> (samples: Tensor, latents: [Tensor]) {
        GradientMode.withoutRecording {
            let decoder = perceptronDecoder
            let sizes = configuration.latentSizes
            var z = Tensor.randomNormal(shape: [count, sizes[sizes.count - 1]], using: &generator)
            var latents = [z]   // z_L first; z₁ … z_L once complete
            for i in stride(from: sizes.count - 2, through: 0, by: -1) {
                z = gaussian(decoder.priors[i](z), size: sizes[i]).sample(using: &generator)
                latents.insert(z, at: 0)
            }
            return (likelihood.sample(decoderOutput: decoder.output(z), dimension: dataDimension, using: &generator), latents)
        }
    }
}
