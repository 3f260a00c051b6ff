import Core
import DDPMModel
import Foundation
import Evaluation
import Report
import Store
import Tensor
import Training

extension RunSummary {
    /// The report's view of an evaluated checkpoint: its evaluation, its training log, and
    /// samples drawn now from the stored model (seeded, so the report is reproducible).
    ///
    /// `testNeighbourDistances`, when given, are the test images' nearest-neighbour distances
    /// already found for another run on the same dataset (a report's runs share them), so the
    /// search over the training split is not made again.
    public init(run: LoadedRun, sampleSeed: UInt64 = 0, testNeighbourDistances known: [Double]? = nil) throws {
        let checkpoint = run.checkpoint
        guard let record = checkpoint.evaluation else {
            throw PipelineError("\(run.path) has not been evaluated: run `compare eval \(run.path)` first")
        }
        let evaluation = try record.modelEvaluation(path: run.path)
        let metadata = run.dataset.metadata
        let shape = metadata.exampleShape
        let dimension = run.dataset.dimension
        let sampleCount = shape == [2] ? 2000 : (shape.count == 2 ? 64 : 0)
        var generator = RandomGenerator(seed: sampleSeed)
        let samples = sampleCount > 0 ? GradientMode.withoutRecording { run.model.sample(count: sampleCount, using: &generator).storage } : []
        let points = shape == [2] ? Array(run.dataset.train.prefix(2000 * dimension)) : []
        func attribute(_ name: String) -> AttributeValue? { checkpoint.attributes[name] }
        // A continuous-time DDPM is read at the T its evaluation used (T + 1 latent layers).
        let evaluationTimesteps = record.attributes["timesteps"]?.integerValue.map { Int($0) }
        if let continuous = run.model as? ContinuousTimeDDPM, let evaluationTimesteps, evaluationTimesteps >= 1 {
            continuous.timestepCount = evaluationTimesteps
        }
        let historySteps = checkpoint.historyColumn(named: "step")?.values ?? []
        let losses = checkpoint.historyColumn(named: "loss")?.values ?? []
        self.init(
            path: run.path, model: run.configuration.kind, modelDescription: run.configuration.summary,
            datasetName: metadata.name, datasetPath: checkpoint.datasetPath,
            likelihood: metadata.likelihood, levels: metadata.levels, exampleShape: shape,
            encoderParameters: run.model.encoderParameterCount, decoderParameters: run.model.decoderParameterCount,
            latentLayers: run.model.latentLayerCount, trainingSteps: checkpoint.step,
            trainingSeconds: attribute("training_seconds")?.doubleValue ?? 0, seed: checkpoint.seed,
            trainCommand: attribute("command")?.stringValue ?? "",
            evaluateCommand: record.attributes["command"]?.stringValue ?? "",
            evaluationSeed: record.attributes["seed"]?.unsignedIntegerValue ?? 0,
            evaluation: evaluation, lossSteps: historySteps, losses: losses,
            testELBOSteps: attribute("test_elbo_steps")?.doubleArray ?? [], testELBOs: attribute("test_elbo")?.doubleArray ?? [],
            samples: samples, dataPoints: points,
            datasetHash: checkpoint.datasetHash, runIdentity: fileIdentity(run.path))
        architecture = run.configuration.architecture.rawValue
        if run.model is ContinuousTimeDDPM, let mean = record.attributes["continuous_elbo"]?.doubleValue,
           let standardError = record.attributes["continuous_elbo_standard_error"]?.doubleValue, mean.isFinite, standardError.isFinite {
            continuousELBO = MeanEstimate(mean: mean, standardError: standardError, count: evaluation.exampleCount)
            if let excess = record.attributes["continuous_elbo_excess"]?.doubleValue,
               let excessError = record.attributes["continuous_elbo_excess_standard_error"]?.doubleValue, excess.isFinite, excessError.isFinite {
                continuousELBOExcess = MeanEstimate(mean: excess, standardError: excessError, count: evaluation.exampleCount)
            }
            self.evaluationTimesteps = evaluationTimesteps
        }
        if let continuous = run.model as? ContinuousTimeDDPM, continuous.schedule.kind == .learned {
            learnedScheduleEnds = continuous.schedule.endPoints
        }
        let options = attribute("training_options")?.stringValue.flatMap {
            try? JSONDecoder().decode(TrainingOptions.self, from: Data($0.utf8))
        }
        cost = TrainingCost(
            batchSize: options?.batchSize,
            cpuSeconds: attribute("training_cpu_seconds")?.doubleValue,
            multiplyAdds: attribute("training_multiply_adds")?.doubleValue,
            threads: attribute("training_threads")?.integerValue,
            budgetSeconds: attribute("time_budget_seconds")?.doubleValue,
            budgetClock: attribute("budget_clock")?.stringValue,
            evaluationSeconds: record.attributes["seconds"]?.doubleValue,
            evaluationThreads: record.attributes["threads"]?.integerValue,
            guardedTrainingOutputs: attribute("guarded_outputs")?.doubleValue,
            guardedEvaluationOutputs: record.attributes["guarded_outputs"]?.integerValue,
            skippedSteps: attribute("skipped_steps")?.integerValue)
        if shape.count == 2 && !samples.isEmpty {
            let shown = Swift.min(Self.nearestNeighbourCount, samples.count / dimension)
            nearestNeighbours = nearestTrainingExamples(of: Array(samples.prefix(shown * dimension)), training: run.dataset.train,
                                                        dimension: dimension)
            let tests = Swift.min(Self.nearestNeighbourCount, run.dataset.testCount)
            testNeighbourDistances = known ?? nearestTrainingExamples(of: Array(run.dataset.test.prefix(tests * dimension)),
                                                                      training: run.dataset.train, dimension: dimension).map(\.distance)
        }
    }

    /// How many samples the report pairs with their nearest training examples.
    public static let nearestNeighbourCount = 8
}

/// "device:inode" of the file at `path` (following links), or nil if it cannot be read.
func fileIdentity(_ path: String) -> String? {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: (path as NSString).resolvingSymlinksInPath),
          let device = attributes[.systemNumber] as? NSNumber, let inode = attributes[.systemFileNumber] as? NSNumber
    else { return nil }
    return "\(device):\(inode)"
}
