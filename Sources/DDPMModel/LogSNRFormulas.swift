#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The variance-preserving diffusion written in γ = −log SNR, in Double: the formulas every
/// continuous-time DDPM term is built from (docs/math.md#continuous-time-elbo). With
/// z_t = α_t x + σ_t ε and α_t² + σ_t² = 1:
///
///   α_t² = sigmoid(−γ_t),  σ_t² = sigmoid(γ_t),  SNR(t) = α_t²/σ_t² = e^{−γ_t}.
///
/// Differences of nearby γ go through expm1, so that the terms of a fine grid (T = 10⁵) keep
/// their digits.
public enum LogSNRFormulas {
    /// softplus(x) = log(1 + eˣ), without overflow.
    @inline(__always)
    public static func softplus(_ x: Double) -> Double { Swift.max(x, 0) + log1p(exp(-abs(x))) }

    /// log α² = −softplus(γ).
    @inline(__always)
    public static func logAlphaSquared(_ gamma: Double) -> Double { -softplus(gamma) }

    /// log σ² = −softplus(−γ).
    @inline(__always)
    public static func logSigmaSquared(_ gamma: Double) -> Double { -softplus(-gamma) }

    /// α = √sigmoid(−γ).
    @inline(__always)
    public static func alpha(_ gamma: Double) -> Double { exp(0.5 * logAlphaSquared(gamma)) }

    /// σ = √sigmoid(γ).
    @inline(__always)
    public static func sigma(_ gamma: Double) -> Double { exp(0.5 * logSigmaSquared(gamma)) }

    /// q(z_t | z_s) = N(α_{t|s} z_s, σ²_{t|s}) for s < t: α_{t|s} = α_t/α_s and
    /// σ²_{t|s} = σ_t² − α²_{t|s} σ_s² = −expm1(γ_s − γ_t) σ_t². Returns (α_{t|s}, log σ²_{t|s}).
    @inline(__always)
    public static func transition(from gammaS: Double, to gammaT: Double) -> (scale: Double, logVariance: Double) {
        (exp(0.5 * (logAlphaSquared(gammaT) - logAlphaSquared(gammaS))), log(-expm1(gammaS - gammaT)) + logSigmaSquared(gammaT))
    }

    /// p(z_s | z_t) = q(z_s | z_t, x = x̂) with x̂ = (z_t − σ_t ε̂)/α_t:
    ///   mean = (α_s/α_t)(z_t − σ_t c ε̂),  variance = σ_s² c,  c = −expm1(γ_s − γ_t).
    /// Returns (mean, log variance) for one element.
    @inline(__always)
    public static func reverseStep(zt: Double, epsilon: Double, from gammaT: Double, to gammaS: Double) -> (mean: Double, logVariance: Double) {
        let c = -expm1(gammaS - gammaT)
        let ratio = exp(0.5 * (logAlphaSquared(gammaS) - logAlphaSquared(gammaT)))
        return (ratio * (zt - sigma(gammaT) * c * epsilon), logSigmaSquared(gammaS) + log(c))
    }

    /// The coefficient of ‖ε − ε̂‖² in KL(q(z_s | z_t, x) ‖ p(z_s | z_t)) when z_t = α_t x + σ_t ε:
    /// ½ (SNR(s) − SNR(t)) σ_t²/α_t² = ½ expm1(γ_t − γ_s).
    @inline(__always)
    public static func stepKLCoefficient(from gammaS: Double, to gammaT: Double) -> Double { 0.5 * expm1(gammaT - gammaS) }
}
