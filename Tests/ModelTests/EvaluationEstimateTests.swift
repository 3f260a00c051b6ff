import Core
import DDPMModel
import Evaluation
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

/// The estimates the report prints, checked where their true values are known or their
/// inequalities must hold.
final class EvaluationEstimateTests: XCTestCase {
    /// log q(x) of the ring (8 Gaussians, radius 2, σ = 0.1, equal weights): the gmm2d density.
    func ringLogDensity(_ x: Double, _ y: Double) -> Double {
        let terms = (0..<8).map { k -> Double in
            let angle = 2 * Double.pi * Double(k) / 8
            let dx = x - 2 * cos(angle), dy = y - 2 * sin(angle)
            return log(1.0 / 8) - log(2 * Double.pi * 0.01) - (dx * dx + dy * dy) / (2 * 0.01)
        }
        return logMeanExp(terms) + log(8.0)   // log Σ_k exp(termₖ) = log-mean-exp + log 8
    }

    func testTrainedVAE_reportInequalitiesHoldWithinThreeStandardErrors() throws {
        var generator = RandomGenerator(seed: 12)
        let model = try VAE(configuration: VAEConfiguration(hiddenSizes: [32, 32], klWarmupSteps: 300), using: &generator)
        LatentModelTestSupport.train(model, steps: 1500, batchSize: 64, learningRate: 3e-3, using: &generator)
        let test = LatentModelTestSupport.ring(count: 300, using: &generator)
        let logDensity = (0..<300).map { ringLogDensity(Double(test.storage[2 * $0]), Double(test.storage[2 * $0 + 1])) }
        let e = try GradientMode.withoutRecording {
            try evaluate(model, data: test, sampleCounts: [1, 10, 100], logDensity: logDensity, using: &generator)
        }
        XCTAssertTrue(e.gapEstimate.isNonNegative(withinStandardErrors: 3), "gap \(e.gapEstimate)")
        let jointMinusMarginal = MeanEstimate(pairedDifferenceOf: e.logLikelihood, minus: e.elbo)
        XCTAssertEqual(e.jointKLEstimate!.mean - e.marginalKLEstimate!.mean, jointMinusMarginal.mean, accuracy: 1e-9,
                       "KL_joint − KL_marginal is the gap")
        XCTAssertTrue(jointMinusMarginal.isNonNegative(withinStandardErrors: 3))
        XCTAssertTrue(e.marginalKLEstimate!.isNonNegative(withinStandardErrors: 3), "KL_marginal \(e.marginalKLEstimate!)")
        for j in 1..<e.sampleCounts.count {
            let step = MeanEstimate(pairedDifferenceOf: e.iwae[j], minus: e.iwae[j - 1])
            XCTAssertTrue(step.isNonNegative(withinStandardErrors: 3), "IWAE_\(e.sampleCounts[j]) − IWAE_\(e.sampleCounts[j - 1]) = \(step)")
        }
        // The entropy of the ring is known: H = log 8 + log(2π e σ²) (modes do not overlap).
        XCTAssertEqual(e.entropyEstimate!.mean, log(8) + log(2 * Double.pi * exp(1) * 0.01), accuracy: 4 * e.entropyEstimate!.standardError)
    }

    /// Closed-form Gaussian case: data N(μ, Σ), a one-step linear DDPM whose marginal p(x0) is the
    /// Gaussian N(m, S) of the oracle. KL_marginal = mean(log q − IWAE_K) must match the exact
    /// KL(N(μ, Σ) ‖ N(m, S)) within its standard error.
    func testMarginalKL_onGaussianData_matchesExactKLWithinStandardError() throws {
        var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        configuration.timestepCount = 1
        configuration.schedule = .linear        // T = 1: β₁ = 0.1, so x₁ keeps most of x₀
        configuration.variance = .fixedLarge
        configuration.hiddenSizes = []
        configuration.embeddingDimension = 8
        var generator = RandomGenerator(seed: 5)
        let model = try DDPM(configuration: configuration, using: &generator)
        // The data: N(μ, Σ) with a non-diagonal Σ.
        let mu = [0.3, -0.2], sigma = [[1.0, 0.4], [0.4, 0.5]]
        let l11 = sigma[0][0].squareRoot(), l21 = sigma[1][0] / l11, l22 = (sigma[1][1] - l21 * l21).squareRoot()
        let n = 600
        var points: [[Double]] = []
        for _ in 0..<n {
            let (u, v) = generator.nextNormalPair()
            points.append([mu[0] + l11 * u, mu[1] + l21 * u + l22 * v])
        }
        let data = Tensor(shape: [n, 2], storage: points.flatMap { $0.map(Float.init) })
        // A short fit (the linear ε-network cannot match N(μ, Σ) exactly, so a KL remains).
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 1e-2)
        for step in 1...300 {
            let rows = (0..<128).map { _ in generator.nextInt(below: n) }
            model.trainingLoss(data.gather(rows: rows), step: step, using: &generator).backward()
            optimizer.update()
        }
        let oracle = DDPMOracle(model: model)   // after training: it copies the weights
        let logQ = points.map { gaussianLogDensity($0, mean: mu, covariance: sigma) }
        let e = try evaluate(model, data: data, sampleCounts: [1, 100, 2000], logDensity: logQ, using: &generator)

        // The model's marginal N(m, S), then KL(N(μ, Σ) ‖ N(m, S)) in closed form.
        var m = [0.0, 0.0]
        var s = [[1.0, 0.0], [0.0, 1.0]]
        let (c, d) = oracle.reverseMap(1)
        m = zip(oracle.multiply(c, m), d).map { $0 + $1 }
        let cs = c.map { row in (0..<2).map { j in (0..<2).reduce(0) { $0 + row[$1] * s[$1][j] } } }
        s = cs.map { row in (0..<2).map { j in (0..<2).reduce(0) { $0 + row[$1] * c[j][$1] } } }
        for i in 0..<2 { s[i][i] += oracle.reverseVariance(1) }
        let determinantS = s[0][0] * s[1][1] - s[0][1] * s[1][0]
        let inverseS = [[s[1][1] / determinantS, -s[0][1] / determinantS], [-s[1][0] / determinantS, s[0][0] / determinantS]]
        let determinantSigma = sigma[0][0] * sigma[1][1] - sigma[0][1] * sigma[1][0]
        var trace = 0.0
        for i in 0..<2 { for j in 0..<2 { trace += inverseS[i][j] * sigma[j][i] } }
        let delta = [m[0] - mu[0], m[1] - mu[1]]
        var quadratic = 0.0
        for i in 0..<2 { for j in 0..<2 { quadratic += delta[i] * inverseS[i][j] * delta[j] } }
        let exactKL = 0.5 * (trace + quadratic - 2 + log(determinantS / determinantSigma))

        let marginal = e.marginalKLEstimate!
        XCTAssertGreaterThan(exactKL, 0.01, "the test needs a model that differs from the data")
        XCTAssertEqual(marginal.mean, exactKL, accuracy: 3 * marginal.standardError, "KL_marginal \(marginal) vs exact \(exactKL)")
        // Paired with the exact log p(x0) on the same points, IWAE_2000 leaves almost no bias.
        let bias = MeanEstimate(pairedDifferenceOf: points.map { oracle.exactLogLikelihood(x0: $0) }, minus: e.logLikelihood)
        XCTAssertEqual(bias.mean, 0, accuracy: Swift.max(0.02, 3 * bias.standardError), "log p − IWAE_2000 = \(bias)")
        XCTAssertTrue(e.jointKLEstimate!.mean >= marginal.mean - 3 * e.gapEstimate.standardError)
    }
}
