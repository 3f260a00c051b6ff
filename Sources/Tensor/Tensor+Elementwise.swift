#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// Element-wise primitives. Binary ones broadcast like numpy; their vector–Jacobian
// closures produce gradients at the output's shape and leave the un-broadcasting to
// `accumulateGradient`.

extension Tensor {
    /// Applies `operation` element by element after broadcasting `lhs` and `rhs`.
    @inline(__always)
    static func broadcastBinary(_ lhs: Tensor, _ rhs: Tensor, _ operation: (Float, Float) -> Float) -> (shape: [Int], values: [Float]) {
        guard let shape = Broadcasting.shape(lhs.shape, rhs.shape) else {
            preconditionFailure("shapes \(lhs.shape) and \(rhs.shape) do not broadcast")
        }
        let count = shape.reduce(1, *)
        // Every element is written below; skip zero-filling.
        var result = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        lhs.storage.withUnsafeBufferPointer { a in
            rhs.storage.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { out in
                    if lhs.shape == rhs.shape {
                        let a = a.baseAddress!, b = b.baseAddress!, out = out.baseAddress!
                        Parallel.forEachChunk(count) { range in
                            for i in range { out[i] = operation(a[i], b[i]) }
                        }
                    } else if b.count == 1 {
                        let bv = b[0]
                        if a.count == count {
                            let a = a.baseAddress!, out = out.baseAddress!
                            Parallel.forEachChunk(count) { range in
                                for i in range { out[i] = operation(a[i], bv) }
                            }
                        } else {
                            Broadcasting.forEachIndex(shape, lhs.shape) { o, s in out[o] = operation(a[s], bv) }
                        }
                    } else if a.count == 1 {
                        let av = a[0]
                        if b.count == count {
                            for i in 0..<count { out[i] = operation(av, b[i]) }
                        } else {
                            Broadcasting.forEachIndex(shape, rhs.shape) { o, s in out[o] = operation(av, b[s]) }
                        }
                    } else if a.count == count, let last = shape.last, b.count == last, rhs.shape.last == last {
                        // matrix ⊕ row vector
                        var offset = 0
                        while offset < count {
                            for j in 0..<last { out[offset + j] = operation(a[offset + j], b[j]) }
                            offset += last
                        }
                    } else if b.count == count, let last = shape.last, a.count == last, lhs.shape.last == last {
                        var offset = 0
                        while offset < count {
                            for j in 0..<last { out[offset + j] = operation(a[j], b[offset + j]) }
                            offset += last
                        }
                    } else {
                        var bIndex = [Int](repeating: 0, count: count)
                        bIndex.withUnsafeMutableBufferPointer { bi in
                            Broadcasting.forEachIndex(shape, rhs.shape) { o, s in bi[o] = s }
                        }
                        Broadcasting.forEachIndex(shape, lhs.shape) { o, s in out[o] = operation(a[s], b[bIndex[o]]) }
                    }
                }
            }
        }
        return (shape, result)
    }

    /// Element-wise sum with broadcasting: `lhs + rhs`.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (shape, values) = broadcastBinary(lhs, rhs, +)
        return Tensor(shape: shape, storage: values, inputs: [lhs, rhs]) { output in
            let g = output.gradient!
            lhs.accumulateGradient(g, shape: output.shape)
            rhs.accumulateGradient(g, shape: output.shape)
        }
    }

    /// Element-wise product with broadcasting: `lhs * rhs`.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (shape, values) = broadcastBinary(lhs, rhs, *)
        return Tensor(shape: shape, storage: values, inputs: [lhs, rhs]) { output in
            let g = Tensor(shape: output.shape, storage: output.gradient!)
            if lhs.requiresGradient {
                lhs.accumulateGradient(broadcastBinary(g, rhs, *).values, shape: output.shape)
            }
            if rhs.requiresGradient {
                rhs.accumulateGradient(broadcastBinary(g, lhs, *).values, shape: output.shape)
            }
        }
    }

    /// Element-wise quotient with broadcasting: `lhs / rhs`.
    /// ∂/∂lhs = 1/rhs, ∂/∂rhs = −lhs/rhs² = −output/rhs.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (shape, values) = broadcastBinary(lhs, rhs, /)
        return Tensor(shape: shape, storage: values, inputs: [lhs, rhs]) { output in
            let g = Tensor(shape: output.shape, storage: output.gradient!)
            if lhs.requiresGradient {
                lhs.accumulateGradient(broadcastBinary(g, rhs, /).values, shape: output.shape)
            }
            if rhs.requiresGradient {
                let quotient = Tensor(shape: output.shape, storage: output.storage)
                let gq = broadcastBinary(g, quotient, *)
                let gradient = broadcastBinary(Tensor(shape: gq.shape, storage: gq.values), rhs) { -$0 / $1 }
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
