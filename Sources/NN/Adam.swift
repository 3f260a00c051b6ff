import Tensor

/// Adam (Kingma & Ba 2015) with PyTorch's bias correction, over a fixed list of parameters.
///
/// For each parameter p with gradient g at step s:
///   m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
///   p ← p − lr · (m / (1 − β₁ˢ)) / (√(v / (1 − β₂ˢ)) + ε).
/// The moments live under the parameters' dotted keys, so they can be checkpointed and
/// restored exactly. Optionally the global gradient norm is clipped first.
///
/// One fused pass per parameter reads g, m, v and p once and writes m, v and p (a loop that
/// vectorizes); without clipping the same pass also forms the gradient's sum of squares for
/// the returned norm. With more than one thread configured (``LinearAlgebra/threadCount``)
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
    /// Parameter indices in the order threads take them: largest first, each to the thread
    /// with the least work so far (a fixed assignment, decided once from the sizes).
    private var schedule: [[Int]]
    /// The thread count ``schedule`` was made for.
    private var scheduledThreads: Int

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

    /// Below this many parameter values in all, updates stay on the calling thread.
    static let parallelThreshold = 1 << 17

    public init(parameters: [(key: String, tensor: Tensor)], learningRate: Float = 1e-3,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, maximumGradientNorm: Float? = nil) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.maximumGradientNorm = maximumGradientNorm
        moments = parameters.map { Moments(count: $0.tensor.count) }
        scheduledThreads = LinearAlgebra.threadCount
        schedule = Self.balance(parameters.map { $0.tensor.count }, threads: scheduledThreads)
    }

    /// Parameter indices split into `LinearAlgebra.threadCount` lists of similar total size
    /// (longest first onto the lightest list), or one list when the total is small.
    private static func balance(_ sizes: [Int], threads: Int) -> [[Int]] {
        let order = sizes.indices.sorted { sizes[$0] > sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1) }
        let lists = sizes.reduce(0, +) >= parallelThreshold ? Swift.max(1, threads) : 1
        var schedule = [[Int]](repeating: [], count: lists)
        var loads = [Int](repeating: 0, count: lists)
        for index in order {
            let lightest = loads.indices.min { loads[$0] < loads[$1] }!
            schedule[lightest].append(index)
            loads[lightest] += sizes[index]
        }
        return schedule.filter { !$0.isEmpty }
    }

    /// Runs `body(i)` for every parameter index, the lists of ``schedule`` on concurrent threads.
    private func forEachParameter(_ body: (Int) -> Void) {
        if scheduledThreads != LinearAlgebra.threadCount {
            scheduledThreads = LinearAlgebra.threadCount
            schedule = Self.balance(parameters.map { $0.tensor.count }, threads: scheduledThreads)
        }
        let schedule = self.schedule
        Parallel.forEach(schedule.count, concurrent: schedule.count > 1) { list in
            for index in schedule[list] { body(index) }
        }
    }

    /// Σ g² of one buffer in Double, in a fixed order (four running sums, then the tail).
    @inline(__always)
    static func sumOfSquares(_ g: UnsafeBufferPointer<Float>) -> Double {
        var partial = SIMD4<Double>(repeating: 0)
        var i = 0
        while i + 4 <= g.count {
            let v = SIMD4<Double>(Double(g[i]), Double(g[i + 1]), Double(g[i + 2]), Double(g[i + 3]))
            partial += v * v
            i += 4
        }
        var total = (partial[0] + partial[1]) + (partial[2] + partial[3])
        while i < g.count {
            total += Double(g[i]) * Double(g[i])
            i += 1
        }
        return total
    }

    /// The global L2 norm of the current gradients (missing gradients count as zero).
    public func gradientNorm() -> Double {
        var partial = [Double](repeating: 0, count: parameters.count)
        partial.withUnsafeMutableBufferPointer { partial in
            let partial = partial.baseAddress!
            forEachParameter { index in
                guard let g = parameters[index].tensor.gradient else { return }
                partial[index] = g.withUnsafeBufferPointer(Self.sumOfSquares)
            }
        }
        return partial.reduce(0, +).squareRoot()
    }

    /// One update from the accumulated gradients, which are then cleared.
    /// Returns the gradient norm before clipping, so callers can stop on a non-finite one.
    @discardableResult
    public func update() -> Double {
        var scale: Float = 1
        var clippingNorm: Double?
        if let maximum = maximumGradientNorm {
            let norm = gradientNorm()
            clippingNorm = norm
            if norm > Double(maximum) { scale = Float(Double(maximum) / norm) }
        }
        step += 1
        let correction1 = 1 - powf(beta1, Float(step))
        let correction2 = 1 - powf(beta2, Float(step))
        let stepSize = learningRate / correction1
        let b1 = beta1, b2 = beta2, eps = epsilon
        let rootCorrection2 = correction2.squareRoot()
        let needsNorm = clippingNorm == nil
        var partial = [Double](repeating: 0, count: parameters.count)
        partial.withUnsafeMutableBufferPointer { partial in
            let partial = partial.baseAddress!
            forEachParameter { index in
                let p = parameters[index].tensor
                guard let gradient = p.gradient else { return }
                let state = moments[index]
                let n = p.count
                gradient.withUnsafeBufferPointer { g in
                    if needsNorm { partial[index] = Self.sumOfSquares(g) }
                    state.first.withUnsafeMutableBufferPointer { m in
                        state.second.withUnsafeMutableBufferPointer { v in
                            p.withMutableStorage { w in
                                let g = g.baseAddress!, m = m.baseAddress!, v = v.baseAddress!, w = w.baseAddress!
                                for i in 0..<n {
                                    let gi = g[i] * scale
                                    let mi = b1 * m[i] + (1 - b1) * gi
                                    let vi = b2 * v[i] + (1 - b2) * gi * gi
                                    m[i] = mi
                                    v[i] = vi
                                    w[i] -= stepSize * mi / (vi.squareRoot() / rootCorrection2 + eps)
                                }
                            }
                        }
                    }
                }
                p.zeroGradient()
            }
        }
        return clippingNorm ?? partial.reduce(0, +).squareRoot()
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
        for ((key, _), state) in zip(parameters, moments) {
            state.first = firstMoments[key]!
            state.second = secondMoments[key]!
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
