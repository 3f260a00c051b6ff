import Core
import Evaluation
import Foundation
import Store

/// One `compare baseline`: an exact baseline (docs/math.md#exact-baselines) fitted on the
/// training split of a discrete or binary dataset, its exact log-likelihood computed on the
/// first ``examples`` test examples, and both written as one checkpoint
/// (``BaselineCheckpoint``) that `compare report` shows above the learned models.
///
/// The output is claimed before any work (``claimOutput(_:option:kind:rule:inputs:)``: its lock
/// held throughout, never replaced without ``overwrite``, never by a file of another kind) and
/// written atomically, so no half-written checkpoint is ever seen.
public struct BaselineRequest: Equatable, Sendable {
    /// The dataset file.
    public var dataset: String
    public var kind: BaselineKind
    /// α of `--kind pixel`; `nil` for ``PixelBaseline/defaultSmoothing``. Refused with `uniform`.
    public var smoothing: Double?
    /// Test examples (the first N of the split); `nil` for all.
    public var examples: Int?
    /// The checkpoint; `nil` for `Runs/baseline-KIND-DATASET.h5`.
    public var out: String?
    /// Replace an existing checkpoint at the output.
    public var overwrite: Bool

    public init(dataset: String, kind: BaselineKind = .pixel, smoothing: Double? = nil, examples: Int? = nil, out: String? = nil,
                overwrite: Bool = false) {
        self.dataset = dataset
        self.kind = kind
        self.smoothing = smoothing
        self.examples = examples
        self.out = out
        self.overwrite = overwrite
    }

    /// The words after `compare`: options equal to the defaults are left out.
    public var arguments: [String] {
        var words = ["baseline", "--dataset", dataset]
        if kind != .pixel { words += ["--kind", kind.rawValue] }
        if let smoothing, smoothing != PixelBaseline.defaultSmoothing { words += ["--smoothing", "\(smoothing)"] }
        if let examples { words += ["--examples", String(examples)] }
        if let out { words += ["--out", out] }
        if overwrite { words.append("--overwrite") }
        return words
    }

    /// The command line that runs this request (stored as the checkpoint's `command`).
    public var commandLine: String { shellCommand(arguments) }

    /// Checks the options on their own (the dataset is checked by ``run()``).
    public func validate() throws {
        if let smoothing {
            guard kind == .pixel else {
                throw PipelineError("--smoothing is an option of --kind pixel; the uniform baseline has no counts to smooth")
            }
            guard smoothing.isFinite, smoothing > 0, smoothing <= PixelBaseline.maximumSmoothing else {
                throw PipelineError("--smoothing must be a number α with 0 < α ≤ \(Int(PixelBaseline.maximumSmoothing)), got \(smoothing) "
                                    + "(α = 0 gives levels unseen in training probability 0: −∞ nats)")
            }
        }
        if let examples, examples < 1 { throw PipelineError("--examples must be at least 1, got \(examples)") }
    }

    /// The checkpoint path for a dataset named `datasetName`.
    public func outputPath(datasetName: String) -> String { out ?? "Runs/baseline-\(kind.rawValue)-\(datasetName).h5" }

    /// Fits the baseline, evaluates it exactly and writes its checkpoint; returns the line to print.
    @discardableResult
    public func run() throws -> String {
        try validate()
        let data = try readInIsolation(dataset) { try DatasetFile.read(dataset) }
        guard let likelihood = data.metadata.modelLikelihood else {
            throw PipelineError("\(dataset): likelihood '\(data.metadata.likelihood.rawValue)' is not usable")
        }
        let levels: Int
        do { levels = try PixelBaseline.levelCount(of: likelihood) } catch let error as BaselineError {
            throw PipelineError("\(dataset): \(error)")
        }
        // The counts as Int and their log-probabilities as Double, checked before they are allocated.
        try refuseOverBudget(16 * Double(data.dimension) * Double(levels), what: "the counts and log-probabilities of every level of every dimension",
                             candidates: [], fallback: "--dataset \(dataset) (D = \(data.dimension), \(levels) levels)")
        let outPath = outputPath(datasetName: data.metadata.name)
        let claim = try claimOutput(outPath, option: "--out", kind: .checkpoint,
                                    rule: overwrite ? .replace : .refuse("\(outPath) exists: add --overwrite to replace it"),
                                    inputs: [dataset])
        defer { claim.release() }
        let hash = try SHA256.hexDigest(ofFileAt: data.path)
        let baseline: PixelBaseline
        let logLikelihoods: [Double]
        let n = Swift.min(examples ?? data.testCount, data.testCount)
        do {
            baseline = try PixelBaseline(kind: kind, likelihood: likelihood, dimension: data.dimension, training: data.train, smoothing: smoothing)
        } catch let error as BaselineError {
            throw PipelineError("\(dataset): /train: \(error)")
        }
        do {
            logLikelihoods = try baseline.logLikelihoods(of: Array(data.test.prefix(n * data.dimension)), likelihood: likelihood)
        } catch let error as BaselineError {
            throw PipelineError("\(dataset): /test: \(error)")
        }
        let record = BaselineCheckpoint.evaluationRecord(logLikelihoods, dimension: data.dimension, command: commandLine)
        try BaselineCheckpoint.make(baseline, evaluation: record, datasetPath: dataset, datasetHash: hash, command: commandLine)
            .write(to: outPath)
        return "wrote \(outPath): " + exactBaselineSummary(baseline, logLikelihoods: logLikelihoods)
    }
}
