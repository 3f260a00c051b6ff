#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// Element-wise primitives. Binary ones broadcast like numpy; their vector–Jacobian
// closures produce gradients at the output's shape and leave the un-broadcasting to
// `accumulateGradient`.

/// One element's result of a binary operation. A type rather than a closure, so that every
/// loop over it — including the pieces run by other threads — is specialized with the
/// operation inlined (a closure captured by a parallel loop's body is called once per element).
protocol BinaryKernel {
    static func apply(_ a: Float, _ b: Float) -> Float
}

enum Addition: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum Subtraction: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum Multiplication: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum Division: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
/// −a/b: the quotient's gradient with respect to its denominator, g · q / b negated.
enum NegatedDivision: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { -a / b } }

extension Tensor {
    /// Applies `Kernel` element by element after broadcasting `lhs` and `rhs`. Equal shapes, a
    /// scalar on either side, a row vector ([n] against [m, n]) and a column ([m, 1] against
    /// [m, n]) take direct loops, split over threads when large; other shapes go through
    /// ``Broadcasting/forEachIndex(_:_:_:)``.
    static func broadcastBinary<Kernel: BinaryKernel>(_ lhs: Tensor, _ rhs: Tensor, _: Kernel.Type) -> (shape: [Int], values: [Float]) {
        guard let shape = Broadcasting.shape(lhs.shape, rhs.shape) else {
            preconditionFailure("shapes \(lhs.shape) and \(rhs.shape) do not broadcast")
        }
        let count = shape.reduce(1, *)
        // Every element is written below; skip zero-filling.
        var result = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        let last = shape.last ?? 1
        let rows = last == 0 ? 0 : count / last
        /// Whether `operand` is one value per row of the [rows, last] result: [rows, 1] or [1…, rows, 1].
        func isColumn(_ operand: Tensor) -> Bool {
            shape.count >= 2 && operand.count == rows && operand.shape.last == 1 && operand.shape.dropLast().reduce(1, *) == rows
                && operand.shape.count == shape.count && operand.shape.dropLast() == shape.dropLast()
        }
        lhs.storage.withUnsafeBufferPointer { a in
            rhs.storage.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { out in
                    guard let out = out.baseAddress, count > 0 else { return }
                    let a = a.baseAddress!, b = b.baseAddress!
                    if lhs.shape == rhs.shape {
                        Parallel.forEachChunk(count) { range in
                            for i in range { out[i] = Kernel.apply(a[i], b[i]) }
                        }
                    } else if rhs.count == 1 && lhs.count == count {
                        let bv = b[0]
                        Parallel.forEachChunk(count) { range in
                            for i in range { out[i] = Kernel.apply(a[i], bv) }
                        }
                    } else if lhs.count == 1 && rhs.count == count {
                        let av = a[0]
                        Parallel.forEachChunk(count) { range in
                            for i in range { out[i] = Kernel.apply(av, b[i]) }
                        }
                    } else if lhs.count == count, rhs.count == last, rhs.shape.last == last {
                        // matrix ⊕ row vector
                        Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, Parallel.minimumChunk / last)) { range in
                            for row in range {
                                let offset = row * last
                                for j in 0..<last { out[offset + j] = Kernel.apply(a[offset + j], b[j]) }
                            }
                        }
                    } else if rhs.count == count, lhs.count == last, lhs.shape.last == last {
                        Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, Parallel.minimumChunk / last)) { range in
                            for row in range {
                                let offset = row * last
                                for j in 0..<last { out[offset + j] = Kernel.apply(a[j], b[offset + j]) }
                            }
                        }
                    } else if lhs.count == count, isColumn(rhs) {
                        // matrix ⊕ column: one value per row
                        Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, Parallel.minimumChunk / last)) { range in
                            for row in range {
                                let offset = row * last, bv = b[row]
                                for j in 0..<last { out[offset + j] = Kernel.apply(a[offset + j], bv) }
                            }
                        }
                    } else if rhs.count == count, isColumn(lhs) {
                        Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, Parallel.minimumChunk / last)) { range in
                            for row in range {
                                let offset = row * last, av = a[row]
                                for j in 0..<last { out[offset + j] = Kernel.apply(av, b[offset + j]) }
                            }
                        }
                    } else {
                        var bIndex = [Int](repeating: 0, count: count)
                        bIndex.withUnsafeMutableBufferPointer { bi in
                            Broadcasting.forEachIndex(shape, rhs.shape) { o, s in bi[o] = s }
                        }
                        Broadcasting.forEachIndex(shape, lhs.shape) { o, s in out[o] = Kernel.apply(a[s], b[bIndex[o]]) }
                    }
                }
            }
        }
        return (shape, result)
    }

    /// Element-wise sum with broadcasting: `lhs + rhs`.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (shape, values) = broadcastBinary(lhs, rhs, Addition.self)
        return Tensor(shape: shape, storage: values, inputs: [lhs, rhs]) { output in
            let g = output.gradient!
            lhs.accumulateGradient(g, shape: output.shape)
            rhs.accumulateGradient(g, shape: output.shape)
        }
    }

    /// Element-wise product with broadcasting: `lhs * rhs`.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (shape, values) = broadcastBinary(lhs, rhs, Multiplication.self)
        return Tensor(shape: shape, storage: values, inputs: [lhs, rhs]) { output in
            let g = Tensor(shape: output.shape, storage: output.gradient!)
            if lhs.requiresGradient {
                lhs.accumulateGradient(broadcastBinary(g, rhs, Multiplication.self).values, shape: output.shape)
            }
            if rhs.requiresGradient {
                rhs.accumulateGradient(broadcastBinary(g, lhs, Multiplication.self).values, shape: output.shape)
            }
        }
    }

    /// Element-wise quotient with broadcasting: `lhs / rhs`.
    /// ∂/∂lhs = 1/rhs, ∂/∂rhs = −lhs/rhs² = −output/rhs.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (shape, values) = broadcastBinary(lhs, rhs, Division.self)
        return Tensor(shape: shape, storage: values, inputs: [lhs, rhs]) { output in
            let g = Tensor(shape: output.shape, storage: output.gradient!)
            if lhs.requiresGradient {
                lhs.accumulateGradient(broadcastBinary(g, rhs, Division.self).values, shape: output.shape)
            }
            if rhs.requiresGradient {
                let quotient = Tensor(shape: output.shape, storage: output.storage)
                let gq = broadcastBinary(g, quotient, Multiplication.self)
                let gradient = broadcastBinary(Tensor(shape: gq.shape, storage: gq.values), rhs, NegatedDivision.self)
                rhs.accumulateGradient(gradient.values, shape: output.shape)
            }
        }
    }

    /// Applies a unary function and records `derivative(input, output)` as its local slope.
    @inline(__always)
    func unary(_ function: (Float) -> Float, derivative: @escaping (_ input: Float, _ output: Float) -> Float) -> Tensor {
        let n = count
        var values = [Float](unsafeUninitializedCapacity: n) { _, initialized in initialized = n }
        storage.withUnsafeBufferPointer { x in
            values.withUnsafeMutableBufferPointer { y in
                for i in 0..<n { y[i] = function(x[i]) }
            }
        }
        return Tensor(shape: shape, storage: values, inputs: [self]) { output in
            var g = output.takeGradient()!
            self.storage.withUnsafeBufferPointer { x in
                output.storage.withUnsafeBufferPointer { y in
                    g.withUnsafeMutableBufferPointer { g in
                        for i in 0..<n { g[i] *= derivative(x[i], y[i]) }
                    }
                }
            }
            self.accumulateGradient(g, shape: output.shape)
        }
    }

    /// e^x element-wise; d/dx = e^x.
    public func exp() -> Tensor { unary({ expf($0) }, derivative: { _, y in y }) }

    /// Natural logarithm element-wise; d/dx = 1/x.
    public func log() -> Tensor { unary({ logf($0) }, derivative: { x, _ in 1 / x }) }

    /// log(1 + x) element-wise, accurate for tiny x; d/dx = 1/(1 + x).
    public func log1p() -> Tensor { unary({ log1pf($0) }, derivative: { x, _ in 1 / (1 + x) }) }

    /// sin x element-wise; d/dx = cos x. (Sinusoidal embeddings of a differentiable time and
    /// Fourier features of a diffused input, docs/math.md#fourier-features.)
    public func sine() -> Tensor { unary({ sinf($0) }, derivative: { x, _ in cosf(x) }) }

    /// cos x element-wise; d/dx = −sin x.
    public func cosine() -> Tensor { unary({ cosf($0) }, derivative: { x, _ in -sinf(x) }) }
}

// Scalar conveniences: a Float operand is a rank-0 constant that broadcasts.
extension Tensor {
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs + Tensor(rhs) }
    public static func + (lhs: Float, rhs: Tensor) -> Tensor { Tensor(lhs) + rhs }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs * Tensor(rhs) }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { Tensor(lhs) * rhs }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs * Tensor(1 / rhs) }
    public static func / (lhs: Float, rhs: Tensor) -> Tensor { Tensor(lhs) / rhs }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + Tensor(-rhs) }
    public static func - (lhs: Float, rhs: Tensor) -> Tensor { Tensor(lhs) - rhs }
}
