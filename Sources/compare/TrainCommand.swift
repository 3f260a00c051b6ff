import ArgumentParser
import Foundation
import NN
import Store
import Tensor
import Training

/// `compare train`: train one model on one dataset, checkpointing as it goes.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a VAE, a hierarchical VAE or a DDPM on a dataset file, with checkpoints.",
        discussion: """
        --steps is the total length of the run: the same command line plus --resume continues the \
        run stored in --out to the same end, bit-identically (same seed, same --threads).
        """)

    @Option(help: "vae, hvae or ddpm.")
    var model: String

    @Option(help: "Dataset file (see `compare datasets`).")
    var dataset: String

    @OptionGroup var runOptions: RunOptions
    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Refuse to start unless the dataset's likelihood is this (continuous, binary, discrete).")
    var likelihood: String?

    @Option(help: "Checkpoint file (default Runs/MODEL-DATASET.h5).")
    var out: String?

    @Flag(help: "Continue the run stored in --out.")
    var resume = false

    @Flag(help: "Start over even if --out exists.")
    var overwrite = false

    /// The arguments as given (set by `demo`, which runs this command in-process).
    var arguments: [String] = Array(CommandLine.arguments.dropFirst(2))

    enum CodingKeys: String, CodingKey {
        case model, dataset, runOptions, modelOptions, likelihood, out, resume, overwrite
    }

    func run() throws {
        try failOnError {
            let data = try readInIsolation(dataset) { try DatasetFile.read(dataset) }
            let datasetLikelihood = try modelLikelihood(of: data, path: dataset)
            if let likelihood, likelihood != datasetLikelihood.name {
                throw CLIFailure("--likelihood \(likelihood) does not fit \(dataset), whose data are \(datasetLikelihood.name)")
            }
            let configuration = try modelOptions.configuration(model: model, dimension: data.dimension, likelihood: datasetLikelihood)
            let options = try runOptions.trainingOptions()
            let outPath = out ?? "Runs/\(model)-\(data.metadata.name).h5"
            try runTraining(configuration: configuration, options: options, data: data, outPath: outPath,
                            resume: resume, overwrite: overwrite, threads: runOptions.threads,
                            command: commandLine(["train"], arguments))
        }
    }
}

/// Options shared by every command that trains.
struct RunOptions: ParsableArguments {
    @Option(help: "Total number of training steps of the run.")
    var steps: Int = 5000

    @Option(name: .customLong("batch-size"), help: "Examples per step.")
    var batchSize: Int = 256

    @Option(help: "Adam's learning rate.")
    var lr: Float = 1e-3

    @Option(help: "Seed of weights, data order and noise.")
    var seed: UInt64 = 0

    @Option(name: .customLong("checkpoint-every"), help: "Steps between checkpoints (0: only at the end).")
    var checkpointEvery: Int = 1000

    @Option(name: .customLong("evaluate-every"), help: "Steps between test-ELBO evaluations on a fixed subset (0: only at the end).")
    var evaluateEvery: Int = 1000

    @Option(name: .customLong("log-every"), help: "Steps per logged mean loss.")
    var logEvery: Int = 50

    @Option(help: "Clip the global gradient norm (0: no clipping).")
    var clip: Float = 10

    @Option(help: "BLAS threads (1 or more).")
    var threads: Int = 1

    func trainingOptions() throws -> TrainingOptions {
        guard threads >= 1 else { throw CLIFailure("--threads must be at least 1, got \(threads)") }
        guard clip >= 0 else { throw CLIFailure("--clip must be 0 (off) or positive, got \(clip)") }
        return TrainingOptions(steps: steps, batchSize: batchSize, learningRate: lr, seed: seed,
                               checkpointEvery: checkpointEvery, logEvery: logEvery, evaluateEvery: evaluateEvery,
                               maximumGradientNorm: clip == 0 ? nil : clip)
    }
}

/// The models' likelihood for a dataset file's kind.
func modelLikelihood(of data: LoadedDataset, path: String) throws -> NN.Likelihood {
    guard let likelihood = NN.Likelihood(name: data.metadata.likelihood.rawValue, levels: data.metadata.levels) else {
        throw CLIFailure("\(path): likelihood '\(data.metadata.likelihood.rawValue)' with levels \(data.metadata.levels.map(String.init) ?? "none") is not usable")
    }
    return likelihood
}

/// Trains (or resumes) a run and writes its checkpoints to `outPath`. Shared by `train` and `demo`.
@discardableResult
func runTraining(configuration: ModelConfiguration, options: TrainingOptions, data: LoadedDataset, outPath: String,
                 resume: Bool, overwrite: Bool, threads: Int, command: String, quiet: Bool = false) throws -> TrainingRun {
    LinearAlgebra.setThreadCount(threads)
    try prepareOutputFolder(for: outPath)
    removeStaleTemporary(for: outPath)
    let hash = try SHA256.hexDigest(ofFileAt: data.path)
    let exists = FileManager.default.fileExists(atPath: outPath)
    let run: TrainingRun
    if resume {
        guard exists else { throw CLIFailure("--resume: \(outPath) does not exist; start the run without --resume") }
        let checkpoint = try readInIsolation(outPath) {
            try Checkpoint.read(from: outPath, expecting: CheckpointExpectation(model: configuration.kind, requiresOptimizer: true, requiresGenerator: true))
        }
        do {
            run = try TrainingRun(resuming: checkpoint, configuration: configuration, options: options, dataset: data, datasetHash: hash)
        } catch TrainingError.mismatch(let message) {
            throw CLIFailure("--resume \(outPath): \(message)")  // name the checkpoint that does not fit
        }
        if run.step >= options.steps {
            if !quiet { print("\(outPath) already holds \(run.step) of \(options.steps) steps; nothing to do") }
            return run
        }
    } else {
        if exists && !overwrite {
            throw CLIFailure("\(outPath) exists: add --resume to continue that run, or --overwrite to start over")
        }
        run = try TrainingRun(configuration: configuration, options: options, dataset: data, datasetHash: hash)
        run.command = command
    }
    catchInterrupts()
    let progress = ProgressReporter("train \(configuration.kind)", total: options.steps, startingAt: run.step)
    let finished = try run.train(
        checkpoint: { run in try run.checkpoint().write(to: outPath) },
        progress: { run in
            if !quiet { progress.update(run.step, note: run.losses.last.map { String(format: "loss %.4f", $0) } ?? "") }
        },
        shouldStop: { interruptRequested != 0 })
    if !finished {
        FileHandle.standardError.write(Data("interrupted at step \(run.step): checkpoint written to \(outPath); run the same command with --resume to continue\n".utf8))
        throw ExitCode(130)
    }
    if !quiet {
        let elbo = run.testELBOs.last.map { String(format: "%.4f", $0) } ?? "?"
        print("wrote \(outPath): \(configuration.kind), \(run.step) steps, test ELBO \(elbo) nats on \(Swift.min(options.evaluationExamples, data.testCount)) test examples, \(String(format: "%.1f", run.trainingSeconds)) s")
    }
    return run
}

/// Creates the output's folder when it is the default `Runs/` or `Reports/`; otherwise it must exist.
func prepareOutputFolder(for path: String) throws {
    let folder = (path as NSString).deletingLastPathComponent
    if folder.isEmpty { return }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw CLIFailure("\(path): \(folder) is not a folder") }
        // Try it: permission bits do not stop root, yet /proc or a read-only mount still refuse.
        let probe = folder + "/.compare-write-probe-\(getpid())"
        let descriptor = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard descriptor >= 0 else {
            throw CLIFailure("\(path): the folder \(folder) cannot be written (\(String(cString: strerror(errno))))")
        }
        close(descriptor)
        unlink(probe)
        return
    }
    if ["Runs", "Reports", "Datasets"].contains(folder) {
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw CLIFailure("\(folder): cannot create the folder")
        }
        return
    }
    throw CLIFailure("\(path): the folder \(folder) does not exist")
}

/// Removes the temporary file a killed write may have left beside `path` (`path.tmp`).
func removeStaleTemporary(for path: String) {
    let temporary = path + ".tmp"
    if FileManager.default.fileExists(atPath: temporary) { try? FileManager.default.removeItem(atPath: temporary) }
}

/// `compare SUBCOMMAND… ARGUMENTS…` as one line a shell reads back the same.
func commandLine(_ subcommand: [String], _ arguments: [String]) -> String {
    let quoted = arguments.map { argument -> String in
        let plain = !argument.isEmpty && argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./,=:+".contains($0) }
        return plain ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
    return (["compare"] + subcommand + quoted).joined(separator: " ")
}
