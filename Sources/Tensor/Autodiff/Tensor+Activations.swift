// Fused activations: one pass computes y = f(x) and, when a gradient will be needed, the
// local slope f′(x), kept for the backward pass — one allocation and one closure instead of
// the seven of the composite form. Each matches its definition in `CompositeActivations`
// (checked by the tests) and keeps its numerical care: e^{−|x|} never overflows.
//
// The kernels are written without calls or branches (`fastExponential`, `fastLog1p`), so
// their loops vectorize; loops over more than `Parallel.minimumChunk` elements per thread are
// split over `LinearAlgebra.threadCount` threads. On CPUs with AVX2 and FMA the same formulas
// run eight lanes at a time from `_TensorKernels` (`ComputeKernels.avx2`).

import _TensorKernels

/// One element's (f(x), f′(x)).
private protocol ActivationKernel {
    static func apply(_ x: Float) -> (Float, Float)
}

/// A point-wise nonlinearity with a fused kernel: the activations of ``Tensor/relu()`` …
/// ``Tensor/softplus()``, and the one an ``Tensor/affine(_:weight:bias:activation:)`` applies
/// to its output in place.
public enum PointwiseActivation: String, Sendable, CaseIterable {
    case relu, sigmoid, silu, tanh, softplus

    /// y = f(x) for `count` elements, and f′(x) into `slopes` when it is given. `y` may be
    /// `x` itself (in place). Large counts are split over ``LinearAlgebra/threadCount`` threads.
    func evaluate(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, slopes: UnsafeMutablePointer<Float>?,
                  count: Int, kernels: ComputeKernels = .current) {
        Parallel.forEachChunk(count) { range in
            let offset = range.lowerBound
            evaluateSerially(x + offset, into: y + offset, slopes: slopes.map { $0 + offset }, count: range.count, kernels: kernels)
        }
    }

    /// ``evaluate(_:into:slopes:count:kernels:)`` on the calling thread: through the AVX2
    /// kernel of `_TensorKernels` (``ComputeKernels/avx2`` and ``ComputeKernels/avx512``), its portable C twin
    /// (``ComputeKernels/reference``, the same bits) or the Swift loops below.
    func evaluateSerially(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, slopes: UnsafeMutablePointer<Float>?,
                          count: Int, kernels: ComputeKernels = .current) {
        if kernels != .portable {
            kernels.activation(vectorKernel, x, y, slopes, count)
            return
        }
        switch self {
        case .relu: Self.map(Relu.self, x, y, slopes, count)
        case .sigmoid: Self.map(Sigmoid.self, x, y, slopes, count)
        case .silu: Self.map(SiLU.self, x, y, slopes, count)
        case .tanh: Self.map(Tanh.self, x, y, slopes, count)
        case .softplus: Self.map(Softplus.self, x, y, slopes, count)
        }
    }

    /// f(x) and f′(x) of every element, computed by the given kernels (to compare the two).
    public func valuesAndSlopes(_ x: [Float], kernels: ComputeKernels) -> (values: [Float], slopes: [Float]) {
        precondition(kernels.isAvailable, "this CPU cannot run the \(kernels) kernels")
        let count = x.count
        var values = [Float](repeating: 0, count: count), slopes = values
        x.withUnsafeBufferPointer { x in
            values.withUnsafeMutableBufferPointer { y in
                slopes.withUnsafeMutableBufferPointer { d in
                    guard let x = x.baseAddress else { return }
                    evaluate(x, into: y.baseAddress!, slopes: d.baseAddress!, count: count, kernels: kernels)
                }
            }
        }
        return (values, slopes)
    }

    /// The `tk_activation` kind of this activation.
    private var vectorKernel: Int32 {
        switch self {
        case .relu: return Int32(TK_RELU.rawValue)
        case .sigmoid: return Int32(TK_SIGMOID.rawValue)
        case .silu: return Int32(TK_SILU.rawValue)
        case .tanh: return Int32(TK_TANH.rawValue)
        case .softplus: return Int32(TK_SOFTPLUS.rawValue)
        }
    }

    /// Applies `Kernel.apply(x) -> (y, dy/dx)` element-wise. The kernel is a type, not a
    /// closure, so that each specialization has it inlined into its loop whatever its size. In-place and
    /// out-of-place loops are written apart: a loop whose input and output pointers may alias
    /// only vectorizes after a run-time overlap check, which in-place calls would fail.
    @inline(__always)
    private static func map<Kernel: ActivationKernel>(_: Kernel.Type, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                                      _ slopes: UnsafeMutablePointer<Float>?, _ count: Int) {
        let inPlace = UnsafePointer(y) == x
        switch (slopes, inPlace) {
        case (let d?, true):
            for i in 0..<count { (y[i], d[i]) = Kernel.apply(y[i]) }
        case (let d?, false):
            for i in 0..<count { (y[i], d[i]) = Kernel.apply(x[i]) }
        case (nil, true):
            for i in 0..<count { y[i] = Kernel.apply(y[i]).0 }
        case (nil, false):
            for i in 0..<count { y[i] = Kernel.apply(x[i]).0 }
        }
    }

    private enum Relu: ActivationKernel { @inline(__always) static func apply(_ x: Float) -> (Float, Float) { relu(x) } }
    private enum Sigmoid: ActivationKernel { @inline(__always) static func apply(_ x: Float) -> (Float, Float) { sigmoid(x) } }
    private enum SiLU: ActivationKernel { @inline(__always) static func apply(_ x: Float) -> (Float, Float) { silu(x) } }
    private enum Tanh: ActivationKernel { @inline(__always) static func apply(_ x: Float) -> (Float, Float) { tanh(x) } }
    private enum Softplus: ActivationKernel { @inline(__always) static func apply(_ x: Float) -> (Float, Float) { softplus(x) } }

    // MARK: Kernels: (f(x), f′(x))

    /// max(x, 0); slope 1 for x > 0, else 0.
    @inline(__always)
    static func relu(_ x: Float) -> (Float, Float) { x > 0 ? (x, 1) : (0, 0) }

    /// σ(x) through e^{−|x|}: stable on both sides.
    @inline(__always)
    static func logistic(_ x: Float) -> Float {
        let e = fastExponential(-Swift.abs(x))
        return (x >= 0 ? 1 : e) / (1 + e)
    }

    /// σ(x) = 1/(1 + e^{−x}); slope σ(1 − σ).
    @inline(__always)
    static func sigmoid(_ x: Float) -> (Float, Float) {
        let s = logistic(x)
        return (s, s * (1 - s))
    }

    /// x σ(x); slope σ (1 + x (1 − σ)).
    @inline(__always)
    static func silu(_ x: Float) -> (Float, Float) {
        let s = logistic(x)
        return (x * s, s * (1 + x * (1 - s)))
    }

    /// tanh x = sign(x) (1 − e)/(1 + e) with e = e^{−2|x|}; slope 4e/(1 + e)², which keeps its
    /// relative precision where 1 − tanh² would cancel (|x| ≳ 4).
    @inline(__always)
    static func tanh(_ x: Float) -> (Float, Float) {
        let e = fastExponential(-2 * Swift.abs(x))
        let magnitude = (1 - e) / (1 + e)
        return (x >= 0 ? magnitude : -magnitude, 4 * e / ((1 + e) * (1 + e)))
    }

    /// log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}); slope σ(x) = (x ≥ 0 ? 1 : e)/(1 + e).
    /// e keeps its subnormal range: softplus(−100) = e⁻¹⁰⁰, not 0.
    @inline(__always)
    static func softplus(_ x: Float) -> (Float, Float) {
        let e = fastExponentialWithSubnormals(-Swift.abs(x))
        return (Swift.max(x, 0) + fastLog1p(e), (x >= 0 ? 1 : e) / (1 + e))
    }
}

extension Tensor {
    /// Applies `activation` element-wise, recording the slopes only when needed.
    func fusedActivation(_ activation: PointwiseActivation) -> Tensor {
        let n = count
        let records = GradientMode.isRecording && requiresGradient
        var slopes: [Float] = records ? Tensor.uninitializedBuffer(n) : []
        var values = Tensor.uninitializedBuffer(n)
        storage.withUnsafeBufferPointer { x in
            values.withUnsafeMutableBufferPointer { y in
                slopes.withUnsafeMutableBufferPointer { d in
                    activation.evaluate(x.baseAddress!, into: y.baseAddress!, slopes: records ? d.baseAddress! : nil, count: n)
                }
            }
        }
        return Tensor(shape: shape, storage: values, inputs: [self]) { output in
            var g = output.takeGradient()!
            Tensor.multiply(&g, by: slopes)
            self.accumulateGradient(g, shape: self.shape)
        }
    }

    /// g ← g ⊙ d, element-wise in place (the backward pass of every fused activation).
    static func multiply(_ g: inout [Float], by d: [Float]) {
        precondition(g.count == d.count, "gradient and slopes differ in size")
        let n = g.count
        g.withUnsafeMutableBufferPointer { g in
            d.withUnsafeBufferPointer { d in
                let g = g.baseAddress!, d = d.baseAddress!
                Parallel.forEachChunk(n) { range in
                    for i in range { g[i] *= d[i] }
                }
            }
        }
    }

    /// max(x, 0); slope 1 for x > 0, else 0.
    public func relu() -> Tensor { fusedActivation(.relu) }

    /// σ(x) = 1/(1 + e^{−x}); slope σ(1 − σ).
    public func sigmoid() -> Tensor { fusedActivation(.sigmoid) }

    /// x σ(x); slope σ (1 + x (1 − σ)).
    public func silu() -> Tensor { fusedActivation(.silu) }

    /// tanh x; slope 4e/(1 + e)² with e = e^{−2|x|}.
    public func tanh() -> Tensor { fusedActivation(.tanh) }

    /// log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}); slope σ(x).
    public func softplus() -> Tensor { fusedActivation(.softplus) }

    /// σ(x) through e^{−|x|}: stable on both sides.
    @inline(__always)
    static func logistic(_ x: Float) -> Float { PointwiseActivation.logistic(x) }
}
