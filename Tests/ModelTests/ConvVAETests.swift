import Core
import Foundation
import NN
import Tensor
import VAEModel
import XCTest

/// Promise: the convolutional VAE is the ResNet of the `convvae28` workload, its parameters are
/// known from its configuration alone, and its estimators keep the VAE's properties.
final class ConvVAETests: XCTestCase {
    typealias Support = LatentModelTestSupport
    typealias Conv = ConvolutionalTestSupport

    private func configuration(likelihood: Likelihood = .binary, latent: Int = 4,
                               settings: ConvolutionalSettings = ConvolutionalTestSupport.tinySettings) -> VAEConfiguration {
        var c = VAEConfiguration(dataDimension: settings.image.dimension, latentDimension: latent, likelihood: likelihood)
        c.architecture = .conv
        c.convolution = settings
        return c
    }

    private func model(likelihood: Likelihood = .binary, seed: UInt64 = 1) throws -> VAE {
        var generator = RandomGenerator(seed: seed)
        return try VAE(configuration: configuration(likelihood: likelihood), using: &generator)
    }

    // MARK: Parameters

    func testConvVAEParameters_equalTheConfigurationsShapesInOrderAndKeysArePinned() throws {
        for likelihood in [Likelihood.binary, .continuous, .discrete(levels: 256)] {
            let vae = try model(likelihood: likelihood)
            let built = vae.namedParameters.map { "\($0.key) \($0.tensor.shape)" }
            XCTAssertEqual(built, configuration(likelihood: likelihood).convolutionalParameterShapes.map { "\($0.key) \($0.shape)" })
            XCTAssertEqual(vae.encoderParameterCount + vae.decoderParameterCount, vae.parameterCount)
            XCTAssertTrue(vae.namedParameters.allSatisfy { $0.key.hasPrefix("encoder.") || $0.key.hasPrefix("decoder.") })
            XCTAssertTrue(vae.encoder is ResNetEncoder && vae.decoder is ResNetDecoder)
        }
        XCTAssertEqual(VAEConfiguration().convolutionalParameterShapes.count, 0)
        XCTAssertEqual(VAEConfiguration().convolutionalActivationsPerExample, 0)
        var lines = ["# 8×8×1, base 8, multipliers [1, 2], residualBlocks 2, groups 4, latent 4, binary"]
        lines += Support.keyLines(try model())
        try Support.assertGolden(lines, file: "vae-conv-keys.txt")
    }

    /// The default settings on 28×28×1 with latent 32 and Bernoulli logits are the `convvae28`
    /// ResNet: counted by hand from its layers (conv 1→32: 320; ResBlock 32: 18 624; down 32→64:
    /// 18 496; ResBlock 64: 74 112; down 64→64: 36 928; ResBlock 64; GN 128; Linear 3136→64:
    /// 200 768 — and Linear 32→3136: 103 488; ResBlock 64; up 64→64: 36 928; ResBlock 64;
    /// up 64→32: 18 464; ResBlock 32; GN 64; conv 32→1: 289).
    func testConvVAEDefault_isTheConvVAE28ResNet() throws {
        let c = configuration(latent: 32, settings: ConvolutionalSettings(image: ImageShape(height: 28, width: 28)))
        let shapes = Dictionary(uniqueKeysWithValues: c.convolutionalParameterShapes.map { ($0.key, $0.shape) })
        func count(_ prefix: String) -> Int {
            c.convolutionalParameterShapes.filter { $0.key.hasPrefix(prefix) }.reduce(0) { $0 + $1.shape.reduce(1, *) }
        }
        XCTAssertEqual(count("encoder."), 320 + 18_624 + 18_496 + 74_112 + 36_928 + 74_112 + 128 + 200_768)
        XCTAssertEqual(count("decoder."), 103_488 + 74_112 + 36_928 + 74_112 + 18_464 + 18_624 + 64 + 289)
        XCTAssertEqual(count(""), 749_569)
        XCTAssertEqual(shapes["encoder.bottomUp.downsamplers.0.weight"], [64, 3, 3, 32])
        XCTAssertEqual(shapes["encoder.output.weight"], [64, 3136])
        XCTAssertEqual(shapes["decoder.input.weight"], [3136, 32])
        XCTAssertEqual(shapes["decoder.upsamplers.1.convolution.weight"], [32, 3, 3, 64])
        XCTAssertEqual(shapes["decoder.outputConvolution.weight"], [1, 3, 3, 32])
        XCTAssertNil(shapes["encoder.bottomUp.blocks.3.inputNorm.scale"], "one residual block per resolution")
        XCTAssertGreaterThan(c.convolutionalActivationsPerExample, 28 * 28 * 32 * 5)
        // It runs: two images through a training step's pass and back.
        var generator = RandomGenerator(seed: 1)
        let vae = try VAE(configuration: c, using: &generator)
        XCTAssertEqual(vae.parameterCount, 749_569)
        let x = Tensor.randomUniform(shape: [2, 784], low: 0, high: 1, using: &generator)
        XCTAssertEqual(vae.decode(vae.posterior(x).mean).shape, [2, 784])
        let loss = vae.trainingLoss(x, step: 1, using: &generator)
        XCTAssertTrue(loss.scalar.isFinite)
        loss.backward()
        XCTAssertTrue(vae.namedParameters.allSatisfy { $0.tensor.gradient != nil })
    }

    // MARK: Configuration

    func testConvVAEConfiguration_roundTripsThroughJSONAndMLPJSONHasNoArchitecture() throws {
        for likelihood in [Likelihood.binary, .continuous, .discrete(levels: 256)] {
            let c = configuration(likelihood: likelihood)
            let data = try JSONEncoder().encode(c)
            XCTAssertEqual(try JSONDecoder().decode(VAEConfiguration.self, from: data), c)
            let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            XCTAssertEqual(object["architecture"] as? String, "conv")
        }
        let mlp = try JSONSerialization.jsonObject(with: JSONEncoder().encode(VAEConfiguration(dataDimension: 64))) as! [String: Any]
        XCTAssertNil(mlp["architecture"])
        XCTAssertNil(mlp["convolution"])
    }

    func testConvVAE_refusesSettingsThatDoNotFitTheData() {
        var wrongSize = configuration()
        wrongSize.dataDimension = 65
        var missing = configuration()
        missing.convolution = nil
        for bad in [wrongSize, missing] {
            var generator = RandomGenerator(seed: 0)
            XCTAssertThrowsError(try VAE(configuration: bad, using: &generator))
        }
        var generator = RandomGenerator(seed: 0)
        let mlp = MLP(sizes: [64, 8], activation: .silu, using: &generator)
        XCTAssertThrowsError(try VAE(configuration: configuration(), encoder: mlp, decoder: mlp), "MLPs for a conv configuration")
    }

    // MARK: Estimators

    func testConvVAETrainingLoss_equalsMinusMeanELBOAndReachesEveryParameter() throws {
        let vae = try model(likelihood: .continuous)
        var generator = RandomGenerator(seed: 2)
        let x = Conv.bars(count: 8, using: &generator)
        var first = RandomGenerator(seed: 99), second = RandomGenerator(seed: 99)
        let loss = vae.trainingLoss(x, step: 1, using: &first)
        let elbo = vae.elbo(x, using: &second).elbo
        XCTAssertEqual(Double(loss.scalar), -elbo.reduce(0, +) / Double(elbo.count), accuracy: 1e-3 * max(1, abs(Double(loss.scalar))))
        loss.backward()
        for (key, parameter) in vae.namedParameters { XCTAssertNotNil(parameter.gradient, "no gradient reached \(key)") }
    }

    func testConvVAELogImportanceWeights_singleSampleMeanEqualsELBO() throws {
        let vae = try model(seed: 3)
        var generator = RandomGenerator(seed: 3)
        Conv.assertSingleSampleWeightsMatchELBO(vae, Conv.bars(count: 300, using: &generator), using: &generator)
    }

    func testConvVAEIWAE_isNonDecreasingInK() throws {
        let vae = try model(seed: 4)
        var generator = RandomGenerator(seed: 4)
        Conv.assertIWAEIncreasesWithK(vae, Conv.bars(count: 60, using: &generator), using: &generator)
    }

    func testConvVAELogImportanceWeights_chunksKeepTheSampleMajorLayout() throws {
        // More rows than one chunk of 256 images: the layout is [K, batch] whatever the chunking.
        let vae = try model(seed: 5)
        var generator = RandomGenerator(seed: 5)
        let x = Conv.bars(count: 3, using: &generator)
        let samples = VAE.maximumRowsPerChunk(.conv) / 3 + 5
        let weights = vae.logImportanceWeights(x, samples: samples, using: &generator)
        XCTAssertEqual(weights.values.count, 3 * samples)
        XCTAssertTrue(weights.values.allSatisfy(\.isFinite))
        for i in 0..<3 {
            let chunked = (0..<samples).map { weights[sample: $0, example: i] }
            let alone = vae.logImportanceWeights(x.rows(i..<(i + 1)), samples: 200, using: &generator).values
            let a = Support.meanAndStandardError(chunked), b = Support.meanAndStandardError(alone)
            XCTAssertLessThan(abs(a.mean - b.mean), 4 * (a.standardError * a.standardError + b.standardError * b.standardError).squareRoot())
        }
    }

    func testConvVAESample_hasTheDataShapeAndSupport() throws {
        var generator = RandomGenerator(seed: 6)
        for likelihood in [Likelihood.binary, .discrete(levels: 4)] {
            let x = try model(likelihood: likelihood).sample(count: 5, using: &generator)
            XCTAssertEqual(x.shape, [5, 64])
            let allowed: Set<Float> = likelihood == .binary ? [0, 1] : [-1, -1.0 / 3, 1.0 / 3, 1]
            for v in x.storage { XCTAssertTrue(allowed.contains { abs($0 - v) < 1e-6 }, "\(v) is not on the support") }
        }
    }

    // MARK: Training

    func testConvVAETraining_lowersTheLossOnAFixedBatch() throws {
        let vae = try model(seed: 7)
        var generator = RandomGenerator(seed: 7)
        let x = Conv.bars(count: 16, using: &generator)
        let before = Conv.fixedDrawLoss(vae, x)
        Conv.train(vae, on: x, steps: 40, using: &generator)
        let after = Conv.fixedDrawLoss(vae, x)
        print("conv VAE, 16 bars images: −ELBO \(before) → \(after) after 40 steps")
        XCTAssertLessThan(after, before - 5)
    }
}
