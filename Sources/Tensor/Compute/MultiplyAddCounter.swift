import _TensorKernels

/// The number of multiply–adds the engine's matrix products have made since the process
/// started: every product of ``MatrixProduct/multiply(m:n:k:_:leading:transpose:_:leading:transpose:into:accumulate:bias:kernels:epilogue:)``
/// counts m · n · k — the layers' products, the convolutions' (whose patches are products) and
/// their gradients. Element-wise work (activations, normalizations, the Adam update) is not
/// counted: it is a few operations per element against k per output of a product.
///
/// Training reads it around each optimizer step to state a run's training FLOPs
/// (2 per multiply–add), counted rather than derived by hand from the architecture.
public enum MultiplyAddCounter {
    /// Multiply–adds so far (all threads; one relaxed atomic add per product call).
    public static var total: UInt64 { tk_multiply_adds() }

    /// Adds `count` (≥ 0) multiply–adds.
    static func add(_ count: Int) {
        tk_count_multiply_adds(UInt64(count))
    }
}
