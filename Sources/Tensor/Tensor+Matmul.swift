import Dispatch
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
        if m == 0 || n == 0 { return }
        if k == 0 { if !accumulate { for i in c.indices { c[i] = 0 } }; return }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    sgemm(m: m, n: n, k: k, a.baseAddress!, leading: aColumns, transpose: transposeA,
                          b.baseAddress!, leading: bColumns, transpose: transposeB,
                          beta: accumulate ? 1 : 0, c.baseAddress!)
                }
            }
        }
    }

    /// One `cblas_sgemm` (row-major, C's leading dimension n), or — for products of at least
    /// ``LinearAlgebra/parallelProductThreshold`` multiply–adds with more than one thread
    /// configured — one single-threaded sgemm per block of C's rows (or of its columns when C
    /// is wider than tall), the blocks shared out by ``Parallel/forEach(_:concurrent:_:)``.
    /// Every element of C is computed by exactly one call over the full k, so blocks are
    /// independent. Splitting rows repacks B once per block (columns: A), so blocks are at
    /// least 64 rows and at most two per thread.
    static func sgemm(
        m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, leading lda: Int, transpose transposeA: Bool,
        _ b: UnsafePointer<Float>, leading ldb: Int, transpose transposeB: Bool,
        beta: Float, _ c: UnsafeMutablePointer<Float>
    ) {
        let threads = LinearAlgebra.threadCount
        let splitRows = m >= n
        let extent = splitRows ? m : n
        let blocks = threads > 1 && m * n * k >= LinearAlgebra.parallelProductThreshold ? Swift.min(2 * threads, extent / 64) : 1
        func call(rows: Int, columns: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(rows), Int32(columns), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
        }
        if blocks <= 1 {
            call(rows: m, columns: n, a, b, c)
            return
        }
        // Multiples of 16 rows (columns): no block but the last ends in a partial micro-tile.
        let size = (extent / blocks + 15) & ~15
        Parallel.forEach(blocks) { block in
            let start = block * size
            let count = block == blocks - 1 ? extent - start : Swift.min(size, extent - start)
            guard count > 0 else { return }
            if splitRows {
                // Rows start..<start+count of op(A): row offset in A, or column offset in Aᵀ's storage.
                call(rows: count, columns: n, a + (transposeA ? start : start * lda), b, c + start * n)
            } else {
                // Columns of op(B): column offset in B, or row offset in Bᵀ's storage.
                call(rows: m, columns: count, a, b + (transposeB ? start * ldb : start), c + start)
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
