import Core
import HVAEModel
import NN
import Tensor
import VAEModel
import XCTest

/// A network whose log-scale outputs run far out of range (as one burst of Adam steps once took
/// an MLP encoder's log σ² from 0.6 to 42.9) must still give a finite loss and finite gradients:
/// the guards of docs/math.md#log-scale-guards. Without them these losses are −∞ or NaN.
final class LogScaleGuardTests: XCTestCase {
    private let levels = 256

    /// Data on the 256-level grid of [−1, 1], [count, dimension].
    private func images(count: Int, dimension: Int) -> Tensor {
        var generator = RandomGenerator(seed: 3)
        let values = (0..<(count * dimension)).map { _ in Float(-1 + 2 * Double(Int(generator.nextUniform() * 256)) / 255) }
        return Tensor(shape: [count, dimension], storage: values)
    }

    /// Sets the second half of the bias of every MLP's last layer — the log σ² (or log σ) half of a
    /// [μ | log-scale] head — to `value`. Returns how many heads were set.
    private func setLogScaleBiases(_ model: some Module, to value: Float, heads: (String) -> Bool) -> Int {
        var lastLayer: [String: (index: Int, key: String, tensor: Tensor)] = [:]
        for (key, tensor) in model.namedParameters where key.hasSuffix(".bias") {
            guard let range = key.range(of: ".layers.") else { continue }
            let prefix = String(key[..<range.lowerBound])
            let index = Int(key[range.upperBound...].prefix { $0.isNumber })!
            if lastLayer[prefix].map({ index > $0.index }) ?? true { lastLayer[prefix] = (index, key, tensor) }
        }
        var count = 0
        for (prefix, layer) in lastLayer where heads(prefix) {
            var values = layer.tensor.storage
            for i in (values.count / 2)..<values.count { values[i] = value }
            layer.tensor.assign(values)
            count += 1
        }
        return count
    }

    private func assertFiniteLossAndGradients<M: LatentVariableModel & Module>(_ model: M, _ x: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        var generator = RandomGenerator(seed: 9)
        let guardedBefore = GuardCounter.total
        model.zeroGradients()
        let loss = model.trainingLoss(x, step: 1, using: &generator)
        XCTAssertTrue(loss.storage.allSatisfy(\.isFinite), "loss \(loss.storage)", file: file, line: line)
        loss.backward()
        for (key, parameter) in model.namedParameters {
            XCTAssertTrue((parameter.gradient ?? []).allSatisfy(\.isFinite), "gradient of \(key)", file: file, line: line)
        }
        XCTAssertGreaterThan(GuardCounter.total, guardedBefore, "the guards acted", file: file, line: line)
    }

    func testUnguardedDiscretizedLikelihoodIsNotFiniteAtTheseScales() {
        // The failure the guards prevent: log σ = −10⁶ or +10⁶ straight into the likelihood.
        for logScale: Float in [-1e6, 1e6] {
            let p = DiscretizedGaussian(mean: Tensor(shape: [1, 1], storage: [0.5]), logScale: Tensor(shape: [1, 1], storage: [logScale]),
                                        levels: levels)
            XCTAssertFalse(p.logProbability(Tensor(shape: [1, 1], storage: [-0.5])).storage[0].isFinite, "log σ = \(logScale)")
        }
    }

    func testVAEWithRunawayEncoderAndDecoderLogScalesKeepsAFiniteLoss() throws {
        for value: Float in [42.9, 1e6, -1e6] {
            var generator = RandomGenerator(seed: 1)
            let model = try VAE(configuration: VAEConfiguration(dataDimension: 16, latentDimension: 4, hiddenSizes: [32, 32],
                                                               likelihood: .discrete(levels: levels)), using: &generator)
            XCTAssertEqual(setLogScaleBiases(model, to: value) { _ in true }, 2)
            assertFiniteLossAndGradients(model, images(count: 8, dimension: 16))
        }
    }

    func testHVAEWithRunawayLogScalesKeepsAFiniteLoss() throws {
        for inference in [HVAEInference.topDown, .bottomUp] {
            for value: Float in [42.9, 1e6, -1e6] {
                var generator = RandomGenerator(seed: 2)
                let model = try HVAE(configuration: HVAEConfiguration(dataDimension: 16, latentSizes: [4, 3], hiddenSizes: [32],
                                                                      inference: inference, likelihood: .discrete(levels: levels)),
                                     using: &generator)
                // The heads: the posteriors, the priors and the output (not the deterministic path).
                XCTAssertGreaterThanOrEqual(setLogScaleBiases(model, to: value) { !$0.contains("deterministic") }, 3)
                assertFiniteLossAndGradients(model, images(count: 8, dimension: 16))
            }
        }
    }

    func testContinuousDecoderLogVarianceIsGuarded() throws {
        var generator = RandomGenerator(seed: 4)
        let model = try VAE(configuration: VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [16]), using: &generator)
        _ = setLogScaleBiases(model, to: -1e6) { $0.hasPrefix("decoder") }
        assertFiniteLossAndGradients(model, Tensor(shape: [4, 2], storage: [0.1, 0.2, -1, 1, 2, 0, 0.5, -0.5]))
    }
}
