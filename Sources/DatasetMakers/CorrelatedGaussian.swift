import Core
import Foundation

/// `gaussian`: q(x) = N(x; μ, Σ) in D dimensions with a non-diagonal Σ — the closed-form
/// oracle case of the design (§1).
///
/// μ_i = 0.5 · (−1)^i,  s_i = 1 for even i and 0.5 for odd i,  Σ_ij = s_i s_j ρ^|i−j| with ρ = 0.8
/// (an AR(1) correlation scaled per coordinate; for D = 2, Σ = [[1, 0.4], [0.4, 0.25]]).
///
/// With Σ = L Lᵀ (Cholesky), sampling is x = μ + L ε with ε ~ N(0, I) drawn two per
/// Box–Muller pair, and
///
///     log q(x) = −½ [ D log 2π + log det Σ + (x − μ)ᵀ Σ⁻¹ (x − μ) ],
///     log det Σ = 2 Σ_i log L_ii,  (x − μ)ᵀ Σ⁻¹ (x − μ) = |L⁻¹ (x − μ)|².
public struct CorrelatedGaussian: ToyDistribution {
    public let dimension: Int
    public let correlation = 0.8
    /// μ.
    public let mean: [Double]
    /// Σ, [D][D].
    public let covariance: [[Double]]
    /// L with Σ = L Lᵀ, lower triangular, [D][D].
    public let choleskyFactor: [[Double]]

    public init(dimension: Int = 2) {
        precondition(dimension >= 1, "dimension must be positive")
        self.dimension = dimension
        let scales = (0..<dimension).map { $0 % 2 == 0 ? 1.0 : 0.5 }
        mean = (0..<dimension).map { $0 % 2 == 0 ? 0.5 : -0.5 }
        let correlation = 0.8
        covariance = (0..<dimension).map { i in
            (0..<dimension).map { j in scales[i] * scales[j] * pow(correlation, Double(abs(i - j))) }
        }
        choleskyFactor = Self.cholesky(covariance)
    }

    /// The same density as a one-component ``GaussianMixture`` with a full covariance (for the
    /// oracle denoiser, docs/math.md#oracle-denoiser). Refused above
    /// ``GaussianMixture/maximumFullCovarianceDimension`` dimensions.
    public var mixture: GaussianMixture {
        get throws { try GaussianMixture(mean: mean, covariance: covariance) }
    }

    /// Σ = L Lᵀ for a symmetric positive-definite Σ (Cholesky–Banachiewicz).
    static func cholesky(_ matrix: [[Double]]) -> [[Double]] {
        let size = matrix.count
        var factor = [[Double]](repeating: [Double](repeating: 0, count: size), count: size)
        for i in 0..<size {
            for j in 0...i {
                var sum = matrix[i][j]
                for k in 0..<j { sum -= factor[i][k] * factor[j][k] }
                factor[i][j] = i == j ? sum.squareRoot() : sum / factor[j][j]
            }
        }
        return factor
    }

    public func sample(using generator: inout RandomGenerator) -> [Double] {
        let noise = generator.normals(dimension)
        return (0..<dimension).map { i in
            var value = mean[i]
            for k in 0...i { value += choleskyFactor[i][k] * noise[k] }
            return value
        }
    }

    public func logDensity(_ point: [Double]) -> Double? {
        // Forward substitution: y = L⁻¹ (x − μ).
        var solved = [Double](repeating: 0, count: dimension)
        var logDeterminant = 0.0
        for i in 0..<dimension {
            var value = point[i] - mean[i]
            for k in 0..<i { value -= choleskyFactor[i][k] * solved[k] }
            solved[i] = value / choleskyFactor[i][i]
            logDeterminant += 2 * log(choleskyFactor[i][i])
        }
        let mahalanobis = solved.reduce(0) { $0 + $1 * $1 }
        return -0.5 * (Double(dimension) * log(2 * Double.pi) + logDeterminant + mahalanobis)
    }

    public var density: DensityDescription? {
        DensityDescription(
            family: "gaussian",
            formula: "q(x) = N(x; mean, covariance); log q(x) = -0.5 * (D*log(2*pi) + log det(covariance) + (x - mean)^T covariance^-1 (x - mean))",
            parameters: [
                DensityParameter(name: "mean", shape: [dimension], values: mean),
                DensityParameter(name: "covariance", shape: [dimension, dimension], values: covariance.flatMap { $0 }),
            ])
    }

    public var settings: [String: Double] { ["correlation": correlation] }
}
