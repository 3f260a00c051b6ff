import Core
import Foundation
import HVAEModel
import NN
import Tensor
import XCTest

final class HVAETests: XCTestCase {
    typealias Support = LatentModelTestSupport

    private func model(_ inference: HVAEInference, latentSizes: [Int] = [2, 3], hiddenSizes: [Int] = [16],
                       seed: UInt64 = 1, klWarmupSteps: Int = 0, freeBits: Double? = nil) throws -> HVAE {
        var generator = RandomGenerator(seed: seed)
        let configuration = HVAEConfiguration(dataDimension: 2, latentSizes: latentSizes, hiddenSizes: hiddenSizes,
                                              inference: inference, klWarmupSteps: klWarmupSteps, freeBits: freeBits)
        return try HVAE(configuration: configuration, using: &generator)
    }

    // MARK: Estimators agree

    private func assertSingleSampleWeightsMatchELBO(_ model: HVAE, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var generator = RandomGenerator(seed: seed)
        let x = Support.ring(count: 400, using: &generator)
        let terms = model.elbo(x, using: &generator)
        XCTAssertEqual(terms.layerNames, (1...model.latentLayerCount).map { "z\($0)" }, file: file, line: line)
        let weights = model.logImportanceWeights(x, samples: 1, using: &generator)
        // Paired by example: E[log w₁ − ELBO | x] = 0 for every x.
        let differences = zip(weights.values, terms.elbo).map { $0 - $1 }
        let (mean, standardError) = Support.meanAndStandardError(differences)
        XCTAssertLessThan(abs(mean), 3 * standardError, "mean(log w) − mean(ELBO) = \(mean) ± \(standardError)", file: file, line: line)
        XCTAssertGreaterThan(standardError, 0, file: file, line: line)
    }

    func testHVAEBottomUpLogImportanceWeights_singleSampleMeanEqualsELBO() throws {
        assertSingleSampleWeightsMatchELBO(try model(.bottomUp, latentSizes: [2, 3, 2]), seed: 2)
    }

    func testHVAETopDownLogImportanceWeights_singleSampleMeanEqualsELBO() throws {
        assertSingleSampleWeightsMatchELBO(try model(.topDown, latentSizes: [2, 3, 2]), seed: 3)
    }

    func testHVAESingleLayerAndLinear_singleSampleMeanEqualsELBO() throws {
        assertSingleSampleWeightsMatchELBO(try model(.topDown, latentSizes: [2], hiddenSizes: []), seed: 4)
        assertSingleSampleWeightsMatchELBO(try model(.bottomUp, latentSizes: [3], hiddenSizes: []), seed: 5)
        assertSingleSampleWeightsMatchELBO(try model(.topDown, latentSizes: [2, 2], hiddenSizes: []), seed: 6)
    }

    func testHVAETopDownKL_isClosedFormAndNonNegative() throws {
        // Every top-down layer's KL is a closed-form Gaussian KL: never negative.
        let hvae = try model(.topDown, latentSizes: [2, 3, 2])
        var generator = RandomGenerator(seed: 7)
        let terms = hvae.elbo(Support.ring(count: 100, using: &generator), using: &generator)
        for layer in terms.layerKL { XCTAssertTrue(layer.allSatisfy { $0 >= -1e-5 }) }
    }

    func testHVAETrainingLoss_equalsMinusMeanELBOForTheSameDraws() throws {
        for inference in HVAEInference.allCases {
            let hvae = try model(inference)
            var generator = RandomGenerator(seed: 8)
            let x = Support.ring(count: 64, using: &generator)
            var first = RandomGenerator(seed: 99), second = RandomGenerator(seed: 99)
            let loss = hvae.trainingLoss(x, step: 1, using: &first)
            let elbo = hvae.elbo(x, using: &second).elbo
            XCTAssertEqual(Double(loss.scalar), -elbo.reduce(0, +) / Double(elbo.count), accuracy: 1e-4, "\(inference)")
            loss.backward()
            for (key, parameter) in hvae.namedParameters {
                XCTAssertNotNil(parameter.gradient, "no gradient reached \(key) (\(inference))")
            }
        }
    }

    // MARK: KL warm-up and free bits

    func testHVAEKLWarmup_betaRisesLinearlyFromZeroAtStepOneToOneAtStepN() {
        let configuration = HVAEConfiguration(klWarmupSteps: 5)
        XCTAssertEqual((1...7).map { configuration.klWeight(step: $0) }, [0, 0.25, 0.5, 0.75, 1, 1, 1])
        XCTAssertEqual(HVAEConfiguration(klWarmupSteps: 0).klWeight(step: 1), 1)
        XCTAssertEqual(HVAEConfiguration(klWarmupSteps: 1).klWeight(step: 1), 1)
    }

    func testHVAEKLWarmup_trainingLossAtStepOneIsTheReconstructionOnly() throws {
        let hvae = try model(.topDown, klWarmupSteps: 100)
        var generator = RandomGenerator(seed: 9)
        let x = Support.ring(count: 32, using: &generator)
        var first = RandomGenerator(seed: 5), second = RandomGenerator(seed: 5)
        let loss = hvae.trainingLoss(x, step: 1, using: &first)
        let terms = hvae.elbo(x, using: &second)
        XCTAssertEqual(Double(loss.scalar), -terms.reconstruction.reduce(0, +) / 32, accuracy: 1e-4)
    }

    func testHVAEFreeBits_floorEachLayerAndStopItsGradient() throws {
        let lambda = 50.0 // far above any layer's KL at initialization
        let hvae = try model(.topDown, freeBits: lambda)
        var generator = RandomGenerator(seed: 10)
        let x = Support.ring(count: 32, using: &generator)
        var first = RandomGenerator(seed: 6), second = RandomGenerator(seed: 6)
        let loss = hvae.trainingLoss(x, step: 1, using: &first)
        let terms = hvae.elbo(x, using: &second)
        XCTAssertEqual(Double(loss.scalar), -terms.reconstruction.reduce(0, +) / 32 + 2 * lambda, accuracy: 1e-3)
        // Every layer is floored, so only the reconstruction drives the gradients: they equal
        // those of the warm-up loss at β = 0 (same weights, same draws).
        loss.backward()
        let reference = try model(.topDown, klWarmupSteps: 100)
        var third = RandomGenerator(seed: 6)
        reference.trainingLoss(x, step: 1, using: &third).backward()
        for ((key, floored), (_, plain)) in zip(hvae.namedParameters, reference.namedParameters) {
            let a = floored.gradient ?? [], b = plain.gradient ?? []
            XCTAssertEqual(a.count, b.count, key)
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v)), key) }
        }
    }

    // MARK: Parameters

    func testHVAEParameters_encoderAndDecoderSplitTheTotalAndKeysArePinned() throws {
        var lines: [String] = []
        for inference in HVAEInference.allCases {
            let hvae = try model(inference, latentSizes: [2, 3], hiddenSizes: [8])
            XCTAssertGreaterThan(hvae.encoderParameterCount, 0)
            XCTAssertGreaterThan(hvae.decoderParameterCount, 0)
            XCTAssertEqual(hvae.encoderParameterCount + hvae.decoderParameterCount, hvae.parameterCount)
            XCTAssertTrue(hvae.namedParameters.allSatisfy { $0.key.hasPrefix("encoder.") || $0.key.hasPrefix("decoder.") })
            XCTAssertEqual(hvae.latentLayerCount, 2)
            XCTAssertEqual(hvae.kind, .hvae)
            lines.append("# inference: \(inference.rawValue), dataDimension 2, latentSizes [2, 3], hiddenSizes [8]")
            lines += Support.keyLines(hvae)
        }
        // The generative part does not depend on the inference.
        XCTAssertEqual(try model(.bottomUp, latentSizes: [2, 3], hiddenSizes: [8]).decoderParameterCount,
                       try model(.topDown, latentSizes: [2, 3], hiddenSizes: [8]).decoderParameterCount)
        try Support.assertGolden(lines, file: "hvae-keys.txt")
    }

    // MARK: Configuration

    func testHVAEConfiguration_validateRejectsNoLayersAndNonPositiveSizes() {
        XCTAssertNoThrow(try HVAEConfiguration().validate())
        let bad = [
            HVAEConfiguration(latentSizes: []),
            HVAEConfiguration(latentSizes: [2, 0]),
            HVAEConfiguration(dataDimension: 0),
            HVAEConfiguration(hiddenSizes: [0]),
            HVAEConfiguration(klWarmupSteps: -1),
            HVAEConfiguration(freeBits: -0.5),
            HVAEConfiguration(freeBits: .nan),
            HVAEConfiguration(likelihood: .discrete(levels: 1)),
        ]
        for configuration in bad {
            XCTAssertThrowsError(try configuration.validate()) { error in
                guard case ModelError.invalidConfiguration = error else { return XCTFail("unexpected error \(error)") }
            }
            var generator = RandomGenerator(seed: 0)
            XCTAssertThrowsError(try HVAE(configuration: configuration, using: &generator))
        }
    }

    func testHVAEConfiguration_roundTripsThroughJSON() throws {
        let configuration = HVAEConfiguration(dataDimension: 784, latentSizes: [32, 16, 8], hiddenSizes: [256],
                                              activation: .relu, inference: .bottomUp, klWarmupSteps: 5000,
                                              freeBits: 0.25, likelihood: .binary)
        let data = try JSONEncoder().encode(configuration)
        XCTAssertEqual(try JSONDecoder().decode(HVAEConfiguration.self, from: data), configuration)
        let decoded = try JSONDecoder().decode(HVAEConfiguration.self, from: Data(#"{"dataDimension": 2}"#.utf8))
        XCTAssertEqual(decoded, HVAEConfiguration(dataDimension: 2))
    }

    // MARK: Sampling

    func testHVAESample_hasTheDataShape() throws {
        var generator = RandomGenerator(seed: 11)
        for inference in HVAEInference.allCases {
            let x = try model(inference, latentSizes: [2, 3, 4]).sample(count: 7, using: &generator)
            XCTAssertEqual(x.shape, [7, 2])
            XCTAssertTrue(x.storage.allSatisfy(\.isFinite))
        }
    }

    // MARK: Training

    /// 1500 Adam steps (batch 64, learning rate 3e-3, KL warm-up over 300 steps, hidden [32, 32]):
    /// a few seconds in a debug build. Without the warm-up both inferences tend to stop at the
    /// single-Gaussian solution that ignores z (posterior collapse).
    private func assertTrainingBeatsBestGaussian(_ inference: HVAEInference, margin: Double, seed: UInt64) throws {
        var generator = RandomGenerator(seed: seed)
        let configuration = HVAEConfiguration(dataDimension: 2, latentSizes: [2, 2], hiddenSizes: [32, 32],
                                              inference: inference, klWarmupSteps: 300)
        let hvae = try HVAE(configuration: configuration, using: &generator)
        let start = Date()
        Support.train(hvae, steps: 1500, batchSize: 64, learningRate: 3e-3, using: &generator)
        let trainSeconds = Date().timeIntervalSince(start)
        let train = Support.ring(count: 4096, using: &generator)
        let test = Support.ring(count: 2000, using: &generator)
        let gaussian = Support.meanAndStandardError(Support.bestGaussianLogLikelihood(train: train, test: test))
        let elbo = Support.meanAndStandardError(hvae.elbo(test, using: &generator).elbo)
        print("HVAE (\(inference)) ring: test ELBO \(elbo.mean) ± \(elbo.standardError), best single Gaussian \(gaussian.mean); training \(trainSeconds) s")
        XCTAssertGreaterThan(elbo.mean, gaussian.mean + margin)
    }

    func testHVAETopDownTraining_ringELBOBeatsTheBestSingleGaussian() throws {
        try assertTrainingBeatsBestGaussian(.topDown, margin: 0.3, seed: 12)
    }

    func testHVAEBottomUpTraining_ringELBOBeatsTheBestSingleGaussian() throws {
        try assertTrainingBeatsBestGaussian(.bottomUp, margin: 0.3, seed: 13)
    }
}
