import Core
import NN

/// Every hyperparameter of a DDPM, enough to rebuild it (stored in checkpoints as JSON).
public struct DDPMConfiguration: Codable, Equatable, Sendable {
    /// D.
    public var dataDimension: Int
    /// The decoder family of p_θ(x_0 | x_1), the data's. Stored as the JSON keys `likelihoodName`
    /// (`continuous`, `binary` or `discrete`) and `levels` (discrete data only), the spelling every
    /// DDPM checkpoint has used.
    public var likelihood: Likelihood
    /// T. Default 1000 (Ho et al.). Setting it also sets ``timestepScaling`` to the standard
    /// choice for the new T; choose another scaling after setting T.
    public var timestepCount: Int = 1000 {
        didSet { timestepScaling = .standard(timestepCount: timestepCount) }
    }
    /// How t enters the timestep embedding (JSON key `timestepScaling`): `.floor` (⌊t · 1000/T⌋)
    /// for T ≤ 1000, `.real` (t · 1000/T) above, where the floor would give consecutive
    /// timesteps one embedding. Configurations stored without the key decode as `.floor`, the
    /// formula they were trained with, so every earlier checkpoint evaluates to the same bits.
    public var timestepScaling: TimestepScaling = .floor
    public var schedule: NoiseSchedule = .linear
    /// Default fixed-small: the better likelihood of the two fixed choices (Ho et al., Table 2).
    public var variance: ReverseVariance = .fixedSmall
    public var loss: DiffusionLoss = .simple
    /// Hidden widths of the ε-network (the peer benchmark's 128-128-128); empty for a linear one.
    public var hiddenSizes: [Int] = [128, 128, 128]
    /// Width of the sinusoidal timestep embedding.
    public var embeddingDimension: Int = 32
    public var activation: Activation = .silu
    /// Clip the predicted x̂₀ to [−1, 1] inside the reverse mean, as improved-diffusion does for
    /// images (`clip_denoised`): part of the model p_θ(x_{t−1}|x_t), used alike by the ELBO, the
    /// importance weights and sampling. `nil` (the default) clips for discrete and binary data,
    /// whose support is [−1, 1], and not for continuous data.
    public var clipPredictedStart: Bool?

    /// MLPs on rows (`.mlp`, the default) or convolutional networks on images (`.conv`, which
    /// needs ``convolution``). Stored under the key `architecture` only for `.conv`, so an MLP
    /// configuration's JSON is what it always was.
    public var architecture: NetworkArchitecture = .mlp
    /// The convolutional networks' sizes (`--architecture conv`); `nil` for MLPs.
    public var convolution: ConvolutionalSettings?

    /// Continuous time (`--timesteps continuous`): the log-SNR schedule of a DDPM trained with
    /// the continuous-time loss (``ContinuousTimeDDPM``); `nil` (the default, and every earlier
    /// checkpoint) for the discrete-time DDPM of T steps. In continuous time ``timestepCount``
    /// is the T it is sampled and evaluated at unless another is asked for, and ``schedule``,
    /// ``variance``, ``loss`` and ``clipPredictedStart`` do not apply. Stored under the key
    /// `continuousTime` only when set.
    public var continuousTime: ContinuousTimeSettings?
    /// The exponents of the ε-network's ``FourierFeatures`` (`--fourier-features`); empty (the
    /// default) for none. Stored under `fourierExponents` only when not empty.
    public var fourierExponents: [Int] = []

    public init(dataDimension: Int, likelihood: Likelihood) {
        self.dataDimension = dataDimension
        self.likelihood = likelihood
    }

    private enum CodingKeys: String, CodingKey {
        case dataDimension, likelihoodName, levels, timestepCount, timestepScaling, schedule, variance, loss, hiddenSizes,
             embeddingDimension, activation, clipPredictedStart, architecture, convolution, continuousTime, fourierExponents
    }

    /// Decodes every field as written; a missing `timestepScaling` (configurations written before
    /// the field existed) is `.floor`, whatever T.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        dataDimension = try container.decode(Int.self, forKey: .dataDimension)
        let name = try container.decode(String.self, forKey: .likelihoodName)
        let levels = try container.decodeIfPresent(Int.self, forKey: .levels)
        guard let likelihood = Likelihood(name: name, levels: levels) else {
            throw DecodingError.dataCorruptedError(forKey: .likelihoodName, in: container,
                                                   debugDescription: "unknown likelihood '\(name)' (levels \(levels.map(String.init) ?? "none"))")
        }
        self.likelihood = likelihood
        timestepCount = try container.decode(Int.self, forKey: .timestepCount)
        timestepScaling = try container.decodeIfPresent(TimestepScaling.self, forKey: .timestepScaling) ?? .floor
        schedule = try container.decode(NoiseSchedule.self, forKey: .schedule)
        variance = try container.decode(ReverseVariance.self, forKey: .variance)
        loss = try container.decode(DiffusionLoss.self, forKey: .loss)
        hiddenSizes = try container.decode([Int].self, forKey: .hiddenSizes)
        embeddingDimension = try container.decode(Int.self, forKey: .embeddingDimension)
        activation = try container.decode(Activation.self, forKey: .activation)
        clipPredictedStart = try container.decodeIfPresent(Bool.self, forKey: .clipPredictedStart)

        architecture = try container.decodeIfPresent(NetworkArchitecture.self, forKey: .architecture) ?? .mlp
        convolution = try container.decodeIfPresent(ConvolutionalSettings.self, forKey: .convolution)
        continuousTime = try container.decodeIfPresent(ContinuousTimeSettings.self, forKey: .continuousTime)
        fourierExponents = try container.decodeIfPresent([Int].self, forKey: .fourierExponents) ?? []
    }

    /// Writes every field under the keys ``init(from:)`` reads.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dataDimension, forKey: .dataDimension)
        try container.encode(likelihood.name, forKey: .likelihoodName)
        if case .discrete(let levels) = likelihood { try container.encode(levels, forKey: .levels) }
        try container.encode(timestepCount, forKey: .timestepCount)
        try container.encode(timestepScaling, forKey: .timestepScaling)
        try container.encode(schedule, forKey: .schedule)
        try container.encode(variance, forKey: .variance)
        try container.encode(loss, forKey: .loss)
        try container.encode(hiddenSizes, forKey: .hiddenSizes)
        try container.encode(embeddingDimension, forKey: .embeddingDimension)
        try container.encode(activation, forKey: .activation)
        try container.encodeIfPresent(clipPredictedStart, forKey: .clipPredictedStart)

        if architecture == .conv {
            try container.encode(architecture, forKey: .architecture)
            try container.encodeIfPresent(convolution, forKey: .convolution)
        }
        try container.encodeIfPresent(continuousTime, forKey: .continuousTime)
        if !fourierExponents.isEmpty { try container.encode(fourierExponents, forKey: .fourierExponents) }
    }

    /// The Fourier features of the ε-network's input, or `nil` for none: C channels per pixel
    /// for a U-Net, the whole row of D values for an MLP.
    public var fourierFeatures: FourierFeatures? {
        guard !fourierExponents.isEmpty else { return nil }
        let channels = architecture == .conv ? (convolution?.image.channels ?? dataDimension) : dataDimension
        return FourierFeatures(exponents: fourierExponents, channels: channels)
    }

    /// The ε-network's input width per row: D, or D·(1 + 2k) with k Fourier exponents.
    public var networkInputWidth: Int { dataDimension * (1 + 2 * fourierExponents.count) }

    /// Whether x̂₀ is clipped to [−1, 1] (see ``clipPredictedStart``).
    public var clipsPredictedStart: Bool { clipPredictedStart ?? (likelihood != .continuous) }

    /// Refuses configurations that cannot work, with one clear line.
    public func validate() throws {

        try ConvolutionalSettings.validate(convolution, for: architecture, model: "DDPM", dataDimension: dataDimension)
        guard dataDimension >= 1 else { throw ModelError.invalidConfiguration("DDPM: the data dimension must be at least 1, got \(dataDimension)") }
        guard timestepCount >= 1 else { throw ModelError.invalidConfiguration("DDPM: T (the number of diffusion steps) must be at least 1, got \(timestepCount)") }
        // No hidden layer is allowed: a linear ε-network, the closed-form case.
        guard hiddenSizes.allSatisfy({ $0 >= 1 }) else {
            throw ModelError.invalidConfiguration("DDPM: hidden widths must be positive, got \(hiddenSizes)")
        }
        guard embeddingDimension >= 2, embeddingDimension % 2 == 0 else {
            throw ModelError.invalidConfiguration("DDPM: the timestep embedding width must be an even number ≥ 2, got \(embeddingDimension)")
        }
        // Above 2²⁰ the frequency 2ⁿ·2π leaves Float32 nothing of z but its rounding.
        if let bad = fourierExponents.first(where: { abs($0) > 20 }) {
            throw ModelError.invalidConfiguration("DDPM: Fourier feature exponents must lie in −20…20, got \(bad)")
        }
        if Set(fourierExponents).count != fourierExponents.count {
            throw ModelError.invalidConfiguration("DDPM: Fourier feature exponents repeat: \(fourierExponents)")
        }
        if let continuousTime {
            try continuousTime.validate()
            guard variance == .fixedSmall, loss == .simple, clipPredictedStart != true else {
                throw ModelError.invalidConfiguration("DDPM: in continuous time the reverse step is the posterior q(z_s | z_t, x̂) with no clipping and the loss "
                    + "is the continuous-time ELBO: --variance, --loss and clipping do not apply")
            }
        }
        if variance == .learnedRange && loss == .simple {
            throw ModelError.invalidConfiguration("DDPM: the learned-range variance needs the hybrid or vlb loss: the simple loss does not train the variance")
        }
    }
}

