import ArgumentParser
import DDPMModel
import HVAEModel
import NN
import Pipeline

/// The model options of `compare train`; each applies to the models named in its help, and is
/// refused for the others. Unset options take the model's own defaults (see the configuration
/// types for the papers they come from).
struct ModelOptions: ParsableArguments {
    @Option(help: "Hidden layer widths, comma-separated (default: the model's, e.g. 128,128).", transform: IntList.parser("--hidden"))
    var hidden: IntList?

    @Option(help: "Activation between layers (default: the model's).")
    var activation: Activation?

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

    @Option(help: "DDPM: number of diffusion steps T (default 1000).")
    var timesteps: Int?

    @Option(help: "DDPM: noise schedule (default linear).")
    var schedule: NoiseSchedule?

    @Option(help: "DDPM: reverse variance (default fixed-small).")
    var variance: ReverseVariance?

    @Option(help: "DDPM: training loss (default simple).")
    var loss: DiffusionLoss?

    @Option(help: "DDPM: width of the sinusoidal timestep embedding (default 32).")
    var embedding: Int?

    var settings: ModelSettings {
        ModelSettings(hiddenSizes: hidden?.values, activation: activation, latentDimension: latent, latentSizes: latentSizes?.values,
                      inference: inference, warmupSteps: warmup, freeBits: freeBits, timestepCount: timesteps, schedule: schedule,
                      variance: variance, loss: loss, embeddingDimension: embedding)
    }
}
