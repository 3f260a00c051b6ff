#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Scalar Gaussian formulas in Double, shared by the tensor distributions (as the forward and
/// vector–Jacobian products of their custom operations) and by every estimator that works
/// in Double. One place for each formula.
public enum GaussianFormulas {
    public static let logTwoPi = log(2 * Double.pi)

    /// log N(x; μ, σ²) = −½ [log 2π + log σ² + (x − μ)² / σ²], with `logVariance` = log σ².
    @inline(__always)
    public static func logDensity(_ x: Double, mean: Double, logVariance: Double) -> Double {
        let d = x - mean
        return -0.5 * (logTwoPi + logVariance + d * d * exp(-logVariance))
    }

    /// Partial derivatives of ``logDensity(_:mean:logVariance:)``: (∂/∂x, ∂/∂μ, ∂/∂log σ²).
    @inline(__always)
    public static func logDensityGradient(_ x: Double, mean: Double, logVariance: Double) -> (x: Double, mean: Double, logVariance: Double) {
        let precision = exp(-logVariance)
        let d = x - mean
        return (-d * precision, d * precision, -0.5 * (1 - d * d * precision))
    }

    /// KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) = ½ [log σ₂² − log σ₁² + (σ₁² + (μ₁ − μ₂)²) / σ₂² − 1].
    @inline(__always)
    public static func kl(mean1: Double, logVariance1: Double, mean2: Double, logVariance2: Double) -> Double {
        let d = mean1 - mean2
        return 0.5 * (logVariance2 - logVariance1 + (exp(logVariance1) + d * d) * precision(logVariance: logVariance2) - 1)
    }

    /// 1 / σ² = exp(−log σ²), without the call when log σ² = 0 (a standard prior), where it is
    /// exactly 1 either way.
    @inline(__always)
    static func precision(logVariance: Double) -> Double { logVariance == 0 ? 1 : exp(-logVariance) }

    /// Partial derivatives of ``kl(mean1:logVariance1:mean2:logVariance2:)`` in argument order.
    @inline(__always)
    public static func klGradient(mean1: Double, logVariance1: Double, mean2: Double, logVariance2: Double)
        -> (mean1: Double, logVariance1: Double, mean2: Double, logVariance2: Double) {
        let precision2 = precision(logVariance: logVariance2)
        let d = mean1 - mean2
        let v1 = exp(logVariance1)
        return (d * precision2, 0.5 * (v1 * precision2 - 1), -d * precision2, 0.5 * (1 - (v1 + d * d) * precision2))
    }

    /// log φ(z), the standard normal log-density.
    @inline(__always)
    public static func logStandardDensity(_ z: Double) -> Double { -0.5 * (logTwoPi + z * z) }

    /// log Φ(z), finite for every finite z: through erfc where it is representable, and the
    /// asymptotic series log φ(z) − log(−z) + log(1 − 1/z² + 3/z⁴ − 15/z⁶) far in the lower tail.
    public static func logStandardCDF(_ z: Double) -> Double {
        if z == .infinity { return 0 }
        if z == -.infinity { return -.infinity }
        if z >= 0 { return log1p(-0.5 * erfc(z / 2.0.squareRoot())) }
        if z > -37 { return log(0.5 * erfc(-z / 2.0.squareRoot())) }
        let r = 1 / (z * z)
        return logStandardDensity(z) - log(-z) + log1p(-r + 3 * r * r - 15 * r * r * r)
    }

    /// log(e^u − e^v) for u ≥ v, accurate when v is close to u.
    @inline(__always)
    public static func logDifference(_ u: Double, _ v: Double) -> Double {
        if v == -.infinity { return u }
        return u + log(-expm1(v - u))
    }

    /// log [Φ(upper) − Φ(lower)] for lower < upper (either may be infinite), computed on the
    /// side of zero where the two CDF values are not both close to 1.
    public static func logStandardIntervalProbability(lower: Double, upper: Double) -> Double {
        if lower >= 0 {
            // Φ(b) − Φ(a) = Φ(−a) − Φ(−b): both small, no cancellation against 1.
            return logDifference(logStandardCDF(-lower), logStandardCDF(-upper))
        }
        return logDifference(logStandardCDF(upper), logStandardCDF(lower))
    }

    // MARK: - Diagonal Gaussians given by their variances

    /// log N(z; μ, diag v) = −½ Σ_d [log(2π v_d) + (z_d − μ_d)² / v_d], for a whole vector, with the
    /// variance v itself (not its log): the form lesson 3's information bounds are computed in
    /// (docs/math.md#mutual-information-bounds).
    public static func logDensity(_ z: [Double], mean: [Double], variance: [Double]) -> Double {
        var total = 0.0
        for d in z.indices {
            let r = z[d] - mean[d]
            total += -0.5 * (log(2 * Double.pi * variance[d]) + r * r / variance[d])
        }
        return total
    }

    /// KL(N(μ, diag v) ‖ N(0, I)) = ½ Σ_d [v_d + μ_d² − 1 − log v_d], with the variance itself.
    public static func klToStandardNormal(mean: [Double], variance: [Double]) -> Double {
        precondition(mean.count == variance.count, "one variance per mean")
        var total = 0.0
        for d in mean.indices { total += 0.5 * (variance[d] + mean[d] * mean[d] - 1 - log(variance[d])) }
        return total
    }
}
