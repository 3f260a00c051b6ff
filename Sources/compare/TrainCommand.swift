import ArgumentParser
import Core
import Foundation
import Pipeline
import Training

/// `compare train`: train one model on one dataset, checkpointing as it goes.
struct TrainCommand: ParsableCommand, RunsAsJob {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a VAE, a hierarchical VAE or a DDPM on a dataset file, with checkpoints.",
        discussion: """
        --steps is the total length of the run: the same command line plus --resume continues the \
        run stored in --out to the same end, bit-identically (same seed, same --threads). \
        --time-budget ends the run instead after the step at which its optimizer steps have taken \
        that long (over all its sessions; test-ELBO evaluations and checkpoint writes not \
        counted); --resume with a longer budget continues it.
        """)

    @Option(help: "The model to train.")
    var model: ModelKind

    @Option(help: "Dataset file (see `compare datasets`).")
    var dataset: String

    @OptionGroup var runOptions: RunOptions
    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Refuse to start unless the dataset's likelihood is this.")
    var likelihood: Likelihood.Family?

    @Option(help: "Checkpoint file (default Runs/MODEL-DATASET.h5).")
    var out: String?

    @Option(name: .customLong("time-budget"),
            help: ArgumentHelp("End the run after this much training time: seconds, or with a unit (25m, 1.5h).", valueName: "duration"),
            transform: DurationArgument.parser("--time-budget"))
    var timeBudget: DurationArgument?

    @Option(name: .customLong("budget-clock"),
            help: "The clock of --time-budget: wall (elapsed seconds) or cpu (the process's CPU seconds divided by --threads; with --threads 1, the time the run had a core, whatever else ran).")
    var budgetClock: TrainingBudget.Clock = .wall

    @Flag(help: "Continue the run stored in --out.")
    var resume = false

    @Flag(help: "Start over even if --out exists.")
    var overwrite = false

    var request: TrainRequest {
        TrainRequest(model: model, dataset: dataset, training: runOptions.trainingOptions(limited: timeBudget == nil),
                     threads: runOptions.threads, settings: modelOptions.settings, requiredLikelihood: likelihood, out: out,
                     resume: resume, overwrite: overwrite,
                     budget: timeBudget.map { TrainingBudget(seconds: $0.seconds, clock: budgetClock, threads: runOptions.threads) })
    }

    func validate() throws {
        if timeBudget == nil && budgetClock != .wall { throw ValidationError("--budget-clock needs --time-budget") }
        do { try request.validate() } catch { throw ValidationError(error) }
    }

    func run() throws {
        try failOnErrorInJob { communicator in
            do { try request.run(communicator: communicator) } catch let interrupted as TrainingInterrupted {
                if communicator.isRoot { FileHandle.standardError.write(Data("\(interrupted)\n".utf8)) }
                throw ExitCode(128 + interrupted.signal)  // 130 SIGINT, 143 SIGTERM, 129 SIGHUP
            }
        }
    }
}

/// Options shared by every command that trains.
struct RunOptions: ParsableArguments {
    private static let defaults = TrainingOptions()

    @Option(help: "Total number of training steps of the run (default: \(defaults.steps); no limit with --time-budget).")
    var steps: Int?

    @Option(name: .customLong("batch-size"), help: "Examples per step.")
    var batchSize: Int = defaults.batchSize

    @Option(help: "Adam's learning rate.")
    var lr: Float = defaults.learningRate

    @Option(help: "Seed of weights, data order and noise.")
    var seed: UInt64 = defaults.seed

    @Option(name: .customLong("checkpoint-every"), help: "Steps between checkpoints (0: only at the end).")
    var checkpointEvery: Int = defaults.checkpointEvery

    @Option(name: .customLong("evaluate-every"), help: "Steps between test-ELBO evaluations on a fixed subset (0: only at the end).")
    var evaluateEvery: Int = defaults.evaluateEvery

    @Option(name: .customLong("evaluation-examples"),
            help: "Test examples of that subset (a U-Net DDPM's exact ELBO costs T network passes per example: use a few dozen).")
    var evaluationExamples: Int = defaults.evaluationExamples

    @Option(name: .customLong("log-every"), help: "Steps per logged mean loss.")
    var logEvery: Int = defaults.logEvery

    @Option(help: "Clip the global gradient norm (0: no clipping).")
    var clip: Float = defaults.maximumGradientNorm ?? 0

    @Option(help: "Split each batch into this many shards, each with its own random stream (1, 2, 4, …, dividing --batch-size): the same bits whether one process or `mpirun -np N` (N ≤ shards) computes them.")
    var shards: Int = defaults.shardCount

    @Option(help: "Threads of the engine (1 or more).")
    var threads: Int = 1

    func validate() throws {
        guard clip >= 0 else { throw ValidationError("--clip must be 0 (off) or positive, got \(clip)") }
    }

    /// The options; without --steps, the default length when `limited`, else no limit.
    func trainingOptions(limited: Bool) -> TrainingOptions {
        TrainingOptions(steps: steps ?? (limited ? Self.defaults.steps : TrainingOptions.unlimitedSteps), batchSize: batchSize, learningRate: lr, seed: seed, checkpointEvery: checkpointEvery,
                        logEvery: logEvery, evaluateEvery: evaluateEvery, evaluationExamples: evaluationExamples,
                        maximumGradientNorm: clip == 0 ? nil : clip, shardCount: shards)
    }
}
