import Core
import DDPMModel
import NN
import Tensor
import XCTest

/// The training loss (Float32 tensors, ``DDPM/trainingBoundTerms(_:noise:timesteps:)``) and the
/// exact ELBO (Double, ``DDPM/elbo(_:fillNoise:)``) must compute the same per-timestep term
/// L_{t−1} (docs/math.md#per-timestep-bound-term) when given the same x_0, ε and t.
final class DDPMBoundTermTests: XCTestCase {
    /// Every variance kind × both schedules × clipping on and off × every likelihood kind, with a
    /// randomly initialized denoiser (so ε̂ and v are far from trivial and x̂_0 leaves [−1, 1] at
    /// large t), two examples per t = 1…T, so t = 1 (the decoder term L_0) and t = T are covered.
    ///
    /// Tolerance: the training path rounds x_t, x̂_0, μ_θ, log σ_t² and each term to Float32
    /// (relative 6e-8 each); x̂_0 amplifies the rounding of x_t and ε̂ by √(1/ᾱ_t) ≤ 10³ here,
    /// which μ_θ then scales back by c₁ ≤ 1. A few such roundings through a KL of the size seen
    /// here stay below 1e-5 relative; 1e-4 · (1 + |L|) leaves a factor of ten, while an
    /// off-by-one in t, a sign or a missing clip changes a term by order one.
    func testTrainingBoundTerms_equalELBOTermsTermByTerm_forEveryVarianceScheduleClipAndLikelihood() throws {
        let steps = 10
        let likelihoods: [(Likelihood, Int)] = [(.continuous, 3), (.binary, 4), (.discrete(levels: 17), 3)]
        var worst = 0.0
        for (likelihood, dimension) in likelihoods {
            for variance in ReverseVariance.allCases {
                for schedule in NoiseSchedule.allCases {
                    for clip in [true, false] {
                        var configuration = DDPMConfiguration(dataDimension: dimension, likelihood: likelihood)
                        configuration.timestepCount = steps
                        configuration.schedule = schedule
                        configuration.variance = variance
                        configuration.loss = .vlb
                        configuration.clipPredictedStart = clip
                        configuration.hiddenSizes = [16]
                        configuration.embeddingDimension = 8
                        var generator = RandomGenerator(seed: 5)
                        let model = try DDPM(configuration: configuration, using: &generator)
                        let label = "\(likelihood.name) \(variance.rawValue) \(schedule.rawValue) clip \(clip)"

                        let batch = 2 * steps
                        let timesteps = (0..<batch).map { 1 + $0 / 2 }
                        let data: [Float] = (0..<(batch * dimension)).map { _ in
                            switch likelihood {
                            case .continuous: return Float(1.5 * generator.nextNormal())
                            case .binary: return Float(generator.nextInt(below: 2))
                            case .discrete(let levels): return Float(-1 + 2 * Double(generator.nextInt(below: levels)) / Double(levels - 1))
                            }
                        }
                        let x = Tensor(shape: [batch, dimension], storage: data)
                        worst = max(worst, assertTrainingTermsEqualELBO(model, x: x, timesteps: timesteps, using: &generator, label: label))
                    }
                }
            }
        }
        print("largest relative difference between the training and evaluation terms: \(worst)")
    }
}
