import Core
import Tensor

/// A Gaussian with diagonal covariance, N(μ, diag σ²), parameterized by mean and log σ².
///
/// Shapes: `mean` and `logVariance` broadcast to a common [batch, D]. Element-wise terms are
/// computed in Double by ``GaussianFormulas`` inside one custom operation each, so the tensor
/// path and the Double estimators share their formulas.
public struct DiagonalGaussian {
    public let mean: Tensor
    public let logVariance: Tensor

    public init(mean: Tensor, logVariance: Tensor) {
        guard let shape = Broadcasting.shape(mean.shape, logVariance.shape) else {
            preconditionFailure("mean \(mean.shape) and log-variance \(logVariance.shape) do not broadcast")
        }
        self.mean = mean.shape == shape ? mean : mean.broadcast(to: shape)
        self.logVariance = logVariance.shape == shape ? logVariance : logVariance.broadcast(to: shape)
    }

    /// N(0, I) of the given shape.
    public static func standard(shape: [Int]) -> DiagonalGaussian {
        DiagonalGaussian(mean: Tensor(repeating: 0, shape: shape), logVariance: Tensor(repeating: 0, shape: shape))
    }

    public var shape: [Int] { mean.shape }

    /// The reparameterized draw μ + σ ε, ε ~ N(0, I): differentiable in μ and log σ².
    public func sample(using generator: inout RandomGenerator) -> Tensor {
        let noise = Tensor.randomNormal(shape: shape, using: &generator)
        return mean + (logVariance * 0.5).exp() * noise
    }

    /// log N(xᵢ; μᵢ, σᵢ²) for every element; same shape as the distribution.
    public func logDensityPerElement(_ x: Tensor) -> Tensor {
        let x = x.shape == shape ? x : x.broadcast(to: shape)
        let n = x.count
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n {
            values[i] = Float(GaussianFormulas.logDensity(Double(x.storage[i]), mean: Double(mean.storage[i]), logVariance: Double(logVariance.storage[i])))
        }
        let mean = self.mean, logVariance = self.logVariance
        return Tensor.recordOperation(shape: shape, storage: values, inputs: [x, mean, logVariance]) { output in
            let g = output.gradient!
            var dx = [Float](repeating: 0, count: n), dm = dx, dl = dx
            for i in 0..<n {
                let d = GaussianFormulas.logDensityGradient(Double(x.storage[i]), mean: Double(mean.storage[i]), logVariance: Double(logVariance.storage[i]))
                dx[i] = g[i] * Float(d.x)
                dm[i] = g[i] * Float(d.mean)
                dl[i] = g[i] * Float(d.logVariance)
            }
            x.accumulateGradient(dx, shape: output.shape)
            mean.accumulateGradient(dm, shape: output.shape)
            logVariance.accumulateGradient(dl, shape: output.shape)
        }
    }

    /// log N(x; μ, diag σ²) per example: the element terms summed over the last axis → [batch].
    public func logProbability(_ x: Tensor) -> Tensor { logDensityPerElement(x).sum(axis: -1) }

    /// KL(self ‖ other) for every element, in closed form.
    public func klPerElement(to other: DiagonalGaussian) -> Tensor {
        guard let common = Broadcasting.shape(shape, other.shape) else { preconditionFailure("KL between \(shape) and \(other.shape)") }
        let p = shape == common ? self : DiagonalGaussian(mean: mean.broadcast(to: common), logVariance: logVariance.broadcast(to: common))
        let q = other.shape == common ? other : DiagonalGaussian(mean: other.mean.broadcast(to: common), logVariance: other.logVariance.broadcast(to: common))
        let n = common.reduce(1, *)
        // Each element reads its four arguments through pointers taken once: through the
        // tensors' `storage` every read is a class-property access (with the exp calls, this
        // term was 1.9 % of the caller's samples in a 2-thread vae784 profile; now 1.0 %).
        let values = [Float](unsafeUninitializedCapacity: n) { values, initialized in
            Self.withArguments(p, q) { mean1, logVariance1, mean2, logVariance2 in
                for i in 0..<n {
                    values[i] = Float(GaussianFormulas.kl(mean1: Double(mean1[i]), logVariance1: Double(logVariance1[i]),
                                                          mean2: Double(mean2[i]), logVariance2: Double(logVariance2[i])))
                }
            }
            initialized = n
        }
        return Tensor.recordOperation(shape: common, storage: values, inputs: [p.mean, p.logVariance, q.mean, q.logVariance]) { output in
            let g = output.gradient!
            // The other distribution is often a fixed prior: its derivatives are then not formed.
            let needsOther = q.mean.requiresGradient || q.logVariance.requiresGradient
            var d1 = [Float](repeating: 0, count: n), l1 = d1
            var d2 = needsOther ? d1 : [], l2 = d2
            Self.withArguments(p, q) { mean1, logVariance1, mean2, logVariance2 in
                for i in 0..<n {
                    let d = GaussianFormulas.klGradient(mean1: Double(mean1[i]), logVariance1: Double(logVariance1[i]),
                                                        mean2: Double(mean2[i]), logVariance2: Double(logVariance2[i]))
                    d1[i] = g[i] * Float(d.mean1)
                    l1[i] = g[i] * Float(d.logVariance1)
                    if needsOther {
                        d2[i] = g[i] * Float(d.mean2)
                        l2[i] = g[i] * Float(d.logVariance2)
                    }
                }
            }
            p.mean.accumulateGradient(d1, shape: common)
            p.logVariance.accumulateGradient(l1, shape: common)
            if needsOther {
                q.mean.accumulateGradient(d2, shape: common)
                q.logVariance.accumulateGradient(l2, shape: common)
            }
        }
    }

    /// Calls `body` with the storage of p's and q's means and log-variances (same shapes).
    private static func withArguments<R>(
        _ p: DiagonalGaussian, _ q: DiagonalGaussian,
        _ body: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>) -> R
    ) -> R {
        p.mean.storage.withUnsafeBufferPointer { mean1 in
            p.logVariance.storage.withUnsafeBufferPointer { logVariance1 in
                q.mean.storage.withUnsafeBufferPointer { mean2 in
                    q.logVariance.storage.withUnsafeBufferPointer { logVariance2 in
                        body(mean1, logVariance1, mean2, logVariance2)
                    }
                }
            }
        }
    }

    /// KL(self ‖ other) per example, summed over the last axis → [batch].
    public func kl(to other: DiagonalGaussian) -> Tensor { klPerElement(to: other).sum(axis: -1) }
}
