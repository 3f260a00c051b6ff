import Core
import DDPMModel
import Evaluation
import NN
import Report
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// What lesson 5 measures (docs/math.md#score-matching-view): a trained DDPM's ε-network against
/// the oracle ε̂* = E[ε | x_t] of the data's Gaussian mixture, per timestep on shared draws; and
/// the oracle DDPM's evaluation over T and schedule.
enum Lesson5Measurements {
    /// Per t = 1 … T and test example i, one draw ε ~ N(0, I) and x_t = √ᾱ_t x0ᵢ + √(1 − ᾱ_t) ε
    /// (generator seeded with `seed`, t ascending, examples in order): the squared norms of
    /// ``Report/ScoreMatchingProfile``. ε_θ is the ε-half of the network's output; x̂0 = (x_t − √(1 − ᾱ_t) ε_θ)/√ᾱ_t
    /// (no clipping: continuous data) and the oracle's x̂0 is E[x0 | x_t].
    static func profile(of model: DDPM, mixture: GaussianMixture, data: [[Double]], seed: UInt64) -> ScoreMatchingProfile {
        let dimension = model.dataDimension, n = data.count, T = model.configuration.timestepCount
        let diffusion = GaussianDiffusion(schedule: model.configuration.schedule, timestepCount: T)
        var generator = RandomGenerator(seed: seed)
        var networkLoss: [[Double]] = [], oracleLoss: [[Double]] = [], scoreGap: [[Double]] = [], oracleNorm: [[Double]] = []
        var trace: [[Double]] = [], networkStart: [[Double]] = [], oracleStart: [[Double]] = []
        for t in 1...T {
            let a = diffusion.sqrtAlphasCumprod[t - 1], s = diffusion.sqrtOneMinusAlphasCumprod[t - 1]
            let noised = mixture.noised(alphaBar: diffusion.alphasCumprod[t - 1])
            let noise = data.map { _ in (0..<dimension).map { _ in generator.nextNormal() } }
            let xt = zip(data, noise).map { x0, e in zip(x0, e).map { a * $0 + s * $1 } }
            let output = GradientMode.withoutRecording {
                model.network(Tensor(shape: [n, dimension], storage: xt.flatMap { $0.map(Float.init) }), timesteps: [Int](repeating: t, count: n))
            }
            let width = output.shape[1]
            var rows: (network: [Double], oracle: [Double], gap: [Double], norm: [Double], trace: [Double], networkStart: [Double], oracleStart: [Double])
                = ([], [], [], [], [], [], [])
            for i in 0..<n {
                let epsilonTheta = (0..<dimension).map { Double(output.storage[i * width + $0]) }
                let epsilonStar = noised.noisePrediction(xt[i])
                let startStar = noised.startMean(xt[i])
                func squaredDistance(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
                rows.network.append(squaredDistance(noise[i], epsilonTheta))
                rows.oracle.append(squaredDistance(noise[i], epsilonStar))
                rows.gap.append(squaredDistance(epsilonTheta, epsilonStar))
                rows.norm.append(epsilonStar.reduce(0) { $0 + $1 * $1 })
                rows.trace.append(noised.noiseCovarianceTrace(xt[i]))
                let startTheta = zip(xt[i], epsilonTheta).map { ($0 - s * $1) / a }
                rows.networkStart.append(squaredDistance(data[i], startTheta))
                rows.oracleStart.append(squaredDistance(data[i], startStar))
            }
            networkLoss.append(rows.network); oracleLoss.append(rows.oracle); scoreGap.append(rows.gap); oracleNorm.append(rows.norm)
            trace.append(rows.trace); networkStart.append(rows.networkStart); oracleStart.append(rows.oracleStart)
        }
        return ScoreMatchingProfile(dimension: dimension, networkLoss: networkLoss, oracleLoss: oracleLoss, scoreGap: scoreGap,
                                    oracleNorm: oracleNorm, noiseCovarianceTrace: trace, networkStartError: networkStart,
                                    oracleStartError: oracleStart)
    }

    /// The oracle DDPM (its network the ``DDPMModel/OracleDenoiser`` of `mixture`) for every T,
    /// schedule and fixed reverse variance (the oracle predicts ε only, so the variance cannot be
    /// learned: fixed-small β̃_t and fixed-large β_t, Ho et al.'s two choices), evaluated on `data`
    /// (ELBO with `elboDraws` draws; K = 1), each with a generator seeded with `seed`.
    static func oracleSweep(mixture: GaussianMixture, data: Tensor, logDensity: [Double]?, timesteps: [Int], schedules: [NoiseSchedule],
                            variances: [ReverseVariance], elboDraws: Int, seed: UInt64,
                            progress: (String) -> Void) throws -> [OracleEvaluation] {
        var results: [OracleEvaluation] = []
        for schedule in schedules {
            for variance in variances {
                for T in timesteps {
                    var configuration = DDPMConfiguration(dataDimension: data.shape[1], likelihood: .continuous)
                    configuration.timestepCount = T
                    configuration.schedule = schedule
                    configuration.variance = variance
                    let diffusion = GaussianDiffusion(schedule: schedule, timestepCount: T)
                    let model = try DDPM(configuration: configuration, denoiser: OracleDenoiser(mixture: mixture, diffusion: diffusion))
                    progress("oracle DDPM, T = \(T), \(schedule.rawValue) schedule, \(variance.rawValue) variance")
                    var generator = RandomGenerator(seed: seed)
                    let evaluation = try GradientMode.withoutRecording {
                        try evaluate(model, data: data, sampleCounts: [1], logDensity: logDensity, batchSize: 50, elboDraws: elboDraws,
                                     using: &generator)
                    }
                    results.append(OracleEvaluation(timesteps: T, schedule: schedule.rawValue, variance: variance.rawValue, evaluation: evaluation))
                }
            }
        }
        return results
    }
}
