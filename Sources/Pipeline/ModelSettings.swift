import Core
import DDPMModel
import HVAEModel
import NN
import Training
import VAEModel

/// The model options of a training request, each `nil` when not given (the model's own
/// default then applies; see the configuration types for the papers they come from).
///
/// An option given to a model it does not belong to is refused rather than silently ignored.
public struct ModelSettings: Equatable, Sendable {
    /// Hidden layer widths (`--hidden`).
    public var hiddenSizes: [Int]?
    /// Activation between layers (`--activation`).
    public var activation: Activation?
    /// VAE: size of z (`--latent`).
    public var latentDimension: Int?
    /// HVAE: sizes of z_1 … z_L (`--latent-sizes`).
    public var latentSizes: [Int]?
    /// HVAE: bottom-up or top-down inference (`--inference`).
    public var inference: HVAEInference?
    /// VAE and HVAE: KL warm-up steps (`--warmup`).
    public var warmupSteps: Int?
    /// HVAE: free bits in nats per layer (`--free-bits`).
    public var freeBits: Double?
    /// DDPM: T (`--timesteps`); with ``continuousTime`` the T it is sampled and evaluated at.
    public var timestepCount: Int?
    /// DDPM: continuous time (`--timesteps continuous`), trained on the continuous-time ELBO.
    public var continuousTime: Bool
    /// DDPM: the β schedule (`--schedule`) of a discrete-time DDPM.
    public var schedule: NoiseSchedule?
    /// DDPM: the log-SNR schedule (`--schedule`) of a continuous-time DDPM (default learned).
    public var logSNRSchedule: LogSNRScheduleKind?
    /// DDPM: Fourier features of the network's input (`--fourier-features`).
    public var fourierFeatures: FourierFeaturesChoice?
    /// DDPM: the reverse variance (`--variance`).
    public var variance: ReverseVariance?
    /// DDPM: the training loss (`--loss`).
    public var loss: DiffusionLoss?
    /// DDPM: width of the timestep embedding (`--embedding`).
    public var embeddingDimension: Int?
    /// MLP or convolutional networks (`--architecture`); `nil` picks by the data
    /// (``defaultArchitecture(for:)``).
    public var architecture: NetworkArchitecture?
    /// Conv: channels at full resolution (`--base-channels`).
    public var baseChannels: Int?
    /// Conv: channel multiplier per resolution (`--channel-multipliers`).
    public var channelMultipliers: [Int]?
    /// Conv: residual blocks per resolution (`--residual-blocks`).
    public var residualBlocks: Int?

    public init(hiddenSizes: [Int]? = nil, activation: Activation? = nil, latentDimension: Int? = nil, latentSizes: [Int]? = nil,
                inference: HVAEInference? = nil, warmupSteps: Int? = nil, freeBits: Double? = nil, timestepCount: Int? = nil,
                schedule: NoiseSchedule? = nil, variance: ReverseVariance? = nil, loss: DiffusionLoss? = nil,
                embeddingDimension: Int? = nil, architecture: NetworkArchitecture? = nil, baseChannels: Int? = nil,
                channelMultipliers: [Int]? = nil, residualBlocks: Int? = nil, continuousTime: Bool = false,
                logSNRSchedule: LogSNRScheduleKind? = nil, fourierFeatures: FourierFeaturesChoice? = nil) {
        self.continuousTime = continuousTime
        self.logSNRSchedule = logSNRSchedule
        self.fourierFeatures = fourierFeatures
        self.hiddenSizes = hiddenSizes
        self.activation = activation
        self.latentDimension = latentDimension
        self.latentSizes = latentSizes
        self.inference = inference
        self.warmupSteps = warmupSteps
        self.freeBits = freeBits
        self.timestepCount = timestepCount
        self.schedule = schedule
        self.variance = variance
        self.loss = loss
        self.embeddingDimension = embeddingDimension
        self.architecture = architecture
        self.baseChannels = baseChannels
        self.channelMultipliers = channelMultipliers
        self.residualBlocks = residualBlocks
    }

    /// The architecture when `--architecture` is not given: convolutional networks for images
    /// of at least 28 × 28 (where an MLP's likelihood says more about the MLP than about the
    /// bound), MLPs for points, vectors and small images such as the 8 × 8 digits.
    public static func defaultArchitecture(for image: ImageShape?) -> NetworkArchitecture {
        guard let image, image.height >= 28, image.width >= 28 else { return .mlp }
        return .conv
    }

    /// Each given option with its flag, its command-line spelling and the models it belongs to,
    /// in the order the command line prints them.
    private var given: [(flag: String, value: String, models: Set<ModelKind>)] {
        var result: [(String, String, Set<ModelKind>)] = []
        func add(_ flag: String, _ value: String?, _ models: Set<ModelKind>) {
            if let value { result.append((flag, value, models)) }
        }
        add("--hidden", hiddenSizes.map(Self.list), Set(ModelKind.allCases))
        add("--activation", activation?.rawValue, Set(ModelKind.allCases))
        add("--latent", latentDimension.map(String.init), [.vae])
        add("--latent-sizes", latentSizes.map(Self.list), [.hvae])
        add("--inference", inference?.argument, [.hvae])
        add("--warmup", warmupSteps.map(String.init), [.vae, .hvae])
        add("--free-bits", freeBits.map { "\($0)" }, [.hvae])
        add("--timesteps", continuousTime ? "continuous" : timestepCount.map(String.init), [.ddpm])
        add("--evaluation-timesteps", continuousTime ? timestepCount.map(String.init) : nil, [.ddpm])
        add("--schedule", schedule?.rawValue ?? logSNRSchedule?.rawValue, [.ddpm])
        add("--fourier-features", fourierFeatures?.argument, [.ddpm])
        add("--variance", variance?.rawValue, [.ddpm])
        add("--loss", loss?.rawValue, [.ddpm])
        add("--embedding", embeddingDimension.map(String.init), [.ddpm])
        add("--architecture", architecture?.rawValue, Set(ModelKind.allCases))
        add("--base-channels", baseChannels.map(String.init), Set(ModelKind.allCases))
        add("--channel-multipliers", channelMultipliers.map(Self.list), Set(ModelKind.allCases))
        add("--residual-blocks", residualBlocks.map(String.init), Set(ModelKind.allCases))
        return result
    }

    static func list(_ sizes: [Int]) -> String { sizes.map(String.init).joined(separator: ",") }

    /// The options as command-line words.
    public var arguments: [String] { given.flatMap { [$0.flag, $0.value] } }

    /// Refuses options of another model and values that cannot work, naming the option.
    public func validate(for model: ModelKind) throws {
        for option in given where !option.models.contains(model) {
            let owners = option.models.map(\.rawValue).sorted().joined(separator: "/")
            throw PipelineError("\(option.flag) is an option of --model \(owners), not of --model \(model.rawValue)")
        }
        if let hiddenSizes, hiddenSizes.contains(where: { $0 < 1 }) {
            throw PipelineError("--hidden '\(Self.list(hiddenSizes))': expected positive integers separated by commas")
        }
        if let latentSizes, latentSizes.isEmpty || latentSizes.contains(where: { $0 < 1 }) {
            throw PipelineError("--latent-sizes '\(Self.list(latentSizes))': expected positive integers separated by commas")
        }
        if let latentDimension, latentDimension < 1 { throw PipelineError("--latent must be at least 1, got \(latentDimension)") }
        if let warmupSteps, warmupSteps < 0 { throw PipelineError("--warmup must be 0 (off) or positive, got \(warmupSteps)") }
        if let freeBits, !(freeBits >= 0 && freeBits.isFinite) {
            throw PipelineError("--free-bits must be a finite number ≥ 0, got \(freeBits)")
        }
        if let timestepCount, timestepCount < 1 { throw PipelineError("--timesteps must be at least 1, got \(timestepCount)") }
        if let embeddingDimension, embeddingDimension < 2 || embeddingDimension % 2 != 0 {
            throw PipelineError("--embedding must be an even number ≥ 2, got \(embeddingDimension)")
        }
        if let baseChannels, baseChannels < 1 { throw PipelineError("--base-channels must be at least 1, got \(baseChannels)") }
        if let channelMultipliers, channelMultipliers.isEmpty || channelMultipliers.contains(where: { $0 < 1 }) {
            throw PipelineError("--channel-multipliers '\(Self.list(channelMultipliers))': expected positive integers separated by commas")
        }
        if let residualBlocks, residualBlocks < 1 { throw PipelineError("--residual-blocks must be at least 1, got \(residualBlocks)") }
        if architecture == .mlp, let flag = convolutionFlags.first {
            throw PipelineError("\(flag) is an option of --architecture conv, not of --architecture mlp")
        }
        if architecture == .conv, let flag = perceptronFlags.first {
            throw PipelineError("\(flag) is an option of --architecture mlp, not of --architecture conv")
        }
        if continuousTime {
            if let flag = [variance.map { _ in "--variance" }, loss.map { _ in "--loss" }].compactMap({ $0 }).first {
                throw PipelineError("\(flag) is an option of discrete-time DDPMs: in continuous time the reverse step is the posterior q(z_s | z_t, x̂) "
                    + "and the loss the continuous-time ELBO")
            }
            if schedule != nil { throw PipelineError("--schedule: give a log-SNR schedule (linear, cosine or learned) with --timesteps continuous") }
        } else if logSNRSchedule != nil {
            throw PipelineError("--schedule learned needs --timesteps continuous: a DDPM of T steps has a fixed β schedule")
        }
        if case .exponents(let values)? = fourierFeatures, let bad = values.first(where: { abs($0) > 20 }) {
            throw PipelineError("--fourier-features: exponent \(bad) is outside −20…20 (2ⁿ·2π z would be all rounding in Float32)")
        }
        if model == .ddpm, variance == .learnedRange, (loss ?? DDPMConfiguration(dataDimension: 1, likelihood: .continuous).loss) == .simple {
            throw PipelineError("--variance learned-range needs --loss hybrid or vlb: the simple loss does not train the variance")
        }
    }

    /// The flags given that only convolutional networks take.
    var convolutionFlags: [String] {
        [baseChannels.map { _ in "--base-channels" }, channelMultipliers.map { _ in "--channel-multipliers" },
         residualBlocks.map { _ in "--residual-blocks" }].compactMap { $0 }
    }

    /// The flags given that only MLPs take.
    var perceptronFlags: [String] {
        [hiddenSizes.map { _ in "--hidden" }, activation.map { _ in "--activation" }].compactMap { $0 }
    }

    /// The architecture for data of `image` shape (`nil`: not images): the one given, else the
    /// data's default; an MLP-only or conv-only option given without `--architecture` picks
    /// that architecture.
    public func resolvedArchitecture(for image: ImageShape?) -> NetworkArchitecture {
        if let architecture { return architecture }
        if !convolutionFlags.isEmpty { return .conv }
        if !perceptronFlags.isEmpty { return .mlp }
        return Self.defaultArchitecture(for: image)
    }

    /// The convolutional settings for images of `image` shape with every given option applied.
    func convolutionalSettings(image: ImageShape) -> ConvolutionalSettings {
        var settings = ConvolutionalSettings(image: image)
        if let baseChannels { settings.baseChannels = baseChannels }
        if let channelMultipliers { settings.channelMultipliers = channelMultipliers }
        if let residualBlocks { settings.residualBlocks = residualBlocks }
        // Group normalization needs whole groups: 8 as improved-diffusion's 32 scaled down, or
        // fewer for narrow networks.
        let widths = [settings.baseChannels] + settings.channelMultipliers.map { settings.baseChannels * $0 }
        settings.normalizationGroups = [8, 4, 2, 1].first { groups in widths.allSatisfy { $0 % groups == 0 } } ?? 1
        return settings
    }

    /// The configuration of `model` for data of `dimension` under `likelihood`: the model's
    /// defaults with every given option applied. `image` is the data's image shape, when they
    /// are images (needed by `--architecture conv`).
    public func configuration(model: ModelKind, dimension: Int, likelihood: Likelihood, image: ImageShape? = nil,
                              dataSource: String = "the data") throws -> ModelConfiguration {
        try validate(for: model)
        let architecture = resolvedArchitecture(for: image)
        var convolution: ConvolutionalSettings?
        if architecture == .conv {
            guard let image, image.dimension == dimension else {
                throw PipelineError("--architecture conv needs images: \(dataSource) holds examples of \(dimension) values with no image shape")
            }
            convolution = convolutionalSettings(image: image)
        }
        switch model {
        case .vae:
            var c = VAEConfiguration(dataDimension: dimension, likelihood: likelihood)
            if let hiddenSizes { c.hiddenSizes = hiddenSizes }
            if let activation { c.activation = activation }
            if let latentDimension { c.latentDimension = latentDimension }
            if let warmupSteps { c.klWarmupSteps = warmupSteps }
            c.architecture = architecture
            c.convolution = convolution
            return .vae(c)
        case .hvae:
            var c = HVAEConfiguration(dataDimension: dimension, likelihood: likelihood)
            if let hiddenSizes { c.hiddenSizes = hiddenSizes }
            if let activation { c.activation = activation }
            if let latentSizes { c.latentSizes = latentSizes }
            if let inference { c.inference = inference }
            if let warmupSteps { c.klWarmupSteps = warmupSteps }
            if let freeBits { c.freeBits = freeBits }
            c.architecture = architecture
            c.convolution = convolution
            return .hvae(c)
        case .ddpm:
            var c = DDPMConfiguration(dataDimension: dimension, likelihood: likelihood)
            if let hiddenSizes { c.hiddenSizes = hiddenSizes }
            if let activation { c.activation = activation }
            if let timestepCount { c.timestepCount = timestepCount }
            if continuousTime { c.continuousTime = ContinuousTimeSettings(schedule: logSNRSchedule ?? .learned, levels: likelihood.levels) }
            if let fourierFeatures { c.fourierExponents = try fourierFeatures.exponents(for: likelihood) }
            if let schedule { c.schedule = schedule }
            if let variance { c.variance = variance }
            if let loss { c.loss = loss }
            if let embeddingDimension { c.embeddingDimension = embeddingDimension }
            c.architecture = architecture
            c.convolution = convolution
            return .ddpm(c)
        }
    }
}

extension HVAEInference {
    /// The command-line spelling: `bottom-up` or `top-down` (the checkpoint JSON keeps the
    /// case names `bottomUp` and `topDown`, which every stored run already uses).
    public var argument: String {
        switch self {
        case .bottomUp: return "bottom-up"
        case .topDown: return "top-down"
        }
    }

    /// The inference named by its command-line spelling.
    public init?(argument: String) {
        guard let match = Self.allCases.first(where: { $0.argument == argument }) else { return nil }
        self = match
    }
}
