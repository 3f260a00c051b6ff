import CompareTestSupport
import Core
import DDPMModel
import Distributed
import Evaluation
import Foundation
import HVAEModel
import NN
import Pipeline
import Tensor
import Training
import XCTest

/// Promise (docs/scaling.md#sharded-evaluation): with per-batch streams, N processes that share
/// the batches return the evaluation of one process bit for bit, whatever N — more processes than
/// batches included — and the one-stream evaluation is left as it was.
final class ShardedEvaluationTests: XCTestCase {
    private var savedThreads = 1

    override func setUp() {
        super.setUp()
        savedThreads = LinearAlgebra.threadCount
        LinearAlgebra.setThreadCount(1)
    }

    override func tearDown() {
        LinearAlgebra.setThreadCount(savedThreads)
        super.tearDown()
    }

    private func models() throws -> [any LatentVariableModel] {
        var ddpm = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        ddpm.timestepCount = 20
        ddpm.hiddenSizes = [8]
        var hvae = HVAEConfiguration(dataDimension: 2, likelihood: .continuous)
        hvae.hiddenSizes = [8]
        var generator = RandomGenerator(seed: 4)
        return try [ModelConfiguration.ddpm(ddpm), .hvae(hvae)].map { try $0.makeModel(using: &generator) }
    }

    private func data(_ n: Int) -> Tensor {
        var generator = RandomGenerator(seed: 8)
        return Tensor.randomNormal(shape: [n, 2], using: &generator)
    }

    func testPerBatchStreams_giveOneProcessesEvaluationOnAnyNumberOfProcesses() throws {
        // 23 examples in batches of 5: 5 batches, the last of 3; 7 processes leave two without a batch.
        let x = data(23)
        let logDensity = (0..<23).map { -Double($0) / 10 }
        for model in try models() {
            let single = try evaluate(model, data: x, sampleCounts: [1, 4], logDensity: logDensity, batchSize: 5, elboDraws: 2, seed: 3,
                                      communicator: SingleProcessCommunicator())
            XCTAssertEqual(single.exampleCount, 23)
            for processes in [2, 3, 7] {
                let results = try ThreadGroup(size: processes).run { _, communicator in
                    try evaluate(model, data: x, sampleCounts: [1, 4], logDensity: logDensity, batchSize: 5, elboDraws: 2, seed: 3,
                                 communicator: communicator)
                }
                for (rank, result) in results.enumerated() {
                    assertSameBits(result, single, "\(processes) processes, rank \(rank)")
                }
            }
            // Batch b's numbers are those of its own stream (seed, b), whoever computes it.
            var generator = RandomGenerator(seed: 3, stream: [4])
            let last = try evaluate(model, data: x.rows(20..<23), sampleCounts: [1, 4], logDensity: Array(logDensity[20...]), batchSize: 5,
                                    elboDraws: 2, using: &generator)
            XCTAssertEqual(Array(single.iwae[1][20...]), last.iwae[1])
            XCTAssertEqual(Array(single.elbo[20...]), last.elbo)
        }
    }

    private func assertSameBits(_ a: ModelEvaluation, _ b: ModelEvaluation, _ message: String, line: UInt = #line) {
        XCTAssertEqual(a.exampleCount, b.exampleCount, message, line: line)
        XCTAssertEqual(a.sampleCounts, b.sampleCounts, message, line: line)
        XCTAssertEqual(a.elbo, b.elbo, message, line: line)
        XCTAssertEqual(a.reconstruction, b.reconstruction, message, line: line)
        XCTAssertEqual(a.layerNames, b.layerNames, message, line: line)
        XCTAssertEqual(a.layerKL, b.layerKL, message, line: line)
        XCTAssertEqual(a.iwae, b.iwae, message, line: line)
        XCTAssertEqual(a.logDensity, b.logDensity, message, line: line)
        XCTAssertEqual(a.effectiveSampleSize, b.effectiveSampleSize, message, line: line)
    }

    func testContiguousShare_coversEveryBatchOnceInOrder() {
        for count in [0, 1, 5, 16] {
            for size in 1...7 {
                let shares = (0..<size).map { contiguousShareForTesting(of: count, rank: $0, size: size) }
                XCTAssertEqual(shares.flatMap { Array($0) }, Array(0..<count), "\(count) batches, \(size) processes")
                XCTAssertLessThanOrEqual(shares.map(\.count).max()! - shares.map(\.count).min()!, 1)
            }
        }
    }
}
