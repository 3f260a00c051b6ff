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
    /// DDPM: T (`--timesteps`).
    public var timestepCount: Int?
    /// DDPM: the β schedule (`--schedule`).
    public var schedule: NoiseSchedule?
    /// DDPM: the reverse variance (`--variance`).
    public var variance: ReverseVariance?
    /// DDPM: the training loss (`--loss`).
    public var loss: DiffusionLoss?
    /// DDPM: width of the timestep embedding (`--embedding`).
    public var embeddingDimension: Int?

    public init(hiddenSizes: [Int]? = nil, activation: Activation? = nil, latentDimension: Int? = nil, latentSizes: [Int]? = nil,
                inference: HVAEInference? = nil, warmupSteps: Int? = nil, freeBits: Double? = nil, timestepCount: Int? = nil,
                schedule: NoiseSchedule? = nil, variance: ReverseVariance? = nil, loss: DiffusionLoss? = nil,
                embeddingDimension: Int? = nil) {
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
        add("--timesteps", timestepCount.map(String.init), [.ddpm])
        add("--schedule", schedule?.rawValue, [.ddpm])
        add("--variance", variance?.rawValue, [.ddpm])
        add("--loss", loss?.rawValue, [.ddpm])
        add("--embedding", embeddingDimension.map(String.init), [.ddpm])
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
        if model == .ddpm, variance == .learnedRange, (loss ?? DDPMConfiguration(dataDimension: 1, likelihood: .continuous).loss) == .simple {
            throw PipelineError("--variance learned-range needs --loss hybrid or vlb: the simple loss does not train the variance")
        }
    }

    /// The configuration of `model` for data of `dimension` under `likelihood`: the model's
    /// defaults with every given option applied.
    public func configuration(model: ModelKind, dimension: Int, likelihood: Likelihood) throws -> ModelConfiguration {
        try validate(for: model)
        switch model {
        case .vae:
            var c = VAEConfiguration(dataDimension: dimension, likelihood: likelihood)
            if let hiddenSizes { c.hiddenSizes = hiddenSizes }
            if let activation { c.activation = activation }
            if let latentDimension { c.latentDimension = latentDimension }
            if let warmupSteps { c.klWarmupSteps = warmupSteps }
            return .vae(c)
        case .hvae:
            var c = HVAEConfiguration(dataDimension: dimension, likelihood: likelihood)
            if let hiddenSizes { c.hiddenSizes = hiddenSizes }
            if let activation { c.activation = activation }
            if let latentSizes { c.latentSizes = latentSizes }
            if let inference { c.inference = inference }
            if let warmupSteps { c.klWarmupSteps = warmupSteps }
            if let freeBits { c.freeBits = freeBits }
            return .hvae(c)
        case .ddpm:
            var c = DDPMConfiguration(dataDimension: dimension, likelihood: likelihood)
            if let hiddenSizes { c.hiddenSizes = hiddenSizes }
            if let activation { c.activation = activation }
            if let timestepCount { c.timestepCount = timestepCount }
            if let schedule { c.schedule = schedule }
            if let variance { c.variance = variance }
            if let loss { c.loss = loss }
            if let embeddingDimension { c.embeddingDimension = embeddingDimension }
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
