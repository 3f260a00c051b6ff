import Core
import Foundation

/// `gmm2d`: an equal-weight mixture of K = 8 isotropic Gaussians with means on a circle.
///
/// μ_k = r (cos 2πk/K, sin 2πk/K), k = 0…K−1, r = 2, σ = 0.1 (like the peer benchmark), and
///
///     q(x) = Σ_k (1/K) N(x; μ_k, σ² I),
///     log q(x) = logsumexp_k [ −log K − log(2πσ²) − |x − μ_k|² / (2σ²) ].
///
/// Sampling draws k uniformly (`nextInt(below: K)`), then one Box–Muller pair ε, x = μ_k + σ ε.
public struct RingOfGaussians: ToyDistribution {
    public var componentCount = 8
    public var radius = 2.0
    public var standardDeviation = 0.1

    public init() {}

    public var dimension: Int { 2 }

    /// μ_k as [K][2].
    public var means: [[Double]] {
        (0..<componentCount).map { k in
            let angle = 2 * Double.pi * Double(k) / Double(componentCount)
            return [radius * cos(angle), radius * sin(angle)]
        }
    }

    /// The same density as a ``GaussianMixture`` (for the oracle denoiser, docs/math.md#oracle-denoiser):
    /// the parameters ``density`` stores, K equal weights and σ² I components. Throws only for
    /// settings that are no density (no components, σ ≤ 0).
    public var mixture: GaussianMixture {
        get throws {
            try GaussianMixture(means: means, standardDeviations: Array(repeating: standardDeviation, count: componentCount),
                                weights: Array(repeating: 1 / Double(componentCount), count: componentCount))
        }
    }

    public func sample(using generator: inout RandomGenerator) -> [Double] {
        let mean = means[generator.nextInt(below: componentCount)]
        let (first, second) = generator.nextNormalPair()
        return [mean[0] + standardDeviation * first, mean[1] + standardDeviation * second]
    }

    public func logDensity(_ point: [Double]) -> Double? {
        let variance = standardDeviation * standardDeviation
        let terms = means.map { mean -> Double in
            let dx = point[0] - mean[0], dy = point[1] - mean[1]
            return -log(Double(componentCount)) - log(2 * Double.pi * variance) - (dx * dx + dy * dy) / (2 * variance)
        }
        let largest = terms.max()!
        return largest + log(terms.reduce(0) { $0 + exp($1 - largest) })
    }

    public var density: DensityDescription? {
        DensityDescription(
            family: "gaussian-mixture",
            formula: "q(x) = sum_k weights[k] * N(x; means[k], standard_deviations[k]^2 * I), x in R^2; log q(x) = logsumexp_k(log weights[k] - log(2*pi*standard_deviations[k]^2) - |x - means[k]|^2 / (2*standard_deviations[k]^2))",
            parameters: [
                DensityParameter(name: "means", shape: [componentCount, 2], values: means.flatMap { $0 }),
                DensityParameter(name: "standard_deviations", shape: [componentCount],
                                 values: Array(repeating: standardDeviation, count: componentCount)),
                DensityParameter(name: "weights", shape: [componentCount],
                                 values: Array(repeating: 1 / Double(componentCount), count: componentCount)),
            ])
    }

    public var settings: [String: Double] {
        ["components": Double(componentCount), "radius": radius, "standard_deviation": standardDeviation]
    }
}
