import _CBLAS

extension Tensor {
    /// Matrix product `op(a) · op(b)` of rank-2 tensors, where `op` transposes when its flag
    /// is set. Shapes: op(a) is [m, k], op(b) is [k, n], the result is [m, n].
    ///
    /// The only caller of BLAS in the toolkit: forward and both gradients are single
    /// `cblas_sgemm` calls with transpose flags (no transposed copy is ever made), and the
    /// gradients are accumulated by sgemm itself (β = 1 when a gradient already exists).
    ///
    /// For C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC; the transposed variants follow by swapping roles.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs rank-2 operands, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        var values = [Float](repeating: 0, count: m * n)
        gemm(a.storage, rows: a.shape[0], columns: a.shape[1], transpose: transposeA,
             b.storage, rows: b.shape[0], columns: b.shape[1], transpose: transposeB,
             into: &values, accumulate: false)
        return Tensor(shape: [m, n], storage: values, inputs: [a, b]) { output in
            let dC = output.gradient!
            if a.requiresGradient {
                // dA has a's own shape: [m, k] or, when transposed, [k, m].
                let accumulateA = a.gradient != nil
                var dA = a.takeGradient() ?? [Float](repeating: 0, count: a.count)
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
                var dB = b.takeGradient() ?? [Float](repeating: 0, count: b.count)
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

    /// C (+)= op(A) · op(B) on row-major buffers; A is stored [aRows, aColumns].
    static func gemm(
        _ a: [Float], rows aRows: Int, columns aColumns: Int, transpose transposeA: Bool,
        _ b: [Float], rows bRows: Int, columns bColumns: Int, transpose transposeB: Bool,
        into c: inout [Float], accumulate: Bool
    ) {
        let m = Int32(transposeA ? aColumns : aRows)
        let k = Int32(transposeA ? aRows : aColumns)
        let n = Int32(transposeB ? bRows : bColumns)
        if m == 0 || n == 0 { return }
        if k == 0 { if !accumulate { for i in c.indices { c[i] = 0 } }; return }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    cblas_sgemm(CblasRowMajor,
                                transposeA ? CblasTrans : CblasNoTrans,
                                transposeB ? CblasTrans : CblasNoTrans,
                                m, n, k, 1,
                                a.baseAddress, Int32(aColumns),
                                b.baseAddress, Int32(bColumns),
                                accumulate ? 1 : 0,
                                c.baseAddress, n)
                }
            }
        }
    }
}

/// Control of the BLAS thread pool.
public enum LinearAlgebra {
    /// Sets the number of threads OpenBLAS uses for every later matrix product.
    public static func setThreadCount(_ count: Int) { openblas_set_num_threads(Int32(count)) }
    /// The number of threads OpenBLAS currently uses.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
}
