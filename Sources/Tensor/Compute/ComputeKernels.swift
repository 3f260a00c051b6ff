import _TensorKernels

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Which inner loops the engine runs for its hot operations — the matrix product and the fused
/// activations.
///
/// ``avx2`` is the engine's own code for x86-64 CPUs with AVX2 and FMA (`_TensorKernels`,
/// compiled for those instructions and chosen at run time); ``portable`` is OpenBLAS for
/// products and the Swift loops of ``PointwiseActivation`` for activations, on any CPU. Both
/// compute the same functions; they differ in rounding (fused multiply–adds, another
/// summation order), which the tests bound.
public enum ComputeKernels: String, Sendable, CaseIterable {
    case avx2
    case portable

    /// Whether this CPU executes AVX2 and FMA instructions.
    public static let avx2Available = tk_cpu_has_avx2_fma() != 0

    /// The kernels of this process: ``avx2`` when the CPU has it, unless the environment sets
    /// `COMPARE_KERNELS=portable` (to compare the two, or on a machine where the vector code
    /// misbehaves).
    public static let current: ComputeKernels = {
        if let choice = getenv("COMPARE_KERNELS"), String(cString: choice) == "portable" { return .portable }
        return avx2Available ? .avx2 : .portable
    }()
}
