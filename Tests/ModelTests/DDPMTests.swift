import Core
import DDPMModel
import Evaluation
import NN
import Pipeline
import Tensor
import XCTest

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

final class DDPMTests: XCTestCase {
    /// A DDPM with a linear ε-network on 2-D continuous data: the closed-form case.
    func makeLinearModel(steps: Int, schedule: NoiseSchedule = .cosine, variance: ReverseVariance = .fixedSmall, seed: UInt64 = 7) throws -> DDPM {
        var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        configuration.timestepCount = steps
        configuration.schedule = schedule
        configuration.variance = variance
        configuration.hiddenSizes = []
        configuration.embeddingDimension = 8
        var generator = RandomGenerator(seed: seed)
        return try DDPM(configuration: configuration, using: &generator)
    }

    /// Test points from N(μ, Σ) with a non-diagonal Σ.
    func gaussianData(_ count: Int, seed: UInt64) -> [[Double]] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in
            let (u, v) = generator.nextNormalPair()
            return [0.5 + 0.8 * u, -0.3 + 0.4 * u + 0.5 * v]
        }
    }

    func tensor(_ rows: [[Double]]) -> Tensor {
        Tensor(shape: [rows.count, rows[0].count], storage: rows.flatMap { $0.map(Float.init) })
    }

    func testScheduleConstants_matchFormulaSheet() {
        let linear = GaussianDiffusion(schedule: .linear, timestepCount: 1000)
        XCTAssertEqual(linear.betas[0], 1e-4, accuracy: 1e-15)
        XCTAssertEqual(linear.betas[999], 0.02, accuracy: 1e-15)
        XCTAssertEqual(linear.alphasCumprodPrevious[0], 1)
        XCTAssertEqual(linear.posteriorVariance[0], 0, "β̃_1 = 0")
        XCTAssertEqual(linear.posteriorLogVarianceClipped[0], log(linear.posteriorVariance[1]), accuracy: 1e-12)
        let cosine = GaussianDiffusion(schedule: .cosine, timestepCount: 50)
        XCTAssertTrue(cosine.betas.allSatisfy { $0 > 0 && $0 <= 0.999 })
        // ᾱ_t = f(t)/f(0) for the cosine schedule, until β is clipped.
        let s = 0.008
        func f(_ t: Double) -> Double { pow(cos((t / 50 + s) / (1 + s) * Double.pi / 2), 2) }
        XCTAssertEqual(cosine.alphasCumprod[9], f(10) / f(0), accuracy: 1e-12)
        // μ_θ through x̂₀ equals the paper's (x_t − β_t/√(1−ᾱ_t) ε)/√α_t at every t.
        for t in [1, 2, 17, 500, 1000] {
            let xt = 0.37, epsilon = -1.3
            let viaStart = linear.posteriorMean(t, x0: linear.predictedStart(t, xt: xt, epsilon: epsilon), xt: xt)
            let paper = (xt - linear.betas[t - 1] / (1 - linear.alphasCumprod[t - 1]).squareRoot() * epsilon) / linear.alphas[t - 1].squareRoot()
            XCTAssertEqual(viaStart, paper, accuracy: 1e-9, "t = \(t)")
        }
        // The posterior mean is the exact conditional mean: with x_t = √α_t x_{t−1}, and x_{t−1} = √ᾱ_{t−1} x₀ (no noise)
        // μ̃ returns x_{t−1}.
        for t in [2, 10, 999] {
            let x0 = 0.8
            let previous = linear.alphasCumprodPrevious[t - 1].squareRoot() * x0
            let xt = linear.alphas[t - 1].squareRoot() * previous
            XCTAssertEqual(linear.posteriorMean(t, x0: x0, xt: xt), previous, accuracy: 1e-9)
        }
    }

    func testExactELBO_withZeroNoise_matchesClosedFormTo1e4() throws {
        for (steps, schedule, variance) in [(6, NoiseSchedule.cosine, ReverseVariance.fixedSmall), (40, .linear, .fixedLarge), (1, .cosine, .fixedLarge)] {
            let model = try makeLinearModel(steps: steps, schedule: schedule, variance: variance)
            let oracle = DDPMOracle(model: model)
            let data = gaussianData(5, seed: 3)
            let terms = model.elbo(tensor(data)) { noise in for i in noise.indices { noise[i] = 0 } }
            for (i, x0) in data.enumerated() {
                let expected = oracle.expectedTerms(x0: x0, noiseScale: 0)
                XCTAssertEqual(terms.reconstruction[i], expected.reconstruction, accuracy: 1e-4, "L_0, T = \(steps)")
                for layer in 0..<steps {
                    XCTAssertEqual(terms.layerKL[layer][i], expected.layers[layer], accuracy: 1e-4, "L_\(layer + 1), T = \(steps)")
                }
                XCTAssertEqual(terms.elbo[i], expected.reconstruction - expected.layers.reduce(0, +), accuracy: 1e-4)
            }
        }
    }

    func testExactELBO_expectation_matchesClosedFormWithin3StandardErrors() throws {
        let model = try makeLinearModel(steps: 8)
        let oracle = DDPMOracle(model: model)
        let x0 = [0.7, -0.4]
        let replicas = [[Double]](repeating: x0, count: 4000)
        var generator = RandomGenerator(seed: 11)
        let estimate = MeanEstimate(model.elbo(tensor(replicas), using: &generator).elbo)
        let exact = oracle.expectedELBO(x0: x0)
        XCTAssertEqual(estimate.mean, exact, accuracy: 3 * estimate.standardError, "ELBO \(estimate.mean) ± \(estimate.standardError) vs \(exact)")
        XCTAssertGreaterThan(estimate.standardError, 0)
    }

    func testGenericHVAEView_withOneSample_matchesClosedFormELBOWithin3StandardErrors() throws {
        let model = try makeLinearModel(steps: 8)
        let oracle = DDPMOracle(model: model)
        let data = gaussianData(3000, seed: 5)
        var generator = RandomGenerator(seed: 13)
        let weights = model.logImportanceWeights(tensor(data), samples: 1, using: &generator)
        let expected = data.map { oracle.expectedELBO(x0: $0) }
        // Paired per example against the exact expected ELBO.
        let difference = MeanEstimate(pairedDifferenceOf: weights.values, minus: expected)
        XCTAssertEqual(difference.mean, 0, accuracy: 3 * difference.standardError, "\(difference)")
        // And against the model's own closed-form ELBO estimate.
        let terms = model.elbo(tensor(data), using: &generator)
        let viaELBO = MeanEstimate(pairedDifferenceOf: weights.values, minus: terms.elbo)
        XCTAssertEqual(viaELBO.mean, 0, accuracy: 3 * viaELBO.standardError)
    }

    /// Fits the linear model to the Gaussian data with the simple loss, so that its posterior
    /// is close to q and importance sampling converges at moderate K.
    func train(_ model: DDPM, steps: Int, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 1e-2)
        for step in 1...steps {
            let batch = tensor(gaussianData(128, seed: seed &+ UInt64(step)))
            model.trainingLoss(batch, step: step, using: &generator).backward()
            optimizer.update()
        }
    }

    /// IWAE_K is below log p(x₀) for every K, increases with K and closes on it. With T = 1 (a
    /// 2-D latent) K = 2000 reaches log p(x₀) to 0.02 nats; with T = 3 and 10 the fixed-t linear
    /// network is a poor posterior match, so the bound closes slowly but must still shrink tenfold.
    func testIWAE_increasesWithKAndApproachesExactLogLikelihood() throws {
        for steps in [1, 3, 10] {
            let model = try makeLinearModel(steps: steps, schedule: .cosine, variance: .fixedLarge)
            train(model, steps: 1500, seed: 100)
            let oracle = DDPMOracle(model: model)
            let data = gaussianData(40, seed: 9)
            var generator = RandomGenerator(seed: 17)
            let evaluation = try evaluate(model, data: tensor(data), sampleCounts: [1, 10, 100, 2000], logDensity: nil, using: &generator)
            let exact = MeanEstimate(data.map { oracle.exactLogLikelihood(x0: $0) }).mean
            var previous = -Double.infinity
            for j in evaluation.sampleCounts.indices {
                let e = evaluation.iwaeEstimate(j)
                // Paired with the exact values, so the spread across examples cancels.
                let below = MeanEstimate(pairedDifferenceOf: data.map { oracle.exactLogLikelihood(x0: $0) }, minus: evaluation.iwae[j])
                XCTAssertTrue(below.isNonNegative(withinStandardErrors: 3), "T = \(steps): IWAE_\(evaluation.sampleCounts[j]) above log p by \(below)")
                XCTAssertGreaterThan(e.mean, previous, "T = \(steps): IWAE not increasing in K")
                previous = e.mean
            }
            let gapAt1 = exact - evaluation.iwaeEstimate(0).mean
            let gapAtMax = exact - evaluation.iwaeEstimate(3).mean
            if steps == 1 {
                XCTAssertLessThan(abs(gapAtMax), 0.02, "IWAE_2000 \(evaluation.iwaeEstimate(3).mean) vs exact \(exact)")
            } else {
                XCTAssertLessThan(gapAtMax, gapAt1 / 10, "T = \(steps): gap \(gapAt1) at K = 1, \(gapAtMax) at K = 2000")
            }
        }
    }

    func testVariationalBoundLoss_expectationEqualsNegativeELBOMinusPriorTerm() throws {
        var model = try makeLinearModel(steps: 8)
        var configuration = model.configuration
        configuration.loss = .vlb
        model = try DDPM(configuration: configuration, denoiser: model.denoiser)
        let oracle = DDPMOracle(model: model)
        let x0 = [0.2, 0.9]
        var generator = RandomGenerator(seed: 21)
        var losses: [Double] = []
        for _ in 0..<400 {
            let batch = tensor([[Double]](repeating: x0, count: 64))
            losses.append(Double(GradientMode.withoutRecording { model.trainingLoss(batch, step: 1, using: &generator) }.scalar))
        }
        let estimate = MeanEstimate(losses)
        let terms = oracle.expectedTerms(x0: x0)
        let expected = -terms.reconstruction + terms.layers.dropLast().reduce(0, +)
        XCTAssertEqual(estimate.mean, expected, accuracy: 3 * estimate.standardError + 1e-3, "vlb loss \(estimate) vs \(expected)")
    }

    func testHybridLoss_withLearnedRange_hasFiniteGradientsForEveryParameter() throws {
        var configuration = DDPMConfiguration(dataDimension: 3, likelihood: .discrete(levels: 17))
        configuration.timestepCount = 20
        configuration.variance = .learnedRange
        configuration.loss = .hybrid
        configuration.hiddenSizes = [16]
        var generator = RandomGenerator(seed: 1)
        let model = try DDPM(configuration: configuration, using: &generator)
        let x = Tensor(shape: [32, 3], storage: (0..<96).map { _ in Float(-1 + 2 * Double(generator.nextInt(below: 17)) / 16) })
        let loss = model.trainingLoss(x, step: 1, using: &generator)
        XCTAssertTrue(loss.scalar.isFinite)
        loss.backward()
        for (key, p) in model.namedParameters {
            XCTAssertNotNil(p.gradient, key)
            XCTAssertTrue(p.gradient!.allSatisfy(\.isFinite), key)
        }
    }

    func testEncoderParameterCount_isZeroAndKeysArePinned() throws {
        var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        configuration.hiddenSizes = [8, 8]
        var generator = RandomGenerator(seed: 0)
        let model = try DDPM(configuration: configuration, using: &generator)
        XCTAssertEqual(model.encoderParameterCount, 0)
        XCTAssertEqual(model.decoderParameterCount, model.parameterCount)
        XCTAssertGreaterThan(model.parameterCount, 0)
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/ddpm-keys.txt")
        let keys = model.namedParameters.map { "\($0.key) \($0.tensor.shape)" }.joined(separator: "\n") + "\n"
        XCTAssertEqual(keys, try String(contentsOf: golden, encoding: .utf8))
    }

    func testValidate_rejectsImpossibleConfigurations() {
        var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        configuration.timestepCount = 0
        XCTAssertThrowsError(try configuration.validate())
        configuration.timestepCount = 10
        configuration.variance = .learnedRange
        XCTAssertThrowsError(try configuration.validate(), "learned-range with the simple loss")
        configuration.loss = .hybrid
        XCTAssertNoThrow(try configuration.validate())
        configuration.embeddingDimension = 3
        XCTAssertThrowsError(try configuration.validate())
    }

    func testSampling_fromLinearModel_matchesItsGaussianMarginal() throws {
        let model = try makeLinearModel(steps: 5)
        let oracle = DDPMOracle(model: model)
        var generator = RandomGenerator(seed: 3)
        let samples = model.sample(count: 20000, using: &generator).storage.map(Double.init)
        // Average log-density of the samples under the exact marginal equals its negative entropy.
        // Cheaper check: the sample mean matches the marginal mean m₀ within 5 s.e.
        var m = [0.0, 0.0]
        var s = [[1.0, 0.0], [0.0, 1.0]]
        for t in stride(from: 5, through: 1, by: -1) {
            let (c, d) = oracle.reverseMap(t)
            m = zip(oracle.multiply(c, m), d).map { $0 + $1 }
            let cs = c.map { row in (0..<2).map { j in (0..<2).reduce(0) { $0 + row[$1] * s[$1][j] } } }
            var next = cs.map { row in (0..<2).map { j in (0..<2).reduce(0) { $0 + row[$1] * c[j][$1] } } }
            for i in 0..<2 { next[i][i] += oracle.reverseVariance(t) }
            s = next
        }
        for axis in 0..<2 {
            let values = stride(from: axis, to: samples.count, by: 2).map { samples[$0] }
            let estimate = MeanEstimate(values)
            XCTAssertEqual(estimate.mean, m[axis], accuracy: 5 * estimate.standardError)
            let variance = values.reduce(0) { $0 + ($1 - estimate.mean) * ($1 - estimate.mean) } / Double(values.count - 1)
            XCTAssertEqual(variance, s[axis][axis], accuracy: 5 * s[axis][axis] * (2.0 / Double(values.count)).squareRoot())
        }
    }
}

/// Training on the ring of 8 Gaussians (radius 2, σ = 0.1, as gmm2d): the DDPM must beat the best
/// single Gaussian and put its samples on the modes.
final class DDPMTrainingTests: XCTestCase {
    func ring(_ count: Int, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        var values: [Float] = []
        for _ in 0..<count {
            let angle = 2 * Double.pi * Double(generator.nextInt(below: 8)) / 8
            let (u, v) = generator.nextNormalPair()
            values += [Float(2 * cos(angle) + 0.1 * u), Float(2 * sin(angle) + 0.1 * v)]
        }
        return Tensor(shape: [count, 2], storage: values)
    }

    /// The mean log-likelihood of `test` under the maximum-likelihood Gaussian of `train`.
    func bestSingleGaussian(train: Tensor, test: Tensor) -> Double {
        let n = Double(train.shape[0])
        var mean = [0.0, 0.0]
        for i in 0..<train.shape[0] { for d in 0..<2 { mean[d] += Double(train.storage[2 * i + d]) / n } }
        var covariance = [[0.0, 0.0], [0.0, 0.0]]
        for i in 0..<train.shape[0] {
            for a in 0..<2 { for b in 0..<2 {
                covariance[a][b] += (Double(train.storage[2 * i + a]) - mean[a]) * (Double(train.storage[2 * i + b]) - mean[b]) / n
            } }
        }
        var total = 0.0
        for i in 0..<test.shape[0] {
            total += gaussianLogDensity([Double(test.storage[2 * i]), Double(test.storage[2 * i + 1])], mean: mean, covariance: covariance)
        }
        return total / Double(test.shape[0])
    }

    func testTraining_onRing_beatsBestSingleGaussianAndSamplesLandOnModes() throws {
        var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        configuration.timestepCount = 200
        configuration.hiddenSizes = [128, 128]
        var generator = RandomGenerator(seed: 4)
        let model = try DDPM(configuration: configuration, using: &generator)
        let train = ring(4096, seed: 1), test = ring(500, seed: 2)
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 2e-3)
        for step in 1...4000 {
            let rows = (0..<256).map { _ in generator.nextInt(below: 4096) }
            model.trainingLoss(train.gather(rows: rows), step: step, using: &generator).backward()
            optimizer.update()
        }
        let baseline = bestSingleGaussian(train: train, test: test)   // ≈ −3.5 nats
        let elbo = MeanEstimate(GradientMode.withoutRecording { model.elbo(test, using: &generator) }.elbo)
        // A stated margin: at least 0.75 nats per example above the best single Gaussian, clear of noise.
        XCTAssertGreaterThan(elbo.mean - 3 * elbo.standardError, baseline + 0.75, "DDPM ELBO \(elbo) vs single Gaussian \(baseline)")

        let samples = model.sample(count: 1000, using: &generator).storage
        var near = 0
        for i in 0..<1000 {
            let (x, y) = (Double(samples[2 * i]), Double(samples[2 * i + 1]))
            let distance = (0..<8).map { k -> Double in
                let angle = 2 * Double.pi * Double(k) / 8
                return ((x - 2 * cos(angle)) * (x - 2 * cos(angle)) + (y - 2 * sin(angle)) * (y - 2 * sin(angle))).squareRoot()
            }.min()!
            if distance < 0.3 { near += 1 }   // within 3σ of a mode
        }
        // Under the data distribution 98.9 % of points lie within 3σ (χ² with 2 d.o.f.); ask for 80 %.
        XCTAssertGreaterThan(near, 800, "\(near) of 1000 samples within 3σ of a mode")
    }
}
