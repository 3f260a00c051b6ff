import Core
import DDPMModel
import Distributed
import Foundation
import Store
import Tensor
import Training

#if canImport(Glibc)
import Glibc
#endif

/// One `compare train`: a model trained (or resumed) on one dataset file, checkpointed to `out`.
///
/// `demo` and `lesson` build these directly; ``arguments`` prints the request back as the
/// command line that runs it, which the checkpoint stores as its `command`.
public struct TrainRequest: Equatable, Sendable {
    public var model: ModelKind
    /// The dataset file.
    public var dataset: String
    public var training: TrainingOptions
    /// Threads of the engine's products (1 or more).
    public var threads: Int
    public var settings: ModelSettings
    /// Refuse to start unless the dataset's likelihood is this family.
    public var requiredLikelihood: Likelihood.Family?
    /// The checkpoint file; `nil` for `Runs/MODEL-DATASET.h5`.
    public var out: String?
    /// Continue the run stored in ``out``.
    public var resume: Bool
    /// Start over even if ``out`` exists.
    public var overwrite: Bool
    /// End the run when its optimizer steps have taken this long (`--time-budget`); `nil` for none.
    public var budget: TrainingBudget?

    public init(model: ModelKind, dataset: String, training: TrainingOptions = TrainingOptions(), threads: Int = 1,
                settings: ModelSettings = ModelSettings(), requiredLikelihood: Likelihood.Family? = nil, out: String? = nil,
                resume: Bool = false, overwrite: Bool = false, budget: TrainingBudget? = nil) {
        self.budget = budget
        self.model = model
        self.dataset = dataset
        self.training = training
        self.threads = threads
        self.settings = settings
        self.requiredLikelihood = requiredLikelihood
        self.out = out
        self.resume = resume
        self.overwrite = overwrite
    }

    /// The words after `compare`: options equal to the defaults are left out.
    public var arguments: [String] {
        var words = ["train", "--model", model.rawValue, "--dataset", dataset]
        var defaults = TrainingOptions()
        if budget != nil { defaults.steps = TrainingOptions.unlimitedSteps }
        words += trainingArguments(training, defaults: defaults)
        if let budget {
            words += ["--time-budget", formatSeconds(budget.seconds)]
            if budget.clock != .wall { words += ["--budget-clock", budget.clock.rawValue] }
        }
        if threads != 1 { words += ["--threads", String(threads)] }
        words += settings.arguments
        if let requiredLikelihood { words += ["--likelihood", requiredLikelihood.rawValue] }
        if let out { words += ["--out", out] }
        if resume { words.append("--resume") }
        if overwrite { words.append("--overwrite") }
        return words
    }

    /// The command line that runs this request.
    public var commandLine: String { shellCommand(arguments) }

    /// Checks the options on their own (files are checked by ``run(quiet:)``).
    public func validate() throws {
        guard threads >= 1 else { throw PipelineError("--threads must be at least 1, got \(threads)") }
        if let clip = training.maximumGradientNorm, !(clip > 0) {
            throw PipelineError("--clip must be 0 (off) or positive, got \(clip)")
        }
        if resume && overwrite { throw PipelineError("--resume and --overwrite contradict each other; give one of them") }
        try budget?.validate()
        try settings.validate(for: model)
        // Before the data are read, an MLP's sizes can be costed on D = 1; a conv network's
        // need the image shape.
        if settings.resolvedArchitecture(for: nil) == .mlp {
            // `--fourier-features auto` is two exponents, whose values need the data's levels.
            var costed = settings
            if costed.fourierFeatures == .auto { costed.fourierFeatures = .exponents([0, 1]) }
            try checkMemory(settings: costed, dimension: 1, likelihood: .binary, image: nil, fallback: "--model \(model.rawValue)")
        }
    }

    /// The checkpoint path for a dataset named `datasetName`.
    public func outputPath(datasetName: String) -> String { out ?? "Runs/\(model.rawValue)-\(datasetName).h5" }

    /// Trains (or resumes) the run and writes its checkpoints, holding the lock of its
    /// checkpoint file throughout. Ctrl-C, SIGTERM and SIGHUP write a checkpoint and end the run
    /// through ``TrainingInterrupted`` (the command exits with 128 + the signal).
    ///
    /// With several processes (`mpirun`), every process reads the dataset (and the checkpoint it
    /// resumes) and computes its share of each step; the first (rank 0) alone claims `--out`,
    /// writes the checkpoints and prints. An error on any process must end the whole job: the
    /// caller passes it to ``Communicator/abort(_:status:)``.
    @discardableResult
    public func run(quiet: Bool = false, communicator: any Communicator = SingleProcessCommunicator()) throws -> TrainingRun {
        let quiet = quiet || !communicator.isRoot
        try validate()
        let data = try readInIsolation(dataset) { try DatasetFile.read(dataset) }
        guard let likelihood = data.metadata.modelLikelihood else {
            throw PipelineError("\(dataset): likelihood '\(data.metadata.likelihood.rawValue)' with levels \(data.metadata.levels.map(String.init) ?? "none") is not usable")
        }
        if let requiredLikelihood, requiredLikelihood != likelihood.family {
            throw PipelineError("--likelihood \(requiredLikelihood.rawValue) does not fit \(dataset), whose data are \(likelihood.name)")
        }
        let image = ImageShape(exampleShape: data.metadata.exampleShape)
        var configuration = try settings.configuration(model: model, dimension: data.dimension, likelihood: likelihood, image: image,
                                                       dataSource: dataset)
        try checkMemory(dimension: data.dimension, likelihood: likelihood, image: image, fallback: "--dataset \(dataset) (D = \(data.dimension))")
        let outPath = outputPath(datasetName: data.metadata.name)
        LinearAlgebra.setThreadCount(threads)
        // One check of --out before any work; the lock is held until the run ends.
        let claim = communicator.isRoot ? try claimOutput(
            outPath, option: "--out", kind: .checkpoint,
            rule: resume ? .update("--resume: \(outPath) does not exist; start the run without --resume")
                : overwrite ? .replace : .refuse("\(outPath) exists: add --resume to continue that run, or --overwrite to start over"),
            inputs: [dataset]) : nil
        defer { claim?.release() }
        // The other processes read the checkpoint they resume only once rank 0 holds --out, so
        // that no other writer can replace it between their read and rank 0's.
        if communicator.size > 1 { try communicator.barrier() }
        let hash = try SHA256.hexDigest(ofFileAt: data.path)
        let run: TrainingRun
        if resume {
            if BaselineCheckpoint.isBaseline(at: outPath) { throw PipelineError("--resume: " + LoadedBaseline.notAModel(outPath)) }
            let checkpoint = try readInIsolation(outPath) {
                try Checkpoint.read(from: outPath, expecting: CheckpointExpectation(
                    model: configuration.kind.rawValue, requiresOptimizer: true, requiresGenerator: true))
            }
            if case .ddpm(var fresh) = configuration,
               case .ddpm(let stored)? = try? ModelConfiguration(kind: ModelKind.ddpm, json: checkpoint.config),
               stored.timestepCount == fresh.timestepCount {
                // The timestep scaling is no command-line option but a property of the run: a run
                // written before it existed (T > 1000, floor) resumes with its own.
                fresh.timestepScaling = stored.timestepScaling
                configuration = .ddpm(fresh)
            }
            do {
                run = try TrainingRun(resuming: checkpoint, configuration: configuration, options: training, dataset: data, datasetHash: hash,
                                      communicator: communicator)
            } catch TrainingError.mismatch(let message) {
                throw PipelineError("--resume \(outPath): \(message)")  // name the checkpoint that does not fit
            }
            run.budget = budget
            if run.step >= training.steps {
                if !quiet { print("\(outPath) already holds \(run.step) of \(training.steps) steps; nothing to do") }
                return run
            }
            if let budget, run.budgetSpent {
                if !quiet {
                    print("\(outPath) has already trained \(formatSeconds(run.budgetClockSeconds)) s on the \(budget.clock.rawValue) clock, "
                        + "the whole --time-budget of \(formatSeconds(budget.seconds)) s; nothing to do")
                }
                return run
            }
        } else {
            run = try TrainingRun(configuration: configuration, options: training, dataset: data, datasetHash: hash,
                                  communicator: communicator)
            run.command = commandLine
            run.budget = budget
        }
        let startingStep = run.step
        catchInterrupts()
        // With a budget, progress is the budget's clock against the budget (the steps are unknown).
        let progress = budget.map { ProgressReporter("train \(configuration.kind.rawValue)", total: Int($0.seconds.rounded(.up)), unit: "budget s",
                                                     startingAt: Int(run.budgetClockSeconds)) }
            ?? ProgressReporter("train \(configuration.kind.rawValue)", total: training.steps, startingAt: run.step)
        let finished = try run.train(
            checkpoint: { run in if communicator.isRoot { try run.checkpoint().write(to: outPath) } },
            progress: { run in
                guard !quiet else { return }
                let loss = run.losses.last.map { String(format: "loss %.4f", $0) } ?? ""
                if budget != nil {
                    progress.update(Swift.min(Int(run.budgetClockSeconds), progress.total), note: "step \(run.step) \(loss)")
                } else {
                    progress.update(run.step, note: loss)
                }
            },
            shouldStop: { interruptRequested != 0 })
        if !finished { throw TrainingInterrupted(step: run.step, checkpoint: outPath, signal: interruptRequested == 0 ? SIGINT : interruptRequested) }
        if !quiet {
            let elbo = run.testELBOs.last.map { String(format: "%.4f", $0) } ?? "?"
            print("wrote \(outPath): \(configuration.kind.rawValue), \(run.step) steps, test ELBO \(elbo) nats on "
                + "\(Swift.min(training.evaluationExamples, data.testCount)) test examples, \(String(format: "%.1f", run.trainingSeconds)) s"
                + (budget != nil && run.budgetSpent ? " (the --time-budget ended the run)" : ""))
            if communicator.size > 1 {
                let steps = Double(Swift.max(1, run.step - startingStep))
                print("note: \(communicator.size) processes; rank 0 waited \(String(format: "%.2f", run.waitingSeconds)) s for the others, "
                    + "spent \(String(format: "%.2f", run.communicationSeconds)) s in collectives, "
                    + "and sent and received \(String(format: "%.1f", run.communicatedBytes / steps / 1024)) KiB per step")
            }
            if run.skippedSteps > 0 {
                print("note: \(run.skippedSteps) steps were skipped because their loss or gradient was not finite")
            }
            if run.guardedOutputs > 0 {
                print("note: the log-scale guards moved \(Int(run.guardedOutputs)) network outputs into their bounds during training "
                    + "(docs/math.md#log-scale-guards)")
            }
        }
        return run
    }
}

/// Training stopped by Ctrl-C, SIGTERM or SIGHUP after writing a checkpoint; the command line
/// exits with 128 + ``signal`` (130, 143, 129).
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public let step: Int
    public let checkpoint: String
    /// The signal that stopped the run.
    public var signal: Int32 = SIGINT

    public init(step: Int, checkpoint: String, signal: Int32 = SIGINT) {
        self.step = step
        self.checkpoint = checkpoint
        self.signal = signal
    }

    public var description: String {
        "interrupted at step \(step): checkpoint written to \(checkpoint); run the same command with --resume to continue"
    }
}

/// `seconds` as the command line spells it: whole seconds without a fraction ("1500"), else
/// with up to 3 decimals.
func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : String(format: "%.3f", seconds)
}

/// The run options that differ from `defaults`, as command-line words.
func trainingArguments(_ options: TrainingOptions, defaults: TrainingOptions) -> [String] {
    var words: [String] = []
    func add(_ flag: String, _ value: String, _ isDefault: Bool) { if !isDefault { words += [flag, value] } }
    add("--steps", String(options.steps), options.steps == defaults.steps)
    add("--batch-size", String(options.batchSize), options.batchSize == defaults.batchSize)
    add("--lr", "\(options.learningRate)", options.learningRate == defaults.learningRate)
    add("--seed", String(options.seed), options.seed == defaults.seed)
    add("--checkpoint-every", String(options.checkpointEvery), options.checkpointEvery == defaults.checkpointEvery)
    add("--evaluate-every", String(options.evaluateEvery), options.evaluateEvery == defaults.evaluateEvery)
    add("--evaluation-examples", String(options.evaluationExamples), options.evaluationExamples == defaults.evaluationExamples)
    add("--log-every", String(options.logEvery), options.logEvery == defaults.logEvery)
    add("--clip", options.maximumGradientNorm.map { "\($0)" } ?? "0", options.maximumGradientNorm == defaults.maximumGradientNorm)
    add("--shards", String(options.shardCount), options.shardCount == defaults.shardCount)
    return words
}
