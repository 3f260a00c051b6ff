import ArgumentParser
import Core
import DDPMModel
import HVAEModel
import NN
import Pipeline

/// The model options of `compare train`; each applies to the models named in its help, and is
/// refused for the others. Unset options take the model's own defaults (see the configuration
/// types for the papers they come from).
struct ModelOptions: ParsableArguments {
    @Option(help: "Networks: mlp (perceptrons on rows) or conv (U-Net for the DDPM, ResNets for the VAE and HVAE) (default: conv for images of 28×28 or larger, such as Fashion-MNIST; mlp otherwise, such as the toy sets and 8×8 digits).")
    var architecture: NetworkArchitecture?

    @Option(help: "MLP: hidden layer widths, comma-separated (default: the model's, e.g. 128,128).", transform: IntList.parser("--hidden"))
    var hidden: IntList?

    @Option(help: "MLP: activation between layers (default: the model's).")
    var activation: Activation?

    @Option(name: .customLong("base-channels"), help: "Conv: channels at full resolution (default 32).")
    var baseChannels: Int?

    @Option(name: .customLong("channel-multipliers"), help: "Conv: channel multiplier per resolution, each halving the image, comma-separated (default 1,2,2: 28×28, 14×14, 7×7).",
            transform: IntList.parser("--channel-multipliers"))
    var channelMultipliers: IntList?

    @Option(name: .customLong("residual-blocks"), help: "Conv: residual blocks per resolution (default 2).")
    var residualBlocks: Int?

    @Option(help: "VAE: size of the latent z (default 2).")
    var latent: Int?

    @Option(name: .customLong("latent-sizes"), help: "HVAE: latent layer sizes z1,…,zL, comma-separated (default 2,2).",
            transform: IntList.parser("--latent-sizes"))
    var latentSizes: IntList?

    @Option(help: "HVAE: bottom-up (Markov, like the diffusion encoder) or top-down (ladder) inference (default bottom-up).")
    var inference: HVAEInference?

    @Option(help: "VAE and HVAE: KL warm-up steps, β from 0 to 1 (default 0: off).")
    var warmup: Int?

    @Option(name: .customLong("free-bits"), help: "HVAE: free bits in nats per layer (default off).")
    var freeBits: Double?

    @Option(help: "DDPM: number of diffusion steps T, or 'continuous' for the T → ∞ model trained on the continuous-time ELBO (default 1000).",
            transform: TimestepsArgument.parser("--timesteps"))
    var timesteps: TimestepsArgument?

    @Option(name: .customLong("evaluation-timesteps"), help: "DDPM, continuous time: the T it is sampled and evaluated at unless asked otherwise (default 1000).")
    var evaluationTimesteps: Int?

    @Option(help: "DDPM: noise schedule: linear or cosine β for T steps (default linear); in continuous time a log-SNR schedule, linear, cosine or learned (default learned).")
    var schedule: ScheduleArgument?

    @Option(name: .customLong("fourier-features"), help: "DDPM: Fourier features of x_t as extra network inputs, sin and cos of 2^n·2π x_t for each exponent n: 'auto' (from the data's levels: 6,7 for 8-bit data) or exponents such as 2,3 (default none).",
            transform: { text in
                guard let choice = FourierFeaturesChoice(argument: text) else {
                    throw ValidationError("--fourier-features '\(text)': expected auto or integers separated by commas, such as 6,7")
                }
                return choice
            })
    var fourierFeatures: FourierFeaturesChoice?

    @Option(help: "DDPM: reverse variance (default fixed-small).")
    var variance: ReverseVariance?

    @Option(help: "DDPM: training loss (default simple).")
    var loss: DiffusionLoss?

    @Option(help: "DDPM: width of the sinusoidal timestep embedding (default 32).")
    var embedding: Int?

    func validate() throws {
        if evaluationTimesteps != nil && timesteps != .continuous {
            throw ValidationError("--evaluation-timesteps is an option of --timesteps continuous: a DDPM of T steps is evaluated at its T")
        }
        if let evaluationTimesteps, evaluationTimesteps < 1 {
            throw ValidationError("--evaluation-timesteps must be at least 1, got \(evaluationTimesteps)")
        }
        if schedule == .learned && timesteps != .continuous {
            throw ValidationError("--schedule learned needs --timesteps continuous: a DDPM of T steps has a fixed β schedule")
        }
    }

    var settings: ModelSettings {
        let continuous = timesteps == .continuous
        var timestepCount: Int?
        if case .steps(let count)? = timesteps { timestepCount = count }
        if continuous { timestepCount = evaluationTimesteps }
        return ModelSettings(hiddenSizes: hidden?.values, activation: activation, latentDimension: latent, latentSizes: latentSizes?.values,
                             inference: inference, warmupSteps: warmup, freeBits: freeBits, timestepCount: timestepCount,
                             schedule: continuous ? nil : schedule?.noiseSchedule,
                             variance: variance, loss: loss, embeddingDimension: embedding, architecture: architecture,
                             baseChannels: baseChannels, channelMultipliers: channelMultipliers?.values, residualBlocks: residualBlocks,
                             continuousTime: continuous, logSNRSchedule: continuous ? schedule?.logSNRSchedule : nil,
                             fourierFeatures: fourierFeatures)
    }
}
