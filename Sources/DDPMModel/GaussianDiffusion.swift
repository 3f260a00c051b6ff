import Core
import NN

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The forward (noising) process of a DDPM and its closed-form posteriors: constants in
/// Double named by their formula, no parameters, no network. Indices are the paper's
/// t = 1…T; arrays hold entry t at position t − 1.
///
/// - q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t I)
/// - q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I)  (docs/math.md#diffusion-forward-process)
/// - q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I),  (docs/math.md#diffusion-posterior)
///   μ̃_t = [√ᾱ_{t−1} β_t / (1 − ᾱ_t)] x_0 + [√α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)] x_t,
///   β̃_t = (1 − ᾱ_{t−1}) β_t / (1 − ᾱ_t).
///
/// The formulas on x (``qSample(start:noise:at:)``, ``predictedStart(xt:epsilon:at:)``,
/// ``posteriorMean(start:xt:at:)``, ``reverseLogVariance(_:interpolation:at:)``) are written
/// once, generic over ``DiffusionOperand``: one element in Double for evaluation, a Float32
/// batch with one t per row for training. The schedules: docs/math.md#noise-schedules.
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
    /// log β_t: the upper end of the learned-range log-variance.
    public let logBetas: [Double]
    /// log σ_t² of the fixed-large reverse variance: log β_t, with log β̃_2 at t = 1 (β_1 when
    /// T = 1), as improved-diffusion's log(append(β̃_2, β_2…β_T)).
    public let largeReverseLogVariance: [Double]
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
        logBetas = betas.map { log($0) }
        largeReverseLogVariance = [firstLogVariance] + logBetas.dropFirst()
    }

    // MARK: - The formulas, written once (Double element or Float32 batch)

    /// x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε: a draw from q(x_t | x_0) (improved-diffusion's `q_sample`).
    /// Shapes: `start`, `noise` and the result alike ([batch, D] with one t per row, or one
    /// element). docs/math.md#diffusion-forward-process
    @inline(__always)
    func qSample<Operand: DiffusionOperand>(start: Operand, noise: Operand, at t: Operand.Timesteps) -> Operand {
        start * .perTimestep(sqrtAlphasCumprod, at: t) + noise * .perTimestep(sqrtOneMinusAlphasCumprod, at: t)
    }

    /// x̂_0 = √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε̂: q_sample solved for x_0 (ε-parameterization).
    /// docs/math.md#reverse-step
    @inline(__always)
    func predictedStart<Operand: DiffusionOperand>(xt: Operand, epsilon: Operand, at t: Operand.Timesteps) -> Operand {
        xt * .perTimestep(sqrtRecipAlphasCumprod, at: t) - epsilon * .perTimestep(sqrtRecipMinusOneAlphasCumprod, at: t)
    }

    /// μ̃_t(x_t, x_0) = c₁ x_0 + c₂ x_t, the mean of q(x_{t−1} | x_t, x_0), with c₁ =
    /// ``posteriorMeanCoefficient1`` and c₂ = ``posteriorMeanCoefficient2``. With x_0 = x̂_0 it
    /// is the model's mean μ_θ(x_t, t) = (x_t − β_t/√(1−ᾱ_t) ε̂)/√α_t. docs/math.md#diffusion-posterior
    @inline(__always)
    func posteriorMean<Operand: DiffusionOperand>(start: Operand, xt: Operand, at t: Operand.Timesteps) -> Operand {
        start * .perTimestep(posteriorMeanCoefficient1, at: t) + xt * .perTimestep(posteriorMeanCoefficient2, at: t)
    }

    /// log β̃_t of q(x_{t−1} | x_t, x_0), with β̃_2 standing in at t = 1
    /// (``posteriorLogVarianceClipped``). docs/math.md#diffusion-posterior
    @inline(__always)
    func posteriorLogVariance<Operand: DiffusionOperand>(at t: Operand.Timesteps) -> Operand {
        .perTimestep(posteriorLogVarianceClipped, at: t)
    }

    /// log σ_t² of p_θ(x_{t−1} | x_t): fixed-small log β̃_t, fixed-large log β_t (both with
    /// log β̃_2 at t = 1), or learned-range log σ_t² = f log β_t + (1 − f) log β̃_t with
    /// f = (v + 1)/2 from the network's `interpolation` output v (same shape as x).
    /// docs/math.md#reverse-step
    @inline(__always)
    func reverseLogVariance<Operand: DiffusionOperand>(_ variance: ReverseVariance, interpolation: Operand?,
                                                      at t: Operand.Timesteps) -> Operand {
        switch variance {
        case .fixedSmall:
            return .perTimestep(posteriorLogVarianceClipped, at: t)
        case .fixedLarge:
            return .perTimestep(largeReverseLogVariance, at: t)
        case .learnedRange:
            guard let interpolation else { preconditionFailure("learned-range needs the network's interpolation output v") }
            let minimum: Operand = .perTimestep(posteriorLogVarianceClipped, at: t)
            let maximum: Operand = .perTimestep(logBetas, at: t)
            let fraction = (interpolation + .constant(1)) * .constant(0.5)
            return fraction * maximum + (.constant(1) - fraction) * minimum
        }
    }

    // MARK: - The same on one Double element (public)

    /// log σ_t² of the reverse step at t (1-based). `v` is the network's raw interpolation
    /// output, used only by `.learnedRange`.
    @inline(__always)
    public func reverseLogVariance(_ t: Int, _ variance: ReverseVariance, v: Double = 0) -> Double {
        reverseLogVariance(variance, interpolation: v, at: t)
    }

    /// x̂_0 = √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε̂ (ε-parameterization).
    @inline(__always)
    public func predictedStart(_ t: Int, xt: Double, epsilon: Double) -> Double {
        predictedStart(xt: xt, epsilon: epsilon, at: t)
    }

    /// μ̃_t(x_t, x_0): the mean of q(x_{t−1} | x_t, x_0). With x_0 = x̂_0(x_t, ε̂) it is the
    /// model's mean μ_θ(x_t, t) = (x_t − β_t/√(1−ᾱ_t) ε̂)/√α_t.
    @inline(__always)
    public func posteriorMean(_ t: Int, x0: Double, xt: Double) -> Double {
        posteriorMean(start: x0, xt: xt, at: t)
    }

    /// L_T per data dimension: KL(q(x_T | x_0) ‖ N(0, 1)) = ½ [−log(1 − ᾱ_T) + (1 − ᾱ_T) + ᾱ_T x_0² − 1].
    @inline(__always)
    public func priorKL(x0: Double) -> Double {
        let a = alphasCumprod[timestepCount - 1]
        return GaussianFormulas.kl(mean1: a.squareRoot() * x0, logVariance1: log(1 - a), mean2: 0, logVariance2: 0)
    }
}
