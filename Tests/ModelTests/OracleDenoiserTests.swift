import Core
import DDPMModel
import DatasetMakers
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

/// The oracle denoiser ε̂*(x_t, t) = E[ε | x_t] of a Gaussian-mixture density
/// (docs/math.md#oracle-denoiser): against a Monte Carlo estimate that shares none of its
/// algebra, against its own identities, and inside a DDPM.
final class OracleDenoiserTests: XCTestCase {
    /// x_t = a x_0 + s ε for one x_0 ~ q(x_0) and one ε.
    func noisedDraw(_ ring: RingOfGaussians, a: Double, s: Double, using generator: inout RandomGenerator) -> [Double] {
        let start = ring.sample(using: &generator)
        let (u, v) = generator.nextNormalPair()
        return [a * start[0] + s * u, a * start[1] + s * v]
    }

    /// ε̂* agrees with the self-normalised importance-sampling estimate of E[ε | x_t] on gmm2d,
    /// at timesteps from almost clean (t = 10) to pure noise (t = 1000), linear and cosine.
    ///
    /// For M draws x_0^(j) ~ q(x_0), the posterior q(x_0 | x_t) ∝ q(x_0) N(x_t; a x_0, s² I), so
    /// with w_j = N(x_t; a x_0^(j), s² I) and ε^(j) = (x_t − a x_0^(j))/s,
    /// Ê = Σ w_j ε^(j) / Σ w_j → E[ε | x_t], with delta-method standard error
    /// √(Σ w_j² (ε^(j) − Ê)²) / Σ w_j. The estimate uses only sampling and the forward process,
    /// none of the mixture algebra of ``NoisedMixture``.
    func testNoisePrediction_agreesWithSelfNormalisedMonteCarlo() throws {
        let ring = RingOfGaussians()
        let mixture = try ring.mixture
        var generator = RandomGenerator(seed: 20_240_518)
        let drawCount = 200_000
        let starts = (0..<drawCount).map { _ in ring.sample(using: &generator) }

        let linear = GaussianDiffusion(schedule: .linear, timestepCount: 1000)
        let cosine = GaussianDiffusion(schedule: .cosine, timestepCount: 1000)
        let cases: [(name: String, alphaBar: Double)] =
            [10, 100, 300, 1000].map { ("linear t = \($0)", linear.alphasCumprod[$0 - 1]) } + [("cosine t = 500", cosine.alphasCumprod[499])]
        var comparisons = 0
        for (name, alphaBar) in cases {
            let a = alphaBar.squareRoot(), s = (1 - alphaBar).squareRoot()
            let noised = mixture.noised(alphaBar: alphaBar)
            var points = (0..<2).map { _ in noisedDraw(ring, a: a, s: s, using: &generator) }
            // Between two components, where the responsibilities split, once the noise makes
            // that point probable enough for the Monte Carlo estimate to see it.
            if s > 0.5 {
                let means = ring.means
                points.append([a * (means[0][0] + means[1][0]) / 2, a * (means[0][1] + means[1][1]) / 2])
            }
            for point in points {
                let logWeights = starts.map { start -> Double in
                    let dx = point[0] - a * start[0], dy = point[1] - a * start[1]
                    return -(dx * dx + dy * dy) / (2 * s * s)
                }
                let largest = logWeights.max()!
                let weights = logWeights.map { exp($0 - largest) }
                let total = weights.reduce(0, +)
                let effectiveSampleSize = total * total / weights.reduce(0) { $0 + $1 * $1 }
                // The power guard: with fewer effective draws the standard error is itself unreliable.
                XCTAssertGreaterThanOrEqual(effectiveSampleSize, 100, "\(name) at \(point)")
                let oracle = noised.noisePrediction(point)
                for d in 0..<2 {
                    var estimate = 0.0
                    for j in 0..<drawCount { estimate += weights[j] * (point[d] - a * starts[j][d]) / s }
                    estimate /= total
                    var spread = 0.0
                    for j in 0..<drawCount {
                        let deviation = (point[d] - a * starts[j][d]) / s - estimate
                        spread += weights[j] * weights[j] * deviation * deviation
                    }
                    let standardError = spread.squareRoot() / total
                    // 3.5 s.e. per coordinate: this test makes 26 comparisons, and at 3 s.e. one of
                    // them would fail by chance with probability about 1 − (1 − 0.0027)²⁶ ≈ 7 %;
                    // at 3.5 s.e. (0.00047 each) about 1 %. A wrong formula is off by many s.e.: dropping √ᾱ from the
                    // component means, or using σ² for C_k = ᾱσ² + 1 − ᾱ, fails here (checked by hand).
                    XCTAssertLessThanOrEqual(abs(oracle[d] - estimate), 3.5 * standardError,
                                             "\(name) at \(point), coordinate \(d): oracle \(oracle[d]), Monte Carlo \(estimate) ± \(standardError), ESS \(effectiveSampleSize)")
                    comparisons += 1
                }
            }
        }
        XCTAssertEqual(comparisons, 26)
    }

    /// The closed forms agree with each other to rounding: Tweedie's a E[x_0 | x_t] + s ε̂* = x_t
    /// (E[x_0 | x_t] is formed from the components' posteriors, not from ε̂*), ε̂* = −s ∇ log q(x_t)
    /// with the score checked against central differences of log q(x_t), responsibilities that
    /// sum to 1, and at ᾱ = 1 the density of the maker itself. Isotropic (gmm2d) and full
    /// (gaussian, D = 3) covariances, and gmm2d written with full covariances, which must give the
    /// isotropic path's numbers.
    func testClosedForms_satisfyTheirIdentities() throws {
        let ring = RingOfGaussians()
        let isotropic = try ring.mixture
        let asFull = try GaussianMixture(weights: isotropic.weights, means: isotropic.means,
                                         covariances: isotropic.means.map { _ in .full([[0.01, 0], [0, 0.01]]) })
        let correlated = CorrelatedGaussian(dimension: 3)
        let full = try correlated.mixture
        var generator = RandomGenerator(seed: 11)
        let points2 = [[2.0, 0.05], [1.3, 1.5], [-0.4, 0.3], [0, 0], [7, -9]]
        let points3 = [[0.5, -0.5, 0.5], [2, 1, -1], [-3, 0.2, 4]]
        let cases: [(mixture: GaussianMixture, points: [[Double]], maker: any ToyDistribution)] =
            [(isotropic, points2, ring), (asFull, points2, ring), (full, points3, correlated)]
        for (mixture, points, maker) in cases {
            for point in points.prefix(3) {
                XCTAssertEqual(mixture.logDensity(point), maker.logDensity(point)!, accuracy: 1e-10)
            }
            for alphaBar in [0.9995, 0.6, 0.1, 0.003] {
                let noised = mixture.noised(alphaBar: alphaBar)
                let a = alphaBar.squareRoot(), s = (1 - alphaBar).squareRoot()
                for point in points {
                    let epsilon = noised.noisePrediction(point)
                    let start = noised.startMean(point)
                    let score = noised.score(point)
                    for d in point.indices {
                        XCTAssertEqual(a * start[d] + s * epsilon[d], point[d], accuracy: 1e-10 * (1 + abs(point[d])), "Tweedie")
                        XCTAssertEqual(epsilon[d], -s * score[d], accuracy: 1e-12 * (1 + abs(epsilon[d])))
                        // Central difference, step h: error O(h²) ∂³ log q, far below 1e-5 here.
                        let h = 1e-5
                        var plus = point, minus = point
                        plus[d] += h
                        minus[d] -= h
                        let difference = (noised.logDensity(plus) - noised.logDensity(minus)) / (2 * h)
                        XCTAssertEqual(score[d], difference, accuracy: 1e-5 * (1 + abs(score[d])), "score vs finite difference, ᾱ = \(alphaBar), \(point)")
                    }
                    XCTAssertEqual(noised.responsibilities(point).reduce(0, +), 1, accuracy: 1e-12)
                    XCTAssertGreaterThan(noised.startCovarianceTrace(point), 0)
                    XCTAssertEqual(noised.noiseCovarianceTrace(point), alphaBar / (1 - alphaBar) * noised.startCovarianceTrace(point), accuracy: 1e-12)
                }
            }
        }
        // The two covariance paths of gmm2d give the same numbers.
        for alphaBar in [0.99, 0.4] {
            let one = isotropic.noised(alphaBar: alphaBar), other = asFull.noised(alphaBar: alphaBar)
            for _ in 0..<5 {
                let point = [3 * generator.nextNormal(), 3 * generator.nextNormal()]
                for (x, y) in zip(one.noisePrediction(point), other.noisePrediction(point)) { XCTAssertEqual(x, y, accuracy: 1e-12) }
                XCTAssertEqual(one.startCovarianceTrace(point), other.startCovarianceTrace(point), accuracy: 1e-12)
                XCTAssertEqual(one.logDensity(point), other.logDensity(point), accuracy: 1e-10)
            }
        }
        // One Gaussian N(μ, Σ): x_0 | x_t is Gaussian with covariance Σ − a² Σ C⁻¹ Σ, the same for
        // every x_t; for D = 1 it is σ² s² / (a² σ² + s²).
        let line = try GaussianMixture(mean: [0.3], covariance: [[2.0]])
        let noisedLine = line.noised(alphaBar: 0.25)
        XCTAssertEqual(noisedLine.startCovarianceTrace([5]), 2 * 0.75 / (0.25 * 2 + 0.75), accuracy: 1e-14)
        XCTAssertEqual(noisedLine.noisePrediction([1])[0], 0.75.squareRoot() * (1 - 0.5 * 0.3) / (0.25 * 2 + 0.75), accuracy: 1e-14)
    }

    /// Parameters that are not a density are refused with one line saying why.
    func testMixture_refusesParametersThatAreNoDensity() {
        func message(_ body: () throws -> GaussianMixture) -> String {
            do { _ = try body(); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(message { try GaussianMixture(means: [[0, 0], [1, 1]], standardDeviations: [1, 1], weights: [0.5, 0.6]) }.contains("sum to"))
        XCTAssertTrue(message { try GaussianMixture(means: [[0, 0]], standardDeviations: [0], weights: [1]) }.contains("standard deviation 0.0"))
        XCTAssertTrue(message { try GaussianMixture(weights: [1], means: [[0]], covariances: [.isotropic(variance: -1)]) }.contains("variance -1.0"))
        XCTAssertTrue(message { try GaussianMixture(means: [[0, 0], [1]], standardDeviations: [1, 1], weights: [0.5, 0.5]) }.contains("coordinates"))
        XCTAssertTrue(message { try GaussianMixture(mean: [0, 0], covariance: [[1, 0.5], [0.4, 1]]) }.contains("symmetric"))
        XCTAssertTrue(message { try GaussianMixture(mean: [0, 0], covariance: [[1, 2], [2, 1]]) }.contains("positive definite"))
        let large = GaussianMixture.maximumFullCovarianceDimension + 1
        XCTAssertTrue(message {
            try GaussianMixture(mean: [Double](repeating: 0, count: large),
                                covariance: (0..<large).map { i in (0..<large).map { i == $0 ? 1.0 : 0 } })
        }.contains("too large"))
        XCTAssertThrowsError(try CorrelatedGaussian(dimension: large).mixture)
    }

    /// A DDPM for gmm2d whose denoiser is the oracle.
    func oracleModel(timesteps: Int = 1000, variance: ReverseVariance = .learnedRange) throws -> DDPM {
        var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        configuration.timestepCount = timesteps
        configuration.variance = variance
        configuration.loss = .hybrid
        return try DDPM.withOracleDenoiser(configuration: configuration, mixture: try RingOfGaussians().mixture)
    }

    /// Inside a DDPM the oracle has no parameters, forces the fixed-small variance, and through
    /// ``DDPM/network(_:timesteps:)`` is the conditional mean: its error ε − ε̂* is orthogonal to
    /// functions of x_t, its simple loss is E[tr Cov(ε | x_t)]/D, and it beats the best affine
    /// predictor (the oracle of the Gaussian with the mixture's mean and covariance).
    func testOracleInADDPM_isTheConditionalMeanOfTheNoise() throws {
        let model = try oracleModel()
        XCTAssertEqual(model.parameterCount, 0)
        XCTAssertEqual(model.configuration.variance, .fixedSmall, "the oracle has no variance output")
        XCTAssertThrowsError(try DDPM.withOracleDenoiser(configuration: DDPMConfiguration(dataDimension: 2, likelihood: .discrete(levels: 256)),
                                                         mixture: try RingOfGaussians().mixture))
        XCTAssertThrowsError(try DDPM.withOracleDenoiser(configuration: DDPMConfiguration(dataDimension: 3, likelihood: .continuous),
                                                         mixture: try RingOfGaussians().mixture))

        let ring = RingOfGaussians()
        // q(x_0) has mean 0 and covariance (r²/2 + σ²) I (eight means evenly on the circle).
        let moments = try GaussianMixture(mean: [0, 0], covariance: [[2.01, 0], [0, 2.01]])
        var generator = RandomGenerator(seed: 3)
        let count = 20_000
        for t in [50, 300, 700] {
            let alphaBar = model.diffusion.alphasCumprod[t - 1]
            let a = alphaBar.squareRoot(), s = (1 - alphaBar).squareRoot()
            var xt: [Float] = [], noise: [Double] = []
            for _ in 0..<count {
                let start = ring.sample(using: &generator)
                let (u, v) = generator.nextNormalPair()
                noise += [u, v]
                xt += [Float(a * start[0] + s * u), Float(a * start[1] + s * v)]
            }
            let output = GradientMode.withoutRecording {
                model.network(Tensor(shape: [count, 2], storage: xt), timesteps: [Int](repeating: t, count: count)).storage
            }
            let affine = moments.noised(alphaBar: alphaBar)
            let exact = try ring.mixture.noised(alphaBar: alphaBar)
            var orthogonality: [[Double]] = [[], [], []]
            var lossMinusTrace: [Double] = [], oracleLoss: [Double] = [], affineLoss: [Double] = []
            for i in 0..<count {
                let point = [Double(xt[2 * i]), Double(xt[2 * i + 1])]
                let error = [noise[2 * i] - Double(output[2 * i]), noise[2 * i + 1] - Double(output[2 * i + 1])]
                orthogonality[0].append(error[0] * point[0] + error[1] * point[1])
                orthogonality[1].append(error[0] * Double(output[2 * i]) + error[1] * Double(output[2 * i + 1]))
                orthogonality[2].append(error[0] * sin(3 * point[1]))
                let loss = (error[0] * error[0] + error[1] * error[1]) / 2
                oracleLoss.append(loss)
                lossMinusTrace.append(loss - exact.noiseCovarianceTrace(point) / 2)
                let linear = affine.noisePrediction(point)
                affineLoss.append((pow(noise[2 * i] - linear[0], 2) + pow(noise[2 * i + 1] - linear[1], 2)) / 2)
            }
            for (j, products) in orthogonality.enumerated() {
                let mean = MeanEstimate(products)
                XCTAssertLessThanOrEqual(abs(mean.mean), 3.5 * mean.standardError, "t = \(t): E[(ε − ε̂*)·g_\(j)(x_t)] = \(mean.mean) ± \(mean.standardError)")
            }
            let trace = MeanEstimate(lossMinusTrace)
            XCTAssertLessThanOrEqual(abs(trace.mean), 3.5 * trace.standardError, "t = \(t): simple loss − E tr Cov(ε | x_t)/D = \(trace.mean) ± \(trace.standardError)")
            // By t = 700 (ᾱ ≈ 0.007) the ring is buried in noise and the two predictors nearly agree.
            guard t <= 300 else { continue }
            let advantage = MeanEstimate(pairedDifferenceOf: affineLoss, minus: oracleLoss)
            XCTAssertGreaterThan(advantage.mean, 3.5 * advantage.standardError,
                                 "t = \(t): the affine predictor's simple loss exceeds the oracle's by \(advantage.mean) ± \(advantage.standardError)")
        }
    }

    /// The DDPM with the oracle, evaluated through the same ELBO, importance weights and sampler
    /// as any DDPM: every estimate finite, E[ELBO] ≤ −H = E log q(x_0) (Gibbs: the ELBO is at
    /// most log p_θ and E_q log p_θ ≤ E_q log q), IWAE_K between them, and samples on the ring.
    func testOracleDDPM_boundsStayBelowTheDataLogDensity() throws {
        let model = try oracleModel(timesteps: 200)
        let ring = RingOfGaussians()
        var generator = RandomGenerator(seed: 5)
        let count = 200
        let rows = (0..<count).map { _ in ring.sample(using: &generator).map(Float.init) }
        let logDensity = rows.map { ring.logDensity($0.map(Double.init))! }
        let data = Tensor(shape: [count, 2], storage: rows.flatMap { $0 })
        let evaluation = try GradientMode.withoutRecording {
            try evaluate(model, data: data, sampleCounts: [1, 8], logDensity: logDensity, batchSize: 100, elboDraws: 2, using: &generator)
        }
        let joint = try XCTUnwrap(evaluation.jointKLEstimate)
        let marginal = try XCTUnwrap(evaluation.marginalKLEstimate)
        XCTAssertTrue(joint.mean.isFinite && marginal.mean.isFinite)
        XCTAssertGreaterThanOrEqual(joint.mean, -3 * joint.standardError, "E log q − ELBO = \(joint.mean) ± \(joint.standardError)")
        XCTAssertGreaterThanOrEqual(marginal.mean, -3 * marginal.standardError, "E log q − IWAE_8 = \(marginal.mean) ± \(marginal.standardError)")
        XCTAssertGreaterThanOrEqual(evaluation.gapEstimate.mean, -3 * evaluation.gapEstimate.standardError)

        let samples = model.sample(count: 300, using: &generator).storage
        let means = ring.means
        var onTheRing = 0
        for i in 0..<300 {
            let x = Double(samples[2 * i]), y = Double(samples[2 * i + 1])
            if means.contains(where: { pow(x - $0[0], 2) + pow(y - $0[1], 2) < 0.16 }) { onTheRing += 1 }
        }
        // Within 4σ of a mean: all but a handful of q's own draws (P(|N₂| > 4σ) = e^{−8} ≈ 3·10⁻⁴).
        XCTAssertGreaterThanOrEqual(onTheRing, 285, "\(onTheRing) of 300 oracle samples within 0.4 of a component mean")
    }
}
