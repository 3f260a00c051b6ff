import Tensor

/// Adam (Kingma & Ba 2015) with PyTorch's bias correction, over a fixed list of parameters.
///
/// For each parameter p with gradient g at step s:
///   m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
///   p ← p − lr · (m / (1 − β₁ˢ)) / (√(v / (1 − β₂ˢ)) + ε).
/// The moments live under the parameters' dotted keys, so they can be checkpointed and
/// restored exactly. Optionally the global gradient norm is clipped first.
///
/// One fused pass per parameter (Tensor's ``AdamUpdate``, through the kernels of this process)
/// reads g, m, v and p once and writes m, v and p; without clipping the same pass also forms
/// the gradient's sum of squares for the returned norm. With more than one thread configured (``LinearAlgebra/threadCount``)
/// and enough parameters, whole parameters are shared out between threads — the arithmetic
/// of each element is the same whichever thread does it.
public final class Adam {
    public let parameters: [(key: String, tensor: Tensor)]
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Rescale gradients whose global L2 norm exceeds this; `nil` for no clipping.
    public let maximumGradientNorm: Float?

    /// One parameter's moments, each in its own buffers (threads never share one).
    private final class Moments {
        var first: [Float]
        var second: [Float]
        init(count: Int) {
            first = [Float](repeating: 0, count: count)
            second = [Float](repeating: 0, count: count)
        }
    }

    /// Moments of `parameters[i]` at index i.
    private let moments: [Moments]
    /// Parameter indices, largest first: the order threads take them in.
    private let order: [Int]
    /// Whether there are enough values to share the update out between threads.
    private let concurrent: Bool

    /// First moments m, keyed like the parameters.
    public var firstMoments: [String: [Float]] {
        Dictionary(uniqueKeysWithValues: zip(parameters, moments).map { ($0.key, $1.first) })
    }
    /// Second moments v, keyed like the parameters.
    public var secondMoments: [String: [Float]] {
        Dictionary(uniqueKeysWithValues: zip(parameters, moments).map { ($0.key, $1.second) })
    }
    /// Number of updates taken.
    public private(set) var step: Int = 0

    /// Below this many parameter values in all, updates stay on the calling thread (about
    /// 10 µs of work: the hand-off to the workers costs 1–2 µs).
    static let parallelThreshold = 1 << 15

    public init(parameters: [(key: String, tensor: Tensor)], learningRate: Float = 1e-3,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, maximumGradientNorm: Float? = nil) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.maximumGradientNorm = maximumGradientNorm
        moments = parameters.map { Moments(count: $0.tensor.count) }
        let sizes = parameters.map { $0.tensor.count }
        order = sizes.indices.sorted { sizes[$0] > sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1) }
        concurrent = sizes.reduce(0, +) >= Self.parallelThreshold
    }

    /// Runs `body(i)` once for every parameter index, largest parameters first, spread over
    /// the configured threads when there is enough work.
    private func forEachParameter(_ body: (Int) -> Void) {
        Parallel.forEach(order.count, concurrent: concurrent) { body(order[$0]) }
    }

    /// The global L2 norm of the current gradients (missing gradients count as zero).
    public func gradientNorm() -> Double {
        var partial = [Double](repeating: 0, count: parameters.count)
        partial.withUnsafeMutableBufferPointer { partial in
            let partial = partial.baseAddress!
            forEachParameter { index in
                guard let g = parameters[index].tensor.gradient else { return }
                partial[index] = g.withUnsafeBufferPointer(AdamUpdate.sumOfSquares)
            }
        }
        return partial.reduce(0, +).squareRoot()
    }

    /// Whether the last ``update()`` wrote a NaN or an infinity into a parameter or a moment, as
    /// the update kernels saw the values they computed. Parameters without a gradient are not
    /// touched by an update, so when the state was finite before (it is checked on resume and
    /// before every checkpoint), false here means ``firstNonFiniteState()`` is nil: training
    /// asks this after every step and scans the state only when it is true.
    public private(set) var lastUpdateWroteNonFinite = false

    /// One update from the accumulated gradients, which are then cleared.
    /// Returns the gradient norm before clipping, so callers can stop on a non-finite one.
    @discardableResult
    public func update() -> Double {
        update(kernels: .current)
    }

    /// ``update()`` through the given kernels (``AdamUpdate``; to compare them).
    @discardableResult
    public func update(kernels: ComputeKernels) -> Double {
        precondition(kernels.isAvailable, "this CPU cannot run the \(kernels) kernels")
        let clippingNorm = maximumGradientNorm == nil ? nil : gradientNorm()
        var scale: Float = 1
        if let maximum = maximumGradientNorm, let norm = clippingNorm, norm > Double(maximum) {
            scale = Float(Double(maximum) / norm)
        }
        step += 1
        let correction1 = 1 - powf(beta1, Float(step))
        let correction2 = 1 - powf(beta2, Float(step))
        let stepSize = learningRate / correction1
        let b1 = beta1, b2 = beta2, eps = epsilon
        let rootCorrection2 = correction2.squareRoot()
        let needsNorm = clippingNorm == nil
        let gradientScale = scale
        var partial = [Double](repeating: 0, count: parameters.count)
        var nonFinite = [Bool](repeating: false, count: parameters.count)
        partial.withUnsafeMutableBufferPointer { partial in
        nonFinite.withUnsafeMutableBufferPointer { nonFinite in
            let partial = partial.baseAddress!, nonFinite = nonFinite.baseAddress!
            forEachParameter { index in
                let p = parameters[index].tensor
                guard let gradient = p.gradient else { return }
                let state = moments[index]
                let n = p.count
                gradient.withUnsafeBufferPointer { g in
                    state.first.withUnsafeMutableBufferPointer { m in
                        state.second.withUnsafeMutableBufferPointer { v in
                            p.withMutableStorage { w in
                                guard let g = g.baseAddress, let m = m.baseAddress, let v = v.baseAddress, let w = w.baseAddress else { return }
                                partial[index] = AdamUpdate.apply(
                                    count: n, gradient: g, firstMoment: m, secondMoment: v, weights: w, scale: gradientScale,
                                    beta1: b1, beta2: b2, stepSize: stepSize, rootCorrection2: rootCorrection2, epsilon: eps,
                                    sumOfSquares: needsNorm, kernels: kernels, nonFinite: nonFinite + index)
                            }
                        }
                    }
                }
                p.zeroGradient()
            }
        }
        }
        lastUpdateWroteNonFinite = nonFinite.contains(true)
        return clippingNorm ?? partial.reduce(0, +).squareRoot()
    }

    /// Restores the moments and step count saved from an identical optimizer.
    ///
    /// Nothing is assigned unless every value could have come from ``update()``: the step is
    /// ≥ 0, first moments are finite, second moments finite and ≥ 0 (a running mean of squares;
    /// a negative one makes √v NaN and the next update turns every parameter NaN).
    /// - Throws: ``ModelError/invalidState(_:)`` naming the first parameter key that does not fit.
    public func restore(step: Int, firstMoments: [String: [Float]], secondMoments: [String: [Float]]) throws {
        guard step >= 0 else { throw ModelError.invalidState("optimizer step is \(step); expected 0 or more") }
        for (key, p) in parameters {
            guard let m = firstMoments[key], let v = secondMoments[key] else {
                throw ModelError.invalidState("optimizer state has no moments for '\(key)'")
            }
            guard m.count == p.count, v.count == p.count else {
                throw ModelError.invalidState("optimizer moments for '\(key)' have \(m.count) values, the parameter \(p.count)")
            }
            if let bad = m.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.invalidState("the first moment of '\(key)' holds \(m[bad]) at flat index \(bad); expected finite values")
            }
            if let bad = v.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                throw ModelError.invalidState("the second moment of '\(key)' holds \(v[bad]) at flat index \(bad); expected finite values ≥ 0")
            }
        }
        self.step = step
        for ((key, _), state) in zip(parameters, moments) {
            state.first = firstMoments[key]!
            state.second = secondMoments[key]!
        }
    }
}

extension Adam {
    /// The first parameter, first moment or second moment that holds a NaN or an infinity —
    /// e.g. `parameter 'decoder.layers.0.weight'` — or nil when the whole state is finite.
    /// Called before every checkpoint, so that only finite state is ever written, and after an
    /// update that ``lastUpdateWroteNonFinite`` says went wrong, to name what it broke. One
    /// branch-free pass over the exponent bits of each array (it vectorizes), about as cheap as
    /// one more read of the state.
    public func firstNonFiniteState() -> String? {
        for (index, (key, tensor)) in parameters.enumerated() {
            if !Self.allFinite(tensor.storage) { return "parameter '\(key)'" }
            if !Self.allFinite(moments[index].first) { return "first moment of '\(key)'" }
            if !Self.allFinite(moments[index].second) { return "second moment of '\(key)'" }
        }
        return nil
    }

    /// Whether no value is NaN or infinite: the largest exponent field over the array is below
    /// the all-ones field that marks them.
    public static func allFinite(_ values: [Float]) -> Bool {
        values.withUnsafeBufferPointer(AdamUpdate.allFinite)
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
