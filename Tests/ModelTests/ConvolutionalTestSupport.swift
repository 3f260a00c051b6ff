import Core
import NN
import Tensor
import XCTest

/// Helpers of the convolutional VAE and HVAE tests: tiny images and settings that run in a
/// debug build in seconds, and the estimator checks both models share.
enum ConvolutionalTestSupport {
    typealias Support = LatentModelTestSupport

    /// 8×8 one-channel images, base 8 channels in 4 groups, multipliers (1, 2): resolutions
    /// 8×8 (8 channels) and 4×4 (16 channels); B = 2, so one residual block per path and resolution.
    static let tinySettings = ConvolutionalSettings(image: ImageShape(height: 8, width: 8), baseChannels: 8,
                                                    channelMultipliers: [1, 2], residualBlocks: 2, normalizationGroups: 4)

    /// `count` binary 8×8 images [count, 64]: each one random horizontal or vertical bar two
    /// pixels wide, in one of four places, so the data have a few modes a latent can name.
    static func bars(count: Int, using generator: inout RandomGenerator) -> Tensor {
        var values = [Float](repeating: 0, count: count * 64)
        for n in 0..<count {
            let vertical = generator.nextInt(below: 2) == 1
            let place = 2 * generator.nextInt(below: 4)
            for i in 0..<8 {
                for j in 0..<8 where (vertical ? j : i) / 2 == place / 2 { values[n * 64 + i * 8 + j] = 1 }
            }
        }
        return Tensor(shape: [count, 64], storage: values)
    }

    /// The mean training loss of `model` on `x` over `draws` fixed draws (seeds 1…draws), so that
    /// two calls see the same noise.
    static func fixedDrawLoss<M: LatentVariableModel>(_ model: M, _ x: Tensor, draws: Int = 4) -> Double {
        GradientMode.withoutRecording {
            (1...draws).reduce(0.0) { total, seed in
                var generator = RandomGenerator(seed: UInt64(seed))
                return total + Double(model.trainingLoss(x, step: 1_000_000, using: &generator).scalar)
            } / Double(draws)
        }
    }

    /// `steps` Adam steps (learning rate 2e-3) on the fixed batch `x`.
    static func train<M: LatentVariableModel>(_ model: M, on x: Tensor, steps: Int, using generator: inout RandomGenerator) {
        let threads = LinearAlgebra.threadCount
        LinearAlgebra.setThreadCount(1)
        defer { LinearAlgebra.setThreadCount(threads) }
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 2e-3)
        for step in 1...steps {
            let loss = model.trainingLoss(x, step: step, using: &generator)
            XCTAssertTrue(loss.scalar.isFinite, "step \(step): loss \(loss.scalar)")
            loss.backward()
            optimizer.update()
        }
    }

    /// E[log w₁ | x] = E[ELBO | x]: the mean paired difference over `x`'s rows is within 3
    /// standard errors of 0 (the one-sample weight and the ELBO are computed independently).
    static func assertSingleSampleWeightsMatchELBO<M: LatentVariableModel>(_ model: M, _ x: Tensor, using generator: inout RandomGenerator,
                                                                          file: StaticString = #filePath, line: UInt = #line) {
        let elbo = model.elbo(x, using: &generator).elbo
        let weights = model.logImportanceWeights(x, samples: 1, using: &generator)
        XCTAssertEqual(weights.values.count, x.shape[0], file: file, line: line)
        let (mean, standardError) = Support.meanAndStandardError(zip(weights.values, elbo).map { $0 - $1 })
        XCTAssertLessThan(abs(mean), 3 * standardError, "mean(log w) − mean(ELBO) = \(mean) ± \(standardError)", file: file, line: line)
        XCTAssertGreaterThan(standardError, 0, file: file, line: line)
    }

    /// IWAE_K is non-decreasing in K in expectation: for K = 1, 4, 16 on the same examples, each
    /// mean is below the next one's plus 3 standard errors of their (paired) difference, and
    /// K = 16 is above K = 1 by more than its noise.
    static func assertIWAEIncreasesWithK<M: LatentVariableModel>(_ model: M, _ x: Tensor, using generator: inout RandomGenerator,
                                                                file: StaticString = #filePath, line: UInt = #line) {
        let ks = [1, 4, 16]
        let estimates = ks.map { Support.iwae(model.logImportanceWeights(x, samples: $0, using: &generator)) }
        for (index, (lower, higher)) in zip(estimates, estimates.dropFirst()).enumerated() {
            let (mean, standardError) = Support.meanAndStandardError(zip(higher, lower).map { $0 - $1 })
            XCTAssertGreaterThan(mean, -3 * standardError, "IWAE_\(ks[index + 1]) − IWAE_\(ks[index]) = \(mean) ± \(standardError)",
                                 file: file, line: line)
        }
        let (gain, standardError) = Support.meanAndStandardError(zip(estimates[2], estimates[0]).map { $0 - $1 })
        XCTAssertGreaterThan(gain, 3 * standardError, "IWAE_16 − IWAE_1 = \(gain) ± \(standardError)", file: file, line: line)
    }
}
