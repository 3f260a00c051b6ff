import ArgumentParser
import DDPMModel
import HVAEModel
import NN
import Training
import VAEModel

/// The model options of `compare train`, mapped onto each model's configuration. Defaults
/// are the models' own (see their configuration types for the papers they come from).
struct ModelOptions: ParsableArguments {
    @Option(help: "Hidden layer widths, comma-separated (default: the model's, e.g. 128,128).")
    var hidden: String?

    @Option(help: "Activation between layers: relu, silu or tanh (default: the model's).")
    var activation: String?

    @Option(help: "VAE: size of the latent z (default 2).")
    var latent: Int?

    @Option(name: .customLong("latent-sizes"), help: "HVAE: latent layer sizes z1,…,zL, comma-separated (default 2,2).")
    var latentSizes: String?

    @Option(help: "HVAE: bottom-up (Markov, like the diffusion encoder) or top-down (ladder).")
    var inference: String?

    @Option(help: "VAE and HVAE: KL warm-up steps, β from 0 to 1 (default 0: off).")
    var warmup: Int?

    @Option(name: .customLong("free-bits"), help: "HVAE: free bits in nats per layer (default off).")
    var freeBits: Double?

    @Option(help: "DDPM: number of diffusion steps T (default 1000).")
    var timesteps: Int?

    @Option(help: "DDPM: noise schedule, linear or cosine (default linear).")
    var schedule: String?

    @Option(help: "DDPM: reverse variance, fixed-large, fixed-small or learned-range (default fixed-small).")
    var variance: String?

    @Option(help: "DDPM: training loss, simple, vlb or hybrid (default simple).")
    var loss: String?

    @Option(help: "DDPM: width of the sinusoidal timestep embedding (default 32).")
    var embedding: Int?

    static func parseSizes(_ text: String, option: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var sizes: [Int] = []
        for part in parts {
            guard let value = Int(part), value >= 1 else {
                throw CLIFailure("--\(option) '\(text)': expected positive integers separated by commas")
            }
            sizes.append(value)
        }
        return sizes
    }

    static func parse<T: RawRepresentable>(_ text: String, as type: T.Type, option: String) throws -> T
        where T.RawValue == String, T: CaseIterable {
        guard let value = T(rawValue: text) else {
            throw CLIFailure("--\(option) '\(text)': unknown; expected one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// Options that only apply to another model are refused rather than silently ignored.
    func refuseForeign(_ model: String) throws {
        let owners: [(String, Bool, Set<String>)] = [
            ("--latent", latent != nil, ["vae"]),
            ("--latent-sizes", latentSizes != nil, ["hvae"]),
            ("--inference", inference != nil, ["hvae"]),
            ("--warmup", warmup != nil, ["vae", "hvae"]),
            ("--free-bits", freeBits != nil, ["hvae"]),
            ("--timesteps", timesteps != nil, ["ddpm"]),
            ("--schedule", schedule != nil, ["ddpm"]),
            ("--variance", variance != nil, ["ddpm"]),
            ("--loss", loss != nil, ["ddpm"]),
            ("--embedding", embedding != nil, ["ddpm"]),
        ]
        for (option, given, models) in owners where given && !models.contains(model) {
            throw CLIFailure("\(option) is an option of --model \(models.sorted().joined(separator: "/")), not of --model \(model)")
        }
    }

    /// The configuration of `model` for data of `dimension` under `likelihood`.
    func configuration(model: String, dimension: Int, likelihood: Likelihood) throws -> ModelConfiguration {
        try refuseForeign(model)
        if let latent, latent < 1 { throw CLIFailure("--latent must be at least 1, got \(latent)") }
        if let warmup, warmup < 0 { throw CLIFailure("--warmup must be 0 (off) or positive, got \(warmup)") }
        if let freeBits, !(freeBits >= 0 && freeBits.isFinite) { throw CLIFailure("--free-bits must be a finite number ≥ 0, got \(freeBits)") }
        let hiddenSizes = try hidden.map { try Self.parseSizes($0, option: "hidden") }
        let activation = try activation.map { try Self.parse($0, as: Activation.self, option: "activation") }
        switch model {
        case "vae":
            var c = VAEConfiguration(dataDimension: dimension, likelihood: likelihood)
            if let hiddenSizes { c.hiddenSizes = hiddenSizes }
            if let activation { c.activation = activation }
            if let latent { c.latentDimension = latent }
            if let warmup { c.klWarmupSteps = warmup }
            return .vae(c)
        case "hvae":
            var c = HVAEConfiguration(dataDimension: dimension, likelihood: likelihood)
            if let hiddenSizes { c.hiddenSizes = hiddenSizes }
            if let activation { c.activation = activation }
            if let latentSizes { c.latentSizes = try Self.parseSizes(latentSizes, option: "latent-sizes") }
            if let inference {
                switch inference {
                case "bottom-up": c.inference = .bottomUp
                case "top-down": c.inference = .topDown
                default: throw CLIFailure("--inference '\(inference)': unknown; expected bottom-up or top-down")
                }
            }
            if let warmup { c.klWarmupSteps = warmup }
            if let freeBits { c.freeBits = freeBits }
            return .hvae(c)
        case "ddpm":
            var c = DDPMConfiguration(dataDimension: dimension, likelihood: likelihood)
            if let hiddenSizes { c.hiddenSizes = hiddenSizes }
            if let activation { c.activation = activation }
            if let timesteps { c.timestepCount = timesteps }
            if let schedule { c.schedule = try Self.parse(schedule, as: NoiseSchedule.self, option: "schedule") }
            if let variance { c.variance = try Self.parse(variance, as: ReverseVariance.self, option: "variance") }
            if let loss { c.loss = try Self.parse(loss, as: DiffusionLoss.self, option: "loss") }
            if let embedding { c.embeddingDimension = embedding }
            return .ddpm(c)
        default:
            throw CLIFailure("--model '\(model)': unknown; expected vae, hvae or ddpm")
        }
    }
}
