import Tensor

/// Adam (Kingma & Ba 2015) with PyTorch's bias correction, over a fixed list of parameters.
///
/// For each parameter p with gradient g at step s:
///   m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
///   p ← p − lr · (m / (1 − β₁ˢ)) / (√(v / (1 − β₂ˢ)) + ε).
/// The moments live under the parameters' dotted keys, so they can be checkpointed and
/// restored exactly. Optionally the global gradient norm is clipped first.
public final class Adam {
    public let parameters: [(key: String, tensor: Tensor)]
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Rescale gradients whose global L2 norm exceeds this; `nil` for no clipping.
    public let maximumGradientNorm: Float?

    /// First moments m, keyed like the parameters.
    public private(set) var firstMoments: [String: [Float]]
    /// Second moments v, keyed like the parameters.
    public private(set) var secondMoments: [String: [Float]]
    /// Number of updates taken.
    public private(set) var step: Int = 0

    public init(parameters: [(key: String, tensor: Tensor)], learningRate: Float = 1e-3,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, maximumGradientNorm: Float? = nil) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.maximumGradientNorm = maximumGradientNorm
        var first: [String: [Float]] = [:]
        var second: [String: [Float]] = [:]
        for (key, tensor) in parameters {
            first[key] = [Float](repeating: 0, count: tensor.count)
            second[key] = [Float](repeating: 0, count: tensor.count)
        }
        firstMoments = first
        secondMoments = second
    }

    /// The global L2 norm of the current gradients (missing gradients count as zero).
    public func gradientNorm() -> Double {
        var total = 0.0
        for (_, p) in parameters {
            guard let g = p.gradient else { continue }
            for v in g { total += Double(v) * Double(v) }
        }
        return total.squareRoot()
    }

    /// One update from the accumulated gradients, which are then cleared.
    /// Returns the gradient norm before clipping, so callers can stop on a non-finite one.
    @discardableResult
    public func update() -> Double {
        let norm = gradientNorm()
        var scale: Float = 1
        if let maximum = maximumGradientNorm, norm > Double(maximum) { scale = Float(Double(maximum) / norm) }
        step += 1
        let correction1 = 1 - powf(beta1, Float(step))
        let correction2 = 1 - powf(beta2, Float(step))
        let stepSize = learningRate / correction1
        let b1 = beta1, b2 = beta2, eps = epsilon
        let rootCorrection2 = correction2.squareRoot()
        for (key, p) in parameters {
            guard let gradient = p.gradient else { continue }
            var m = firstMoments.removeValue(forKey: key)!
            var v = secondMoments.removeValue(forKey: key)!
            gradient.withUnsafeBufferPointer { g in
                m.withUnsafeMutableBufferPointer { m in
                    v.withUnsafeMutableBufferPointer { v in
                        p.withMutableStorage { w in
                            for i in 0..<w.count {
                                let gi = g[i] * scale
                                m[i] = b1 * m[i] + (1 - b1) * gi
                                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                                w[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + eps)
                            }
                        }
                    }
                }
            }
            firstMoments[key] = m
            secondMoments[key] = v
            p.zeroGradient()
        }
        return norm
    }

    /// Restores the moments and step count saved from an identical optimizer.
    public func restore(step: Int, firstMoments: [String: [Float]], secondMoments: [String: [Float]]) throws {
        for (key, p) in parameters {
            guard let m = firstMoments[key], let v = secondMoments[key] else {
                throw ModelError.invalidState("optimizer state has no moments for '\(key)'")
            }
            guard m.count == p.count, v.count == p.count else {
                throw ModelError.invalidState("optimizer moments for '\(key)' have \(m.count) values, the parameter \(p.count)")
            }
        }
        self.step = step
        self.firstMoments = firstMoments.filter { key, _ in parameters.contains { $0.key == key } }
        self.secondMoments = secondMoments.filter { key, _ in parameters.contains { $0.key == key } }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
