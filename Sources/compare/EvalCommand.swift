import ArgumentParser
import Pipeline

/// `compare eval`: ELBO, IWAE_K, the gap and (on known densities) both KLs of a trained run,
/// stored under `/evaluation` of its checkpoint and printed. With `--denoiser oracle` a DDPM is
/// evaluated with the closed-form oracle denoiser instead of its network, and only printed.
struct EvalCommand: ParsableCommand, RunsAsJob {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint on the test split: ELBO, IWAE_K, the bound gap and, on known densities, both KLs.")

    @Argument(help: "Checkpoint file written by `compare train`, or by `compare baseline` (its exact log p(x) is recomputed).")
    var checkpoint: String

    @Option(help: "The K values of IWAE_K, comma-separated; the largest must be a multiple of each.",
            transform: IntList.parser("--samples"))
    var samples = IntList(EvaluationRequest.defaultSampleCounts)

    @Option(help: "Number of test examples (the first N of the split; default all).")
    var examples: Int?

    @Option(help: "Seed of the evaluation's draws.")
    var seed: UInt64 = 1

    @Option(name: .customLong("batch-size"), help: "Examples per model call.")
    var batchSize: Int = 50

    @Option(name: .customLong("elbo-draws"), help: "Independent ELBO draws averaged per example.")
    var elboDraws: Int = 10

    @Option(help: "Threads of the engine.")
    var threads: Int = 1

    @Option(help: """
        Noise predictor of a DDPM: its trained network, or the closed-form oracle E[ε | x_t] of its dataset's \
        Gaussian-mixture density (continuous gmm2d or gaussian data; fixed-small variance; printed, not stored).
        """)
    var denoiser: EvaluationDenoiser = .network

    @Option(help: """
        Also draw N samples from the model and bracket log p(x0) on them between IWAE_K and the upper bound U_K, \
        for every K (docs/math.md#sandwich-bounds); stored with the evaluation.
        """)
    var sandwich: Int?

    @Option(help: """
        Random streams: one through the batches in order (sequential, as every earlier evaluation), or one per batch (per-batch: needed to share the batches over `mpirun -np N` processes, which then write the same numbers as one).
        """)
    var streams: EvaluationStreams = .sequential

    @Option(help: "Continuous-time DDPM: the number of steps T it is read at, as a hierarchical VAE of T + 1 latent layers (default: the T stored with it, 1000 unless trained with --evaluation-timesteps); its continuous-time ELBO is printed beside.")
    var timesteps: Int?

    @Option(name: .customLong("continuous-draws"), help: "Continuous-time DDPM: draws of (t, ε) per example for its ELBO_∞, one network pass each (default: --elbo-draws).")
    var continuousDraws: Int?

    var request: EvaluationRequest {
        EvaluationRequest(checkpoint: checkpoint, sampleCounts: samples.values, examples: examples, seed: seed,
                          batchSize: batchSize, elboDraws: elboDraws, threads: threads,
                          denoiser: denoiser, sandwich: sandwich, streams: streams, timesteps: timesteps,
                          continuousDraws: continuousDraws)
    }

    func validate() throws {
        do { try request.validate() } catch { throw ValidationError(error) }
    }

    func run() throws {
        try failOnErrorInJob { communicator in
            let summary = try request.run(communicator: communicator)
            if communicator.isRoot { print(summary) }
        }
    }
}
