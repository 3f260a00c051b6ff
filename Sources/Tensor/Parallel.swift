import Dispatch
import _CBLAS

/// The number of threads the toolkit computes with, for matrix products and large
/// element-wise kernels alike.
///
/// OpenBLAS itself always runs single-threaded: ``Tensor`` splits a large product into
/// `threadCount` blocks of rows (or columns) of the result and runs one sgemm per block
/// concurrently (see `Tensor.sgemm`), and splits large element-wise loops the same way
/// (``Parallel``). One pool, sized by one number, and no OpenBLAS worker threads spinning
/// between small products (they used to take a third of a core on a shared machine).
///
/// Small work never splits: a product below ``parallelProductThreshold`` multiply–adds, or an
/// element-wise loop below ``Parallel/minimumChunk`` elements per thread, runs on the calling
/// thread. The split is a function of the sizes and `threadCount` only, so results are
/// reproducible for a given thread count.
public enum LinearAlgebra {
    /// The count OpenBLAS was started with (`OPENBLAS_NUM_THREADS`, else the number of cores),
    /// read once; OpenBLAS is switched to one thread at the same moment.
    private static let initialThreadCount: Int = {
        let count = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
        return Swift.max(1, count)
    }()

    /// Set once at start-up by the command line (`--threads`); tests set and restore it.
    nonisolated(unsafe) private static var chosenThreadCount: Int?

    /// Sets the number of threads used by every later matrix product and large element-wise kernel.
    public static func setThreadCount(_ count: Int) {
        _ = initialThreadCount
        chosenThreadCount = Swift.max(1, count)
    }

    /// The number of threads products and large element-wise kernels are split over.
    public static var threadCount: Int { chosenThreadCount ?? initialThreadCount }

    /// Products of fewer multiply–adds (m·n·k) than this run as one sgemm on the calling
    /// thread: below ~2 MFLOP the hand-off costs more than the second core saves.
    public static let parallelProductThreshold = 1 << 20
}

/// Splits loops over ``LinearAlgebra/threadCount`` threads (element-wise kernels here, the
/// optimizer's update in `NN`).
public enum Parallel {
    /// Elements per thread below which a loop is not split.
    public static let minimumChunk = 1 << 15

    /// Calls `body` on contiguous ranges that cover `0..<count`: one range (on the calling
    /// thread) for small counts, else up to `threadCount` ranges run concurrently. Ranges start
    /// at multiples of 16 so that each thread's vector loop starts aligned with the others'.
    @inlinable
    public static func forEachChunk(_ count: Int, minimumChunk: Int = minimumChunk, _ body: (Range<Int>) -> Void) {
        let parts = Swift.min(LinearAlgebra.threadCount, count / Swift.max(1, minimumChunk))
        if parts <= 1 {
            body(0..<count)
            return
        }
        let chunk = (count / parts + 15) & ~15
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = Swift.min(count, part * chunk)
            let end = part == parts - 1 ? count : Swift.min(count, start + chunk)
            body(start..<end)
        }
    }

    /// Runs `body(0) … body(count − 1)`: when `concurrent`, on ``LinearAlgebra/threadCount``
    /// threads, thread j taking items j, j + threads, …; else in order on the calling thread.
    /// `body` must only write what item i owns.
    @inlinable
    public static func forEach(_ count: Int, concurrent: Bool, _ body: (Int) -> Void) {
        let threads = Swift.min(count, LinearAlgebra.threadCount)
        if concurrent && threads > 1 {
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                for item in stride(from: thread, to: count, by: threads) { body(item) }
            }
        } else {
            for item in 0..<count { body(item) }
        }
    }
}
