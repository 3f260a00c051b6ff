import NN

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// How β_t grows with t.
public enum NoiseSchedule: String, Codable, Sendable, CaseIterable {
    /// Ho et al. (2020): β linear from 1e-4 to 0.02 at T = 1000; for other T both ends are
    /// scaled by 1000/T as in improved-diffusion, so the total noise stays comparable.
    case linear
    /// Nichol & Dhariwal (2021): ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008,
    /// β_t = min(1 − ᾱ_t/ᾱ_{t−1}, 0.999).
    case cosine

    /// β_1 … β_T.
    public func betas(timestepCount: Int) -> [Double] {
        switch self {
        case .linear:
            let scale = 1000 / Double(timestepCount)
            let start = scale * 1e-4, end = scale * 0.02
            if timestepCount == 1 { return [Swift.min(start, 0.999)] }
            return (0..<timestepCount).map { i in
                Swift.min(start + (end - start) * Double(i) / Double(timestepCount - 1), 0.999)
            }
        case .cosine:
            let s = 0.008
            func f(_ t: Double) -> Double {
                let angle = ((t / Double(timestepCount)) + s) / (1 + s) * Double.pi / 2
                return cos(angle) * cos(angle)
            }
            return (1...timestepCount).map { t in Swift.min(1 - f(Double(t)) / f(Double(t - 1)), 0.999) }
        }
    }
}

/// The reverse-process variance σ_t² of p_θ(x_{t−1} | x_t).
public enum ReverseVariance: String, Codable, Sendable, CaseIterable {
    /// σ_t² = β_t (Ho et al.); at t = 1, β̃_2 as in improved-diffusion.
    case fixedLarge = "fixed-large"
    /// σ_t² = β̃_t (Ho et al.); at t = 1, where β̃_1 = 0, β̃_2.
    case fixedSmall = "fixed-small"
    /// log σ_t² = v log β_t + (1 − v) log β̃_t, v = (network output + 1)/2 (Nichol & Dhariwal).
    case learnedRange = "learned-range"
}

/// The forward (noising) process of a DDPM and its closed-form posteriors: constants in
/// Double named by their formula, no parameters, no network. Indices are the paper's
/// t = 1…T; arrays hold entry t at position t − 1.
///
/// - q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t I)
/// - q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I)
/// - q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I),
///   μ̃_t = [√ᾱ_{t−1} β_t / (1 − ᾱ_t)] x_0 + [√α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)] x_t,
///   β̃_t = (1 − ᾱ_{t−1}) β_t / (1 − ᾱ_t).
public struct GaussianDiffusion: Sendable, Equatable {
    public let timestepCount: Int
    public let schedule: NoiseSchedule
    /// β_t.
    public let betas: [Double]
    /// α_t = 1 − β_t.
    public let alphas: [Double]
    /// ᾱ_t = Π_{s ≤ t} α_s.
    public let alphasCumprod: [Double]
    /// ᾱ_{t−1}, with ᾱ_0 = 1.
    public let alphasCumprodPrevious: [Double]
    /// √ᾱ_t.
    public let sqrtAlphasCumprod: [Double]
    /// √(1 − ᾱ_t).
    public let sqrtOneMinusAlphasCumprod: [Double]
    /// √(1/ᾱ_t), to recover x̂_0 from x_t and ε.
    public let sqrtRecipAlphasCumprod: [Double]
    /// √(1/ᾱ_t − 1).
    public let sqrtRecipMinusOneAlphasCumprod: [Double]
    /// β̃_t = (1 − ᾱ_{t−1}) β_t / (1 − ᾱ_t); β̃_1 = 0.
    public let posteriorVariance: [Double]
    /// log β̃_t with β̃_1 replaced by β̃_2 (β_1 when T = 1), as improved-diffusion clips it.
    public let posteriorLogVarianceClipped: [Double]
    /// √ᾱ_{t−1} β_t / (1 − ᾱ_t): the coefficient of x_0 in μ̃_t.
    public let posteriorMeanCoefficient1: [Double]
    /// √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t): the coefficient of x_t in μ̃_t.
    public let posteriorMeanCoefficient2: [Double]

    public init(schedule: NoiseSchedule, timestepCount: Int) {
        precondition(timestepCount >= 1, "a diffusion needs at least one step")
        self.timestepCount = timestepCount
        self.schedule = schedule
        betas = schedule.betas(timestepCount: timestepCount)
        alphas = betas.map { 1 - $0 }
        var cumulative: [Double] = []
        var product = 1.0
        for a in alphas { product *= a; cumulative.append(product) }
        alphasCumprod = cumulative
        alphasCumprodPrevious = [1] + cumulative.dropLast()
        sqrtAlphasCumprod = cumulative.map { $0.squareRoot() }
        sqrtOneMinusAlphasCumprod = cumulative.map { (1 - $0).squareRoot() }
        sqrtRecipAlphasCumprod = cumulative.map { (1 / $0).squareRoot() }
        sqrtRecipMinusOneAlphasCumprod = cumulative.map { (1 / $0 - 1).squareRoot() }
        var variance: [Double] = []
        var coefficient1: [Double] = []
        var coefficient2: [Double] = []
        for i in 0..<timestepCount {
            let previous = i == 0 ? 1.0 : cumulative[i - 1]
            variance.append((1 - previous) * betas[i] / (1 - cumulative[i]))
            coefficient1.append(previous.squareRoot() * betas[i] / (1 - cumulative[i]))
            coefficient2.append(alphas[i].squareRoot() * (1 - previous) / (1 - cumulative[i]))
        }
        posteriorVariance = variance
        posteriorMeanCoefficient1 = coefficient1
        posteriorMeanCoefficient2 = coefficient2
        let firstLogVariance = timestepCount >= 2 ? log(variance[1]) : log(betas[0])
        posteriorLogVarianceClipped = [firstLogVariance] + variance.dropFirst().map { log($0) }
    }

    /// log σ_t² of the reverse step at t (1-based). `v` is the network's raw interpolation
    /// output, used only by `.learnedRange`.
    @inline(__always)
    public func reverseLogVariance(_ t: Int, _ variance: ReverseVariance, v: Double = 0) -> Double {
        switch variance {
        case .fixedSmall:
            return posteriorLogVarianceClipped[t - 1]
        case .fixedLarge:
            // improved-diffusion: log(append(β̃_2, β_2…β_T)).
            return t == 1 ? posteriorLogVarianceClipped[0] : log(betas[t - 1])
        case .learnedRange:
            let minimum = posteriorLogVarianceClipped[t - 1]
            let maximum = log(betas[t - 1])
            let fraction = (v + 1) / 2
            return fraction * maximum + (1 - fraction) * minimum
        }
    }

    /// x̂_0 = √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε̂ (ε-parameterization).
    @inline(__always)
    public func predictedStart(_ t: Int, xt: Double, epsilon: Double) -> Double {
        sqrtRecipAlphasCumprod[t - 1] * xt - sqrtRecipMinusOneAlphasCumprod[t - 1] * epsilon
    }

    /// μ̃_t(x_t, x_0): the mean of q(x_{t−1} | x_t, x_0). With x_0 = x̂_0(x_t, ε̂) it is the
    /// model's mean μ_θ(x_t, t) = (x_t − β_t/√(1−ᾱ_t) ε̂)/√α_t.
    @inline(__always)
    public func posteriorMean(_ t: Int, x0: Double, xt: Double) -> Double {
        posteriorMeanCoefficient1[t - 1] * x0 + posteriorMeanCoefficient2[t - 1] * xt
    }

    /// L_T per data dimension: KL(q(x_T | x_0) ‖ N(0, 1)) = ½ [−log(1 − ᾱ_T) + (1 − ᾱ_T) + ᾱ_T x_0² − 1].
    @inline(__always)
    public func priorKL(x0: Double) -> Double {
        let a = alphasCumprod[timestepCount - 1]
        return GaussianFormulas.kl(mean1: a.squareRoot() * x0, logVariance1: log(1 - a), mean2: 0, logVariance2: 0)
    }
}
