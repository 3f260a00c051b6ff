import _CBLAS

/// OpenBLAS as the benchmark's baseline: one plain `cblas_sgemm` and the library's build, so
/// that callers outside Tensor compare the engine with it without importing `_CBLAS`.
/// (The ``ComputeKernels/portable`` product, ``MatrixProduct/multiply(m:n:k:_:leading:transpose:_:leading:transpose:into:accumulate:bias:kernels:epilogue:)``,
/// also splits large products over threads; this is the single call numpy's `matmul(out=)` makes.)
public enum OpenBLAS {
    /// C (m × n, leading dimension n) = op(A) op(B) by one `cblas_sgemm` (α = 1, β = 0) on the
    /// calling thread, row-major; op(A) is m × k, op(B) k × n, A and B stored with leading
    /// dimensions `lda` and `ldb` (k or m, n or k). OpenBLAS runs on one thread of its own, as
    /// everywhere in the toolkit (``LinearAlgebra``).
    public static func multiply(
        m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, leading lda: Int, transpose transposeA: Bool,
        _ b: UnsafePointer<Float>, leading ldb: Int, transpose transposeB: Bool,
        into c: UnsafeMutablePointer<Float>
    ) {
        _ = LinearAlgebra.threadCount  // switches OpenBLAS to one thread, once
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(n))
    }

    /// "OpenBLAS <configuration> (core <core>)": the build and the kernel it chose for this CPU.
    public static var description: String {
        let configuration = openblas_get_config().map { String(cString: $0) } ?? "?"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "?"
        return "OpenBLAS \(configuration) (core \(core))"
    }
}
