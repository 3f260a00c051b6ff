import Core
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A Gaussian discretized to `levels` equally spaced values on [−1, 1] (DDPM's L₀ decoder).
///
/// With bin half-width δ = 1 / (levels − 1) and z(u) = (u − μ)/σ:
///   P(x) = Φ(z(x + δ)) − Φ(z(x − δ)),
/// where the lowest level's lower edge is −∞ and the highest level's upper edge is +∞, so
/// the probabilities of all levels sum to 1. Log-probabilities are computed in Double with
/// ``GaussianFormulas/logStandardIntervalProbability(lower:upper:)`` and stay finite in the tails.
///
/// Shapes: `mean` and `logScale` (log σ) [batch, D]; data x on the level grid.
public struct DiscretizedGaussian {
    public let mean: Tensor
    public let logScale: Tensor
    public let levels: Int

    public init(mean: Tensor, logScale: Tensor, levels: Int) {
        precondition(levels >= 2, "a discretized Gaussian needs at least two levels")
        guard let shape = Broadcasting.shape(mean.shape, logScale.shape) else { preconditionFailure("mean and scale do not broadcast") }
        self.mean = mean.shape == shape ? mean : mean.broadcast(to: shape)
        self.logScale = logScale.shape == shape ? logScale : logScale.broadcast(to: shape)
        self.levels = levels
    }

    public var shape: [Int] { mean.shape }
    /// Half the distance between neighbouring levels.
    public var binHalfWidth: Double { 1 / Double(levels - 1) }

    /// log P(x) and its partial derivatives (∂/∂μ, ∂/∂log σ) for one element of data `x` on
    /// the grid of `levels` values: the scalar formula behind every discretized likelihood.
    public static func logProbabilityAndGradient(_ x: Double, mean: Double, logScale: Double, levels: Int)
        -> (value: Double, mean: Double, logScale: Double) {
        let delta = 1 / Double(levels - 1)
        let lowerEdge = x <= -1 + delta / 2 ? -Double.infinity : x - delta
        let upperEdge = x >= 1 - delta / 2 ? Double.infinity : x + delta
        let inverseScale = exp(-logScale)
        let a = lowerEdge == -.infinity ? -Double.infinity : (lowerEdge - mean) * inverseScale
        let b = upperEdge == .infinity ? Double.infinity : (upperEdge - mean) * inverseScale
        let logP = GaussianFormulas.logStandardIntervalProbability(lower: a, upper: b)
        // φ(z)/P as exp(log φ(z) − log P); zero at infinite edges.
        let ratioA = a.isFinite ? exp(GaussianFormulas.logStandardDensity(a) - logP) : 0
        let ratioB = b.isFinite ? exp(GaussianFormulas.logStandardDensity(b) - logP) : 0
        let dMean = (ratioA - ratioB) * inverseScale
        let dLogScale = (a.isFinite ? a * ratioA : 0) - (b.isFinite ? b * ratioB : 0)
        return (logP, dMean, dLogScale)
    }

    /// log P(xᵢ) for every element.
    public func logProbabilityPerElement(_ x: Tensor) -> Tensor {
        let x = x.shape == shape ? x : x.broadcast(to: shape)
        let n = x.count
        var values = [Float](repeating: 0, count: n)
        var dMean = [Float](repeating: 0, count: n)
        var dLogScale = [Float](repeating: 0, count: n)
        let needsGradient = mean.requiresGradient || logScale.requiresGradient
        for i in 0..<n {
            let r = Self.logProbabilityAndGradient(Double(x.storage[i]), mean: Double(mean.storage[i]), logScale: Double(logScale.storage[i]), levels: levels)
            values[i] = Float(r.value)
            if needsGradient {
                dMean[i] = Float(r.mean)
                dLogScale[i] = Float(r.logScale)
            }
        }
        let mean = self.mean, logScale = self.logScale
        return Tensor.recordOperation(shape: shape, storage: values, inputs: [mean, logScale]) { output in
            let g = output.gradient!
            var gm = dMean, gs = dLogScale
            for i in 0..<n { gm[i] *= g[i]; gs[i] *= g[i] }
            mean.accumulateGradient(gm, shape: output.shape)
            logScale.accumulateGradient(gs, shape: output.shape)
        }
    }

    /// log P(x) per example, summed over the last axis → [batch].
    public func logProbability(_ x: Tensor) -> Tensor { logProbabilityPerElement(x).sum(axis: -1) }

    /// The value of level `k` on [−1, 1].
    public func level(_ k: Int) -> Float { Float(-1 + 2 * Double(k) / Double(levels - 1)) }

    /// KL(self ‖ other) per example: Σ over dimensions and over all `levels` values of
    /// P₁ (log P₁ − log P₂), exact since the support is finite.
    public func kl(to other: DiscretizedGaussian) -> Tensor {
        precondition(levels == other.levels, "KL between discretizations with different levels")
        var total: Tensor? = nil
        for k in 0..<levels {
            let x = Tensor(repeating: level(k), shape: shape)
            let logP1 = logProbabilityPerElement(x)
            let term = logP1.exp() * (logP1 - other.logProbabilityPerElement(x))
            total = total.map { $0 + term } ?? term
        }
        return total!.sum(axis: -1)
    }

    /// Draws levels: a Gaussian draw rounded to the nearest level, clipped to [−1, 1].
    public func sample(using generator: inout RandomGenerator) -> Tensor {
        let n = mean.count
        var values = [Float](repeating: 0, count: n)
        let steps = Double(levels - 1)
        for i in 0..<n {
            let draw = Double(mean.storage[i]) + exp(Double(logScale.storage[i])) * generator.nextNormal()
            let k = Swift.min(Swift.max(((draw + 1) / 2 * steps).rounded(), 0), steps)
            values[i] = Float(-1 + 2 * k / steps)
        }
        return Tensor(shape: shape, storage: values)
    }
}
