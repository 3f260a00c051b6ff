import Core
import NN

/// Every hyperparameter needed to rebuild a ``VAE``; stored as JSON in checkpoints.
///
/// The model is the one of Kingma & Welling (2014), "Auto-Encoding Variational Bayes":
/// an MLP encoder giving a diagonal Gaussian q(z | x), a standard normal prior p(z), an MLP
/// decoder giving p(x | z), trained on one reparameterized sample per example with the KL
/// term in closed form. The default sizes are chosen for the 2-D toy data (`gmm2d`): a
/// 2-D latent and two hidden layers of 128 SiLU units (the paper used one hidden layer of
/// tanh units for MNIST; SiLU trains the toy data more reliably).
public struct VAEConfiguration: Codable, Equatable, Sendable {
    /// D, the data dimension.
    public var dataDimension: Int
    /// The size of z. Default 2.
    public var latentDimension: Int
    /// Hidden layer widths of the encoder; the decoder uses them in reverse order
    /// (a mirror image). Empty means linear networks. Default [128, 128].
    public var hiddenSizes: [Int]
    /// The nonlinearity between hidden layers. Default SiLU.
    public var activation: Activation
    /// Linear KL warm-up length N (Sønderby et al. 2016, LVAE; also Bowman et al. 2016): the
    /// training loss weighs the KL term by β = 0 at step 1 rising to β = 1 at step N (0 or 1 =
    /// off, the default: the plain ELBO of Kingma & Welling). Training only; evaluation always
    /// uses β = 1. Helps on data such as the ring, where the best single Gaussian is a local
    /// optimum that ignores z (posterior collapse).
    public var klWarmupSteps: Int
    /// The decoder family p(x | z), stored as the keys `likelihood` and `levels` of this object.
    public var likelihood: Likelihood

    /// MLPs on rows (`.mlp`, the default) or convolutional networks on images (`.conv`, which
    /// needs ``convolution``). Stored under the key `architecture` only for `.conv`, so an MLP
    /// configuration's JSON is what it always was.
    ///
    /// For `.conv` the encoder and decoder are ResNets (``ResNetEncoder``, ``ResNetDecoder``) with
    /// ``ConvolutionalSettings/autoencoderBlocksPerLevel`` residual blocks per resolution each;
    /// ``hiddenSizes`` and ``activation`` are not used (SiLU throughout).
    public var architecture: NetworkArchitecture = .mlp
    /// The convolutional networks' sizes (`--architecture conv`); `nil` for MLPs.
    public var convolution: ConvolutionalSettings?

    public init(dataDimension: Int = 2, latentDimension: Int = 2, hiddenSizes: [Int] = [128, 128],
                activation: Activation = .silu, klWarmupSteps: Int = 0, likelihood: Likelihood = .continuous) {
        self.dataDimension = dataDimension
        self.latentDimension = latentDimension
        self.hiddenSizes = hiddenSizes
        self.activation = activation
        self.klWarmupSteps = klWarmupSteps
        self.likelihood = likelihood
    }

    /// The KL weight β at training step `step` (1-based): (step − 1)/(N − 1) clamped to [0, 1],
    /// so β = 0 at step 1 and β = 1 from step N on; always 1 when the warm-up is off (N ≤ 1).
    public func klWeight(step: Int) -> Double {
        guard klWarmupSteps > 1 else { return 1 }
        return Swift.min(1, Swift.max(0, Double(step - 1) / Double(klWarmupSteps - 1)))
    }

    /// Layer sizes of the encoder MLP: x → (μ, log σ²) of z.
    public var encoderSizes: [Int] { [dataDimension] + hiddenSizes + [2 * latentDimension] }
    /// Layer sizes of the decoder MLP: z → likelihood parameters of x.
    public var decoderSizes: [Int] { [latentDimension] + hiddenSizes.reversed() + [likelihood.outputsPerDimension * dataDimension] }

    /// Throws ``ModelError/invalidConfiguration(_:)`` for sizes that cannot work.
    public func validate() throws {

        try ConvolutionalSettings.validate(convolution, for: architecture, model: "VAE", dataDimension: dataDimension)
        guard dataDimension > 0 else {
            throw ModelError.invalidConfiguration("VAE: the data dimension must be positive, got \(dataDimension)")
        }
        guard latentDimension > 0 else {
            throw ModelError.invalidConfiguration("VAE: the latent dimension must be positive, got \(latentDimension)")
        }
        if let bad = hiddenSizes.first(where: { $0 <= 0 }) {
            throw ModelError.invalidConfiguration("VAE: hidden sizes must be positive, got \(bad) in \(hiddenSizes)")
        }
        guard klWarmupSteps >= 0 else {
            throw ModelError.invalidConfiguration("VAE: KL warm-up steps must be 0 (off) or positive, got \(klWarmupSteps)")
        }
        if case .discrete(let levels) = likelihood, levels < 2 {
            throw ModelError.invalidConfiguration("VAE: a discrete likelihood needs at least 2 levels, got \(levels)")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case dataDimension, latentDimension, hiddenSizes, activation, klWarmupSteps, architecture, convolution
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = VAEConfiguration()
        dataDimension = try container.decode(Int.self, forKey: .dataDimension)
        latentDimension = try container.decodeIfPresent(Int.self, forKey: .latentDimension) ?? defaults.latentDimension
        hiddenSizes = try container.decodeIfPresent([Int].self, forKey: .hiddenSizes) ?? defaults.hiddenSizes
        activation = try container.decodeIfPresent(Activation.self, forKey: .activation) ?? defaults.activation
        klWarmupSteps = try container.decodeIfPresent(Int.self, forKey: .klWarmupSteps) ?? defaults.klWarmupSteps

        architecture = try container.decodeIfPresent(NetworkArchitecture.self, forKey: .architecture) ?? .mlp
        convolution = try container.decodeIfPresent(ConvolutionalSettings.self, forKey: .convolution)
        likelihood = try Likelihood(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dataDimension, forKey: .dataDimension)
        try container.encode(latentDimension, forKey: .latentDimension)
        try container.encode(hiddenSizes, forKey: .hiddenSizes)
        try container.encode(activation, forKey: .activation)
        try container.encode(klWarmupSteps, forKey: .klWarmupSteps)

        if architecture == .conv {
            try container.encode(architecture, forKey: .architecture)
            try container.encodeIfPresent(convolution, forKey: .convolution)
        }
        try likelihood.encode(to: encoder)
    }
}


extension VAEConfiguration {
    /// The keys and shapes of the convolutional networks' parameters, computed without
    /// building them from the plan the initializer follows (``ResNetEncoder``, ``ResNetDecoder``);
    /// empty for MLPs.
    public var convolutionalParameterShapes: [(key: String, shape: [Int])] {
        guard architecture == .conv, let settings = convolution else { return [] }
        return prefixed("encoder", ResNetEncoder.parameterShapes(settings: settings, latentDimension: latentDimension))
            + prefixed("decoder", ResNetDecoder.parameterShapes(settings: settings, latentDimension: latentDimension,
                                                                outputsPerDimension: likelihood.outputsPerDimension))
    }

    /// Floats of activation per example of a training pass through the convolutional networks:
    /// the encoder's and the decoder's (inputs included), and 6 · latent for the draw of z and
    /// the KL (μ and log σ² sliced out, ε, σ, σ ε, z); 0 for MLPs.
    public var convolutionalActivationsPerExample: Int {
        guard architecture == .conv, let settings = convolution else { return 0 }
        return ResNetEncoder.activationsPerExample(settings: settings, latentDimension: latentDimension)
            + 6 * latentDimension
            + ResNetDecoder.activationsPerExample(settings: settings, latentDimension: latentDimension,
                                                  outputsPerDimension: likelihood.outputsPerDimension)
    }
}
