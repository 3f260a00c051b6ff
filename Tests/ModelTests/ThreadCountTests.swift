import Core
import DDPMModel
import Foundation
import HVAEModel
import NN
import Tensor
import VAEModel
import XCTest

/// With the AVX2 or AVX-512 kernels the engine computes every value in an order fixed by the sizes alone
/// — products sum each element in depth blocks fixed by k, reductions run in row or column
/// order, element-wise work does not depend on who does it — so training gives the same bits
/// on 1, 2 or 3 threads. (With the portable kernels OpenBLAS's rounding follows the blocks it
/// is handed, and only reproducibility for a given thread count holds.) The AVX-512 kernels
/// compute every value as the AVX2 ones do (their products differ only in register tile), so
/// training also gives the same bits under either.
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

    /// The DDPM, the VAE and the HVAE, each with its fixed batches: (name, make, batches).
    func modelRuns() -> [(String, (inout RandomGenerator) throws -> any LatentVariableModel, [Tensor])] {
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
        return runs
    }

    func testTraining_sameBitsOnOneTwoAndThreeThreads() throws {
        try XCTSkipUnless([.avx2, .avx512].contains(ComputeKernels.current),
                          "kernels \(ComputeKernels.current): only the AVX2 and AVX-512 ones are checked here (the portable ones round per thread count)")
        for (name, make, data) in modelRuns() {
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

    /// Six steps of each model under the AVX-512 kernels and under the AVX2 ones, on 2 threads:
    /// the same loss and parameters to the bit. (A checkpoint written under one resumes under
    /// the other as if nothing had changed.)
    func testTraining_sameBitsUnderAVX2AndAVX512Kernels() throws {
        try XCTSkipUnless(ComputeKernels.avx512Available, "this CPU has no AVX-512F (or its operating system does not save the ZMM registers)")
        let previous = ComputeKernels.current
        defer { ComputeKernels.select(previous) }
        for (name, make, data) in modelRuns() {
            var results: [([String: [Float]], Float)] = []
            for kernels in [ComputeKernels.avx2, .avx512] {
                ComputeKernels.select(kernels)
                var generator = RandomGenerator(seed: 2)
                let model = try make(&generator)
                results.append(train(model, batches: data, steps: 6, threads: 2))
            }
            XCTAssertTrue(results[0].1.isFinite, name)
            XCTAssertEqual(results[1].1.bitPattern, results[0].1.bitPattern, "\(name): loss, AVX-512 vs AVX2")
            XCTAssertEqual(results[1].0, results[0].0, "\(name): parameters, AVX-512 vs AVX2")
        }
    }
}
