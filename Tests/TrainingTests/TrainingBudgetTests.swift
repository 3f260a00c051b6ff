import DatasetMakers
import Foundation
import Store
import Tensor
import Training
import VAEModel
import XCTest

/// Promises of `--time-budget`: the run ends after the step at which the budget's clock reaches
/// the budget, its checkpoint is that of a run trained with `--steps` equal to that step, a
/// longer budget resumes it, and the engine's multiply–add count is exact and deterministic.
final class TrainingBudgetTests: TrainingTestCase {
    let configuration = ModelConfiguration.vae(VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [16],
                                                                likelihood: .continuous))

    func withoutTimings(_ checkpoint: Checkpoint) -> Checkpoint {
        var copy = checkpoint
        for name in Checkpoint.timingAttributes + ["budget_clock"] { copy.attributes[name] = nil }
        return copy
    }

    func testBudget_endsTheRunLikeStepsEqualToTheStepItEndedAt() throws {
        let (dataset, hash) = try makeDataset()
        let unlimited = TrainingOptions(steps: TrainingOptions.unlimitedSteps, batchSize: 32, seed: 4, checkpointEvery: 0,
                                        logEvery: 7, evaluateEvery: 0, evaluationExamples: 20)
        let budgeted = try TrainingRun(configuration: configuration, options: unlimited, dataset: dataset, datasetHash: hash)
        budgeted.budget = TrainingBudget(seconds: 0.05, clock: .wall)
        var checkpoints = 0
        XCTAssertTrue(try budgeted.train(checkpoint: { _ in checkpoints += 1 }))
        let end = budgeted.step
        XCTAssertGreaterThan(end, 0)
        XCTAssertEqual(checkpoints, 1, "one checkpoint, at the end")
        XCTAssertEqual(budgeted.options.steps, end, "the budget makes its step the run's last")
        XCTAssertGreaterThanOrEqual(budgeted.trainingSeconds, 0.05)
        XCTAssertTrue(budgeted.budgetSpent)
        XCTAssertEqual(budgeted.evaluationSteps.last, Double(end), "the test ELBO is recorded at the end")
        XCTAssertEqual(budgeted.lossSteps.last, Double(end), "the loss is logged at the end")

        var steps = unlimited
        steps.steps = end
        let straight = try TrainingRun(configuration: configuration, options: steps, dataset: dataset, datasetHash: hash)
        try straight.train(checkpoint: { _ in })
        let a = withoutTimings(try budgeted.checkpoint()), b = withoutTimings(try straight.checkpoint())
        XCTAssertEqual(a.parameters, b.parameters)
        XCTAssertEqual(a.history, b.history)
        XCTAssertTrue(a == b, "a budget run's checkpoint equals that of --steps \(end)")
    }

    func testBudget_resumesToALongerBudget_andNotPastASpentOne() throws {
        let (dataset, hash) = try makeDataset()
        let options = TrainingOptions(steps: TrainingOptions.unlimitedSteps, batchSize: 32, seed: 4, checkpointEvery: 0,
                                      logEvery: 7, evaluateEvery: 0, evaluationExamples: 20)
        let path = folder.appendingPathComponent("run.h5").path
        let first = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
        first.budget = TrainingBudget(seconds: 0.05, clock: .wall)
        try first.train(checkpoint: { run in try run.checkpoint().write(to: path) })
        let saved = try Checkpoint.read(from: path)
        XCTAssertEqual(saved.attributes["time_budget_seconds"]?.doubleValue, 0.05)
        XCTAssertEqual(saved.attributes["budget_clock"]?.stringValue, "wall")

        let again = try TrainingRun(resuming: saved, configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
        again.budget = TrainingBudget(seconds: 0.05, clock: .wall)
        XCTAssertTrue(again.budgetSpent, "the same budget is spent: nothing to do")
        XCTAssertTrue(try again.train(checkpoint: { _ in XCTFail("no step, no checkpoint") }))
        XCTAssertEqual(again.step, first.step)

        let longer = try TrainingRun(resuming: saved, configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
        longer.budget = TrainingBudget(seconds: 0.15, clock: .wall)
        XCTAssertFalse(longer.budgetSpent)
        try longer.train(checkpoint: { _ in })
        XCTAssertGreaterThan(longer.step, first.step)
        XCTAssertGreaterThanOrEqual(longer.trainingSeconds, 0.15)
    }

    func testCPUClock_countsProcessCPUTimeDividedByThreads() throws {
        let budget = TrainingBudget(seconds: 10, clock: .cpu, threads: 2)
        XCTAssertEqual(budget.spent(wallSeconds: 100, cpuSeconds: 8), 4)
        XCTAssertEqual(TrainingBudget(seconds: 10, clock: .wall, threads: 2).spent(wallSeconds: 7, cpuSeconds: 8), 7)
        // The process clock advances with work done on this thread.
        let before = TrainingBudget.processCPUSeconds()
        var x = 0.0
        for i in 0..<5_000_000 { x += Double(i).squareRoot() }
        XCTAssertGreaterThan(x, 0)
        XCTAssertGreaterThan(TrainingBudget.processCPUSeconds(), before)
        XCTAssertThrowsError(try TrainingBudget(seconds: 0).validate())
        XCTAssertThrowsError(try TrainingBudget(seconds: .infinity).validate())
    }

    func testMultiplyAdds_countEveryProductExactly() throws {
        // Forward A·B (m n k) and backward dA = dC·Bᵀ (m k n) and dB = Aᵀ·dC (k n m): 3 m n k.
        let (m, k, n) = (5, 7, 3)
        let a = Tensor(parameterShape: [m, k], storage: (0..<(m * k)).map { Float($0) / 10 })
        let b = Tensor(parameterShape: [k, n], storage: (0..<(k * n)).map { Float($0) / 10 })
        let before = MultiplyAddCounter.total
        let product = a.matmul(b)
        XCTAssertEqual(MultiplyAddCounter.total - before, UInt64(m * n * k))
        product.sum().backward()
        XCTAssertEqual(MultiplyAddCounter.total - before, UInt64(3 * m * n * k))
    }

    func testTrainingMultiplyAdds_areDeterministicAndProportionalToSteps() throws {
        let (dataset, hash) = try makeDataset()
        func count(steps: Int) throws -> Double {
            let options = TrainingOptions(steps: steps, batchSize: 32, seed: 4, checkpointEvery: 0, logEvery: 7, evaluateEvery: 0,
                                          evaluationExamples: 20)
            let run = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
            try run.train(checkpoint: { _ in })
            return run.trainingMultiplyAdds
        }
        let ten = try count(steps: 10)
        XCTAssertGreaterThan(ten, 0)
        XCTAssertEqual(try count(steps: 10), ten, "the same run counts the same")
        XCTAssertEqual(try count(steps: 20), 2 * ten, "every step of a batch size costs the same, test-ELBO evaluations excluded")
    }
}
