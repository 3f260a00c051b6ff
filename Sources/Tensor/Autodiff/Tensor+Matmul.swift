extension Tensor {
    /// Matrix product `op(a) · op(b)` of rank-2 tensors, where `op` transposes when its flag
    /// is set. Shapes: op(a) is [m, k], op(b) is [k, n], the result is [m, n].
    ///
    /// Forward and both gradients are single ``MatrixProduct`` calls with transpose flags (no
    /// transposed copy is ever made), and the gradients are accumulated by the product itself
    /// when a gradient already exists.
    ///
    /// For C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC; the transposed variants follow by swapping roles.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs rank-2 operands, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        // sgemm with β = 0 writes every element: no zero-fill needed.
        var values = [Float](unsafeUninitializedCapacity: m * n) { _, initialized in initialized = m * n }
        gemm(a.storage, rows: a.shape[0], columns: a.shape[1], transpose: transposeA,
             b.storage, rows: b.shape[0], columns: b.shape[1], transpose: transposeB,
             into: &values, accumulate: false)
        return Tensor(shape: [m, n], storage: values, inputs: [a, b]) { output in
            let dC = output.gradient!
            if a.requiresGradient {
                // dA has a's own shape: [m, k] or, when transposed, [k, m].
                let accumulateA = a.gradient != nil
                var dA = a.takeGradient() ?? Tensor.uninitializedBuffer(a.count)
                if !transposeA {
                    // dA = dC · op(b)ᵀ
                    gemm(dC, rows: m, columns: n, transpose: false,
                         b.storage, rows: b.shape[0], columns: b.shape[1], transpose: !transposeB,
                         into: &dA, accumulate: accumulateA)
                } else {
                    // dA = (dC · op(b)ᵀ)ᵀ = op(b) · dCᵀ
                    gemm(b.storage, rows: b.shape[0], columns: b.shape[1], transpose: transposeB,
                         dC, rows: m, columns: n, transpose: true,
                         into: &dA, accumulate: accumulateA)
                }
                a.gradient = dA
            }
            if b.requiresGradient {
                let accumulateB = b.gradient != nil
                var dB = b.takeGradient() ?? Tensor.uninitializedBuffer(b.count)
                if !transposeB {
                    // dB = op(a)ᵀ · dC
                    gemm(a.storage, rows: a.shape[0], columns: a.shape[1], transpose: !transposeA,
                         dC, rows: m, columns: n, transpose: false,
                         into: &dB, accumulate: accumulateB)
                } else {
                    // dB = (op(a)ᵀ · dC)ᵀ = dCᵀ · op(a)
                    gemm(dC, rows: m, columns: n, transpose: true,
                         a.storage, rows: a.shape[0], columns: a.shape[1], transpose: transposeA,
                         into: &dB, accumulate: accumulateB)
                }
                b.gradient = dB
            }
        }
    }

    /// `a.matmul(b)` reads as `a · b`.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        Tensor.matmul(self, other, transposeA: transposeSelf, transposeB: transposeOther)
    }

    /// C (+)= op(A) · op(B) on row-major buffers; A is stored [aRows, aColumns]. Without
    /// `accumulate`, C's previous contents are ignored (it may be uninitialized).
    static func gemm(
        _ a: [Float], rows aRows: Int, columns aColumns: Int, transpose transposeA: Bool,
        _ b: [Float], rows bRows: Int, columns bColumns: Int, transpose transposeB: Bool,
        into c: inout [Float], accumulate: Bool
    ) {
        let m = transposeA ? aColumns : aRows
        let k = transposeA ? aRows : aColumns
        let n = transposeB ? bRows : bColumns
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    guard let cBase = c.baseAddress else { return }
                    // Empty operands have no base address; a zero-depth product reads neither.
                    let aBase = a.baseAddress ?? UnsafePointer(cBase), bBase = b.baseAddress ?? UnsafePointer(cBase)
                    MatrixProduct.multiply(m: m, n: n, k: k, aBase, leading: aColumns, transpose: transposeA,
                                           bBase, leading: bColumns, transpose: transposeB,
                                           into: cBase, accumulate: accumulate)
                }
            }
        }
    }

    /// A buffer of `count` elements whose contents are not set: for outputs that are written
    /// in full before they are read (sgemm with β = 0, element-wise kernels).
    @inline(__always)
    static func uninitializedBuffer(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
}
