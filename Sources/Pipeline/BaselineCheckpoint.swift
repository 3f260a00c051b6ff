import Core
import Evaluation
import Foundation
import Store

/// The checkpoint of an exact baseline (`compare baseline`), in the schema of every checkpoint
/// so that h5py users read it like any other (docs/math.md#exact-baselines):
///
/// | object | type | meaning |
/// |---|---|---|
/// | root attributes | | as a model checkpoint's: `format`, `format_version`, `model = "baseline"`, `config` (JSON `{"dimension", "kind", "levels", "smoothing", "training_examples"}`), `dataset`, `dataset_absolute`, `dataset_hash`, `command`, `seed = 0`, `step = 0` |
/// | `/parameters/counts` | float32 [D, L] | `pixel` only: c_{d,l}, the training examples with level l in dimension d (whole numbers, exact in float32 up to 2^24) |
/// | `/evaluation/…` | float64 | as `compare eval` writes it (``EvaluationRecord/init(evaluation:seed:command:)``): `elbo` = `reconstruction` = `iwae` [1, n] = the exact log p(x) per test example, `sample_counts` = [1], `layer_kl` [0, n]; attributes `layer_names = "[]"`, `seed = 0`, `exact = 1`, `estimator` |
///
/// `smoothing` is α (0 for `uniform`); `training_examples` is N.
public enum BaselineCheckpoint {
    /// The JSON of the root attribute `config`.
    struct Configuration: Codable, Equatable {
        var kind: BaselineKind
        var levels: Int
        var dimension: Int
        var smoothing: Double
        var trainingExamples: Int

        enum CodingKeys: String, CodingKey {
            case kind, levels, dimension, smoothing
            case trainingExamples = "training_examples"
        }
    }

    /// The checkpoint of `baseline`, fitted on the dataset at `datasetPath` (whose bytes hash to
    /// `datasetHash`) by `command`, with `evaluation` (``evaluationRecord(_:dimension:command:)``).
    public static func make(_ baseline: PixelBaseline, evaluation: EvaluationRecord, datasetPath: String, datasetHash: String,
                            command: String) throws -> Checkpoint {
        let configuration = Configuration(kind: baseline.kind, levels: baseline.levels, dimension: baseline.dimension,
                                          smoothing: baseline.smoothing, trainingExamples: baseline.trainingExamples)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let config = String(decoding: try encoder.encode(configuration), as: UTF8.self)
        let parameters = baseline.kind == .pixel
            ? [NamedTensor(key: "counts", shape: [baseline.dimension, baseline.levels], values: baseline.counts.map(Float.init))]
            : []
        return Checkpoint(model: BaselineKind.checkpointModel, config: config, datasetPath: datasetPath, datasetHash: datasetHash,
                          seed: 0, step: 0, parameters: parameters, evaluation: evaluation,
                          attributes: ["command": .string(command)],
                          datasetAbsolutePath: URL(fileURLWithPath: datasetPath).standardizedFileURL.path)
    }

    /// The `/evaluation` of a baseline: its exact log p(x) per example as ELBO, reconstruction
    /// and IWAE_1 (no latent layers, nothing sampled), marked `exact = 1`, seed 0.
    public static func evaluationRecord(_ logLikelihoods: [Double], dimension: Int, command: String) -> EvaluationRecord {
        let evaluation = ModelEvaluation(
            exampleCount: logLikelihoods.count, dataDimension: dimension, sampleCounts: [1], elbo: logLikelihoods,
            reconstruction: logLikelihoods, layerNames: [], layerKL: [], iwae: [logLikelihoods], logDensity: nil)
        var record = EvaluationRecord(evaluation: evaluation, seed: 0, command: command)
        record.attributes["exact"] = .integer(1)
        record.attributes["estimator"] = .string(
            "exact: log p(x) in closed form from the baseline's counts; elbo = reconstruction = iwae (K = 1) = log p(x), no latent layers, nothing sampled")
        return record
    }

    /// The baseline stored in `checkpoint` (read from `path`), trusting nothing: `model` is
    /// `baseline`, `config` is the JSON above with sizes in range, and `/parameters` holds exactly
    /// `counts` [D, L] of whole numbers for `pixel` (nothing for `uniform`) that
    /// ``PixelBaseline/init(kind:levels:dimension:smoothing:trainingExamples:counts:)`` accepts.
    /// The dataset is not consulted (see ``LoadedBaseline``). Each failure is one line naming
    /// the file.
    public static func baseline(from checkpoint: Checkpoint, path: String) throws -> PixelBaseline {
        guard checkpoint.model == BaselineKind.checkpointModel else {
            throw PipelineError("\(path): model is '\(checkpoint.model)', not an exact baseline ('\(BaselineKind.checkpointModel)')")
        }
        let configuration: Configuration
        do {
            configuration = try JSONDecoder().decode(Configuration.self, from: Data(checkpoint.config.utf8))
        } catch {
            throw PipelineError("\(path): the root attribute config is not a baseline's JSON {\"kind\": \"uniform\" or \"pixel\", \"levels\", "
                                + "\"dimension\", \"smoothing\", \"training_examples\"} with integer sizes; refit with `compare baseline`")
        }
        var counts: [Int] = []
        let keys = checkpoint.parameters.map(\.key)
        switch configuration.kind {
        case .uniform:
            guard keys.isEmpty else { throw PipelineError("\(path): /parameters/\(keys[0]): a uniform baseline has no parameters") }
        case .pixel:
            guard keys == ["counts"], let tensor = checkpoint.parameters.first else {
                throw PipelineError("\(path): /parameters holds \(keys.isEmpty ? "nothing" : keys.joined(separator: ", ")); a per-pixel baseline holds exactly /parameters/counts")
            }
            guard tensor.shape == [configuration.dimension, configuration.levels] else {
                throw PipelineError("\(path): /parameters/counts has shape \(tensor.shape); config says [D, L] = [\(configuration.dimension), \(configuration.levels)]")
            }
            counts.reserveCapacity(tensor.values.count)
            for (index, value) in tensor.values.enumerated() {
                // A checked conversion: NaN, a fraction or 1e30 must not reach Int(_:), which traps.
                guard value.isFinite, value == value.rounded(), value >= 0, value <= Float(PixelBaseline.maximumTrainingExamples) else {
                    throw PipelineError("\(path): /parameters/counts holds \(value) at dimension \(index / max(1, configuration.levels)), "
                                        + "level \(index % max(1, configuration.levels)); expected whole numbers from 0 to N = \(configuration.trainingExamples)")
                }
                counts.append(Int(value))
            }
        }
        do {
            return try PixelBaseline(kind: configuration.kind, levels: configuration.levels, dimension: configuration.dimension,
                                     smoothing: configuration.smoothing, trainingExamples: configuration.trainingExamples, counts: counts)
        } catch let error as BaselineError {
            throw PipelineError("\(path): \(error); refit with `compare baseline`")
        }
    }

    /// The per-example log p(x) stored in `record`, the `/evaluation` of the baseline `baseline`
    /// at `path`, trusting nothing: the checks of ``EvaluationRecord/modelEvaluation(path:)``,
    /// then `exact = 1`, K = 1 only, no layers, ELBO = reconstruction = IWAE_1, every value ≤ 0
    /// (the log of a probability), and the baseline's D.
    public static func storedLogLikelihoods(_ record: EvaluationRecord, of baseline: PixelBaseline, path: String) throws -> [Double] {
        let again = "run `compare eval \(path)` again"
        let evaluation = try record.modelEvaluation(path: path)
        guard record.attributes["exact"]?.integerValue == 1 else {
            throw PipelineError("\(path): /evaluation lacks the attribute exact = 1 of a baseline's exact evaluation; \(again)")
        }
        guard evaluation.sampleCounts == [1], evaluation.layerNames.isEmpty,
              evaluation.iwae[0] == evaluation.elbo, evaluation.reconstruction == evaluation.elbo else {
            throw PipelineError("\(path): /evaluation is not an exact evaluation (elbo, reconstruction and iwae must be one log p(x) with K = 1 and no layers); \(again)")
        }
        if record.attributes["dimension"] != nil, evaluation.dataDimension != baseline.dimension {
            throw PipelineError("\(path): /evaluation was made on D = \(evaluation.dataDimension) but the baseline has D = \(baseline.dimension); \(again)")
        }
        if let bad = evaluation.elbo.firstIndex(where: { $0 > 0 }) {
            throw PipelineError("\(path): /evaluation/elbo holds \(evaluation.elbo[bad]) at example \(bad), above 0, which no log-probability is; \(again)")
        }
        return evaluation.elbo
    }

    /// Whether the file at `path` is a baseline checkpoint (its root `model` attribute), read in
    /// isolation; `false` for anything unreadable, which the caller's own reader then reports.
    public static func isBaseline(at path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        let model = try? readInIsolation(path) { () -> String? in
            let file = try HDF5File.open(path)
            defer { try? file.close() }
            return try file.attribute("model")?.stringValue
        }
        return model == BaselineKind.checkpointModel
    }
}
