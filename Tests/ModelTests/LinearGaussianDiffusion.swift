import Core
import DDPMModel
import NN
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Independent closed forms for a continuous-time DDPM on Gaussian data x_d ~ N(m_d, s_d²)
/// (independent dimensions, Gaussian decoder) whose denoiser is the linear
///
///   ε̂(z, γ) = c σ (z − α m) / (α² s² + σ²)   (c = 1: E[ε | z], the best one),
///
/// a function of (z, γ) alone. Every ELBO term is then a Gaussian expectation, written here from
/// α² = 1/(1 + e^γ) and σ² = 1/(1 + e^{−γ}) and the Gaussian KL of the posterior against the
/// reverse step — sharing no formula with the model beyond the schedule's γ(t).
struct LinearGaussianDiffusion {
    let means: [Double]
    let variances: [Double]
    /// c.
    let shrink: Double

    static func alphaSquared(_ gamma: Double) -> Double { 1 / (1 + exp(gamma)) }
    static func sigmaSquared(_ gamma: Double) -> Double { 1 / (1 + exp(-gamma)) }

    /// k(γ): ε̂ = k (z − α m) in dimension d.
    func gain(_ gamma: Double, dimension d: Int) -> Double {
        let a2 = Self.alphaSquared(gamma), s2 = Self.sigmaSquared(gamma)
        return shrink * s2.squareRoot() / (a2 * variances[d] + s2)
    }

    /// E‖ε − ε̂(z_γ)‖² over x and ε: Σ_d (1 − kσ)² + k² α² s_d².
    func expectedSquaredError(_ gamma: Double) -> Double {
        let a2 = Self.alphaSquared(gamma), s2 = Self.sigmaSquared(gamma)
        var total = 0.0
        for d in means.indices {
            let k = gain(gamma, dimension: d)
            total += (1 - k * s2.squareRoot()) * (1 - k * s2.squareRoot()) + k * k * a2 * variances[d]
        }
        return total
    }

    /// E log p(x | z_0) with mean z_0/α_0 = x + e^{γ_0/2} ε₀ and variance e^{γ_0}: −½ log 2π − γ_0/2 − ½ per dimension.
    func expectedReconstruction(start gamma0: Double) -> Double {
        Double(means.count) * (-0.5 * log(2 * Double.pi) - 0.5 * gamma0 - 0.5)
    }

    /// E KL(N(α_1 x, σ_1²) ‖ N(0, 1)) = ½ Σ_d (σ_1² + α_1² (m_d² + s_d²) − log σ_1² − 1).
    func expectedPriorKL(end gamma1: Double) -> Double {
        let a2 = Self.alphaSquared(gamma1), s2 = Self.sigmaSquared(gamma1)
        return means.indices.reduce(0) { $0 + 0.5 * (s2 + a2 * (means[$1] * means[$1] + variances[$1]) - log(s2) - 1) }
    }

    /// The step KL's coefficient of E‖ε − ε̂‖², from the Gaussians themselves: q(z_s | z_t, x) has
    /// variance σ²_{t|s} σ_s²/σ_t² and a mean whose x-coefficient is α_s σ²_{t|s}/σ_t²; p puts x̂ in
    /// place of x, and x − x̂ = (σ_t/α_t)(ε̂ − ε). So KL = (α_s σ²_{t|s}/σ_t²)² (σ_t²/α_t²) ‖ε − ε̂‖² / (2 σ²_{t|s} σ_s²/σ_t²).
    static func stepCoefficient(from gammaS: Double, to gammaT: Double) -> Double {
        let as2 = alphaSquared(gammaS), ss2 = sigmaSquared(gammaS), at2 = alphaSquared(gammaT), st2 = sigmaSquared(gammaT)
        let transitionVariance = st2 - at2 / as2 * ss2
        let meanCoefficient = as2.squareRoot() * transitionVariance / st2
        let posteriorVariance = transitionVariance * ss2 / st2
        return meanCoefficient * meanCoefficient * (st2 / at2) / (2 * posteriorVariance)
    }

    /// E ELBO_T of the model read on T steps of `gamma` (γ(i/T), i = 0…T).
    func expectedDiscreteELBO(grid gamma: [Double]) -> Double {
        var elbo = expectedReconstruction(start: gamma[0]) - expectedPriorKL(end: gamma[gamma.count - 1])
        for j in 1..<gamma.count { elbo -= Self.stepCoefficient(from: gamma[j - 1], to: gamma[j]) * expectedSquaredError(gamma[j]) }
        return elbo
    }

    /// E ELBO_∞ = reconstruction − prior − ½ ∫_{γ_0}^{γ_1} E‖ε − ε̂(z_γ)‖² dγ: the time integral
    /// ½ ∫ γ'(t) E(γ(t)) dt changed to γ, which is why only the end points matter (Simpson's
    /// rule on 20 000 intervals).
    func expectedContinuousELBO(start gamma0: Double, end gamma1: Double) -> Double {
        let intervals = 20000
        let h = (gamma1 - gamma0) / Double(intervals)
        var integral = expectedSquaredError(gamma0) + expectedSquaredError(gamma1)
        for i in 1..<intervals { integral += (i % 2 == 1 ? 4 : 2) * expectedSquaredError(gamma0 + Double(i) * h) }
        integral *= h / 3
        return expectedReconstruction(start: gamma0) - expectedPriorKL(end: gamma1) - 0.5 * integral
    }

    /// n draws of the data, [n][D].
    func data(_ count: Int, seed: UInt64) -> [[Double]] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in means.indices.map { means[$0] + variances[$0].squareRoot() * generator.nextNormal() } }
    }
}

/// The linear denoiser of ``LinearGaussianDiffusion`` as a network, in tensor operations so
/// that gradients reach γ (and z) through it.
final class LinearGaussianDenoiser: LogSNRDenoisingNetwork {
    let oracle: LinearGaussianDiffusion

    init(_ oracle: LinearGaussianDiffusion) { self.oracle = oracle }

    func denoise(_ zt: Tensor, negativeLogSNR gamma: Tensor) -> Tensor {
        let alphaSquared = (-gamma).sigmoid(), sigmaSquared = gamma.sigmoid()
        let means = Tensor(shape: [1, oracle.means.count], storage: oracle.means.map(Float.init))
        let variances = Tensor(shape: [1, oracle.variances.count], storage: oracle.variances.map(Float.init))
        let gain = sigmaSquared.squareRoot() * Float(oracle.shrink) / (alphaSquared * variances + sigmaSquared)
        return gain * (zt - alphaSquared.squareRoot() * means)
    }

    func denoise(_ xt: Tensor, embedding: Tensor) -> Tensor { preconditionFailure("the linear denoiser reads γ") }
}
