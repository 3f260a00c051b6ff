import Core
import Foundation
import NN
import Store
import Training

/// A checkpoint read back, its model rebuilt with its stored parameters, and the dataset it
/// was trained on.
public struct LoadedRun {
    public let path: String
    public let checkpoint: Checkpoint
    public let configuration: ModelConfiguration
    public let model: any LatentVariableModel
    public let dataset: LoadedDataset
    /// The path the dataset was read from (see ``datasetCandidates(for:checkpointPath:)``).
    public let datasetPath: String

    /// Reads `path` (in isolation: a damaged file cannot crash the process), rebuilds its model
    /// through ``NN/Module/load(_:strict:)``, and reads its dataset, refusing (with
    /// `verifyDataset`) a dataset whose bytes changed since training.
    ///
    /// The dataset is looked for where ``datasetCandidates(for:checkpointPath:)`` says, in that
    /// order; the first that exists is the one (with `verifyDataset`, it must have the stored
    /// SHA-256: a nearer file that changed is reported, never passed over). If none exists, one
    /// line names the checkpoint and every path tried.
    public init(path: String, verifyDataset: Bool = true) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw PipelineError("\(path): no such file") }
        let checkpoint = try readInIsolation(path) { try Checkpoint.read(from: path) }
        if checkpoint.model == BaselineKind.checkpointModel { throw PipelineError(LoadedBaseline.notAModel(path)) }
        let configuration: ModelConfiguration
        let model: any LatentVariableModel
        do {
            configuration = try ModelConfiguration(kind: checkpoint.model, json: checkpoint.config)
            model = try configuration.restoreModel(parameters: checkpoint.parameters)
        } catch {
            throw PipelineError("\(path): \(error)")
        }
        let datasetPath = try Self.locateDataset(of: checkpoint, at: path, verify: verifyDataset)
        let dataset = try readInIsolation(datasetPath) { try DatasetFile.read(datasetPath) }
        guard dataset.dimension == model.dataDimension else {
            throw PipelineError("\(path): the model has \(model.dataDimension) dimensions but \(datasetPath) has \(dataset.dimension)")
        }
        self.path = path
        self.checkpoint = checkpoint
        self.configuration = configuration
        self.model = model
        self.dataset = dataset
        self.datasetPath = datasetPath
    }

    /// Where the dataset of `checkpoint` (read from `checkpointPath`) may be, in the order tried,
    /// without repeats: the stored path relative to the checkpoint's folder (a run and its data
    /// moved or read together), the absolute path stored at training (`dataset_absolute`), and
    /// the stored path as given, relative to the working folder. An absolute stored path is
    /// tried as it is.
    public static func datasetCandidates(for checkpoint: Checkpoint, checkpointPath: String) -> [String] {
        let stored = checkpoint.datasetPath
        var candidates: [String] = []
        if stored.hasPrefix("/") {
            candidates.append(stored)
        } else {
            let folder = (checkpointPath as NSString).deletingLastPathComponent
            candidates.append(folder.isEmpty ? stored : (folder as NSString).appendingPathComponent(stored))
        }
        if let absolute = checkpoint.datasetAbsolutePath { candidates.append(absolute) }
        candidates.append(stored)
        var seen = Set<String>()
        return candidates.filter { seen.insert(URL(fileURLWithPath: $0).standardizedFileURL.path).inserted }
    }

    /// The first candidate that exists; with `verify`, it must hold the bytes trained on.
    /// `fitted` and `redo` word the messages ("training", "retrain"; a baseline's "fitting", "refit").
    static func locateDataset(of checkpoint: Checkpoint, at path: String, verify: Bool, fitted: String = "training",
                              redo: String = "retrain") throws -> String {
        let candidates = datasetCandidates(for: checkpoint, checkpointPath: path)
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            let tried = candidates.joined(separator: ", ")
            throw PipelineError("\(path): its dataset '\(checkpoint.datasetPath)' was not found (tried \(tried)); restore the file or \(redo)")
        }
        guard verify else { return found }
        try requireRegularFile(found)
        guard try SHA256.hexDigest(ofFileAt: found) == checkpoint.datasetHash else {
            // Read it for its own errors first (damage or NaN says so), then report the change.
            _ = try readInIsolation(found) { try DatasetFile.read(found) }
            throw PipelineError("\(path): the dataset \(found) has changed since \(fitted) (SHA-256 differs); \(redo) or restore the file")
        }
        return found
    }
}
