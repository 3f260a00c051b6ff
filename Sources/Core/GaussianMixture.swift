/// A data density that is a mixture of Gaussians, q(x_0) = Σ_k π_k N(x_0; μ_k, Σ_k) on ℝ^D,
/// with each Σ_k either isotropic (σ_k² I, the `gmm2d` ring) or full (the `gaussian` dataset,
/// K = 1). Under the diffusion's forward process q(x_t) stays a mixture in closed form, which
/// ``noised(alphaBar:)`` returns: the exact score and the Bayes-optimal noise prediction of the
/// oracle denoiser come from it (docs/math.md#oracle-denoiser).
///
/// Shapes: ``weights`` [K], ``means`` [K][D], ``covariances`` [K]. The initializers refuse
/// parameters that are not a density, with one line saying which.
public struct GaussianMixture: Sendable, Equatable {
    /// Σ_k of one component.
    public enum Covariance: Sendable, Equatable {
        /// σ² I, with σ² > 0: no D × D matrix is stored or factored (the fast path).
        case isotropic(variance: Double)
        /// A symmetric positive-definite [D][D] matrix.
        case full([[Double]])
    }

    /// Why parameters do not make a mixture density: one line.
    public struct InvalidParameters: Error, CustomStringConvertible, Sendable, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// The largest D accepted with a full covariance: each noised component is factored in
    /// O(D³) and held in D² Doubles, per timestep.
    public static let maximumFullCovarianceDimension = 512

    /// π_k ≥ 0, summing to 1, [K].
    public let weights: [Double]
    /// μ_k, [K][D].
    public let means: [[Double]]
    /// Σ_k, [K].
    public let covariances: [Covariance]

    /// K.
    public var componentCount: Int { weights.count }
    /// D.
    public var dimension: Int { means[0].count }

    /// Checks and stores the parameters: K ≥ 1 components of one D ≥ 1; finite means; weights
    /// ≥ 0 with |Σ π_k − 1| ≤ 1e-9; isotropic variances positive and finite; full covariances
    /// D × D with D ≤ ``maximumFullCovarianceDimension``, symmetric (to 1e-12 relative) and positive
    /// definite (their Cholesky factorization succeeds).
    public init(weights: [Double], means: [[Double]], covariances: [Covariance]) throws {
        func fail(_ message: String) -> InvalidParameters { InvalidParameters("Gaussian mixture: " + message) }
        let count = weights.count
        guard count >= 1 else { throw fail("no components") }
        guard means.count == count, covariances.count == count else {
            throw fail("\(count) weights but \(means.count) means and \(covariances.count) covariances")
        }
        let dimension = means[0].count
        guard dimension >= 1 else { throw fail("the means have no coordinates") }
        for (k, mean) in means.enumerated() {
            guard mean.count == dimension else { throw fail("mean \(k) has \(mean.count) coordinates, mean 0 has \(dimension)") }
            guard mean.allSatisfy(\.isFinite) else { throw fail("mean \(k) is not finite") }
        }
        guard weights.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw fail("weights must be finite and non-negative, got \(weights)") }
        let total = weights.reduce(0, +)
        guard abs(total - 1) <= 1e-9 else { throw fail("weights sum to \(total), not 1") }
        for (k, covariance) in covariances.enumerated() {
            switch covariance {
            case .isotropic(let variance):
                guard variance > 0, variance.isFinite else { throw fail("component \(k) has variance \(variance); expected positive and finite") }
            case .full(let matrix):
                guard dimension <= Self.maximumFullCovarianceDimension else {
                    throw fail("a full covariance in \(dimension) dimensions is too large (at most \(Self.maximumFullCovarianceDimension))")
                }
                guard matrix.count == dimension, matrix.allSatisfy({ $0.count == dimension }) else {
                    throw fail("covariance \(k) is not \(dimension) × \(dimension)")
                }
                let scale = matrix.enumerated().map { abs($0.element[$0.offset]) }.max() ?? 0
                for i in 0..<dimension {
                    for j in 0..<i where !(abs(matrix[i][j] - matrix[j][i]) <= 1e-12 * scale) {
                        throw fail("covariance \(k) is not symmetric at (\(i), \(j))")
                    }
                }
                guard CholeskyFactor(matrix) != nil else { throw fail("covariance \(k) is not positive definite") }
            }
        }
        self.weights = weights
        self.means = means
        self.covariances = covariances
    }

    /// Components σ_k² I: `means` [K][D], `standardDeviations` [K] (σ_k > 0), `weights` [K].
    public init(means: [[Double]], standardDeviations: [Double], weights: [Double]) throws {
        guard standardDeviations.count == means.count else {
            throw InvalidParameters("Gaussian mixture: \(means.count) means but \(standardDeviations.count) standard deviations")
        }
        // σ_k itself must be positive: its square would hide a negative one.
        if let k = standardDeviations.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
            throw InvalidParameters("Gaussian mixture: component \(k) has standard deviation \(standardDeviations[k]); expected positive and finite")
        }
        try self.init(weights: weights, means: means, covariances: standardDeviations.map { .isotropic(variance: $0 * $0) })
    }

    /// One Gaussian N(μ, Σ): K = 1 with a full covariance, `mean` [D], `covariance` [D][D].
    public init(mean: [Double], covariance: [[Double]]) throws {
        try self.init(weights: [1], means: [mean], covariances: [.full(covariance)])
    }

    /// log q(x_0) = logsumexp_k [log π_k + log N(x_0; μ_k, Σ_k)] at `point` [D]. Factors every
    /// full covariance on each call: for many points, keep `noised(alphaBar: 1)` and ask it.
    public func logDensity(_ point: [Double]) -> Double { noised(alphaBar: 1).logDensity(point) }

    /// q(x_t) for x_t = √ᾱ x_0 + √(1 − ᾱ) ε: the mixture Σ_k π_k N(√ᾱ μ_k, ᾱ Σ_k + (1 − ᾱ) I), with
    /// what the oracle denoiser reads from it. `alphaBar` ᾱ ∈ [0, 1]; ᾱ = 1 is q(x_0) itself.
    public func noised(alphaBar: Double) -> NoisedMixture { NoisedMixture(mixture: self, alphaBar: alphaBar) }
}
