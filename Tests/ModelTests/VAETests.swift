import Core
import Foundation
import NN
import Tensor
import VAEModel
import XCTest

/// Helpers shared by the VAE and HVAE tests (a namespace, so nothing clashes with other test files).
enum LatentModelTestSupport {
    /// Mean and standard error √(var/n) of `values`.
    static func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        return (mean, (variance / n).squareRoot())
    }

    /// IWAE_K per example: log (1/K) Σ_k exp(log w_k), in Double with the maximum subtracted.
    static func iwae(_ weights: LogImportanceWeights) -> [Double] {
        (0..<weights.batch).map { i in
            var maximum = -Double.infinity
            for k in 0..<weights.samples { maximum = max(maximum, weights[sample: k, example: i]) }
            var total = 0.0
            for k in 0..<weights.samples { total += exp(weights[sample: k, example: i] - maximum) }
            return maximum + log(total / Double(weights.samples))
        }
    }

    /// `count` points of the gmm2d-like ring: 8 Gaussians of std 0.1 evenly spaced on a circle
    /// of radius 2, equal weights. [count, 2].
    static func ring(count: Int, using generator: inout RandomGenerator) -> Tensor {
        var values = [Float]()
        values.reserveCapacity(2 * count)
        for _ in 0..<count {
            let angle = 2 * Double.pi * Double(generator.nextInt(below: 8)) / 8
            values.append(Float(2 * cos(angle) + 0.1 * generator.nextNormal()))
            values.append(Float(2 * sin(angle) + 0.1 * generator.nextNormal()))
        }
        return Tensor(shape: [count, 2], storage: values)
    }

    /// The per-example log-likelihood on `test` of the maximum-likelihood full-covariance
    /// Gaussian fitted to `train` (both [n, 2]).
    static func bestGaussianLogLikelihood(train: Tensor, test: Tensor) -> [Double] {
        let n = train.shape[0]
        var mean = [0.0, 0.0]
        for r in 0..<n { for j in 0..<2 { mean[j] += Double(train.storage[2 * r + j]) / Double(n) } }
        var c = [[0.0, 0.0], [0.0, 0.0]]
        for r in 0..<n {
            let d = [Double(train.storage[2 * r]) - mean[0], Double(train.storage[2 * r + 1]) - mean[1]]
            for i in 0..<2 { for j in 0..<2 { c[i][j] += d[i] * d[j] / Double(n) } }
        }
        return (0..<test.shape[0]).map { r in
            logDensity2([Double(test.storage[2 * r]), Double(test.storage[2 * r + 1])], mean: mean, covariance: c)
        }
    }

    /// log N(x; μ, Σ) for 2-D x.
    static func logDensity2(_ x: [Double], mean: [Double], covariance s: [[Double]]) -> Double {
        let determinant = s[0][0] * s[1][1] - s[0][1] * s[1][0]
        let d0 = x[0] - mean[0], d1 = x[1] - mean[1]
        let quadratic = (s[1][1] * d0 * d0 - (s[0][1] + s[1][0]) * d0 * d1 + s[0][0] * d1 * d1) / determinant
        return -0.5 * (2 * log(2 * Double.pi) + log(determinant) + quadratic)
    }

    /// The model's parameter keys with their shapes, one `key [shape]` per line.
    static func keyLines(_ module: Module) -> [String] {
        module.namedParameters.map { "\($0.key) \($0.tensor.shape)" }
    }

    /// Compares `lines` with the golden file `Golden/<name>` next to this source file.
    /// With the environment variable `UPDATE_GOLDEN=1` the file is rewritten instead.
    static func assertGolden(_ lines: [String], file name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden").appendingPathComponent(name)
        let text = lines.joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(text, golden, "parameter keys differ from \(url.path) (rerun with UPDATE_GOLDEN=1 to accept)",
                       file: file, line: line)
    }

    /// Trains `model` with Adam on fresh batches of the ring for `steps` steps.
    static func train<M: LatentVariableModel>(_ model: M, steps: Int, batchSize: Int, learningRate: Float,
                                              using generator: inout RandomGenerator) {
        // Small matrices: one BLAS thread avoids spinning worker threads on a shared CPU.
        let threads = LinearAlgebra.threadCount
        LinearAlgebra.setThreadCount(1)
        defer { LinearAlgebra.setThreadCount(threads) }
        let optimizer = Adam(parameters: model.namedParameters, learningRate: learningRate)
        for step in 1...steps {
            let batch = ring(count: batchSize, using: &generator)
            let loss = model.trainingLoss(batch, step: step, using: &generator)
            loss.backward()
            optimizer.update()
        }
    }
}

final class VAETests: XCTestCase {
    typealias Support = LatentModelTestSupport

    // MARK: Closed-form oracle: linear encoder mean, fixed encoder variance, linear decoder.

    /// The linear-Gaussian VAE of the oracle, with every number it is made of (as Floats, so the
    /// Double formulas see exactly the model's values).
    struct LinearGaussianVAE {
        // Decoder: p(x | z) = N(W z + b, diag d).
        let w: [[Float]] = [[1.0, 0.3], [-0.4, 0.8]]
        let b: [Float] = [0.2, -0.1]
        let logD: [Float] = [log(0.3), log(0.5)]
        // Encoder: q(z | x) = N(A x + a, diag s²), deliberately not the true posterior.
        let a: [[Float]] = [[0.55, -0.05], [0.2, 0.45]]
        let aBias: [Float] = [-0.1, 0.15]
        let logS2: [Float] = [log(0.3), log(0.5)]

        func model() throws -> VAE {
            let encoder = Linear(weight: Tensor([a[0], a[1], [0, 0], [0, 0]]), bias: Tensor(shape: [4], storage: aBias + logS2))
            let decoder = Linear(weight: Tensor([w[0], w[1], [0, 0], [0, 0]]), bias: Tensor(shape: [4], storage: b + logD))
            let configuration = VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [], likelihood: .continuous)
            return try VAE(configuration: configuration,
                           encoder: MLP(layers: [encoder], activation: .silu), decoder: MLP(layers: [decoder], activation: .silu))
        }

        private func d(_ v: Float) -> Double { Double(v) }

        /// μ_z = A x + a.
        func posteriorMean(_ x: [Double]) -> [Double] {
            (0..<2).map { k in d(a[k][0]) * x[0] + d(a[k][1]) * x[1] + d(aBias[k]) }
        }

        /// KL(N(μ_z, diag s²) ‖ N(0, I)) = ½ Σ (s² + μ² − 1 − log s²).
        func kl(_ x: [Double]) -> Double {
            let mu = posteriorMean(x)
            return (0..<2).reduce(0.0) { $0 + 0.5 * (exp(d(logS2[$1])) + mu[$1] * mu[$1] - 1 - d(logS2[$1])) }
        }

        /// E_q[log p(x | z)] = −½ [D log 2π + Σ log dⱼ + rᵀ D⁻¹ r + tr(D⁻¹ W Σ_z Wᵀ)], r = x − W μ_z − b.
        func expectedReconstruction(_ x: [Double]) -> Double {
            let mu = posteriorMean(x)
            var quadratic = 0.0, trace = 0.0, logDeterminant = 0.0
            for j in 0..<2 {
                let variance = exp(d(logD[j]))
                let r = x[j] - (d(w[j][0]) * mu[0] + d(w[j][1]) * mu[1]) - d(b[j])
                quadratic += r * r / variance
                for k in 0..<2 { trace += d(w[j][k]) * d(w[j][k]) * exp(d(logS2[k])) / variance }
                logDeterminant += d(logD[j])
            }
            return -0.5 * (2 * log(2 * Double.pi) + logDeterminant + quadratic + trace)
        }

        func elbo(_ x: [Double]) -> Double { expectedReconstruction(x) - kl(x) }

        /// log p(x) = log N(x; b, W Wᵀ + D), the model's exact marginal.
        func logMarginal(_ x: [Double]) -> Double {
            var covariance = [[0.0, 0.0], [0.0, 0.0]]
            for i in 0..<2 {
                for j in 0..<2 {
                    covariance[i][j] = (0..<2).reduce(0.0) { $0 + d(w[i][$1]) * d(w[j][$1]) }
                }
                covariance[i][i] += exp(d(logD[i]))
            }
            return Support.logDensity2(x, mean: b.map(Double.init), covariance: covariance)
        }
    }

    /// Test points drawn from the data distribution N(μ, Σ), μ = (0.3, −0.2), Σ = [[1, 0.4], [0.4, 0.8]].
    private func oraclePoints() -> [[Double]] {
        var generator = RandomGenerator(seed: 11)
        let l = [[1.0, 0.0], [0.4, (0.8 - 0.16).squareRoot()]] // Cholesky factor of Σ
        return (0..<3).map { _ in
            let e = [generator.nextNormal(), generator.nextNormal()]
            return [0.3 + l[0][0] * e[0], -0.2 + l[1][0] * e[0] + l[1][1] * e[1]]
        }
    }

    private func repeated(_ x: [Double], _ count: Int) -> Tensor {
        Tensor(shape: [count, 2], storage: (0..<count).flatMap { _ in x.map(Float.init) })
    }

    func testVAELinearGaussian_elboMatchesClosedForm() throws {
        let oracle = LinearGaussianVAE()
        let model = try oracle.model()
        var generator = RandomGenerator(seed: 1)
        for x in oraclePoints() {
            let terms = model.elbo(repeated(x, 20_000), using: &generator)
            XCTAssertEqual(terms.layerNames, ["z"])
            for value in terms.layerKL[0] { XCTAssertEqual(value, oracle.kl(x), accuracy: 1e-4) }
            let (mean, standardError) = Support.meanAndStandardError(terms.elbo)
            XCTAssertLessThan(abs(mean - oracle.elbo(x)), 3 * standardError,
                              "ELBO \(mean) ± \(standardError), closed form \(oracle.elbo(x)) at x = \(x)")
            XCTAssertLessThan(oracle.elbo(x), oracle.logMarginal(x))
        }
    }

    func testVAELinearGaussian_iwaeIncreasesWithKTowardsLogMarginal() throws {
        let oracle = LinearGaussianVAE()
        let model = try oracle.model()
        var generator = RandomGenerator(seed: 2)
        let x = oraclePoints()[0]
        let exact = oracle.logMarginal(x)
        let gap = exact - oracle.elbo(x)
        XCTAssertGreaterThan(gap, 0.1, "the oracle's q should be visibly off the true posterior")
        var estimates: [(k: Int, mean: Double, standardError: Double)] = []
        for k in [1, 10, 100, 1000] {
            let rows = 200
            let weights = model.logImportanceWeights(repeated(x, rows), samples: k, using: &generator)
            XCTAssertEqual(weights.samples, k)
            XCTAssertEqual(weights.batch, rows)
            let (mean, standardError) = Support.meanAndStandardError(Support.iwae(weights))
            estimates.append((k, mean, standardError))
        }
        print("Linear-Gaussian VAE oracle: log p(x) = \(exact), ELBO = \(oracle.elbo(x)); "
              + estimates.map { "IWAE_\($0.k) = \($0.mean) ± \($0.standardError)" }.joined(separator: ", "))
        // K = 1 is the ELBO in expectation, strictly below log p(x).
        XCTAssertLessThan(abs(estimates[0].mean - oracle.elbo(x)), 3 * estimates[0].standardError)
        XCTAssertLessThan(estimates[0].mean + 3 * estimates[0].standardError, exact)
        // Increasing in K (up to noise), and significantly from K = 1 to K = 1000.
        for (lower, higher) in zip(estimates, estimates.dropFirst()) {
            let noise = (lower.standardError * lower.standardError + higher.standardError * higher.standardError).squareRoot()
            XCTAssertLessThan(lower.mean, higher.mean + 3 * noise, "IWAE_\(lower.k) = \(lower.mean), IWAE_\(higher.k) = \(higher.mean)")
        }
        let last = estimates[3]
        XCTAssertGreaterThan(last.mean - estimates[0].mean, 0.8 * gap)
        // K = 1000 is within a few standard errors (or 0.01 nats) of the exact log p(x), never above it.
        XCTAssertLessThan(abs(last.mean - exact), max(3 * last.standardError, 0.01),
                          "IWAE_1000 = \(last.mean) ± \(last.standardError), log p(x) = \(exact)")
        XCTAssertLessThan(last.mean, exact + 3 * last.standardError)
    }

    // MARK: Estimators agree

    func testVAELogImportanceWeights_singleSampleMeanEqualsELBO() throws {
        var generator = RandomGenerator(seed: 3)
        let model = try VAE(configuration: VAEConfiguration(hiddenSizes: [16]), using: &generator)
        let x = Support.ring(count: 400, using: &generator)
        let elbo = model.elbo(x, using: &generator).elbo
        let weights = model.logImportanceWeights(x, samples: 1, using: &generator)
        // Paired by example: E[log w₁ − ELBO | x] = 0 for every x.
        let differences = zip(weights.values, elbo).map { $0 - $1 }
        let (mean, standardError) = Support.meanAndStandardError(differences)
        XCTAssertLessThan(abs(mean), 3 * standardError, "mean(log w) − mean(ELBO) = \(mean) ± \(standardError)")
        XCTAssertGreaterThan(standardError, 0)
    }

    func testVAETrainingLoss_equalsMinusMeanELBOForTheSameDraws() throws {
        var generator = RandomGenerator(seed: 4)
        let model = try VAE(configuration: VAEConfiguration(hiddenSizes: [16]), using: &generator)
        let x = Support.ring(count: 64, using: &generator)
        var first = RandomGenerator(seed: 99), second = RandomGenerator(seed: 99)
        let loss = model.trainingLoss(x, step: 1, using: &first)
        let elbo = model.elbo(x, using: &second).elbo
        XCTAssertEqual(Double(loss.scalar), -elbo.reduce(0, +) / Double(elbo.count), accuracy: 1e-4)
        loss.backward()
        for (key, parameter) in model.namedParameters {
            XCTAssertNotNil(parameter.gradient, "no gradient reached \(key)")
        }
    }

    func testVAEKLWarmup_betaRisesFromZeroAndStepOneLossIsTheReconstructionOnly() throws {
        let configuration = VAEConfiguration(hiddenSizes: [16], klWarmupSteps: 3)
        XCTAssertEqual((1...4).map { configuration.klWeight(step: $0) }, [0, 0.5, 1, 1])
        XCTAssertEqual(VAEConfiguration().klWeight(step: 1), 1)
        var generator = RandomGenerator(seed: 12)
        let model = try VAE(configuration: configuration, using: &generator)
        let x = Support.ring(count: 32, using: &generator)
        var first = RandomGenerator(seed: 5), second = RandomGenerator(seed: 5)
        let loss = model.trainingLoss(x, step: 1, using: &first)
        let terms = model.elbo(x, using: &second)
        XCTAssertEqual(Double(loss.scalar), -terms.reconstruction.reduce(0, +) / 32, accuracy: 1e-4)
    }

    // MARK: Parameters

    func testVAEParameters_encoderAndDecoderSplitTheTotalAndKeysArePinned() throws {
        var generator = RandomGenerator(seed: 5)
        let model = try VAE(configuration: VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [8, 4]), using: &generator)
        XCTAssertGreaterThan(model.encoderParameterCount, 0)
        XCTAssertGreaterThan(model.decoderParameterCount, 0)
        XCTAssertEqual(model.encoderParameterCount + model.decoderParameterCount, model.parameterCount)
        // encoder 2→8→4→4: 24 + 36 + 20; decoder 2→4→8→4: 12 + 40 + 36.
        XCTAssertEqual(model.encoderParameterCount, 80)
        XCTAssertEqual(model.decoderParameterCount, 88)
        XCTAssertTrue(model.namedParameters.allSatisfy { $0.key.hasPrefix("encoder.") || $0.key.hasPrefix("decoder.") })
        try Support.assertGolden(Support.keyLines(model), file: "vae-keys.txt")
        XCTAssertEqual(model.latentLayerCount, 1)
        XCTAssertEqual(model.kind, .vae)
    }

    func testVAEInit_isReproducibleFromTheSeed() throws {
        var g1 = RandomGenerator(seed: 6), g2 = RandomGenerator(seed: 6)
        let m1 = try VAE(configuration: VAEConfiguration(hiddenSizes: [8]), using: &g1)
        let m2 = try VAE(configuration: VAEConfiguration(hiddenSizes: [8]), using: &g2)
        XCTAssertEqual(m1.namedParameters.map(\.tensor.storage), m2.namedParameters.map(\.tensor.storage))
    }

    // MARK: Configuration

    func testVAEConfiguration_validateRejectsNonPositiveSizes() {
        XCTAssertNoThrow(try VAEConfiguration().validate())
        for bad in [VAEConfiguration(dataDimension: 0), VAEConfiguration(latentDimension: 0),
                    VAEConfiguration(hiddenSizes: [16, -1]), VAEConfiguration(klWarmupSteps: -1),
                    VAEConfiguration(likelihood: .discrete(levels: 1))] {
            XCTAssertThrowsError(try bad.validate()) { error in
                guard case ModelError.invalidConfiguration = error else { return XCTFail("unexpected error \(error)") }
            }
            var generator = RandomGenerator(seed: 0)
            XCTAssertThrowsError(try VAE(configuration: bad, using: &generator))
        }
    }

    func testVAEConfiguration_roundTripsThroughJSON() throws {
        for likelihood in [Likelihood.continuous, .binary, .discrete(levels: 256)] {
            let configuration = VAEConfiguration(dataDimension: 784, latentDimension: 16, hiddenSizes: [512, 256],
                                                 activation: .relu, klWarmupSteps: 1000, likelihood: likelihood)
            let data = try JSONEncoder().encode(configuration)
            XCTAssertEqual(try JSONDecoder().decode(VAEConfiguration.self, from: data), configuration)
        }
        let json = #"{"dataDimension": 2, "likelihood": "discrete", "levels": 256}"#
        let decoded = try JSONDecoder().decode(VAEConfiguration.self, from: Data(json.utf8))
        XCTAssertEqual(decoded, VAEConfiguration(dataDimension: 2, likelihood: .discrete(levels: 256)))
        XCTAssertThrowsError(try JSONDecoder().decode(VAEConfiguration.self, from: Data(#"{"dataDimension": 2, "likelihood": "poisson"}"#.utf8)))
    }

    func testVAEInitFromNetworks_rejectsMismatchedShapes() {
        var generator = RandomGenerator(seed: 7)
        let configuration = VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [])
        let encoder = MLP(sizes: [2, 4], activation: .silu, using: &generator)
        let wrongDecoder = MLP(sizes: [3, 4], activation: .silu, using: &generator)
        XCTAssertThrowsError(try VAE(configuration: configuration, encoder: encoder, decoder: wrongDecoder))
    }

    // MARK: Likelihoods and sampling

    func testVAEOtherLikelihoods_produceFiniteTermsAndSamplesOnTheSupport() throws {
        var generator = RandomGenerator(seed: 8)
        for likelihood in [Likelihood.binary, .discrete(levels: 4)] {
            let model = try VAE(configuration: VAEConfiguration(dataDimension: 3, latentDimension: 2, hiddenSizes: [8], likelihood: likelihood),
                                using: &generator)
            let x = model.sample(count: 5, using: &generator)
            XCTAssertEqual(x.shape, [5, 3])
            let allowed: Set<Float> = likelihood == .binary ? [0, 1] : [-1, -1.0 / 3, 1.0 / 3, 1]
            for v in x.storage { XCTAssertTrue(allowed.contains { abs($0 - v) < 1e-6 }, "\(v) is not on the support") }
            let terms = model.elbo(x, using: &generator)
            XCTAssertTrue(terms.elbo.allSatisfy { $0.isFinite && $0 < 0 })
            let weights = model.logImportanceWeights(x, samples: 3, using: &generator)
            XCTAssertEqual(weights.values.count, 15)
            XCTAssertTrue(weights.values.allSatisfy(\.isFinite))
        }
    }

    func testVAELogImportanceWeights_chunksKeepTheSampleMajorLayout() throws {
        // More rows than one chunk: the layout is [K, batch] whatever the chunking.
        var generator = RandomGenerator(seed: 9)
        let model = try VAE(configuration: VAEConfiguration(hiddenSizes: []), using: &generator)
        // Two far-apart examples: their log-weights differ systematically, so a mixed-up layout shows.
        let x = Tensor([[0, 0], [8, -8]])
        let samples = VAE.maximumRowsPerChunk(.mlp) / 2 + 3
        let weights = model.logImportanceWeights(x, samples: samples, using: &generator)
        XCTAssertEqual(weights.values.count, 2 * samples)
        let first = (0..<samples).map { weights[sample: $0, example: 0] }
        let second = (0..<samples).map { weights[sample: $0, example: 1] }
        XCTAssertTrue(weights.values.allSatisfy(\.isFinite))
        // The two examples' mean log-weights differ by far more than their standard errors, so a
        // mixed-up layout (averaging both) would fail the comparison below.
        XCTAssertGreaterThan(abs(Support.meanAndStandardError(first).mean - Support.meanAndStandardError(second).mean), 1)
        // Each example's weights estimate the same E[log w | x] as a small unchunked run on it alone.
        for (i, chunked) in [first, second].enumerated() {
            let alone = model.logImportanceWeights(x.rows(i..<(i + 1)), samples: 2000, using: &generator).values
            let a = Support.meanAndStandardError(chunked), b = Support.meanAndStandardError(alone)
            XCTAssertLessThan(abs(a.mean - b.mean), 4 * (a.standardError * a.standardError + b.standardError * b.standardError).squareRoot())
        }
    }

    // MARK: Training

    /// 2000 Adam steps (batch 64, learning rate 3e-3, KL warm-up over 300 steps, hidden [32, 32]):
    /// about 3 s in a debug build. Without the warm-up the VAE tends to stop at the
    /// single-Gaussian solution that ignores z (posterior collapse).
    func testVAETraining_ringELBOBeatsTheBestSingleGaussian() throws {
        var generator = RandomGenerator(seed: 10)
        let model = try VAE(configuration: VAEConfiguration(hiddenSizes: [32, 32], klWarmupSteps: 300), using: &generator)
        let start = Date()
        Support.train(model, steps: 2000, batchSize: 64, learningRate: 3e-3, using: &generator)
        let trainSeconds = Date().timeIntervalSince(start)
        let train = Support.ring(count: 4096, using: &generator)
        let test = Support.ring(count: 2000, using: &generator)
        let gaussian = Support.meanAndStandardError(Support.bestGaussianLogLikelihood(train: train, test: test))
        let elbo = Support.meanAndStandardError(model.elbo(test, using: &generator).elbo)
        print("VAE ring: test ELBO \(elbo.mean) ± \(elbo.standardError), best single Gaussian \(gaussian.mean); training \(trainSeconds) s")
        XCTAssertGreaterThan(elbo.mean, gaussian.mean + 0.3)
    }
}
