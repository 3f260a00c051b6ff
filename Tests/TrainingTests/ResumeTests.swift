import DatasetMakers
import DDPMModel
import Foundation
import HVAEModel
import NN
import Store
import Tensor
import Training
import VAEModel
import XCTest

/// Promise: `--steps` N straight and k steps + resume to N give identical parameters, Adam
/// state, generator state and history.
final class ResumeTests: TrainingTestCase {
    func configurations() -> [ModelConfiguration] {
        var ddpm = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        ddpm.timestepCount = 50
        ddpm.hiddenSizes = [16, 16]
        var hvae = HVAEConfiguration(dataDimension: 2, likelihood: .continuous)
        hvae.hiddenSizes = [16]
        hvae.klWarmupSteps = 30
        // Continuous time with a learned schedule (its parameters and Adam moments resume too) and Fourier features.
        var continuous = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        continuous.hiddenSizes = [16]
        var settings = ContinuousTimeSettings(schedule: .learned)
        settings.learnedScheduleFeatures = 8
        continuous.continuousTime = settings
        continuous.fourierExponents = [0, 1]
        return [.ddpm(ddpm), .vae(VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [16], likelihood: .continuous)), .hvae(hvae),
                .ddpm(continuous)]
    }

    func testResume_afterAnyCheckpoint_isBitIdenticalToAStraightRun() throws {
        let (dataset, hash) = try makeDataset()
        // 300 examples, batch 32: 9 batches an epoch, so the run crosses epochs and the resume
        // point (17) sits inside one and inside a log window (logEvery 5).
        let options = TrainingOptions(steps: 40, batchSize: 32, seed: 9, checkpointEvery: 0, logEvery: 5, evaluateEvery: 12, evaluationExamples: 20)
        for configuration in configurations() {
            let straight = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
            try straight.train(checkpoint: { _ in })

            // Interrupted after step 17 (as Ctrl-C does): a checkpoint, then a fresh process resumes.
            let part = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
            let path = folder.appendingPathComponent("\(configuration.kind).h5").path
            let finished = try part.train(checkpoint: { run in try run.checkpoint().write(to: path) }, shouldStop: { part.step >= 17 })
            XCTAssertFalse(finished)
            let saved = try Checkpoint.read(from: path, expecting: CheckpointExpectation(model: configuration.kind.rawValue, requiresOptimizer: true, requiresGenerator: true))
            let resumed = try TrainingRun(resuming: saved, configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
            XCTAssertEqual(resumed.step, 17)
            try resumed.train(checkpoint: { _ in })

            var a = try straight.checkpoint(), b = try resumed.checkpoint()
            // The timings are the one thing allowed to differ.
            for name in Checkpoint.timingAttributes {
                a.attributes[name] = nil
                b.attributes[name] = nil
            }
            XCTAssertEqual(a.parameters, b.parameters, configuration.kind.rawValue)
            XCTAssertEqual(a.optimizer, b.optimizer, configuration.kind.rawValue)
            XCTAssertEqual(a.generatorState, b.generatorState, configuration.kind.rawValue)
            XCTAssertEqual(a.history, b.history, configuration.kind.rawValue)
            XCTAssertTrue(a == b, "\(configuration.kind): checkpoints differ")
            XCTAssertEqual(a.historyColumn(named: "step")?.values, [5, 10, 15, 20, 25, 30, 35, 40])
        }
    }

    func testResume_refusesChangedOptionsModelOrDataset() throws {
        let (dataset, hash) = try makeDataset()
        let options = TrainingOptions(steps: 6, batchSize: 32, seed: 1, checkpointEvery: 0, logEvery: 2, evaluateEvery: 0, evaluationExamples: 10)
        let configuration = configurations()[0]
        let run = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
        try run.train(checkpoint: { _ in })
        let checkpoint = try run.checkpoint()
        var changed = options
        changed.learningRate = 2e-3
        XCTAssertThrowsError(try TrainingRun(resuming: checkpoint, configuration: configuration, options: changed, dataset: dataset, datasetHash: hash))
        XCTAssertThrowsError(try TrainingRun(resuming: checkpoint, configuration: configurations()[1], options: options, dataset: dataset, datasetHash: hash))
        XCTAssertThrowsError(try TrainingRun(resuming: checkpoint, configuration: configuration, options: options, dataset: dataset, datasetHash: String(repeating: "1", count: 64)))
        var longer = options
        longer.steps = 10
        XCTAssertNoThrow(try TrainingRun(resuming: checkpoint, configuration: configuration, options: longer, dataset: dataset, datasetHash: hash))
    }

    func testTraining_withNonFiniteLoss_stopsNamingTheStepWithoutUpdating() throws {
        let (dataset, hash) = try makeDataset()
        var options = TrainingOptions(steps: 60, batchSize: 32, seed: 1, checkpointEvery: 0, logEvery: 5, evaluateEvery: 0, evaluationExamples: 10)
        options.learningRate = 1e30
        options.maximumGradientNorm = nil
        let run = try TrainingRun(configuration: configurations()[1], options: options, dataset: dataset, datasetHash: hash)
        var failure: Error?
        var before: [[Float]] = []
        for _ in 0..<options.steps {
            before = run.model.namedParameters.map(\.tensor.storage)
            do { try run.trainStep() } catch { failure = error; break }
        }
        guard let failure, case TrainingError.nonFinite(let step, _) = failure else {
            return XCTFail("a learning rate of 1e30 should make the loss or gradient non-finite, got \(String(describing: failure))")
        }
        XCTAssertEqual(step, run.step + 1, "the failing step is the one after the last completed")
        XCTAssertEqual(run.model.namedParameters.map(\.tensor.storage), before, "the failing step must not touch the parameters")
        XCTAssertTrue(String(describing: failure).contains("step \(step)"))
        if !String(describing: failure).contains("after the update") {
            // A non-finite loss or gradient is skipped first: the run stops at the eleventh in a row.
            XCTAssertEqual(run.skippedSteps, TrainingRun.maximumConsecutiveSkippedSteps, "\(failure)")
            XCTAssertTrue(String(describing: failure).contains("\(TrainingRun.maximumConsecutiveSkippedSteps + 1) steps in a row"))
        }
    }
}
