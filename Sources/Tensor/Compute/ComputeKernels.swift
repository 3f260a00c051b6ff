import _TensorKernels

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Which inner loops the engine runs for its hot operations — the matrix product, the fused
/// activations and Adam's update.
///
/// - ``avx2`` is the engine's own code for x86-64 CPUs with AVX2 and FMA (`_TensorKernels`,
///   compiled for those instructions and chosen at run time).
/// - ``reference`` is the same code in portable C, one element at a time (`Reference.c`): the
///   same packed product, activations and Adam update with the same operations in the same
///   order (fused multiply–adds as `fmaf`), so the same bits as ``avx2`` on any CPU — what the
///   tests check. It is slower (scalar; on an x86 CPU without FMA each `fmaf` is a libm call).
/// - ``portable`` is OpenBLAS for products and the Swift loops of ``PointwiseActivation`` and
///   Adam for the rest, on any CPU: the same functions with other rounding (no fused
///   multiply–adds, OpenBLAS's summation order), which the tests bound.
///
/// Column sums and Box–Muller deviates have one rounding whatever the kernels: their AVX2 loops
/// make the same operations as the Swift ones, which ``reference`` and ``portable`` run.
public enum ComputeKernels: String, Sendable, CaseIterable {
    case avx2
    case portable
    case reference

    /// Whether this CPU executes AVX2 and FMA instructions.
    public static let avx2Available = tk_cpu_has_avx2_fma() != 0

    /// Whether these kernels run on this CPU (``avx2`` only with AVX2 and FMA).
    public var isAvailable: Bool { self != .avx2 || Self.avx2Available }

    /// The kernels the environment asks for: `COMPARE_KERNELS=avx2`, `reference` or `portable`
    /// (to compare them, or on a machine where the vector code misbehaves); otherwise — or when
    /// it asks for ``avx2`` on a CPU without it — ``avx2`` where the CPU has it, else
    /// ``reference``, so that results have the same bits on every machine.
    static let environmentChoice: ComputeKernels = {
        let fallback: ComputeKernels = avx2Available ? .avx2 : .reference
        guard let choice = getenv("COMPARE_KERNELS"), let kernels = ComputeKernels(rawValue: String(cString: choice)) else {
            return fallback
        }
        return kernels.isAvailable ? kernels : fallback
    }()

    /// Set by ``select(_:)``; nil: the environment's choice.
    nonisolated(unsafe) private static var selected: ComputeKernels?

    /// Makes every later operation that does not name its kernels use `kernels` (nil: back to
    /// the environment's choice). For tests, which compare whole computations under two kernels
    /// and restore the previous choice; like ``LinearAlgebra/setThreadCount(_:)``, not to be
    /// called while other threads compute.
    public static func select(_ kernels: ComputeKernels?) {
        precondition(kernels?.isAvailable ?? true, "this CPU cannot run the AVX2 kernels")
        selected = kernels
    }

    /// The kernels of this process: ``select(_:)``'s choice, else the environment's.
    public static var current: ComputeKernels { selected ?? environmentChoice }

    /// One line that says what these kernels are, for logs and benchmark reports.
    public var summary: String {
        switch self {
        case .avx2: return "kernels avx2 (own packed sgemm, activations, Adam, Box-Muller)"
        case .portable: return "kernels portable (OpenBLAS sgemm, Swift loops)"
        case .reference: return "kernels reference (own packed sgemm, activations and Adam in portable C, same bits as avx2)"
        }
    }

    /// `tk_activation` (or its reference) of kind `kind`: y = f(x), slopes = f′(x) when given.
    /// Not for ``portable``, whose activations are Swift's.
    func activation(_ kind: Int32, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                    _ slopes: UnsafeMutablePointer<Float>?, _ count: Int) {
        switch self {
        case .avx2: tk_activation(kind, x, y, slopes, count)
        case .reference: tk_activation_reference(kind, x, y, slopes, count)
        case .portable: preconditionFailure("the portable kernels' activations are Swift loops")
        }
    }
}
