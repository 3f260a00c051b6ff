import Core
import Distributed
import Foundation
import NN
import Store
import Tensor

extension TrainingRun {
    /// The run's state as a checkpoint (design §3).
    public func checkpoint() throws -> Checkpoint {
        let parameters = model.namedParameters.map { NamedTensor(key: $0.key, shape: $0.tensor.shape, values: $0.tensor.storage) }
        let first = model.namedParameters.map { NamedTensor(key: $0.key, shape: $0.tensor.shape, values: optimizer.firstMoments[$0.key]!) }
        let second = model.namedParameters.map { NamedTensor(key: $0.key, shape: $0.tensor.shape, values: optimizer.secondMoments[$0.key]!) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let optionsJSON = String(decoding: try encoder.encode(options), as: UTF8.self)
        var checkpoint = Checkpoint(
            model: configuration.kind.rawValue, config: try configuration.json(), datasetPath: datasetPath, datasetHash: datasetHash,
            seed: options.seed, step: step, parameters: parameters,
            optimizer: OptimizerState(step: optimizer.step, firstMoment: first, secondMoment: second),
            generatorState: generator.stateWords,
            history: [
                HistoryColumn(name: "step", values: lossSteps),
                HistoryColumn(name: "loss", values: losses),
            ],
            attributes: [
                "training_options": .string(optionsJSON),
                "total_steps": .integer(Int64(options.steps)),
                "training_seconds": .double(trainingSeconds),
                "training_cpu_seconds": .double(trainingCPUSeconds),
                "monitoring_seconds": .double(monitoringSeconds),
                "training_multiply_adds": .double(trainingMultiplyAdds),
                "guarded_outputs": .double(guardedOutputs),
                "skipped_steps": .integer(Int64(skippedSteps)),
                "command": .string(command),
                "pending_loss_sum": .double(pendingLossSum),
                "pending_loss_count": .integer(Int64(pendingLossCount)),
                "test_elbo_steps": .doubles(evaluationSteps),
                "test_elbo": .doubles(testELBOs),
                "encoder_parameters": .integer(Int64(model.encoderParameterCount)),
                "decoder_parameters": .integer(Int64(model.decoderParameterCount)),
                "latent_layers": .integer(Int64(model.latentLayerCount)),
                "likelihood": .string(model.likelihood.name),
            ],
            datasetAbsolutePath: URL(fileURLWithPath: datasetPath).standardizedFileURL.path)
        checkpoint.attributes.merge(budgetAttributes) { _, new in new }
        return checkpoint
    }

    /// The engine's thread count and, with a ``budget``, its limit and clock.
    private var budgetAttributes: [String: AttributeValue] {
        var attributes: [String: AttributeValue] = ["training_threads": .integer(Int64(LinearAlgebra.threadCount))]
        if let budget {
            attributes["time_budget_seconds"] = .double(budget.seconds)
            attributes["budget_clock"] = .string(budget.clock.rawValue)
        }
        return attributes
    }

    /// Restores a run from `checkpoint`: the same configuration and options (except the total
    /// step count, which may grow), the same dataset bytes, then parameters, Adam, the
    /// generator, the step and the log.
    public convenience init(resuming checkpoint: Checkpoint, configuration: ModelConfiguration, options: TrainingOptions,
                            dataset: LoadedDataset, datasetHash: String, communicator: any Communicator = SingleProcessCommunicator()) throws {
        guard checkpoint.model == configuration.kind.rawValue else {
            throw TrainingError.mismatch("the checkpoint holds a '\(checkpoint.model)' model, not '\(configuration.kind)'")
        }
        let stored = try ModelConfiguration(kind: checkpoint.model, json: checkpoint.config)
        guard stored == configuration else {
            throw TrainingError.mismatch("the model options differ from those the checkpoint was trained with (\(checkpoint.config)); resume with the same command line")
        }
        guard checkpoint.datasetHash == datasetHash else {
            throw TrainingError.mismatch("the dataset \(dataset.path) has changed since the checkpoint was written (SHA-256 differs)")
        }
        if case .string(let json)? = checkpoint.attributes["training_options"],
           let storedOptions = try? JSONDecoder().decode(TrainingOptions.self, from: Data(json.utf8)) {
            var comparable = storedOptions
            comparable.steps = options.steps
            guard comparable == options else {
                throw TrainingError.mismatch("the training options differ from those the checkpoint was written with (\(json)); resume with the same command line")
            }
        }
        try self.init(configuration: configuration, options: options, dataset: dataset, datasetHash: datasetHash, communicator: communicator)
        try restore(from: checkpoint)
    }

    private func restore(from checkpoint: Checkpoint) throws {
        do {
            try model.load(checkpoint.parameters)
        } catch let error as ModelError {
            throw TrainingError.mismatch(error.description)
        }
        guard let state = checkpoint.optimizer else { throw TrainingError.mismatch("the checkpoint has no optimizer state to resume from") }
        do {
            try optimizer.restore(step: state.step,
                                  firstMoments: Dictionary(uniqueKeysWithValues: state.firstMoment.map { ($0.key, $0.values) }),
                                  secondMoments: Dictionary(uniqueKeysWithValues: state.secondMoment.map { ($0.key, $0.values) }))
        } catch let error as ModelError {
            throw TrainingError.mismatch(error.description)  // e.g. a negative second moment: the caller names the file
        }
        guard let words = checkpoint.generatorState, let restored = RandomGenerator(stateWords: words) else {
            throw TrainingError.mismatch("the checkpoint has no generator state to resume from")
        }
        restoreState(step: checkpoint.step, generator: restored,
                     lossSteps: checkpoint.historyColumn(named: "step")?.values ?? [],
                     losses: checkpoint.historyColumn(named: "loss")?.values ?? [],
                     evaluationSteps: checkpoint.attributes["test_elbo_steps"]?.doubleArray ?? [],
                     testELBOs: checkpoint.attributes["test_elbo"]?.doubleArray ?? [],
                     pendingLossSum: checkpoint.attributes["pending_loss_sum"]?.doubleValue ?? 0,
                     pendingLossCount: checkpoint.attributes["pending_loss_count"]?.integerValue ?? 0,
                     trainingSeconds: checkpoint.attributes["training_seconds"]?.doubleValue ?? 0,
                     trainingCPUSeconds: checkpoint.attributes["training_cpu_seconds"]?.doubleValue ?? 0,
                     monitoringSeconds: checkpoint.attributes["monitoring_seconds"]?.doubleValue ?? 0,
                     trainingMultiplyAdds: checkpoint.attributes["training_multiply_adds"]?.doubleValue ?? 0,
                     guardedOutputs: checkpoint.attributes["guarded_outputs"]?.doubleValue ?? 0,
                     skippedSteps: checkpoint.attributes["skipped_steps"]?.integerValue ?? 0,
                     command: checkpoint.attributes["command"]?.stringValue ?? "")
        try setTotalSteps(options.steps)
    }
}
