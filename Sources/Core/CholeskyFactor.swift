#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The Cholesky factor L of a symmetric positive-definite matrix A = L Lᵀ (L lower triangular
/// with a positive diagonal), in Double, with the solves a Gaussian density needs:
/// log det A = 2 Σ_i log L_ii, L⁻¹ v (forward substitution) and A⁻¹ v = L⁻ᵀ (L⁻¹ v).
///
/// Used by ``GaussianMixture`` and ``NoisedMixture`` for full covariances
/// (docs/math.md#oracle-denoiser). O(D³) to factor, O(D²) per solve.
public struct CholeskyFactor: Sendable, Equatable {
    /// D.
    public let size: Int
    /// L row-major, [D, D]; entries above the diagonal are 0.
    public let lower: [Double]

    /// Factors `matrix` ([D][D], read only on and below the diagonal; the caller checks symmetry)
    /// by Cholesky–Banachiewicz, or returns `nil` when a pivot is not positive and finite: the
    /// matrix is then not positive definite (to working precision).
    public init?(_ matrix: [[Double]]) {
        let size = matrix.count
        var lower = [Double](repeating: 0, count: size * size)
        for i in 0..<size {
            for j in 0...i {
                var sum = matrix[i][j]
                for k in 0..<j { sum -= lower[i * size + k] * lower[j * size + k] }
                if i == j {
                    guard sum > 0, sum.isFinite else { return nil }
                    lower[i * size + i] = sum.squareRoot()
                } else {
                    lower[i * size + j] = sum / lower[j * size + j]
                }
            }
        }
        self.size = size
        self.lower = lower
    }

    /// log det A = 2 Σ_i log L_ii.
    public var logDeterminant: Double {
        var total = 0.0
        for i in 0..<size { total += 2 * log(lower[i * size + i]) }
        return total
    }

    /// y = L⁻¹ v (forward substitution), [D].
    public func solveLower(_ vector: [Double]) -> [Double] {
        var solved = [Double](repeating: 0, count: size)
        for i in 0..<size {
            var value = vector[i]
            for k in 0..<i { value -= lower[i * size + k] * solved[k] }
            solved[i] = value / lower[i * size + i]
        }
        return solved
    }

    /// x = L⁻ᵀ y (back substitution), [D].
    public func solveUpper(_ vector: [Double]) -> [Double] {
        var solved = [Double](repeating: 0, count: size)
        for i in stride(from: size - 1, through: 0, by: -1) {
            var value = vector[i]
            for k in (i + 1)..<size { value -= lower[k * size + i] * solved[k] }
            solved[i] = value / lower[i * size + i]
        }
        return solved
    }

    /// A⁻¹ v = L⁻ᵀ L⁻¹ v, [D].
    public func solve(_ vector: [Double]) -> [Double] { solveUpper(solveLower(vector)) }
}
