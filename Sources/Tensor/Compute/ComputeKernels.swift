import _TensorKernels

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Which inner loops the engine runs for its hot operations — the matrix product, the fused
/// activations and Adam's update.
///
/// - ``avx512`` is the engine's own code for x86-64 CPUs with AVX-512F (and AVX2 + FMA): the
///   matrix product on a 12 × 32 register tile (`MatrixProductAVX512.c`), and for everything
///   else the AVX2 loops of ``avx2``. Its products have the same bits as ``avx2``'s and
///   ``reference``'s (each element summed from +0 in depth order with one fused multiply–add
///   per depth, in the same blocks of depth, whatever the tile), and the other loops are the
///   AVX2 ones themselves, so a computation — a training run, a checkpoint — has the same bits
///   under all three.
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
    case avx512

    /// Whether this CPU executes AVX2 and FMA instructions.
    public static let avx2Available = tk_cpu_has_avx2_fma() != 0

    /// Whether this CPU executes AVX-512F instructions with the operating system saving their
    /// registers (`tk_cpu_has_avx512f`), and AVX2 and FMA, which ``avx512``'s other loops use.
    public static let avx512Available = tk_cpu_has_avx512f() != 0 && avx2Available

    /// Whether these kernels run on this CPU (``avx2`` only with AVX2 and FMA, ``avx512`` only
    /// with AVX-512F as well).
    public var isAvailable: Bool {
        switch self {
        case .avx512: return Self.avx512Available
        case .avx2: return Self.avx2Available
        case .portable, .reference: return true
        }
    }

    /// Whether the loops other than the matrix product — activations, Adam, column sums, group
    /// normalization, Box–Muller — are the AVX2 ones (``avx2`` and ``avx512``), rather than
    /// the portable C or Swift ones.
    var usesAVX2Loops: Bool { self == .avx2 || self == .avx512 }

    /// The kernels of this CPU when the environment names none: ``avx512`` where the CPU has
    /// AVX-512F, else ``avx2`` where it has AVX2 and FMA, else ``reference`` — the same bits on
    /// every machine.
    public static let automaticChoice: ComputeKernels = avx512Available ? .avx512 : avx2Available ? .avx2 : .reference

    /// The kernels the environment asks for: `COMPARE_KERNELS=avx512`, `avx2`, `reference` or
    /// `portable` (to compare them, or on a machine where the vector code misbehaves); otherwise
    /// — or when it asks for kernels this CPU cannot run — ``automaticChoice``.
    static let environmentChoice: ComputeKernels = {
        guard let choice = getenv("COMPARE_KERNELS"), let kernels = ComputeKernels(rawValue: String(cString: choice)) else {
            return automaticChoice
        }
        return kernels.isAvailable ? kernels : automaticChoice
    }()

    /// Set by ``select(_:)``; nil: the environment's choice.
    nonisolated(unsafe) private static var selected: ComputeKernels?

    /// Makes every later operation that does not name its kernels use `kernels` (nil: back to
    /// the environment's choice). For tests, which compare whole computations under two kernels
    /// and restore the previous choice; like ``LinearAlgebra/setThreadCount(_:)``, not to be
    /// called while other threads compute.
    public static func select(_ kernels: ComputeKernels?) {
        precondition(kernels?.isAvailable ?? true, "this CPU cannot run the \(kernels?.rawValue ?? "") kernels")
        selected = kernels
    }

    /// The kernels of this process: ``select(_:)``'s choice, else the environment's.
    public static var current: ComputeKernels { selected ?? environmentChoice }

    /// One line that says what these kernels are, for logs and benchmark reports.
    public var summary: String {
        switch self {
        case .avx512: return "kernels avx512 (own packed sgemm on a 12x32 tile; activations, Adam, Box-Muller of avx2; same bits as avx2)"
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
        case .avx2, .avx512: tk_activation(kind, x, y, slopes, count)
        case .reference: tk_activation_reference(kind, x, y, slopes, count)
        case .portable: preconditionFailure("the portable kernels' activations are Swift loops")
        }
    }
}
