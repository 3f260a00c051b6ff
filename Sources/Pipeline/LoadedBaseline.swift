import Core
import Evaluation
import Foundation
import Store

/// A baseline checkpoint read back with the dataset it was fitted on, as `compare eval` and
/// `compare report` use it. Nothing in the file is trusted: besides the checks of
/// ``BaselineCheckpoint/baseline(from:path:)``, the dataset is found where a model run's would
/// be (``LoadedRun/datasetCandidates(for:checkpointPath:)``) and must have the stored SHA-256,
/// its likelihood, D, L and N must be the baseline's, and the stored counts must be the counts
/// of its training split, recounted here.
public struct LoadedBaseline {
    public let path: String
    public let checkpoint: Checkpoint
    public let baseline: PixelBaseline
    public let dataset: LoadedDataset
    /// The path the dataset was read from.
    public let datasetPath: String

    /// Reads `path` (in isolation: a damaged file cannot crash the process) and its dataset;
    /// every failure is one line naming the file.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw PipelineError("\(path): no such file") }
        let checkpoint = try readInIsolation(path) {
            try Checkpoint.read(from: path, expecting: CheckpointExpectation(model: BaselineKind.checkpointModel))
        }
        let baseline = try BaselineCheckpoint.baseline(from: checkpoint, path: path)
        let datasetPath = try LoadedRun.locateDataset(of: checkpoint, at: path, verify: true, fitted: "fitting", redo: "refit")
        let dataset = try readInIsolation(datasetPath) { try DatasetFile.read(datasetPath) }
        let likelihood = dataset.metadata.modelLikelihood
        guard let likelihood, likelihood.levels == baseline.levels, likelihood != .continuous,
              dataset.dimension == baseline.dimension, dataset.trainCount == baseline.trainingExamples else {
            throw PipelineError("\(path): the baseline has D = \(baseline.dimension), L = \(baseline.levels), N = \(baseline.trainingExamples), "
                                + "but its dataset \(datasetPath) has D = \(dataset.dimension), \(likelihood?.description ?? "unusable") data, "
                                + "N = \(dataset.trainCount); refit with `compare baseline`")
        }
        let refit: PixelBaseline
        do {
            refit = try PixelBaseline(kind: baseline.kind, likelihood: likelihood, dimension: dataset.dimension, training: dataset.train,
                                      smoothing: baseline.kind == .pixel ? baseline.smoothing : nil)
        } catch let error as BaselineError {
            throw PipelineError("\(datasetPath): /train: \(error)")
        }
        if let index = zip(refit.counts, baseline.counts).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            throw PipelineError("\(path): /parameters/counts differ from the counts of the training split of \(datasetPath) "
                                + "(dimension \(index / baseline.levels), level \(index % baseline.levels): stored \(baseline.counts[index]), "
                                + "counted \(refit.counts[index])); refit with `compare baseline`")
        }
        self.path = path
        self.checkpoint = checkpoint
        self.baseline = baseline
        self.dataset = dataset
        self.datasetPath = datasetPath
    }

    /// The likelihood of the dataset (binary, or discrete with the baseline's levels).
    public var likelihood: Likelihood { dataset.metadata.modelLikelihood! }

    /// The exact log p(x) of the first `examples` test examples (all of them for `nil` or more).
    public func logLikelihoods(examples: Int?) throws -> [Double] {
        let n = Swift.min(examples ?? dataset.testCount, dataset.testCount)
        do {
            return try baseline.logLikelihoods(of: Array(dataset.test.prefix(n * dataset.dimension)), likelihood: likelihood)
        } catch let error as BaselineError {
            throw PipelineError("\(datasetPath): /test: \(error)")
        }
    }

    /// The one line `sample`, `train --resume` and every model reader give for a baseline checkpoint.
    static func notAModel(_ path: String) -> String {
        "\(path) is an exact baseline written by `compare baseline`, not a trained model: "
            + "`compare eval` and `compare report` read it; it cannot be sampled from, resumed or trained"
    }
}

/// "per-pixel categorical (add-1): exact log p(x) = -123.4567 ± 1.2345 nats per example on 300
/// test examples, 2.2713 ± 0.0227 bits/dim": the line `baseline` and `eval` print.
func exactBaselineSummary(_ baseline: PixelBaseline, logLikelihoods: [Double]) -> String {
    let estimate = MeanEstimate(logLikelihoods)
    let bits = estimate.scaled(by: -1 / (Double(baseline.dimension) * log(2)))
    func format(_ m: MeanEstimate, _ digits: Int) -> String {
        guard m.count >= 2, m.standardError.isFinite else { return String(format: "%.\(digits)f ± n/a", m.mean) }
        return String(format: "%.\(digits)f ± %.\(digits)f", m.mean, m.standardError)
    }
    var name = baseline.kind.displayName(levels: baseline.levels)
    if baseline.kind == .pixel { name += " (add-\(PixelBaseline.formatSmoothing(baseline.smoothing)))" }
    return "\(name): exact log p(x) = \(format(estimate, 4)) nats per example on \(logLikelihoods.count) test examples, "
        + "\(format(bits, 4)) bits/dim"
}
