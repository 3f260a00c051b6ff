import Core
import Evaluation
import Foundation
import Report
import Store

extension BaselineSummary {
    /// The report's view of a baseline checkpoint (read and checked by ``LoadedBaseline``): its
    /// stored exact evaluation, trusted only after it is recomputed from the verified counts and
    /// found equal (to 1e-9 relative, which allows another libm's last bit; a baseline evaluated
    /// on this machine agrees bit for bit).
    public init(baseline loaded: LoadedBaseline) throws {
        let checkpoint = loaded.checkpoint
        let baseline = loaded.baseline
        guard let record = checkpoint.evaluation else {
            throw PipelineError("\(loaded.path) has not been evaluated: run `compare eval \(loaded.path)` first")
        }
        let stored = try BaselineCheckpoint.storedLogLikelihoods(record, of: baseline, path: loaded.path)
        guard stored.count <= loaded.dataset.testCount else {
            throw PipelineError("\(loaded.path): /evaluation holds \(stored.count) examples but \(loaded.datasetPath) has \(loaded.dataset.testCount) test examples; run `compare eval \(loaded.path)` again")
        }
        let exact = try loaded.logLikelihoods(examples: stored.count)
        if let bad = stored.indices.first(where: { abs(stored[$0] - exact[$0]) > 1e-9 * Swift.max(1, abs(exact[$0])) }) {
            throw PipelineError("\(loaded.path): /evaluation/elbo of test example \(bad) is \(stored[bad]) but the baseline's exact log p(x) is \(exact[bad]); run `compare eval \(loaded.path)` again")
        }
        let metadata = loaded.dataset.metadata
        var label = baseline.kind.displayName(levels: baseline.levels)
        if baseline.kind == .pixel { label += " (add-\(PixelBaseline.formatSmoothing(baseline.smoothing)))" }
        self.init(
            path: loaded.path, kind: baseline.kind, label: label, description: baseline.summary,
            datasetName: metadata.name, datasetPath: checkpoint.datasetPath, datasetHash: checkpoint.datasetHash,
            likelihood: metadata.likelihood, levels: metadata.levels, exampleShape: metadata.exampleShape,
            logLikelihoods: stored, parameterCount: baseline.parameterCount, trainingExamples: baseline.trainingExamples,
            command: checkpoint.attributes["command"]?.stringValue ?? "",
            evaluateCommand: record.attributes["command"]?.stringValue ?? "",
            runIdentity: fileIdentity(loaded.path))
    }
}
