import _TensorKernels

/// The number of elements ``Tensor/guarded(to:)`` has moved back into its bounds since the
/// process started (all threads). A run whose guards never acted reads zero: its numbers are
/// those of the unguarded model, bit for bit. Training and evaluation read it to say so.
public enum GuardCounter {
    /// Elements moved into bounds so far.
    public static var total: UInt64 { tk_guarded_elements() }

    static func add(_ count: Int) {
        tk_count_guarded_elements(UInt64(count))
    }
}
