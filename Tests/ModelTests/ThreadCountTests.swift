import Core
import DDPMModel
import Foundation
import HVAEModel
import NN
import Tensor
import VAEModel
import XCTest

/// With the AVX2 kernels the engine computes every value in an order fixed by the sizes alone
/// — products sum each element in depth blocks fixed by k, reductions run in row or column
/// order, element-wise work does not depend on who does it — so training gives the same bits
/// on 1, 2 or 3 threads. (With the portable kernels OpenBLAS's rounding follows the blocks it
/// is handed, and only reproducibility for a given thread count holds.)
///
/// The models are large enough that every product and element-wise loop is split — the DDPM's
/// products into blocks of rows (batch 512 against width 128), the VAE's and HVAE's into blocks
/// of columns (batch 128 against width 512).
final class ThreadCountTests: XCTestCase {
    /// Parameters after `steps` Adam steps of `model` on fixed batches on `threads` threads, and
    /// the last loss.
    func train(_ model: some LatentVariableModel, batches: [Tensor], steps: Int, threads: Int) -> ([String: [Float]], Float) {
        let previous = LinearAlgebra.threadCount
        LinearAlgebra.setThreadCount(threads)
        defer { LinearAlgebra.setThreadCount(previous) }
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 1e-3)
        var generator = RandomGenerator(seed: 5)
        var loss: Float = 0
        for step in 1...steps {
            let value = model.trainingLoss(batches[step % batches.count], step: step, using: &generator)
            loss = value.scalar
            value.backward()
            optimizer.update()
        }
        return (Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.key, $0.tensor.storage) }), loss)
    }

    func batches(_ count: Int, rows: Int, columns: Int, low: Float, high: Float) -> [Tensor] {
        var generator = RandomGenerator(seed: 11)
        return (0..<count).map { _ in Tensor.randomUniform(shape: [rows, columns], low: low, high: high, using: &generator) }
    }

    func testTraining_sameBitsOnOneTwoAndThreeThreads() throws {
        try XCTSkipUnless(ComputeKernels.current == .avx2, "the portable kernels round per thread count")
        var ddpmConfiguration = DDPMConfiguration(dataDimension: 16, likelihood: .continuous)
        ddpmConfiguration.hiddenSizes = [128, 128]
        ddpmConfiguration.timestepCount = 100
        // Batches of 128 against layers of 512: wide products, split into blocks of columns.
        let vaeConfiguration = VAEConfiguration(dataDimension: 64, latentDimension: 8, hiddenSizes: [512], likelihood: .binary)
        var hvaeConfiguration = HVAEConfiguration(dataDimension: 64, likelihood: .binary)
        hvaeConfiguration.latentSizes = [8, 4]
        hvaeConfiguration.hiddenSizes = [512]
        let runs: [(String, (inout RandomGenerator) throws -> any LatentVariableModel, [Tensor])] = [
            ("ddpm", { try DDPM(configuration: ddpmConfiguration, using: &$0) }, batches(3, rows: 512, columns: 16, low: -1, high: 1)),
            ("vae", { try VAE(configuration: vaeConfiguration, using: &$0) }, batches(3, rows: 128, columns: 64, low: 0, high: 1).map { x in
                Tensor(shape: x.shape, storage: x.storage.map { $0 < 0.5 ? 0 : 1 })
            }),
            ("hvae", { try HVAE(configuration: hvaeConfiguration, using: &$0) }, batches(3, rows: 128, columns: 64, low: 0, high: 1).map { x in
                Tensor(shape: x.shape, storage: x.storage.map { $0 < 0.5 ? 0 : 1 })
            }),
        ]
        for (name, make, data) in runs {
            var results: [([String: [Float]], Float)] = []
            for threads in [1, 2, 3] {
                var generator = RandomGenerator(seed: 2)
                let model = try make(&generator)
                results.append(train(model, batches: data, steps: 6, threads: threads))
            }
            XCTAssertTrue(results[0].1.isFinite, name)
            for index in 1..<results.count {
                XCTAssertEqual(results[index].1, results[0].1, "\(name): loss, \(index + 1) threads vs 1")
                XCTAssertEqual(results[index].0, results[0].0, "\(name): parameters, \(index + 1) threads vs 1")
            }
        }
    }
}
