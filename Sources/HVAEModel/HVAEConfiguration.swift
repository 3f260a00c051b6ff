import Core
import NN

/// How the hierarchical VAE's encoder q(z_{1:L} | x) is factored.
public enum HVAEInference: String, Codable, Sendable, CaseIterable {
    /// Markov, bottom-up: q(z₁ | x) q(z₂ | z₁) … q(z_L | z_{L−1}) — the shape of the diffusion
    /// encoder q(x_{1:T} | x₀), with learned instead of fixed conditionals.
    case bottomUp
    /// Ladder / top-down (Sønderby et al. 2016, LVAE; Vahdat & Kautz 2020, NVAE): a deterministic
    /// bottom-up pass d₁ = f₁(x), dᵢ = fᵢ(dᵢ₋₁), then q(z_L | x) from d_L and
    /// q(zᵢ | zᵢ₊₁, x) from (dᵢ, zᵢ₊₁), sampled top-down in the same order as the prior.
    case topDown
}

/// Every hyperparameter needed to rebuild an ``HVAE``; stored as JSON in checkpoints.
///
/// Defaults and where they come from:
/// - `latentSizes` [2, 2], `hiddenSizes` [128, 128], SiLU: chosen for the 2-D toy data
///   (two latent layers, each the size of x, like the DDPM's latents).
/// - `inference` `.topDown`: the ladder inference of Sønderby et al. (2016, LVAE) with the
///   residual posterior parameterization of Vahdat & Kautz (2020, NVAE), which trains deeper
///   hierarchies more reliably than bottom-up inference.
/// - `klWarmupSteps` 0 (off): the linear KL warm-up of Sønderby et al. (2016) (β from 0 to 1 over
///   the first 200 epochs there; NVAE warms up over the first 30 % of training). Off by default
///   so that every model of the comparison is trained on the plain ELBO; turn it on for deep
///   hierarchies whose upper layers collapse.
/// - `freeBits` `nil` (off): the free-bits objective of Kingma et al. (2016, IAF),
///   max(KL_layer, λ) per layer. Off by default for the same reason.
public struct HVAEConfiguration: Codable, Equatable, Sendable {
    /// D, the data dimension.
    public var dataDimension: Int
    /// The size of each latent layer, z₁ (nearest the data) first; L = `latentSizes.count` ≥ 1.
    public var latentSizes: [Int]
    /// Hidden layer widths of every MLP in the model (posteriors, priors, output, and the
    /// deterministic bottom-up path of top-down inference, whose features have width
    /// `hiddenSizes.last`). Empty means linear conditionals; with top-down inference the
    /// deterministic path is then the identity (dᵢ = x).
    public var hiddenSizes: [Int]
    /// The nonlinearity between hidden layers (and after each deterministic block).
    public var activation: Activation
    /// Bottom-up (Markov) or top-down (ladder) inference.
    public var inference: HVAEInference
    /// Linear KL warm-up length N: β = 0 at step 1 rising to β = 1 at step N (0 or 1 = off).
    /// Training only; evaluation always uses β = 1.
    public var klWarmupSteps: Int
    /// Free bits λ in nats per layer: the training loss uses max(batch-mean KL_layer, λ) for each
    /// layer; `nil` = off. Training only.
    public var freeBits: Double?
    /// The decoder family p(x | z₁), stored as the keys `likelihood` and `levels` of this object.
    public var likelihood: Likelihood

    /// MLPs on rows (`.mlp`, the default) or convolutional networks on images (`.conv`, which
    /// needs ``convolution``). Stored under the key `architecture` only for `.conv`, so an MLP
    /// configuration's JSON is what it always was.
    ///
    /// For `.conv`, ``latentSizes`` are the channels of latent maps (layer i at resolution
    /// min(i + 1, R − 1), ``ConvolutionalHVAEPlan``), inference must be `.topDown`, and
    /// ``hiddenSizes`` and ``activation`` are not used (ResNets with SiLU).
    public var architecture: NetworkArchitecture = .mlp
    /// The convolutional networks' sizes (`--architecture conv`); `nil` for MLPs.
    public var convolution: ConvolutionalSettings?

    public init(dataDimension: Int = 2, latentSizes: [Int] = [2, 2], hiddenSizes: [Int] = [128, 128],
                activation: Activation = .silu, inference: HVAEInference = .topDown,
                klWarmupSteps: Int = 0, freeBits: Double? = nil, likelihood: Likelihood = .continuous) {
        self.dataDimension = dataDimension
        self.latentSizes = latentSizes
        self.hiddenSizes = hiddenSizes
        self.activation = activation
        self.inference = inference
        self.klWarmupSteps = klWarmupSteps
        self.freeBits = freeBits
        self.likelihood = likelihood
    }

    /// L, the number of latent layers.
    public var layerCount: Int { latentSizes.count }

    /// The KL weight β at training step `step` (1-based): (step − 1)/(N − 1) clamped to [0, 1],
    /// so β = 0 at step 1 and β = 1 from step N on; always 1 when the warm-up is off (N ≤ 1).
    public func klWeight(step: Int) -> Double {
        guard klWarmupSteps > 1 else { return 1 }
        return Swift.min(1, Swift.max(0, Double(step - 1) / Double(klWarmupSteps - 1)))
    }

    /// Throws ``ModelError/invalidConfiguration(_:)`` for settings that cannot work.
    public func validate() throws {

        try ConvolutionalSettings.validate(convolution, for: architecture, model: "HVAE", dataDimension: dataDimension)
        if architecture == .conv && inference == .bottomUp {
            throw ModelError.invalidConfiguration("HVAE: the conv architecture infers top-down only (its posteriors correct the priors of the top-down path); use --inference top-down")
        }
        guard dataDimension > 0 else {
            throw ModelError.invalidConfiguration("HVAE: the data dimension must be positive, got \(dataDimension)")
        }
        guard !latentSizes.isEmpty else {
            throw ModelError.invalidConfiguration("HVAE: at least one latent layer is needed (latentSizes is empty)")
        }
        if let bad = latentSizes.first(where: { $0 <= 0 }) {
            throw ModelError.invalidConfiguration("HVAE: latent sizes must be positive, got \(bad) in \(latentSizes)")
        }
        if let bad = hiddenSizes.first(where: { $0 <= 0 }) {
            throw ModelError.invalidConfiguration("HVAE: hidden sizes must be positive, got \(bad) in \(hiddenSizes)")
        }
        guard klWarmupSteps >= 0 else {
            throw ModelError.invalidConfiguration("HVAE: KL warm-up steps must be 0 (off) or positive, got \(klWarmupSteps)")
        }
        if let freeBits, !(freeBits.isFinite && freeBits >= 0) {
            throw ModelError.invalidConfiguration("HVAE: free bits must be a finite number ≥ 0, got \(freeBits)")
        }
        if case .discrete(let levels) = likelihood, levels < 2 {
            throw ModelError.invalidConfiguration("HVAE: a discrete likelihood needs at least 2 levels, got \(levels)")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case dataDimension, latentSizes, hiddenSizes, activation, inference, klWarmupSteps, freeBits, architecture, convolution
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = HVAEConfiguration()
        dataDimension = try container.decode(Int.self, forKey: .dataDimension)
        latentSizes = try container.decodeIfPresent([Int].self, forKey: .latentSizes) ?? defaults.latentSizes
        hiddenSizes = try container.decodeIfPresent([Int].self, forKey: .hiddenSizes) ?? defaults.hiddenSizes
        activation = try container.decodeIfPresent(Activation.self, forKey: .activation) ?? defaults.activation
        inference = try container.decodeIfPresent(HVAEInference.self, forKey: .inference) ?? defaults.inference
        klWarmupSteps = try container.decodeIfPresent(Int.self, forKey: .klWarmupSteps) ?? defaults.klWarmupSteps
        freeBits = try container.decodeIfPresent(Double.self, forKey: .freeBits)

        architecture = try container.decodeIfPresent(NetworkArchitecture.self, forKey: .architecture) ?? .mlp
        convolution = try container.decodeIfPresent(ConvolutionalSettings.self, forKey: .convolution)
        likelihood = try Likelihood(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dataDimension, forKey: .dataDimension)
        try container.encode(latentSizes, forKey: .latentSizes)
        try container.encode(hiddenSizes, forKey: .hiddenSizes)
        try container.encode(activation, forKey: .activation)
        try container.encode(inference, forKey: .inference)
        try container.encode(klWarmupSteps, forKey: .klWarmupSteps)
        try container.encodeIfPresent(freeBits, forKey: .freeBits)

        if architecture == .conv {
            try container.encode(architecture, forKey: .architecture)
            try container.encodeIfPresent(convolution, forKey: .convolution)
        }
        try likelihood.encode(to: encoder)
    }
}


extension HVAEConfiguration {
    /// The keys and shapes of the convolutional networks' parameters, computed without
    /// building them from the plan the initializer follows (``ConvolutionalHVAEPlan``); empty for MLPs.
    public var convolutionalParameterShapes: [(key: String, shape: [Int])] {
        guard architecture == .conv, let settings = convolution, !latentSizes.isEmpty else { return [] }
        let plan = ConvolutionalHVAEPlan(settings: settings, latentSizes: latentSizes)
        return prefixed("encoder", ConvolutionalHVAEEncoder.parameterShapes(plan: plan))
            + prefixed("decoder", ConvolutionalHVAEDecoder.parameterShapes(plan: plan, outputsPerDimension: likelihood.outputsPerDimension))
    }

    /// Floats of activation per example of a training pass through the convolutional networks:
    /// the bottom-up path with the posterior heads, and the top-down path with its draws and KL
    /// terms (``ConvolutionalHVAEEncoder``, ``ConvolutionalHVAEDecoder``); 0 for MLPs.
    public var convolutionalActivationsPerExample: Int {
        guard architecture == .conv, let settings = convolution, !latentSizes.isEmpty else { return 0 }
        let plan = ConvolutionalHVAEPlan(settings: settings, latentSizes: latentSizes)
        return ConvolutionalHVAEEncoder.activationsPerExample(plan: plan)
            + ConvolutionalHVAEDecoder.activationsPerExample(plan: plan, outputsPerDimension: likelihood.outputsPerDimension)
    }
}
