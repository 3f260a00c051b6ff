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

    /// Reads `path` (in isolation: a damaged file cannot crash the process), rebuilds its model
    /// through ``NN/Module/load(_:strict:)``, and reads its dataset, refusing (with
    /// `verifyDataset`) a dataset whose bytes changed since training.
    public init(path: String, verifyDataset: Bool = true) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw PipelineError("\(path): no such file") }
        let checkpoint = try readInIsolation(path) { try Checkpoint.read(from: path) }
        let configuration: ModelConfiguration
        let model: any LatentVariableModel
        do {
            configuration = try ModelConfiguration(kind: checkpoint.model, json: checkpoint.config)
            model = try configuration.restoreModel(parameters: checkpoint.storedParameters)
        } catch {
            throw PipelineError("\(path): \(error)")
        }
        let dataset = try readInIsolation(checkpoint.datasetPath) { try DatasetFile.read(checkpoint.datasetPath) }
        if verifyDataset {
            let hash = try SHA256.hexDigest(ofFileAt: checkpoint.datasetPath)
            guard hash == checkpoint.datasetHash else {
                throw PipelineError("\(path): the dataset \(checkpoint.datasetPath) has changed since training (SHA-256 differs); retrain or restore the file")
            }
        }
        guard dataset.dimension == model.dataDimension else {
            throw PipelineError("\(path): the model has \(model.dataDimension) dimensions but \(checkpoint.datasetPath) has \(dataset.dimension)")
        }
        self.path = path
        self.checkpoint = checkpoint
        self.configuration = configuration
        self.model = model
        self.dataset = dataset
    }
}

extension Checkpoint {
    /// The `/parameters` arrays in the form ``NN/Module/load(_:strict:)`` takes.
    public var storedParameters: [StoredParameter] {
        parameters.map { StoredParameter(key: $0.key, shape: $0.shape, values: $0.values) }
    }
}
