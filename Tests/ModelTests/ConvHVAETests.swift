import Core
import Foundation
import HVAEModel
import NN
import Tensor
import XCTest

/// Promise: the convolutional hierarchical VAE (latent maps, top-down ResNet) has parameters
/// known from its configuration alone, and keeps the HVAE's estimators and training objective.
final class ConvHVAETests: XCTestCase {
    typealias Support = LatentModelTestSupport
    typealias Conv = ConvolutionalTestSupport

    private func configuration(latentSizes: [Int] = [2, 3], likelihood: Likelihood = .binary, klWarmupSteps: Int = 0,
                               freeBits: Double? = nil, settings: ConvolutionalSettings = ConvolutionalTestSupport.tinySettings) -> HVAEConfiguration {
        var c = HVAEConfiguration(dataDimension: settings.image.dimension, latentSizes: latentSizes, inference: .topDown,
                                  klWarmupSteps: klWarmupSteps, freeBits: freeBits, likelihood: likelihood)
        c.architecture = .conv
        c.convolution = settings
        return c
    }

    private func model(_ configuration: HVAEConfiguration, seed: UInt64 = 1) throws -> HVAE {
        var generator = RandomGenerator(seed: seed)
        return try HVAE(configuration: configuration, using: &generator)
    }

    // MARK: Parameters

    func testConvHVAEParameters_equalTheConfigurationsShapesInOrderAndKeysArePinned() throws {
        var single = Conv.tinySettings
        single.channelMultipliers = [1]
        let cases = [configuration(), configuration(latentSizes: [2, 3, 2], likelihood: .continuous),
                     configuration(latentSizes: [1], likelihood: .discrete(levels: 256)), configuration(latentSizes: [2, 2], settings: single)]
        for c in cases {
            let hvae = try model(c)
            XCTAssertEqual(Support.keyLines(hvae), c.convolutionalParameterShapes.map { "\($0.key) \($0.shape)" }, "\(c.latentSizes)")
            XCTAssertEqual(hvae.encoderParameterCount + hvae.decoderParameterCount, hvae.parameterCount)
            XCTAssertGreaterThan(hvae.encoderParameterCount, 0)
            XCTAssertTrue(hvae.namedParameters.allSatisfy { $0.key.hasPrefix("encoder.") || $0.key.hasPrefix("decoder.") })
            XCTAssertTrue(hvae.encoder is ConvolutionalHVAEEncoder && hvae.decoder is ConvolutionalHVAEDecoder)
            XCTAssertEqual(hvae.latentLayerCount, c.latentSizes.count)
        }
        XCTAssertEqual(HVAEConfiguration().convolutionalParameterShapes.count, 0)
        XCTAssertEqual(HVAEConfiguration().convolutionalActivationsPerExample, 0)
        var lines = ["# 8×8×1, base 8, multipliers [1, 2], residualBlocks 2, groups 4, latentSizes [2, 3], binary"]
        lines += Support.keyLines(try model(configuration()))
        try Support.assertGolden(lines, file: "hvae-conv-keys.txt")
    }

    /// With the default settings on 28×28 (multipliers (1, 2, 2)), z₁ is a 14×14 map and z₂ a
    /// 7×7 one; a third layer shares 7×7. A one-layer model stops at 14×14.
    func testConvHVAELatentMaps_liveAtTheDocumentedResolutions() throws {
        let settings = ConvolutionalSettings(image: ImageShape(height: 28, width: 28))
        func shapes(_ sizes: [Int]) -> [String: [Int]] {
            Dictionary(uniqueKeysWithValues: configuration(latentSizes: sizes, settings: settings).convolutionalParameterShapes.map { ($0.key, $0.shape) })
        }
        let two = shapes([4, 8])
        XCTAssertEqual(two["decoder.topInput"], [1, 7, 7, 64])
        XCTAssertEqual(two["decoder.latentProjections.0.weight"], [64, 1, 1, 4])
        XCTAssertEqual(two["decoder.priors.0.convolution.weight"], [8, 3, 3, 64])
        XCTAssertEqual(two["encoder.posteriors.0.convolution.weight"], [8, 3, 3, 128])
        XCTAssertEqual(two["encoder.posteriors.1.convolution.weight"], [16, 3, 3, 128])
        XCTAssertNil(two["decoder.priors.1.norm.scale"], "the top layer's prior is N(0, I)")
        let plan = ConvolutionalHVAEPlan(settings: settings, latentSizes: [4, 8, 2])
        XCTAssertEqual(plan.latentLevels, [1, 2, 2])
        XCTAssertEqual((0..<3).map { plan.latentDimension(layer: $0) }, [14 * 14 * 4, 7 * 7 * 8, 7 * 7 * 2])
        XCTAssertEqual(plan.layers(at: 2), [2, 1])
        XCTAssertEqual(shapes([4])["decoder.topInput"], [1, 14, 14, 64])
        XCTAssertNil(shapes([4])["encoder.bottomUp.downsamplers.1.weight"])
        var generator = RandomGenerator(seed: 1)
        let hvae = try HVAE(configuration: configuration(latentSizes: [4, 8], settings: settings), using: &generator)
        let pass = GradientMode.withoutRecording {
            hvae.pass(context: hvae.context(Tensor.randomUniform(shape: [1, 784], low: 0, high: 1, using: &generator)), using: &generator)
        }
        XCTAssertEqual(pass.latents.map(\.shape), [[1, 784], [1, 392]])
        XCTAssertEqual(pass.decoderOutput.shape, [1, 784])
    }

    // MARK: Configuration

    func testConvHVAEConfiguration_roundTripsThroughJSONAndRefusesBottomUpInference() throws {
        let c = configuration(latentSizes: [4, 2], likelihood: .discrete(levels: 256), klWarmupSteps: 10, freeBits: 0.5)
        let data = try JSONEncoder().encode(c)
        XCTAssertEqual(try JSONDecoder().decode(HVAEConfiguration.self, from: data), c)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: data) as! [String: Any])["architecture"] as? String, "conv")
        let mlp = try JSONSerialization.jsonObject(with: JSONEncoder().encode(HVAEConfiguration(dataDimension: 64))) as! [String: Any]
        XCTAssertNil(mlp["architecture"])
        XCTAssertNil(mlp["convolution"])
        var bottomUp = configuration()
        bottomUp.inference = .bottomUp
        XCTAssertThrowsError(try bottomUp.validate()) { error in
            guard case ModelError.invalidConfiguration(let message) = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertTrue(message.contains("top-down") && !message.contains("\n"), message)
        }
    }

    // MARK: Estimators

    func testConvHVAETrainingLoss_equalsMinusMeanELBOAndReachesEveryParameter() throws {
        let hvae = try model(configuration(latentSizes: [2, 3, 2], likelihood: .continuous))
        var generator = RandomGenerator(seed: 2)
        let x = Conv.bars(count: 8, using: &generator)
        var first = RandomGenerator(seed: 99), second = RandomGenerator(seed: 99)
        let loss = hvae.trainingLoss(x, step: 1, using: &first)
        let terms = hvae.elbo(x, using: &second)
        XCTAssertEqual(terms.layerNames, ["z1", "z2", "z3"])
        XCTAssertEqual(Double(loss.scalar), -terms.elbo.reduce(0, +) / 8, accuracy: 1e-3 * max(1, abs(Double(loss.scalar))))
        // Every layer's KL is a closed-form Gaussian KL at the same parents: never negative.
        for layer in terms.layerKL { XCTAssertTrue(layer.allSatisfy { $0 >= -1e-4 }) }
        loss.backward()
        for (key, parameter) in hvae.namedParameters { XCTAssertNotNil(parameter.gradient, "no gradient reached \(key)") }
    }

    func testConvHVAELogImportanceWeights_singleSampleMeanEqualsELBO() throws {
        let hvae = try model(configuration(), seed: 3)
        var generator = RandomGenerator(seed: 3)
        Conv.assertSingleSampleWeightsMatchELBO(hvae, Conv.bars(count: 300, using: &generator), using: &generator)
    }

    func testConvHVAEIWAE_isNonDecreasingInK() throws {
        let hvae = try model(configuration(), seed: 4)
        var generator = RandomGenerator(seed: 4)
        Conv.assertIWAEIncreasesWithK(hvae, Conv.bars(count: 60, using: &generator), using: &generator)
    }

    /// Each layer's closed-form KL(q(zᵢ | z_{>i}, x) ‖ p(zᵢ | z_{>i})), summed over layers, equals
    /// log q(z | x) − log p(z) at the drawn latents on average (the Monte Carlo form of the same
    /// KL), layer by layer and in total, within 3 standard errors.
    func testConvHVAELayerKL_isTheMeanOfLogQMinusLogPAtTheDrawnLatents() throws {
        let hvae = try model(configuration(latentSizes: [2, 3, 2]), seed: 5)
        var generator = RandomGenerator(seed: 5)
        let x = Conv.bars(count: 200, using: &generator)
        GradientMode.withoutRecording {
            let pass = hvae.pass(context: hvae.context(x), using: &generator)
            var total = [Double](repeating: 0, count: 200)
            for i in 0..<3 {
                let closed = hvae.layerKLPerElement(pass, layer: i).rowSumsInDouble()
                let sampled = zip(pass.posteriors[i].logDensityPerElement(pass.latents[i]).rowSumsInDouble(),
                                  pass.priors[i].logDensityPerElement(pass.latents[i]).rowSumsInDouble()).map { $0 - $1 }
                let differences = zip(sampled, closed).map { $0 - $1 }
                for r in 0..<200 { total[r] += differences[r] }
                let (mean, standardError) = Support.meanAndStandardError(differences)
                XCTAssertLessThan(abs(mean), 3 * standardError, "layer z\(i + 1): log q − log p − KL = \(mean) ± \(standardError)")
            }
            let (mean, standardError) = Support.meanAndStandardError(total)
            XCTAssertLessThan(abs(mean), 3 * standardError, "all layers: \(mean) ± \(standardError)")
        }
    }

    func testConvHVAESample_hasTheDataShapeAndSupport() throws {
        var generator = RandomGenerator(seed: 6)
        let x = try model(configuration(latentSizes: [2, 3, 2])).sample(count: 5, using: &generator)
        XCTAssertEqual(x.shape, [5, 64])
        XCTAssertTrue(x.storage.allSatisfy { $0 == 0 || $0 == 1 })
    }

    // MARK: KL warm-up and free bits

    func testConvHVAEKLWarmup_trainingLossAtStepOneIsTheReconstructionOnly() throws {
        let hvae = try model(configuration(klWarmupSteps: 100))
        var generator = RandomGenerator(seed: 9)
        let x = Conv.bars(count: 16, using: &generator)
        var first = RandomGenerator(seed: 5), second = RandomGenerator(seed: 5)
        let loss = hvae.trainingLoss(x, step: 1, using: &first)
        let terms = hvae.elbo(x, using: &second)
        XCTAssertEqual(Double(loss.scalar), -terms.reconstruction.reduce(0, +) / 16, accuracy: 1e-3 * max(1, abs(Double(loss.scalar))))
        // Half-way through the warm-up, half of the KL.
        var third = RandomGenerator(seed: 5)
        let halfway = hvae.trainingLoss(x, step: 51, using: &third)
        let kl = terms.layerKL.reduce(0) { $0 + $1.reduce(0, +) } / 16
        XCTAssertEqual(Double(halfway.scalar), Double(loss.scalar) + 0.5 * kl, accuracy: 1e-3 * max(1, abs(Double(loss.scalar))))
    }

    func testConvHVAEFreeBits_floorEachLayerAndStopItsGradient() throws {
        let lambda = 500.0 // far above any layer's KL at initialization
        let hvae = try model(configuration(freeBits: lambda))
        var generator = RandomGenerator(seed: 10)
        let x = Conv.bars(count: 16, using: &generator)
        var first = RandomGenerator(seed: 6), second = RandomGenerator(seed: 6)
        let loss = hvae.trainingLoss(x, step: 1, using: &first)
        let terms = hvae.elbo(x, using: &second)
        XCTAssertEqual(Double(loss.scalar), -terms.reconstruction.reduce(0, +) / 16 + 2 * lambda, accuracy: 1e-2)
        // Every layer is floored, so only the reconstruction drives the gradients: they equal
        // those of the warm-up loss at β = 0 (same weights, same draws).
        loss.backward()
        let reference = try model(configuration(klWarmupSteps: 100))
        var third = RandomGenerator(seed: 6)
        reference.trainingLoss(x, step: 1, using: &third).backward()
        for ((key, floored), (_, plain)) in zip(hvae.namedParameters, reference.namedParameters) {
            let a = floored.gradient ?? [], b = plain.gradient ?? []
            XCTAssertEqual(a.count, b.count, key)
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-4 * max(1, abs(v)), key) }
        }
    }

    // MARK: Training

    func testConvHVAETraining_lowersTheLossOnAFixedBatch() throws {
        let hvae = try model(configuration(), seed: 7)
        var generator = RandomGenerator(seed: 7)
        let x = Conv.bars(count: 16, using: &generator)
        let before = Conv.fixedDrawLoss(hvae, x)
        Conv.train(hvae, on: x, steps: 40, using: &generator)
        let after = Conv.fixedDrawLoss(hvae, x)
        print("conv HVAE, 16 bars images: −ELBO \(before) → \(after) after 40 steps")
        XCTAssertLessThan(after, before - 5)
    }

    /// The default conv HVAE on 28×28×1 (default settings, latentSizes [2, 2], binary): its size,
    /// for the record.
    func testConvHVAEDefault_parameterCount() {
        let c = configuration(latentSizes: HVAEConfiguration().latentSizes, settings: ConvolutionalSettings(image: ImageShape(height: 28, width: 28)))
        func count(_ prefix: String) -> Int {
            c.convolutionalParameterShapes.filter { $0.key.hasPrefix(prefix) }.reduce(0) { $0 + $1.shape.reduce(1, *) }
        }
        print("default conv HVAE (28×28×1, latentSizes [2, 2], binary): \(count("")) parameters (encoder \(count("encoder.")), decoder \(count("decoder."))), \(c.convolutionalActivationsPerExample) activations per example")
        XCTAssertEqual(count("encoder.") + count("decoder."), count(""))
    }
}
