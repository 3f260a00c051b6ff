import _TensorKernels

/// The inner loop of Adam (Kingma & Ba 2015) over one buffer of parameters, through the
/// kernels of this process: NN's `Adam` keeps the moments, the step count and the clipping,
/// and calls this once per parameter.
///
/// With g = scale · gradient, for every element:
///   m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,  w ← w − stepSize · m / (√v / rootCorrection2 + ε),
/// where stepSize = lr / (1 − β₁ˢ) and rootCorrection2 = √(1 − β₂ˢ) fold in the bias corrections.
///
/// ``ComputeKernels/avx2`` and ``ComputeKernels/avx512`` run `tk_adam_update` (eight lanes, fused multiply–adds),
/// ``ComputeKernels/reference`` its portable C twin (the same bits on any CPU), and
/// ``ComputeKernels/portable`` the Swift loop below (four lanes, no fused multiply–add).
public enum AdamUpdate {
    /// One update of `count` values in place. Returns Σ gradient² (before scaling) in Double when
    /// `sumOfSquares` is true, else 0. When `nonFinite` is given, it is set to whether any m, v or
    /// w written is a NaN or an infinity: the kernels check the values they have just computed,
    /// so that training needs no second pass over the whole state after every update.
    @discardableResult
    public static func apply(
        count: Int, gradient: UnsafePointer<Float>, firstMoment m: UnsafeMutablePointer<Float>,
        secondMoment v: UnsafeMutablePointer<Float>, weights w: UnsafeMutablePointer<Float>,
        scale: Float, beta1: Float, beta2: Float, stepSize: Float, rootCorrection2: Float, epsilon: Float,
        sumOfSquares: Bool, kernels: ComputeKernels = .current, nonFinite: UnsafeMutablePointer<Bool>? = nil
    ) -> Double {
        precondition(kernels.isAvailable, "this CPU cannot run the \(kernels) kernels")
        var flag: Int32 = 0
        let total: Double
        switch kernels {
        case .avx2, .avx512:
            total = tk_adam_update(count, gradient, m, v, w, scale, beta1, beta2, stepSize, rootCorrection2, epsilon,
                                   sumOfSquares ? 1 : 0, &flag)
        case .reference:
            total = tk_adam_update_reference(count, gradient, m, v, w, scale, beta1, beta2, stepSize, rootCorrection2,
                                             epsilon, sumOfSquares ? 1 : 0, &flag)
        case .portable:
            total = sumOfSquares ? Self.sumOfSquares(UnsafeBufferPointer(start: gradient, count: count)) : 0
            step(count, gradient, m, v, w, scale: scale, beta1: beta1, beta2: beta2, stepSize: stepSize,
                 rootCorrection2: rootCorrection2, epsilon: epsilon)
            if nonFinite != nil {
                let written = [UnsafeMutablePointer<Float>](arrayLiteral: m, v, w)
                flag = written.contains { !allFinite(UnsafeBufferPointer(start: $0, count: count)) } ? 1 : 0
            }
        }
        nonFinite?.pointee = flag != 0
        return total
    }

    /// Whether no value is NaN or infinite: the largest exponent field over the buffer is below
    /// the all-ones field that marks them (one branch-free pass; it vectorizes).
    public static func allFinite(_ values: UnsafeBufferPointer<Float>) -> Bool {
        var largest: UInt32 = 0
        for value in values { largest = Swift.max(largest, value.bitPattern & 0x7F80_0000) }
        return largest != 0x7F80_0000
    }

    /// Σ g² of one buffer in Double, in a fixed order (four running sums, then the tail): the
    /// portable kernels' norm, and `Adam.gradientNorm`'s under every kernel.
    @inline(__always)
    public static func sumOfSquares(_ g: UnsafeBufferPointer<Float>) -> Double {
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

    /// The portable update: four lanes at a time, then the tail one by one — the same
    /// operations on every element.
    @inline(__always)
    private static func step(_ count: Int, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                             _ v: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>,
                             scale: Float, beta1: Float, beta2: Float, stepSize: Float, rootCorrection2: Float, epsilon: Float) {
        var i = 0
        while i + 4 <= count {
            let gi = load(g + i) * scale
            let mi = beta1 * load(m + i) + (1 - beta1) * gi
            let vi = beta2 * load(v + i) + (1 - beta2) * gi * gi
            store(mi, m + i)
            store(vi, v + i)
            store(load(w + i) - stepSize * mi / (squareRoots(vi) / rootCorrection2 + epsilon), w + i)
            i += 4
        }
        while i < count {
            let gi = g[i] * scale
            let mi = beta1 * m[i] + (1 - beta1) * gi
            let vi = beta2 * v[i] + (1 - beta2) * gi * gi
            m[i] = mi
            v[i] = vi
            w[i] -= stepSize * mi / (vi.squareRoot() / rootCorrection2 + epsilon)
            i += 1
        }
    }

    @inline(__always)
    private static func load(_ pointer: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<Float>.self)
    }

    @inline(__always)
    private static func load(_ pointer: UnsafeMutablePointer<Float>) -> SIMD4<Float> { load(UnsafePointer(pointer)) }

    @inline(__always)
    private static func store(_ value: SIMD4<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD4<Float>.self)
    }
}

/// √ of four lanes, correctly rounded like `Float.squareRoot()`: LLVM's vector square root,
/// bound directly. On Linux `Float.squareRoot()` goes through libm's `sqrtf`, whose errno path
/// (a call for negative inputs) keeps the loop around it from vectorizing: the update loop
/// then runs one element at a time.
@_silgen_name("llvm.sqrt.v4f32")
private func squareRoots(_ x: SIMD4<Float>) -> SIMD4<Float>
