import CompareTestSupport
import Core
import DDPMModel
import Distributed
import Foundation
import HVAEModel
import NN
import Store
import Tensor
import Training
import VAEModel
import XCTest

/// Promise (docs/scaling.md): with `--shards M`, the run is the same bits whether one process
/// computes every shard or N = 2 or 4 processes share them; a step's gradient is the mean of
/// its shards' gradients, each from the shard's own stream; old checkpoints read as one shard.
final class ShardedTrainingTests: TrainingTestCase {
    private var savedThreads = 1

    override func setUpWithError() throws {
        try super.setUpWithError()
        savedThreads = LinearAlgebra.threadCount
        // The "processes" are threads of this one: each computes on its own thread.
        LinearAlgebra.setThreadCount(1)
    }

    override func tearDownWithError() throws {
        LinearAlgebra.setThreadCount(savedThreads)
        try super.tearDownWithError()
    }

    private func configurations() -> [ModelConfiguration] {
        var ddpm = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        ddpm.timestepCount = 50
        ddpm.hiddenSizes = [16, 16]
        ddpm.variance = .learnedRange
        ddpm.loss = .hybrid
        var hvae = HVAEConfiguration(dataDimension: 2, likelihood: .continuous)
        hvae.hiddenSizes = [16]
        hvae.klWarmupSteps = 5
        return [.ddpm(ddpm), .vae(VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [16], likelihood: .continuous)),
                .hvae(hvae)]
    }

    /// Which parameters shard `shard` of `step` reaches: its loss on its rows with its own
    /// stream, backward, the parameters holding a gradient (the gradients are then cleared).
    private func reachedParameters(_ run: TrainingRun, dataset: LoadedDataset, step: Int, shard: Int) -> [String] {
        let rows = run.batchIndices(step: step)
        let size = rows.count / run.options.shardCount
        let data = Tensor(shape: [dataset.trainCount, dataset.dimension], storage: dataset.train)
        var generator = RandomGenerator(seed: run.options.seed, stream: [UInt64(step), UInt64(shard)])
        let loss = run.model.trainingLoss(data.gather(rows: Array(rows[(shard * size) ..< ((shard + 1) * size)])), step: step, using: &generator)
        loss.backward()
        let reached = run.model.namedParameters.filter { $0.tensor.gradient != nil }.map(\.key)
        run.model.zeroGradients()
        return reached
    }

    /// Free bits make a layer's KL a constant on a shard whose KL is below λ, which cuts that
    /// layer's prior network off the shard's graph: two shards of one step can then reach
    /// different parameters. The processes must agree that a parameter any shard reached gets
    /// the summed gradient, or they take different Adam steps and drift apart. λ is searched
    /// until step 1's two shards disagree, so that the case is really exercised.
    func testShardsThatReachDifferentParameters_giveTheSameBitsOnTwoProcesses() throws {
        let (dataset, hash) = try makeDataset()
        let options = TrainingOptions(steps: 6, batchSize: 8, seed: 3, checkpointEvery: 0, logEvery: 3, evaluateEvery: 0,
                                      evaluationExamples: 10, shardCount: 2)
        var split: ModelConfiguration?
        for lambda in (0..<60).map({ 0.001 * pow(1.2, Double($0)) }) {
            var hvae = HVAEConfiguration(dataDimension: 2, likelihood: .continuous)
            hvae.hiddenSizes = [16]
            // Bottom-up: a layer's prior network feeds only its KL (top-down inference would reach
            // it through the posterior too).
            hvae.inference = .bottomUp
            hvae.freeBits = lambda
            let run = try TrainingRun(configuration: .hvae(hvae), options: options, dataset: dataset, datasetHash: hash)
            if reachedParameters(run, dataset: dataset, step: 1, shard: 0) != reachedParameters(run, dataset: dataset, step: 1, shard: 1) {
                split = .hvae(hvae)
                break
            }
        }
        let configuration = try XCTUnwrap(split, "no λ made step 1's two shards reach different parameters")
        let reference = try trainedCheckpoints(configuration, options: options, dataset: dataset, hash: hash, processes: nil)[0]
        let checkpoints = try trainedCheckpoints(configuration, options: options, dataset: dataset, hash: hash, processes: 2)
        for (rank, checkpoint) in checkpoints.enumerated() {
            XCTAssertEqual(checkpoint.parameters, reference.parameters, "rank \(rank)")
            XCTAssertEqual(checkpoint.optimizer, reference.optimizer, "rank \(rank)")
        }
    }

    /// Every rank's checkpoint, timings removed, after training `configuration` to the end on
    /// `processes` ranks (threads); `nil`: one process without a communicator of its own.
    private func trainedCheckpoints(_ configuration: ModelConfiguration, options: TrainingOptions, dataset: LoadedDataset,
                                    hash: String, processes: Int?) throws -> [Checkpoint] {
        guard let processes else {
            let run = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
            try run.train(checkpoint: { _ in })
            return [withoutTimings(try run.checkpoint())]
        }
        return try ThreadGroup(size: processes).run { _, communicator in
            let run = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash,
                                      communicator: communicator)
            try run.train(checkpoint: { _ in })
            return self.withoutTimings(try run.checkpoint())
        }
    }

    private func withoutTimings(_ checkpoint: Checkpoint) -> Checkpoint {
        var checkpoint = checkpoint
        for name in Checkpoint.timingAttributes { checkpoint.attributes[name] = nil }
        // Each process counts the work it did: the sums agree, but a count is not part of the run's bits.
        checkpoint.attributes["training_multiply_adds"] = nil
        return checkpoint
    }

    func testShardedRun_isTheSameBitsOnOneTwoAndFourProcesses() throws {
        let (dataset, hash) = try makeDataset()
        let options = TrainingOptions(steps: 12, batchSize: 32, seed: 5, checkpointEvery: 0, logEvery: 3, evaluateEvery: 6,
                                      evaluationExamples: 20, shardCount: 4)
        for configuration in configurations() {
            let reference = try trainedCheckpoints(configuration, options: options, dataset: dataset, hash: hash, processes: nil)[0]
            XCTAssertEqual(reference.historyColumn(named: "step")?.values, [3, 6, 9, 12])
            for processes in [1, 2, 4] {
                let checkpoints = try trainedCheckpoints(configuration, options: options, dataset: dataset, hash: hash, processes: processes)
                for (rank, checkpoint) in checkpoints.enumerated() {
                    XCTAssertEqual(checkpoint.parameters, reference.parameters, "\(configuration.kind), \(processes) processes, rank \(rank)")
                    XCTAssertEqual(checkpoint.optimizer, reference.optimizer, "\(configuration.kind), \(processes) processes, rank \(rank)")
                    XCTAssertEqual(checkpoint.history, reference.history, "\(configuration.kind), \(processes) processes, rank \(rank)")
                    XCTAssertTrue(checkpoint == reference, "\(configuration.kind), \(processes) processes, rank \(rank): checkpoints differ")
                }
            }
        }
    }

    /// The step's gradient formed by hand: each shard's loss on its rows with its own stream
    /// (seed, step, shard), backward, the gradients added as (g0 + g1) + (g2 + g3) and halved twice.
    func testShardedGradient_isTheMeanOfTheShardsGradientsFromTheirOwnStreams() throws {
        let (dataset, hash) = try makeDataset()
        let options = TrainingOptions(steps: 1, batchSize: 32, seed: 11, shardCount: 4)
        for configuration in configurations() {
            let run = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
            let loss = try run.shardedGradient(step: 1)
            let parameters = run.model.namedParameters.map(\.tensor)
            let formed = parameters.map { $0.gradient ?? [] }
            run.model.zeroGradients()

            let rows = run.batchIndices(step: 1)
            let data = Tensor(shape: [dataset.trainCount, dataset.dimension], storage: dataset.train)
            var gradients: [[[Float]]] = []
            var losses: [Double] = []
            for shard in 0..<4 {
                var generator = RandomGenerator(seed: 11, stream: [1, UInt64(shard)])
                let shardLoss = run.model.trainingLoss(data.gather(rows: Array(rows[(8 * shard)..<(8 * shard + 8)])), step: 1, using: &generator)
                losses.append(Double(shardLoss.scalar))
                shardLoss.backward()
                gradients.append(parameters.map { $0.gradient ?? [Float](repeating: 0, count: $0.count) })
                run.model.zeroGradients()
            }
            XCTAssertEqual(loss, (((losses[0] + losses[1]) + losses[2]) + losses[3]) / 4, configuration.kind.rawValue)
            for (index, parameter) in parameters.enumerated() {
                let expected: [Float] = (0..<parameter.count).map { (i: Int) -> Float in
                    let left: Float = gradients[0][index][i] + gradients[1][index][i]
                    let right: Float = gradients[2][index][i] + gradients[3][index][i]
                    return (left + right) * 0.25
                }
                XCTAssertEqual(formed[index], expected, "\(configuration.kind): parameter \(run.model.namedParameters[index].key)")
            }
            // The streams differ from shard to shard and from the one-shard run's: a shared stream
            // would draw the same timesteps and noise for every shard.
            var first = RandomGenerator(seed: 11, stream: [1, 0]), second = RandomGenerator(seed: 11, stream: [1, 1])
            XCTAssertNotEqual(first.next(), second.next())
        }
    }

    func testShardedRun_resumesBitIdenticallyOnAnotherProcessCount() throws {
        let (dataset, hash) = try makeDataset()
        let options = TrainingOptions(steps: 10, batchSize: 32, seed: 2, checkpointEvery: 0, logEvery: 2, evaluateEvery: 0,
                                      evaluationExamples: 10, shardCount: 4)
        let configuration = configurations()[0]
        let straight = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
        try straight.train(checkpoint: { _ in })
        let path = folder.appendingPathComponent("sharded.h5").path
        // Four processes to step 4, then one to step 7, then two to the end.
        for (processes, stop) in [(4, 4), (1, 7), (2, 10)] {
            _ = try ThreadGroup(size: processes).run { rank, communicator in
                let run: TrainingRun
                if FileManager.default.fileExists(atPath: path) {
                    let saved = try Checkpoint.read(from: path, expecting: CheckpointExpectation(model: "ddpm", requiresOptimizer: true, requiresGenerator: true))
                    run = try TrainingRun(resuming: saved, configuration: configuration, options: options, dataset: dataset, datasetHash: hash,
                                          communicator: communicator)
                } else {
                    run = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash,
                                          communicator: communicator)
                }
                try run.train(checkpoint: { run in if rank == 0 { try run.checkpoint().write(to: path) } }, shouldStop: { run.step >= stop })
                return run.step
            }
        }
        let resumed = try Checkpoint.read(from: path, expecting: CheckpointExpectation(model: "ddpm", requiresOptimizer: true, requiresGenerator: true))
        let reference = withoutTimings(try straight.checkpoint())
        XCTAssertEqual(resumed.step, 10)
        XCTAssertEqual(withoutTimings(resumed).parameters, reference.parameters)
        XCTAssertEqual(withoutTimings(resumed).optimizer, reference.optimizer)
        XCTAssertEqual(withoutTimings(resumed).history, reference.history)
    }

    func testProcessAndShardCounts_thatDoNotFit_areRefusedInOneLine() throws {
        let (dataset, hash) = try makeDataset()
        let configuration = configurations()[1]
        func refusal(_ options: TrainingOptions, processes: Int) throws -> String {
            let messages = try ThreadGroup(size: processes).run { _, communicator -> String in
                do {
                    _ = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash, communicator: communicator)
                    return "accepted"
                } catch { return "\(error)" }
            }
            return messages[0]
        }
        XCTAssertTrue(try refusal(TrainingOptions(batchSize: 32, shardCount: 3), processes: 1).contains("--shards must be a power of two"))
        XCTAssertTrue(try refusal(TrainingOptions(batchSize: 30, shardCount: 4), processes: 1).contains("does not divide --batch-size 30"))
        XCTAssertTrue(try refusal(TrainingOptions(batchSize: 32, shardCount: 1), processes: 2).contains("--shards 1 is fewer than the 2 processes"))
        XCTAssertTrue(try refusal(TrainingOptions(batchSize: 32, shardCount: 4), processes: 3).contains("3 processes"))
        for message in [try refusal(TrainingOptions(batchSize: 32, shardCount: 3), processes: 1)] {
            XCTAssertFalse(message.contains("\n"), message)
        }
    }

    /// Options stored before `shardCount` existed decode as one shard, so that old runs resume.
    func testOptionsWithoutShardCount_decodeAsOneShard() throws {
        let old = #"{"batchSize":64,"checkpointEvery":200,"evaluateEvery":500,"evaluationExamples":16,"learningRate":0.001,"# +
            #""logEvery":50,"maximumGradientNorm":10,"seed":0,"steps":2147483647}"#
        let options = try JSONDecoder().decode(TrainingOptions.self, from: Data(old.utf8))
        XCTAssertEqual(options.shardCount, 1)
        XCTAssertEqual(options, TrainingOptions(steps: 2147483647, batchSize: 64, checkpointEvery: 200, evaluateEvery: 500, evaluationExamples: 16))
    }
}

final class GradientTreeTests: XCTestCase {
    /// The tree is ((g0 + g1) + (g2 + g3)), which the sums of two halves reproduce bit for bit, and
    /// which differs from the left-to-right sum for values chosen so that order shows.
    func testTreeSum_isTheSumOfItsHalves() {
        let leaves: [[Float]] = [[1e8, 1], [1, 3], [-1e8, 5], [1, 7]]
        XCTAssertEqual(GradientTree.sum(leaves), [(1e8 + 1) + (-1e8 + 1), 16])
        XCTAssertEqual(GradientTree.sum([GradientTree.sum(Array(leaves[0..<2])), GradientTree.sum(Array(leaves[2..<4]))]), GradientTree.sum(leaves))
        let sequential = leaves.dropFirst().reduce(leaves[0]) { sum, leaf in zip(sum, leaf).map { $0 + $1 } }
        XCTAssertNotEqual(GradientTree.sum(leaves)[0], sequential[0], "the example must make the order visible")
        XCTAssertEqual(GradientTree.sum([[2, 3]]), [2, 3])
        XCTAssertTrue(GradientTree.isPowerOfTwo(1) && GradientTree.isPowerOfTwo(8))
        XCTAssertFalse(GradientTree.isPowerOfTwo(0) || GradientTree.isPowerOfTwo(6))
    }
}

/// The test stand-in for MPI fails instead of hanging when a rank throws, with that rank's error.
final class ThreadGroupTests: XCTestCase {
    private struct Planted: Error, Equatable {}

    func testARankThatThrows_endsTheGroupWithItsError() {
        XCTAssertThrowsError(try ThreadGroup(size: 3).run { rank, communicator -> Int in
            if rank == 1 { throw Planted() }
            try communicator.barrier()  // ranks 0 and 2 would wait here forever
            return rank
        }) { error in
            XCTAssertEqual(error as? Planted, Planted())
        }
    }

    func testRanksThatAllArrive_exchangeInRankOrder() throws {
        let gathered = try ThreadGroup(size: 3).run { rank, communicator in try communicator.allGather([Float(rank)]) }
        XCTAssertEqual(gathered, Array(repeating: [0, 1, 2], count: 3))
    }
}
