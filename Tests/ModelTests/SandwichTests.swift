import Core
import DDPMModel
import Evaluation
import HVAEModel
import NN
import Pipeline
import Tensor
import VAEModel
import XCTest

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The sandwich bounds (docs/math.md#sandwich-bounds) against models whose log p(x₀) is known in
/// closed form: the linear-Gaussian DDPM (``DDPMOracle``) and the linear-Gaussian VAE.
///
/// On N samples x₀ drawn from the model, for each K, paired with the exact log p(x₀ᵢ):
/// mean IWAE_K ≤ log p + 3 s.e. and mean U_K ≥ log p − 3 s.e. And the generating weight itself
/// is checked by an identity that holds only for the exact weight: E_{(x₀, z*) ~ p}[p(x₀)/w(z*)] = 1
/// (∫ p(z | x₀) q(z | x₀)/p(x₀, z) dz = 1/p(x₀)), which a missing or doubled term in log w(z*) breaks.
final class SandwichTests: XCTestCase {
    /// One model and its exact log-likelihood, measured: lower ≤ exact ≤ upper per K within 3 s.e.,
    /// the widths shrink with K, and the reciprocal identity of the generating weight.
    func assertSandwich(_ model: some LatentVariableModel, exact: ([Double]) -> Double, count: Int, sampleCounts: [Int], seed: UInt64,
                        label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var generator = RandomGenerator(seed: seed)
        let drawn = GradientMode.withoutRecording { model.ancestralSample(count: count, using: &generator) }
        let dimension = model.dataDimension
        let exactAtDraws = (0..<count).map { i in exact((0..<dimension).map { Double(drawn.samples.storage[i * dimension + $0]) }) }

        // E[exp(log p − log w*)] = 1: the ratio q/p(z | x₀) averaged over exact posterior draws.
        let ratios = zip(exactAtDraws, drawn.generatingLogWeights).map { exp($0 - $1) }
        let identity = MeanEstimate(ratios)
        XCTAssertLessThan(abs(identity.mean - 1), 3 * identity.standardError + 1e-9,
                          "\(label): E[p(x0)/w(z*)] = \(identity.mean) ± \(identity.standardError), expected 1", file: file, line: line)

        var generatorForBounds = RandomGenerator(seed: seed &+ 1)
        let (bounds, samples) = try evaluateSandwich(model, count: count, sampleCounts: sampleCounts, batchSize: 50, using: &generatorForBounds)
        XCTAssertEqual(samples.shape, [count, dimension], file: file, line: line)
        let exactValues = (0..<count).map { i in exact((0..<dimension).map { Double(samples.storage[i * dimension + $0]) }) }
        var previousWidth = Double.infinity
        for (j, k) in sampleCounts.enumerated() {
            let below = MeanEstimate(pairedDifferenceOf: exactValues, minus: bounds.lower[j])
            let above = MeanEstimate(pairedDifferenceOf: bounds.upper[j], minus: exactValues)
            XCTAssertTrue(below.isNonNegative(withinStandardErrors: 3), "\(label): IWAE_\(k) above log p by \(below)", file: file, line: line)
            XCTAssertTrue(above.isNonNegative(withinStandardErrors: 3), "\(label): U_\(k) below log p by \(above)", file: file, line: line)
            let width = bounds.widthEstimate(j)
            XCTAssertLessThan(width.mean, previousWidth + 3 * width.standardError, "\(label): width grew at K = \(k)", file: file, line: line)
            previousWidth = width.mean
        }
        XCTAssertTrue(bounds.isOrdered())
    }

    /// The linear-Gaussian DDPM, trained a little so that q and p(z | x₀) are close enough for
    /// finite-variance weights; T = 1 and T = 4.
    func testDDPMSandwich_bracketsTheExactLogLikelihood() throws {
        for steps in [1, 4] {
            let model = try LinearDDPM.make(steps: steps)
            LinearDDPM.train(model, steps: 800, seed: 100)
            let oracle = DDPMOracle(model: model)
            try assertSandwich(model, exact: { oracle.exactLogLikelihood(x0: $0) }, count: 400, sampleCounts: [1, 10, 100], seed: 5,
                               label: "DDPM T = \(steps)")
        }
    }

    func testVAESandwich_bracketsTheExactLogLikelihood() throws {
        let oracle = VAETests.LinearGaussianVAE()
        try assertSandwich(try oracle.model(), exact: { oracle.logMarginal($0) }, count: 400, sampleCounts: [1, 10, 100], seed: 6,
                           label: "linear-Gaussian VAE")
    }

    /// The planted error this test exists to catch: a generating weight missing its log q(x₁ | x₀)
    /// term (or any constant) breaks E[p(x₀)/w(z*)] = 1 by many standard errors.
    func testReciprocalIdentity_catchesAWrongGeneratingWeight() throws {
        let model = try LinearDDPM.make(steps: 1)
        LinearDDPM.train(model, steps: 800, seed: 100)
        let oracle = DDPMOracle(model: model)
        var generator = RandomGenerator(seed: 5)
        let drawn = model.ancestralSample(count: 400, using: &generator)
        let exact = (0..<400).map { i in oracle.exactLogLikelihood(x0: [Double(drawn.samples.storage[2 * i]), Double(drawn.samples.storage[2 * i + 1])]) }
        let shifted = MeanEstimate(zip(exact, drawn.generatingLogWeights).map { exp($0 - ($1 - 0.1)) })
        XCTAssertGreaterThan(abs(shifted.mean - 1), 3 * shifted.standardError, "a 0.1-nat error in log w* must show")
    }

    // MARK: Bit identity with sample(count:using:)

    /// `ancestralSample` returns exactly `sample`'s draws and leaves the generator where `sample` does.
    func assertSameDraws(_ model: some LatentVariableModel, count: Int, label: String, file: StaticString = #filePath, line: UInt = #line) {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        let plain = GradientMode.withoutRecording { model.sample(count: count, using: &a) }
        let weighted = GradientMode.withoutRecording { model.ancestralSample(count: count, using: &b) }
        XCTAssertEqual(plain.shape, weighted.samples.shape, label, file: file, line: line)
        XCTAssertEqual(plain.storage, weighted.samples.storage, "\(label): samples differ", file: file, line: line)
        XCTAssertEqual(a.nextNormal(), b.nextNormal(), "\(label): the generators diverged", file: file, line: line)
        XCTAssertEqual(weighted.generatingLogWeights.count, count, label, file: file, line: line)
        XCTAssertTrue(weighted.generatingLogWeights.allSatisfy(\.isFinite), "\(label): \(weighted.generatingLogWeights)", file: file, line: line)
    }

    func testAncestralSample_drawsExactlyWhatSampleDraws() throws {
        var generator = RandomGenerator(seed: 1)
        assertSameDraws(try VAE(configuration: VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [8], likelihood: .continuous),
                                using: &generator), count: 7, label: "VAE MLP")
        for inference in [HVAEInference.bottomUp, .topDown] {
            let configuration = HVAEConfiguration(dataDimension: 2, latentSizes: [2, 3], hiddenSizes: [8], inference: inference)
            assertSameDraws(try HVAE(configuration: configuration, using: &generator), count: 7, label: "HVAE MLP \(inference)")
        }
        var vae = VAEConfiguration(dataDimension: 64, latentDimension: 4, likelihood: .binary)
        vae.architecture = .conv
        vae.convolution = ConvolutionalTestSupport.tinySettings
        assertSameDraws(try VAE(configuration: vae, using: &generator), count: 3, label: "VAE conv")
        var hvae = HVAEConfiguration(dataDimension: 64, latentSizes: [2, 3], inference: .topDown, likelihood: .discrete(levels: 17))
        hvae.architecture = .conv
        hvae.convolution = ConvolutionalTestSupport.tinySettings
        assertSameDraws(try HVAE(configuration: hvae, using: &generator), count: 3, label: "HVAE conv")
        for likelihood in [Likelihood.continuous, .binary, .discrete(levels: 17)] {
            var ddpm = DDPMConfiguration(dataDimension: 3, likelihood: likelihood)
            ddpm.timestepCount = 5
            ddpm.hiddenSizes = [8]
            assertSameDraws(try DDPM(configuration: ddpm, using: &generator), count: 4, label: "DDPM \(likelihood)")
        }
    }

    /// The HVAE's generating weight comes from a pass *given* the latents: that pass must evaluate
    /// q and p exactly as the pass that drew those latents did (MLP bottom-up and top-down, conv),
    /// and draw nothing.
    func testHVAEPassGivenLatents_reproducesThePassThatDrewThem() throws {
        var generator = RandomGenerator(seed: 3)
        var models: [(HVAE, Tensor)] = []
        for inference in [HVAEInference.bottomUp, .topDown] {
            let configuration = HVAEConfiguration(dataDimension: 2, latentSizes: [2, 3], hiddenSizes: [8], inference: inference)
            models.append((try HVAE(configuration: configuration, using: &generator), LatentModelTestSupport.ring(count: 5, using: &generator)))
        }
        var conv = HVAEConfiguration(dataDimension: 64, latentSizes: [2, 3], inference: .topDown, likelihood: .binary)
        conv.architecture = .conv
        conv.convolution = ConvolutionalTestSupport.tinySettings
        models.append((try HVAE(configuration: conv, using: &generator), ConvolutionalTestSupport.bars(count: 3, using: &generator)))
        for (model, x) in models {
            GradientMode.withoutRecording {
                let context = model.context(x)
                let drawn = model.pass(context: context, using: &generator)
                var untouched = RandomGenerator(seed: 99)
                let given = model.pass(context: context, given: drawn.latents, using: &untouched)
                XCTAssertEqual(untouched, RandomGenerator(seed: 99), "the given pass drew random numbers")
                XCTAssertEqual(model.logWeights(of: drawn, x: x), model.logWeights(of: given, x: x))
            }
        }
    }

    /// U_K by hand on three weights: the exact draw replaces each group's first draw.
    func testUpperBound_replacesTheFirstDrawOfEachGroup() {
        let logWeights = [log(1.0), log(3.0), log(2.0), log(6.0)]   // K_max = 4
        let exact = log(5.0)
        XCTAssertEqual(importanceWeightedUpperBound(logWeights: logWeights, exactLogWeight: exact, sampleCount: 1), log(5), accuracy: 1e-12)
        // K = 2: groups (1, 3) and (2, 6) → log((5 + 3)/2) and log((5 + 6)/2), averaged.
        XCTAssertEqual(importanceWeightedUpperBound(logWeights: logWeights, exactLogWeight: exact, sampleCount: 2),
                       (log(4.0) + log(5.5)) / 2, accuracy: 1e-12)
        XCTAssertEqual(importanceWeightedUpperBound(logWeights: logWeights, exactLogWeight: exact, sampleCount: 4),
                       log((5.0 + 3 + 2 + 6) / 4), accuracy: 1e-12)
        // [K, n] layout: two samples interleaved.
        let both = importanceWeightedUpperBounds(logWeights: [0, 10, 0, 10], exactLogWeights: [log(3.0), 10], sampleCounts: [2])
        XCTAssertEqual(both[0][0], log((3.0 + 1) / 2), accuracy: 1e-12)
        XCTAssertEqual(both[0][1], 10, accuracy: 1e-12)
    }
}

/// The linear-Gaussian DDPM of ``DDPMOracle``, made and trained as in DDPMTests.
enum LinearDDPM {
    static func make(steps: Int, seed: UInt64 = 7) throws -> DDPM {
        var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        configuration.timestepCount = steps
        configuration.schedule = .cosine
        configuration.variance = .fixedLarge
        configuration.hiddenSizes = []
        configuration.embeddingDimension = 8
        var generator = RandomGenerator(seed: seed)
        return try DDPM(configuration: configuration, using: &generator)
    }

    /// Adam (learning rate 10⁻²) on batches of 128 points of N(μ, Σ) with a non-diagonal Σ.
    static func train(_ model: DDPM, steps: Int, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 1e-2)
        for step in 1...steps {
            var data = RandomGenerator(seed: seed &+ UInt64(step))
            let values = (0..<128).flatMap { _ -> [Float] in
                let (u, v) = data.nextNormalPair()
                return [Float(0.5 + 0.8 * u), Float(-0.3 + 0.4 * u + 0.5 * v)]
            }
            model.trainingLoss(Tensor(shape: [128, 2], storage: values), step: step, using: &generator).backward()
            optimizer.update()
        }
    }
}
