import Core
import Foundation
import Training
import VAEModel
import XCTest

/// A step whose loss is not finite is skipped and the run goes on: one training point of 10¹⁸
/// (finite in the file, but its squared distance overflows Float) makes every batch holding it
/// non-finite, once per epoch, never eleven times in a row.
final class SkippedStepTests: TrainingTestCase {
    func testOneBadBatchPerEpoch_isSkippedAndTheRunFinishes() throws {
        // The first coordinate of training point 0.
        let (dataset, _) = try makeDataset(trainCount: 64, testCount: 16) { $0[0] = 1e18 }
        let options = TrainingOptions(steps: 40, batchSize: 16, seed: 1, checkpointEvery: 0, logEvery: 4, evaluateEvery: 0, evaluationExamples: 8)
        let run = try TrainingRun(configuration: .vae(VAEConfiguration(dataDimension: 2, hiddenSizes: [8], likelihood: .continuous)),
                                  options: options, dataset: dataset, datasetHash: "x")
        var stepsThatMoved = 0
        for _ in 0..<options.steps {
            let before = run.model.namedParameters.map(\.tensor.storage)
            let skippedBefore = run.skippedSteps
            try run.trainStep()
            let moved = run.model.namedParameters.map(\.tensor.storage) != before
            if run.skippedSteps > skippedBefore {
                XCTAssertFalse(moved, "a skipped step must leave the parameters as they were (step \(run.step))")
            } else {
                stepsThatMoved += 1
            }
        }
        // 64 points in batches of 16: 4 batches an epoch, one of which holds the planted point.
        XCTAssertEqual(run.step, 40)
        XCTAssertEqual(run.skippedSteps, 10, "one skipped step per epoch")
        XCTAssertEqual(stepsThatMoved, 30)
        XCTAssertTrue(run.losses.allSatisfy(\.isFinite), "skipped losses are not logged: \(run.losses)")
        XCTAssertNoThrow(try run.checkFiniteState())
        XCTAssertEqual(try run.checkpoint().attributes["skipped_steps"]?.integerValue, 10)
    }
}
