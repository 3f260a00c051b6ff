import Core
import DDPMModel
import Evaluation
import NN
import Tensor
import XCTest

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The continuous-time DDPM against closed forms on Gaussian data with a linear denoiser
/// (``LinearGaussianDiffusion``): the Monte Carlo ELBO_∞ against the integral, the exact
/// ELBO_T and its limit, monotonicity in T, the importance weights, the training path, the
/// schedules' derivatives and the schedule's variance-minimizing gradient.
final class ContinuousTimeDDPMTests: XCTestCase {
    let oracle = LinearGaussianDiffusion(means: [0.5, -0.3], variances: [0.64, 0.09], shrink: 0.8)

    func settings(_ kind: LogSNRScheduleKind, start: Double = -8, end: Double = 4) -> ContinuousTimeSettings {
        var settings = ContinuousTimeSettings(schedule: kind)
        settings.startNegativeLogSNR = start
        settings.endNegativeLogSNR = end
        settings.learnedScheduleFeatures = 16
        return settings
    }

    func makeModel(_ kind: LogSNRScheduleKind, timesteps: Int = 10, seed: UInt64 = 3) throws -> ContinuousTimeDDPM {
        var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        configuration.continuousTime = settings(kind)
        configuration.timestepCount = timesteps
        var generator = RandomGenerator(seed: seed)
        let schedule = LogSNRSchedule(settings: settings(kind), using: &generator)
        return try ContinuousTimeDDPM(configuration: configuration, denoiser: LinearGaussianDenoiser(oracle), schedule: schedule)
    }

    func tensor(_ rows: [[Double]]) -> Tensor {
        Tensor(shape: [rows.count, rows[0].count], storage: rows.flatMap { $0.map(Float.init) })
    }

    // MARK: - The schedules

    func testSchedules_haveTheirEndPointsAndDerivativesMatchFiniteDifferences() throws {
        for kind in LogSNRScheduleKind.allCases {
            let schedule = try makeModel(kind).schedule
            XCTAssertEqual(schedule(0), -8, accuracy: 1e-5, "\(kind)")
            XCTAssertEqual(schedule(1), 4, accuracy: 1e-5, "\(kind)")
            for t in stride(from: 0.05, through: 0.95, by: 0.1) {
                let h = 1e-5
                let slope = (schedule(t + h) - schedule(t - h)) / (2 * h)
                let pair = schedule.valueAndDerivative(at: t)
                XCTAssertEqual(pair.derivative, slope, accuracy: 1e-5 * max(1, abs(slope)), "\(kind) γ'(\(t))")
                XCTAssertGreaterThan(pair.derivative, 0, "\(kind) increases")
            }
        }
        // The cosine form: α = cos θ, σ = sin θ with θ linear in t.
        let cosine = try makeModel(.cosine).schedule
        let theta0 = atan(exp(-4.0)), theta1 = atan(exp(2.0))
        let theta = theta0 + 0.3 * (theta1 - theta0)
        XCTAssertEqual(LinearGaussianDiffusion.alphaSquared(cosine(0.3)), cos(theta) * cos(theta), accuracy: 1e-12)
    }

    func testTrainingValues_equalTheDoubleSchedule() throws {
        for kind in LogSNRScheduleKind.allCases {
            let schedule = try makeModel(kind).schedule
            let times: [Float] = [0, 0.125, 0.5, 0.9, 1]
            let values = schedule.trainingValues(at: times, shapeGradientScale: nil)
            for (i, t) in times.enumerated() {
                let expected = schedule.valueAndDerivative(at: Double(t))
                XCTAssertEqual(Double(values.value.storage[i]), expected.value, accuracy: 1e-4, "\(kind) γ(\(t))")
                XCTAssertEqual(Double(values.derivative.storage[i]), expected.derivative, accuracy: 1e-4 * abs(expected.derivative), "\(kind) γ'(\(t))")
            }
            XCTAssertEqual(Double(values.start.storage[0]), schedule.endPoints.start, accuracy: 1e-5)
            XCTAssertEqual(Double(values.end.storage[0]), schedule.endPoints.end, accuracy: 1e-5)
        }
    }

    // MARK: - The terms, pointwise

    /// ½ expm1(γ_t − γ_s) ‖ε − ε̂‖² is the Gaussian KL of q(z_s | z_t, x) against p(z_s | z_t), and
    /// the transition and reverse step are the Gaussians they claim to be.
    func testStepTerms_equalGaussianKLOfPosteriorAndReverseStep() {
        for (gammaS, gammaT) in [(-8.0, -7.9), (-2.0, 1.5), (3.0, 3.0001), (-13.3, 5.0)] {
            let x = 0.37, epsilon = -1.2, epsilonHat = -0.4
            let at = LinearGaussianDiffusion.alphaSquared(gammaT).squareRoot(), st = LinearGaussianDiffusion.sigmaSquared(gammaT).squareRoot()
            let as_ = LinearGaussianDiffusion.alphaSquared(gammaS).squareRoot(), ss = LinearGaussianDiffusion.sigmaSquared(gammaS).squareRoot()
            let zt = at * x + st * epsilon
            let transitionVariance = st * st - (at / as_) * (at / as_) * ss * ss
            let posteriorMean = (at / as_) * ss * ss / (st * st) * zt + as_ * transitionVariance / (st * st) * x
            let posteriorVariance = transitionVariance * ss * ss / (st * st)
            let reverse = LogSNRFormulas.reverseStep(zt: zt, epsilon: epsilonHat, from: gammaT, to: gammaS)
            let xHat = (zt - st * epsilonHat) / at
            let reverseMean = (at / as_) * ss * ss / (st * st) * zt + as_ * transitionVariance / (st * st) * xHat
            XCTAssertEqual(reverse.mean, reverseMean, accuracy: 1e-9 * max(1, abs(reverseMean)), "mean (\(gammaS), \(gammaT))")
            XCTAssertEqual(reverse.logVariance, log(posteriorVariance), accuracy: 1e-6, "variance (\(gammaS), \(gammaT))")
            let kl = GaussianFormulas.kl(mean1: posteriorMean, logVariance1: log(posteriorVariance), mean2: reverse.mean, logVariance2: reverse.logVariance)
            let formula = LogSNRFormulas.stepKLCoefficient(from: gammaS, to: gammaT) * (epsilon - epsilonHat) * (epsilon - epsilonHat)
            XCTAssertEqual(formula, kl, accuracy: 1e-6 * max(1, kl), "KL (\(gammaS), \(gammaT))")
            let transition = LogSNRFormulas.transition(from: gammaS, to: gammaT)
            XCTAssertEqual(transition.scale, at / as_, accuracy: 1e-12)
            XCTAssertEqual(exp(transition.logVariance), transitionVariance, accuracy: 1e-9 * transitionVariance)
        }
    }

    // MARK: - ELBO_∞ and ELBO_T against the closed forms

    /// The Monte Carlo continuous-time ELBO equals ½ ∫ E‖ε − ε̂‖² dγ (and the rest) within 3 s.e.,
    /// for every kind of schedule; the exact discrete ELBO of the oracle tends to it as T grows.
    func testContinuousELBO_matchesTheLimitOfTheExactDiscreteELBO() throws {
        let data = tensor(oracle.data(4000, seed: 21))
        for kind in LogSNRScheduleKind.allCases {
            let model = try makeModel(kind)
            let (gamma0, gamma1) = model.schedule.endPoints
            let limit = oracle.expectedContinuousELBO(start: gamma0, end: gamma1)
            var generator = RandomGenerator(seed: 5)
            let estimate = MeanEstimate(model.continuousELBO(data, draws: 2, using: &generator).elbo)
            XCTAssertEqual(estimate.mean, limit, accuracy: 3 * estimate.standardError, "\(kind): \(estimate) vs \(limit)")
            // The exact ELBO_T of the same model closes on the integral like 1/T: a hundred times
            // more steps, a hundred times less gap (the cosine schedule's steep ends make its
            // constant the largest, ¼ ∫ γ'² E dt).
            let fine = oracle.expectedDiscreteELBO(grid: model.negativeLogSNRGrid(100_000))
            let coarse = oracle.expectedDiscreteELBO(grid: model.negativeLogSNRGrid(1000))
            XCTAssertEqual(fine, limit, accuracy: 2e-3, "\(kind): ELBO_100000 \(fine) vs ELBO_∞ \(limit)")
            let ratio = (limit - coarse) / (limit - fine)
            XCTAssertTrue(ratio > 70 && ratio < 130, "\(kind): ELBO_∞ − ELBO_1000 = \(limit - coarse), ELBO_∞ − ELBO_100000 = \(limit - fine)")
        }
    }

    /// ELBO_T is non-decreasing in T for a continuous schedule (VDM's result), and below ELBO_∞.
    func testDiscreteELBO_isNonDecreasingInT() throws {
        for kind in LogSNRScheduleKind.allCases {
            let model = try makeModel(kind)
            let limit = oracle.expectedContinuousELBO(start: model.schedule.endPoints.start, end: model.schedule.endPoints.end)
            var previous = -Double.infinity
            for steps in [1, 2, 3, 4, 6, 8, 16, 50, 128, 1000, 4096] {
                let value = oracle.expectedDiscreteELBO(grid: model.negativeLogSNRGrid(steps))
                XCTAssertGreaterThanOrEqual(value, previous, "\(kind): ELBO_\(steps)")
                XCTAssertLessThan(value, limit, "\(kind): ELBO_\(steps) below ELBO_∞")
                previous = value
            }
        }
    }

    /// The model's Monte Carlo ELBO_T and IWAE_1 equal the closed form at T = 1, 2 and 25 within
    /// 3 s.e.: a step at the wrong t (an off-by-one) or a missing term moves them by many.
    func testDiscreteELBOAndIWAE1_matchTheClosedFormAtSeveralT() throws {
        let data = tensor(oracle.data(3000, seed: 22))
        for kind in [LogSNRScheduleKind.linear, .learned] {
            for steps in [1, 2, 25] {
                let model = try makeModel(kind, timesteps: steps)
                let exact = oracle.expectedDiscreteELBO(grid: model.negativeLogSNRGrid(steps))
                var generator = RandomGenerator(seed: 9)
                let terms = model.elbo(data, using: &generator)
                XCTAssertEqual(terms.layerNames.count, steps + 1)
                let elbo = MeanEstimate(terms.elbo)
                XCTAssertEqual(elbo.mean, exact, accuracy: 3 * elbo.standardError, "\(kind) T = \(steps): ELBO \(elbo) vs \(exact)")
                let weights = MeanEstimate(model.logImportanceWeights(data, samples: 1, using: &generator).values)
                XCTAssertEqual(weights.mean, exact, accuracy: 3 * weights.standardError, "\(kind) T = \(steps): IWAE_1 \(weights) vs \(exact)")
            }
        }
        // The prior term alone, exactly: its expectation over the data.
        let model = try makeModel(.linear, timesteps: 4)
        var generator = RandomGenerator(seed: 2)
        let prior = MeanEstimate(model.elbo(data, using: &generator).layerKL[4])
        XCTAssertEqual(prior.mean, oracle.expectedPriorKL(end: 4), accuracy: 3 * prior.standardError)
    }

    /// IWAE_K grows with K at finite T and stays below log p(x) of the T-step model.
    func testIWAE_isNonDecreasingInK() throws {
        let model = try makeModel(.cosine, timesteps: 4)
        let data = tensor(oracle.data(400, seed: 23))
        var generator = RandomGenerator(seed: 4)
        let weights = model.logImportanceWeights(data, samples: 64, using: &generator)
        let bounds = importanceWeightedBounds(logWeights: weights.values, exampleCount: 400, sampleCounts: [1, 4, 16, 64])
        for j in 1..<bounds.count {
            // Paired per example: the rise from K to 4K is positive beyond 3 s.e.
            let rise = MeanEstimate(pairedDifferenceOf: bounds[j], minus: bounds[j - 1])
            XCTAssertGreaterThan(rise.mean, 3 * rise.standardError, "IWAE rises at step \(j): \(rise)")
        }
    }

    // MARK: - Training

    /// The Float32 training terms equal the Double formulas at the same t, ε and ε₀.
    func testTrainingTerms_equalTheDoubleFormulasAtTheSameDraws() throws {
        let model = try makeModel(.learned)
        let rows = oracle.data(6, seed: 24)
        var generator = RandomGenerator(seed: 6)
        let noise = Tensor.randomNormal(shape: [6, 2], using: &generator)
        let startNoise = Tensor.randomNormal(shape: [6, 2], using: &generator)
        let times: [Float] = [0.02, 0.2, 0.4, 0.6, 0.8, 0.97]
        let terms = model.trainingTerms(tensor(rows), times: times, noise: noise, startNoise: startNoise)
        let (gamma0, gamma1) = model.schedule.endPoints
        for i in 0..<6 {
            let (gamma, slope) = model.schedule.valueAndDerivative(at: Double(times[i]))
            var diffusion = 0.0, reconstruction = 0.0, prior = 0.0
            for d in 0..<2 {
                let x = Double(Float(rows[i][d])), e = Double(noise.storage[i * 2 + d])
                let z = LinearGaussianDiffusion.alphaSquared(gamma).squareRoot() * x + LinearGaussianDiffusion.sigmaSquared(gamma).squareRoot() * e
                let eHat = oracle.gain(gamma, dimension: d) * (z - LinearGaussianDiffusion.alphaSquared(gamma).squareRoot() * oracle.means[d])
                diffusion += 0.5 * slope * (e - eHat) * (e - eHat)
                let rescaled = x + exp(0.5 * gamma0) * Double(startNoise.storage[i * 2 + d])
                reconstruction -= GaussianFormulas.logDensity(x, mean: rescaled, logVariance: gamma0)
                let a2 = LinearGaussianDiffusion.alphaSquared(gamma1), s2 = LinearGaussianDiffusion.sigmaSquared(gamma1)
                prior += 0.5 * (s2 + a2 * x * x - log(s2) - 1)
            }
            XCTAssertEqual(Double(terms.diffusion.storage[i]), diffusion, accuracy: 1e-3 * max(1, diffusion), "diffusion row \(i)")
            XCTAssertEqual(Double(terms.reconstruction.storage[i]), reconstruction, accuracy: 1e-3 * max(1, abs(reconstruction)), "reconstruction row \(i)")
            XCTAssertEqual(Double(terms.prior.storage[i]), prior, accuracy: 1e-4 * max(1, prior), "prior row \(i)")
        }
    }

    /// The learned schedule's shape receives ∂ mean(L_diff²)/∂η and its end points ∂ mean(L)/∂η
    /// (finite differences at fixed draws), the variance-minimizing split of VDM.
    func testLearnedSchedule_gradientsAreTheVarianceOfTheShapeAndTheLossOfTheEndPoints() throws {
        let model = try makeModel(.learned)
        let batch = 64
        let x = tensor(oracle.data(batch, seed: 25))
        var generator = RandomGenerator(seed: 7)
        let noise = Tensor.randomNormal(shape: [batch, 2], using: &generator)
        let startNoise = Tensor.randomNormal(shape: [batch, 2], using: &generator)
        let times = (0..<batch).map { Float((0.37 + Double($0) / Double(batch)).truncatingRemainder(dividingBy: 1)) }
        func terms() -> (reconstruction: Tensor, prior: Tensor, diffusion: Tensor) {
            model.trainingTerms(x, times: times, noise: noise, startNoise: startNoise)
        }
        model.zeroGradients()
        let t = terms()
        (t.reconstruction + t.prior + t.diffusion).mean().backward()
        func meanSquaredDiffusion() -> Double {
            GradientMode.withoutRecording { terms().diffusion.storage.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(batch) }
        }
        func meanLoss() -> Double {
            GradientMode.withoutRecording {
                let t = terms()
                return (t.reconstruction + t.prior + t.diffusion).storage.reduce(0.0) { $0 + Double($1) } / Double(batch)
            }
        }
        let schedule = model.schedule
        let checks: [(Tensor, Int, () -> Double, String)] = [
            (schedule.linearSlope!, 0, meanSquaredDiffusion, "linearSlope"),
            (schedule.featureSlopes!, 3, meanSquaredDiffusion, "featureSlopes[3]"),
            (schedule.featureOffsets!, 5, meanSquaredDiffusion, "featureOffsets[5]"),
            (schedule.featureWeights!, 2, meanSquaredDiffusion, "featureWeights[2]"),
            (schedule.start!, 0, meanLoss, "start"),
            (schedule.widthParameter!, 0, meanLoss, "widthParameter"),
        ]
        for (parameter, index, objective, name) in checks {
            let analytic = Double(parameter.gradient![index])
            let original = parameter.storage[index]
            let h: Float = 1e-2
            var values = parameter.storage
            values[index] = original + h; parameter.assign(values)
            let plus = objective()
            values[index] = original - h; parameter.assign(values)
            let minus = objective()
            values[index] = original; parameter.assign(values)
            let numeric = (plus - minus) / Double(2 * h)
            XCTAssertEqual(analytic, numeric, accuracy: 0.03 * max(abs(numeric), 0.05), "\(name): analytic \(analytic), numeric \(numeric)")
        }
    }

    // MARK: - Schedule invariance and Fourier features

    /// Two fixed schedules with the same end points give one ELBO_∞ for a fixed denoiser (within
    /// 3 s.e. of their difference), while the variances of their estimates differ.
    func testFixedSchedulesWithTheSameEndPoints_giveTheSameELBOWithDifferentVariances() throws {
        let data = tensor(oracle.data(6000, seed: 26))
        var estimates: [LogSNRScheduleKind: (estimate: MeanEstimate, variance: Double)] = [:]
        for kind in [LogSNRScheduleKind.linear, .cosine] {
            var generator = RandomGenerator(seed: 8)
            let diffusion = try makeModel(kind).continuousELBO(data, using: &generator).layerKL[0]
            let estimate = MeanEstimate(diffusion)
            estimates[kind] = (estimate, estimate.standardError * estimate.standardError * Double(diffusion.count))
        }
        let linear = estimates[.linear]!, cosine = estimates[.cosine]!
        let combined = (linear.estimate.standardError * linear.estimate.standardError + cosine.estimate.standardError * cosine.estimate.standardError).squareRoot()
        XCTAssertEqual(linear.estimate.mean, cosine.estimate.mean, accuracy: 3 * combined, "linear \(linear.estimate) vs cosine \(cosine.estimate)")
        XCTAssertGreaterThan(max(linear.variance, cosine.variance) / min(linear.variance, cosine.variance), 1.2,
                             "variances \(linear.variance) and \(cosine.variance)")
    }

    /// γ(0) puts σ_0/α_0 at a sixth of a bin: VDM's −13.3 for 8-bit data, and the same rule for others.
    func testStartOfTheSchedule_isASixthOfABin() {
        XCTAssertEqual(ContinuousTimeSettings(schedule: .learned, levels: 256).startNegativeLogSNR, -13.3)
        XCTAssertEqual(ContinuousTimeSettings(schedule: .learned, levels: 17).startNegativeLogSNR, -7.7)
        XCTAssertEqual(ContinuousTimeSettings(schedule: .linear, levels: 2).startNegativeLogSNR, -2.2)
        XCTAssertEqual(ContinuousTimeSettings(schedule: .cosine, levels: nil).startNegativeLogSNR, -13.3)
        for levels in [2, 17, 256] {
            let start = ContinuousTimeSettings(schedule: .learned, levels: levels).startNegativeLogSNR
            XCTAssertEqual(exp(start / 2), 2 / Double(levels - 1) / 6, accuracy: 0.06 * 2 / Double(levels - 1) / 6, "\(levels) levels")
        }
    }

    func testFourierFeatures_stackSinesAndCosinesPerPixel() {
        let features = FourierFeatures(exponents: [0, 2], channels: 2)
        let x = Tensor(shape: [1, 4], storage: [0.1, -0.2, 0.3, 0.05])
        let y = features(x)
        XCTAssertEqual(y.shape, [1, 20])
        for pixel in 0..<2 {
            let row = Array(y.storage[(pixel * 10)..<(pixel * 10 + 10)])
            for c in 0..<2 {
                let z = Double(x.storage[pixel * 2 + c])
                XCTAssertEqual(Double(row[c]), z, accuracy: 1e-7)
                XCTAssertEqual(Double(row[2 + c]), sin(2 * Double.pi * z), accuracy: 1e-5)
                XCTAssertEqual(Double(row[4 + c]), sin(8 * Double.pi * z), accuracy: 1e-5)
                XCTAssertEqual(Double(row[6 + c]), cos(2 * Double.pi * z), accuracy: 1e-5)
                XCTAssertEqual(Double(row[8 + c]), cos(8 * Double.pi * z), accuracy: 1e-5)
            }
        }
        XCTAssertEqual(FourierFeatures.exponents(forLevels: 256), [6, 7])
        XCTAssertEqual(FourierFeatures.exponents(forLevels: 17), [2, 3])
        XCTAssertNil(FourierFeatures.exponents(forLevels: 2))
    }

    // MARK: - Sampling

    /// With the best linear denoiser (c = 1) and a fine grid, ancestral samples follow the data's
    /// Gaussian: means and variances within 4 s.e. plus the grid's and the end points' bias.
    /// The weighted draw gives the same samples, and finite weights.
    func testSampling_withTheBestDenoiser_drawsTheDataDistribution() throws {
        let best = LinearGaussianDiffusion(means: [0.5, -0.3], variances: [0.64, 0.09], shrink: 1)
        var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        configuration.continuousTime = settings(.cosine)
        configuration.timestepCount = 200
        var unused = RandomGenerator(seed: 1)
        let model = try ContinuousTimeDDPM(configuration: configuration, denoiser: LinearGaussianDenoiser(best),
                                           schedule: LogSNRSchedule(settings: settings(.cosine), using: &unused))
        let count = 4000
        var generator = RandomGenerator(seed: 30)
        let samples = model.sample(count: count, using: &generator)
        for d in 0..<2 {
            let values = (0..<count).map { Double(samples.storage[$0 * 2 + d]) }
            let mean = MeanEstimate(values)
            XCTAssertEqual(mean.mean, best.means[d], accuracy: 4 * mean.standardError + 0.01, "mean of dimension \(d)")
            let variance = values.reduce(0) { $0 + ($1 - mean.mean) * ($1 - mean.mean) } / Double(count - 1)
            // The variance of a variance estimate: 2σ⁴/(n − 1).
            XCTAssertEqual(variance, best.variances[d], accuracy: 4 * best.variances[d] * (2 / Double(count - 1)).squareRoot() + 0.01,
                           "variance of dimension \(d)")
        }
        var again = RandomGenerator(seed: 30)
        let weighted = model.ancestralSample(count: count, using: &again)
        XCTAssertEqual(weighted.samples.storage, samples.storage, "the weighted draw gives the same samples")
        XCTAssertTrue(weighted.generatingLogWeights.allSatisfy(\.isFinite))
    }

    /// Discrete and binary data: the training path's −log p(x | z_0) is the discretized Gaussian
    /// around x + e^{γ(0)/2} ε₀ with log-scale γ(0)/2 on the diffusion scale (binary as ±1), and the
    /// Double reconstruction of the ELBO averages to the same within 3 s.e.
    func testDecoder_onDiscreteAndBinaryData_isTheDiscretizedGaussianAroundZ0OverAlpha0() throws {
        for likelihood in [Likelihood.discrete(levels: 17), .binary] {
            var configuration = DDPMConfiguration(dataDimension: 3, likelihood: likelihood)
            var continuous = settings(.linear, start: -5, end: 4)
            continuous.learnedScheduleFeatures = 4
            configuration.continuousTime = continuous
            configuration.hiddenSizes = [8]
            var generator = RandomGenerator(seed: 40)
            let model = try ContinuousTimeDDPM(configuration: configuration, using: &generator)
            let levels = likelihood.levels ?? 2
            let rows: [[Float]] = likelihood == .binary ? [[0, 1, 1], [1, 0, 0]] : [[-1, 0.125, 1], [0.5, -0.75, 0]]
            let x = Tensor(shape: [2, 3], storage: rows.flatMap { $0 })
            let noise = Tensor.randomNormal(shape: [2, 3], using: &generator)
            let startNoise = Tensor.randomNormal(shape: [2, 3], using: &generator)
            let terms = model.trainingTerms(x, times: [0.3, 0.7], noise: noise, startNoise: startNoise)
            for i in 0..<2 {
                var expected = 0.0
                for d in 0..<3 {
                    let value = Double(rows[i][d]), start = likelihood == .binary ? 2 * value - 1 : value
                    let mean = start + exp(-2.5) * Double(startNoise.storage[i * 3 + d])
                    expected -= DiscretizedGaussian.logProbabilityAndGradient(start, mean: mean, logScale: -2.5, levels: levels).value
                }
                XCTAssertEqual(Double(terms.reconstruction.storage[i]), expected, accuracy: 1e-4 * max(1, abs(expected)), "\(likelihood) row \(i)")
            }
            // The ELBO's Monte Carlo reconstruction against the training path's mean over many draws of ε₀.
            let replicas = Tensor(shape: [2000, 3], storage: (0..<1000).flatMap { _ in rows.flatMap { $0 } })
            var draws = RandomGenerator(seed: 41)
            let viaELBO = MeanEstimate(model.continuousELBO(replicas, using: &draws).reconstruction)
            let viaTraining = MeanEstimate(model.trainingTerms(replicas, times: [Float](repeating: 0.5, count: 2000),
                                                               noise: Tensor.randomNormal(shape: [2000, 3], using: &draws),
                                                               startNoise: Tensor.randomNormal(shape: [2000, 3], using: &draws))
                                                .reconstruction.storage.map { -Double($0) })
            let combined = (viaELBO.standardError * viaELBO.standardError + viaTraining.standardError * viaTraining.standardError).squareRoot()
            XCTAssertEqual(viaELBO.mean, viaTraining.mean, accuracy: 3 * combined + 1e-9, "\(likelihood)")
        }
    }
}
