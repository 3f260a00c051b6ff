import ArgumentParser
import Evaluation
import Foundation
import NN
import Pipeline
import Store
import Tensor
import Training

/// `compare eval`: ELBO, IWAE_K, the gap and (on known densities) both KLs of a trained run,
/// stored under `/evaluation` of its checkpoint and printed.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint on the test split: ELBO, IWAE_K, the bound gap and, on known densities, both KLs.")

    @Argument(help: "Checkpoint file written by `compare train`.")
    var checkpoint: String

    @Option(help: "The K values of IWAE_K, comma-separated; the largest must be a multiple of each.")
    var samples: String = "1,10,100,1000"

    @Option(help: "Number of test examples (the first N of the split; default all).")
    var examples: Int?

    @Option(help: "Seed of the evaluation's draws.")
    var seed: UInt64 = 1

    @Option(name: .customLong("batch-size"), help: "Examples per model call.")
    var batchSize: Int = 50

    @Option(name: .customLong("elbo-draws"), help: "Independent ELBO draws averaged per example.")
    var elboDraws: Int = 10

    @Option(help: "BLAS threads.")
    var threads: Int = 1

    /// The arguments as given (set by `demo`, which runs this command in-process).
    var arguments: [String] = Array(CommandLine.arguments.dropFirst(2))

    enum CodingKeys: String, CodingKey {
        case checkpoint, samples, examples, seed, batchSize, elboDraws, threads
    }

    func run() throws {
        try failOnError {
            let counts = try parseSampleCounts(samples)
            if let examples, examples < 1 { throw CLIFailure("--examples must be at least 1, got \(examples)") }
            guard batchSize >= 1 else { throw CLIFailure("--batch-size must be at least 1, got \(batchSize)") }
            guard threads >= 1 else { throw CLIFailure("--threads must be at least 1, got \(threads)") }
            LinearAlgebra.setThreadCount(threads)
            let command = commandLine(["eval"], arguments)
            guard elboDraws >= 1 else { throw CLIFailure("--elbo-draws must be at least 1, got \(elboDraws)") }
            let result = try evaluateCheckpoint(path: checkpoint, sampleCounts: counts, examples: examples, seed: seed,
                                                batchSize: batchSize, elboDraws: elboDraws, command: command)
            print(result)
        }
    }
}

/// Parses `1,10,100` into K values, each ≥ 1.
func parseSampleCounts(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw CLIFailure("--samples: empty list; give K values such as 1,10,100") }
    var counts: [Int] = []
    for part in parts {
        guard let k = Int(part) else { throw CLIFailure("--samples '\(text)': '\(part)' is not an integer") }
        guard k >= 1 else { throw CLIFailure("--samples: K must be at least 1, got \(k)") }
        counts.append(k)
    }
    return counts
}

/// A checkpoint read back with its model rebuilt and its dataset verified.
struct LoadedRun {
    let path: String
    let checkpoint: Checkpoint
    let configuration: ModelConfiguration
    let model: any LatentVariableModel
    let dataset: LoadedDataset
}

/// Reads a checkpoint, rebuilds its model and reads the dataset it was trained on, refusing
/// a dataset whose bytes changed since.
func loadRun(_ path: String, verifyDataset: Bool = true) throws -> LoadedRun {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIFailure("\(path): no such file") }
    let checkpoint = try readInIsolation(path) { try Checkpoint.read(from: path) }
    let configuration: ModelConfiguration
    do { configuration = try ModelConfiguration(kind: checkpoint.model, json: checkpoint.config) } catch {
        throw CLIFailure("\(path): \(error)")
    }
    let model: any LatentVariableModel
    do {
        model = try configuration.restoreModel(parameters: checkpoint.parameters.map { ($0.key, $0.shape, $0.values) })
    } catch {
        throw CLIFailure("\(path): \(error)")
    }
    let dataset = try readInIsolation(checkpoint.datasetPath) { try DatasetFile.read(checkpoint.datasetPath) }
    if verifyDataset {
        let hash = try SHA256.hexDigest(ofFileAt: checkpoint.datasetPath)
        guard hash == checkpoint.datasetHash else {
            throw CLIFailure("\(path): the dataset \(checkpoint.datasetPath) has changed since training (SHA-256 differs); retrain or restore the file")
        }
    }
    guard dataset.dimension == model.dataDimension else {
        throw CLIFailure("\(path): the model has \(model.dataDimension) dimensions but \(checkpoint.datasetPath) has \(dataset.dimension)")
    }
    return LoadedRun(path: path, checkpoint: checkpoint, configuration: configuration, model: model, dataset: dataset)
}

/// Evaluates a checkpoint on its test split and stores the results under `/evaluation`.
/// Returns the printed summary.
@discardableResult
func evaluateCheckpoint(path: String, sampleCounts: [Int], examples: Int?, seed: UInt64, batchSize: Int,
                        elboDraws: Int = 10, command: String, quiet: Bool = false) throws -> String {
    let run = try loadRun(path)
    let testCount = run.dataset.testCount
    let n = Swift.min(examples ?? testCount, testCount)
    let data = Tensor(shape: [testCount, run.dataset.dimension], storage: run.dataset.test).rows(0..<n)
    let logDensity = run.dataset.testLogDensity.map { Array($0.prefix(n)) }
    var generator = RandomGenerator(seed: seed)
    let progress = ProgressReporter("eval \(run.checkpoint.model)", total: n, unit: "examples")
    let evaluation: ModelEvaluation
    do {
        evaluation = try GradientMode.withoutRecording {
            try evaluate(run.model, data: data, sampleCounts: sampleCounts, logDensity: logDensity, batchSize: batchSize,
                         elboDraws: elboDraws, using: &generator, progress: { done in if !quiet { progress.update(done) } })
        }
    } catch let error as EvaluationError {
        throw CLIFailure("\(path): \(error)")  // e.g. a non-finite estimate: name the checkpoint
    }
    var record = EvaluationRecord(evaluation: evaluation, seed: seed, command: command)
    record.attributes["elbo_draws"] = .integer(Int64(elboDraws))
    try Checkpoint.updateEvaluation(at: path, with: record)
    return evaluationSummary(evaluation, model: run.checkpoint.model, path: path)
}

extension EvaluationRecord {
    /// The layout of `/evaluation`: per-example float64 arrays `elbo`, `reconstruction`,
    /// `layer_kl` [layers, n], `iwae` [len(K), n], `sample_counts` [len(K)], `log_density` (known
    /// densities); attributes `examples`, `seed`, `command`, `layer_names` (JSON list).
    init(evaluation e: ModelEvaluation, seed: UInt64, command: String) {
        var arrays = [
            NamedArray(name: "elbo", shape: [e.exampleCount], values: e.elbo),
            NamedArray(name: "reconstruction", shape: [e.exampleCount], values: e.reconstruction),
            NamedArray(name: "layer_kl", shape: [e.layerKL.count, e.exampleCount], values: e.layerKL.flatMap { $0 }),
            NamedArray(name: "iwae", shape: [e.sampleCounts.count, e.exampleCount], values: e.iwae.flatMap { $0 }),
            NamedArray(name: "sample_counts", shape: [e.sampleCounts.count], values: e.sampleCounts.map(Double.init)),
        ]
        if let logDensity = e.logDensity { arrays.append(NamedArray(name: "log_density", shape: [e.exampleCount], values: logDensity)) }
        let names = String(decoding: (try? JSONEncoder().encode(e.layerNames)) ?? Data("[]".utf8), as: UTF8.self)
        self.init(arrays: arrays, attributes: [
            "examples": .integer(Int64(e.exampleCount)),
            "dimension": .integer(Int64(e.dataDimension)),
            "seed": .unsignedInteger(seed),
            "command": .string(command),
            "layer_names": .string(names),
        ])
    }

    /// The evaluation stored by ``init(evaluation:seed:command:)``.
    func modelEvaluation(path: String) throws -> ModelEvaluation {
        func array(_ name: String) throws -> NamedArray {
            guard let a = self.array(named: name) else { throw CLIFailure("\(path): /evaluation/\(name) is missing; run `compare eval \(path)` again") }
            return a
        }
        let elbo = try array("elbo").values
        let n = elbo.count
        let reconstruction = try array("reconstruction").values
        let layerKL = try array("layer_kl")
        let iwae = try array("iwae")
        let counts = try array("sample_counts").values.map { Int($0) }
        guard n > 0, reconstruction.count == n, layerKL.shape.count == 2, layerKL.shape[1] == n,
              iwae.shape == [counts.count, n], !counts.isEmpty else {
            throw CLIFailure("\(path): /evaluation arrays have inconsistent shapes; run `compare eval \(path)` again")
        }
        let layers = layerKL.shape[0]
        let names: [String]
        if case .string(let json)? = attributes["layer_names"], let decoded = try? JSONDecoder().decode([String].self, from: Data(json.utf8)),
           decoded.count == layers {
            names = decoded
        } else {
            names = (1...Swift.max(layers, 1)).map { "z\($0)" }.prefix(layers).map { $0 }
        }
        let dimension = attributes["dimension"]?.integerValue ?? 1
        return ModelEvaluation(
            exampleCount: n, dataDimension: dimension, sampleCounts: counts, elbo: elbo, reconstruction: reconstruction,
            layerNames: names, layerKL: (0..<layers).map { Array(layerKL.values[($0 * n)..<(($0 + 1) * n)]) },
            iwae: (0..<counts.count).map { Array(iwae.values[($0 * n)..<(($0 + 1) * n)]) },
            logDensity: self.array(named: "log_density")?.values)
    }
}

/// A few lines for the terminal.
func evaluationSummary(_ e: ModelEvaluation, model: String, path: String) -> String {
    func format(_ m: MeanEstimate) -> String { String(format: "%.4f ± %.4f", m.mean, m.standardError) }
    var lines = ["\(path): \(model), \(e.exampleCount) test examples, nats per example (± s.e.)"]
    lines.append("  ELBO            \(format(e.elboEstimate))")
    for j in e.sampleCounts.indices { lines.append("  IWAE_\(e.sampleCounts[j])".padding(toLength: 18, withPad: " ", startingAt: 0) + format(e.iwaeEstimate(j))) }
    lines.append("  gap (paired)    \(format(e.gapEstimate))")
    if let h = e.entropyEstimate, let joint = e.jointKLEstimate, let marginal = e.marginalKLEstimate {
        lines.append("  H = −E log q    \(format(h))")
        lines.append("  KL_joint        \(format(joint))")
        lines.append("  KL_marginal     \(format(marginal))")
    }
    return lines.joined(separator: "\n")
}
