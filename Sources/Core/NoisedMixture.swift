#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The marginal q(x_t) of a Gaussian-mixture density under the forward process
/// x_t = a x_0 + s ε, a = √ᾱ, s = √(1 − ᾱ), ε ~ N(0, I): again a mixture,
///
///     q(x_t) = Σ_k π_k N(x_t; a μ_k, C_k),   C_k = a² Σ_k + s² I,
///
/// and what follows from it in closed form (docs/math.md#oracle-denoiser), with
/// r_k(x_t) = π_k N(x_t; a μ_k, C_k) / q(x_t) and u_k = C_k⁻¹ (x_t − a μ_k):
///
///     ∇ log q(x_t)  = −Σ_k r_k u_k                                      (``score(_:)``)
///     E[ε | x_t]    = s Σ_k r_k u_k = −s ∇ log q(x_t)                   (``noisePrediction(_:)``)
///     E[x_0 | x_t]  = Σ_k r_k e_k,  e_k = μ_k + a Σ_k u_k                (``startMean(_:)``)
///     tr Cov(x_0 | x_t) = Σ_k r_k [tr(Σ_k − a² Σ_k C_k⁻¹ Σ_k) + |e_k − ē|²]   (``startCovarianceTrace(_:)``)
///     tr Cov(ε | x_t)   = (a²/s²) tr Cov(x_0 | x_t)                      (``noiseCovarianceTrace(_:)``)
///
/// Built by ``GaussianMixture/noised(alphaBar:)``; a full C_k is factored once here (its
/// Cholesky factor), an isotropic one is the scalar c_k = a² σ_k² + s². Every point is [D];
/// responsibilities are formed in log space (logsumexp), so far tails give r_k, not NaN.
public struct NoisedMixture: Sendable {
    /// One component of q(x_t), with the constants every point reuses.
    struct Component: Sendable {
        /// log π_k (−∞ for a zero weight).
        var logWeight: Double
        /// a μ_k, [D].
        var mean: [Double]
        /// C_k.
        var covariance: Covariance
        /// −½ (D log 2π + log det C_k).
        var logNormalizer: Double
        /// tr(Σ_k − a² Σ_k C_k⁻¹ Σ_k) = tr Cov(x_0 | x_t, k), a constant in x_t.
        var startCovarianceTrace: Double
    }

    enum Covariance: Sendable {
        /// C_k = c I with c = a² σ_k² + s²; σ_k² kept for Σ_k u_k.
        case isotropic(variance: Double, dataVariance: Double)
        /// C_k = L Lᵀ; Σ_k kept row-major [D, D] for Σ_k u_k.
        case full(CholeskyFactor, dataCovariance: [Double])
    }

    /// The data density it was made from.
    public let mixture: GaussianMixture
    /// ᾱ.
    public let alphaBar: Double
    /// a = √ᾱ.
    public let signalScale: Double
    /// s = √(1 − ᾱ).
    public let noiseScale: Double
    let components: [Component]

    /// q(x_t) at ᾱ ∈ [0, 1] (see ``GaussianMixture/noised(alphaBar:)``).
    public init(mixture: GaussianMixture, alphaBar: Double) {
        precondition(alphaBar >= 0 && alphaBar <= 1, "ᾱ must lie in [0, 1], got \(alphaBar)")
        self.mixture = mixture
        self.alphaBar = alphaBar
        let a = alphaBar.squareRoot(), noiseVariance = 1 - alphaBar
        signalScale = a
        noiseScale = noiseVariance.squareRoot()
        let dimension = mixture.dimension
        let logTwoPi = log(2 * Double.pi)
        components = mixture.covariances.indices.map { k in
            let mean = mixture.means[k].map { a * $0 }
            let logWeight = log(mixture.weights[k])
            switch mixture.covariances[k] {
            case .isotropic(let dataVariance):
                let c = alphaBar * dataVariance + noiseVariance
                // Per coordinate σ² − a²σ⁴/c = σ² s²/c.
                return Component(logWeight: logWeight, mean: mean, covariance: .isotropic(variance: c, dataVariance: dataVariance),
                                 logNormalizer: -0.5 * Double(dimension) * (logTwoPi + log(c)),
                                 startCovarianceTrace: Double(dimension) * dataVariance * noiseVariance / c)
            case .full(let sigma):
                var matrix = sigma.map { row in row.map { alphaBar * $0 } }
                for i in 0..<dimension { matrix[i][i] += noiseVariance }
                // The mixture's initializer checked Σ_k positive definite; a² Σ_k + s² I is then too.
                let factor = CholeskyFactor(matrix)!
                // tr(Σ C⁻¹ Σ) = ‖L⁻¹ Σ‖²_F, column by column (Σ is symmetric: its rows are its columns).
                var quadratic = 0.0
                for column in sigma { quadratic += factor.solveLower(column).reduce(0) { $0 + $1 * $1 } }
                let trace = (0..<dimension).reduce(0.0) { $0 + sigma[$1][$1] }
                return Component(logWeight: logWeight, mean: mean, covariance: .full(factor, dataCovariance: sigma.flatMap { $0 }),
                                 logNormalizer: -0.5 * (Double(dimension) * logTwoPi + factor.logDeterminant),
                                 startCovarianceTrace: trace - alphaBar * quadratic)
            }
        }
    }

    /// D.
    public var dimension: Int { mixture.dimension }

    /// Per component: log π_k + log N(x_t; a μ_k, C_k) and u_k = C_k⁻¹ (x_t − a μ_k) [D].
    func componentTerms(_ point: [Double]) -> (logTerms: [Double], precisionResiduals: [[Double]]) {
        precondition(point.count == dimension, "a point of q(x_t) has \(dimension) coordinates, got \(point.count)")
        var logTerms: [Double] = []
        var residuals: [[Double]] = []
        logTerms.reserveCapacity(components.count)
        residuals.reserveCapacity(components.count)
        for component in components {
            var residual = point
            for d in 0..<dimension { residual[d] -= component.mean[d] }
            switch component.covariance {
            case .isotropic(let c, _):
                let squared = residual.reduce(0) { $0 + $1 * $1 }
                logTerms.append(component.logWeight + component.logNormalizer - 0.5 * squared / c)
                residuals.append(residual.map { $0 / c })
            case .full(let factor, _):
                let whitened = factor.solveLower(residual)
                let squared = whitened.reduce(0) { $0 + $1 * $1 }
                logTerms.append(component.logWeight + component.logNormalizer - 0.5 * squared)
                residuals.append(factor.solveUpper(whitened))
            }
        }
        return (logTerms, residuals)
    }

    /// log Σ_k exp(ℓ_k) with the largest subtracted first.
    static func logSumExp(_ terms: [Double]) -> Double {
        let largest = terms.max() ?? -.infinity
        guard largest.isFinite else { return largest }
        return largest + log(terms.reduce(0) { $0 + exp($1 - largest) })
    }

    /// r_k = exp(ℓ_k − logsumexp ℓ).
    static func normalized(_ logTerms: [Double]) -> [Double] {
        let total = logSumExp(logTerms)
        return logTerms.map { exp($0 - total) }
    }

    /// log q(x_t) at `point` [D].
    public func logDensity(_ point: [Double]) -> Double { Self.logSumExp(componentTerms(point).logTerms) }

    /// r_k(x_t) = P(component k | x_t), [K], summing to 1.
    public func responsibilities(_ point: [Double]) -> [Double] { Self.normalized(componentTerms(point).logTerms) }

    /// Σ_k r_k u_k = −∇ log q(x_t), [D].
    func weightedPrecisionResidual(_ point: [Double]) -> [Double] {
        let (logTerms, residuals) = componentTerms(point)
        let weights = Self.normalized(logTerms)
        var result = [Double](repeating: 0, count: dimension)
        for k in weights.indices where weights[k] > 0 {
            for d in 0..<dimension { result[d] += weights[k] * residuals[k][d] }
        }
        return result
    }

    /// ∇ log q(x_t) = −Σ_k r_k C_k⁻¹ (x_t − a μ_k), [D].
    public func score(_ point: [Double]) -> [Double] { weightedPrecisionResidual(point).map { -$0 } }

    /// ε̂*(x_t) = E[ε | x_t] = s Σ_k r_k C_k⁻¹ (x_t − a μ_k) = −s ∇ log q(x_t), [D]: the prediction
    /// of the noise with the least mean squared error among all functions of x_t.
    public func noisePrediction(_ point: [Double]) -> [Double] { weightedPrecisionResidual(point).map { noiseScale * $0 } }

    /// e_k = E[x_0 | x_t, k] = μ_k + a Σ_k u_k for each k, [K][D], with r_k.
    func componentStartMeans(_ point: [Double]) -> (responsibilities: [Double], means: [[Double]]) {
        let (logTerms, residuals) = componentTerms(point)
        let means = components.indices.map { k -> [Double] in
            var mean = mixture.means[k]
            switch components[k].covariance {
            case .isotropic(_, let dataVariance):
                for d in 0..<dimension { mean[d] += signalScale * dataVariance * residuals[k][d] }
            case .full(_, let sigma):
                for i in 0..<dimension {
                    var product = 0.0
                    for j in 0..<dimension { product += sigma[i * dimension + j] * residuals[k][j] }
                    mean[i] += signalScale * product
                }
            }
            return mean
        }
        return (Self.normalized(logTerms), means)
    }

    /// E[x_0 | x_t] = Σ_k r_k (μ_k + a Σ_k C_k⁻¹ (x_t − a μ_k)), [D]. Formed from the components'
    /// posteriors, not from Tweedie's (x_t − s ε̂*)/a, so the two can be checked against each other
    /// (and it stays defined at a = 0).
    public func startMean(_ point: [Double]) -> [Double] {
        let (weights, means) = componentStartMeans(point)
        var result = [Double](repeating: 0, count: dimension)
        for k in weights.indices { for d in 0..<dimension { result[d] += weights[k] * means[k][d] } }
        return result
    }

    /// tr Cov(x_0 | x_t) = Σ_k r_k [tr(Σ_k − a² Σ_k C_k⁻¹ Σ_k) + |e_k − ē|²] (within-component
    /// posterior spread plus the spread of the component means e_k around ē = E[x_0 | x_t]).
    public func startCovarianceTrace(_ point: [Double]) -> Double {
        let (weights, means) = componentStartMeans(point)
        var mean = [Double](repeating: 0, count: dimension)
        for k in weights.indices { for d in 0..<dimension { mean[d] += weights[k] * means[k][d] } }
        var total = 0.0
        for k in weights.indices {
            var spread = components[k].startCovarianceTrace
            for d in 0..<dimension { spread += (means[k][d] - mean[d]) * (means[k][d] - mean[d]) }
            total += weights[k] * spread
        }
        return total
    }

    /// tr Cov(ε | x_t) = (a²/s²) tr Cov(x_0 | x_t), since ε = (x_t − a x_0)/s given x_t.
    /// Needs s > 0 (ᾱ < 1). Its mean over x_t is the oracle's simple loss times D.
    public func noiseCovarianceTrace(_ point: [Double]) -> Double {
        precondition(noiseScale > 0, "Cov(ε | x_t) needs ᾱ < 1")
        return alphaBar / (1 - alphaBar) * startCovarianceTrace(point)
    }
}
