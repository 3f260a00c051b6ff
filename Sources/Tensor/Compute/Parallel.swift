import _CBLAS

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The number of threads the toolkit computes with, for matrix products and large
/// element-wise kernels alike.
///
/// One pool, sized by one number: ``MatrixProduct`` shares the blocks of a product out over
/// `threadCount` threads, and large element-wise loops are split the same way (``Parallel``),
/// all on the workers of ``ThreadPool``. OpenBLAS (the portable kernels' product) always runs
/// single-threaded, so that no worker threads of its own spin between products.
///
/// Small work never splits: a product below ``parallelProductThreshold`` multiply–adds, or an
/// element-wise loop below 2 × ``Parallel/minimumChunk`` elements, runs on the calling thread.
/// With the AVX2 kernels results do not depend on the split at all; with the portable ones
/// they depend on the sizes and `threadCount` only, so runs are reproducible for a given count.
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

    /// Products of fewer multiply–adds (m·n·k, with m and n rounded up to the packed kernel's
    /// tile) than this run on the calling thread: below ~1 MFLOP (≈ 10 µs on one core) the
    /// hand-off to the workers (≈ 1–2 µs) and the split tiles cost more than the second core saves.
    public static let parallelProductThreshold = 1 << 19
}

/// Splits loops over ``LinearAlgebra/threadCount`` threads (element-wise kernels and
/// products here, the optimizer's update in `NN`), on the persistent workers of ``ThreadPool``.
///
/// Work is cut into a few more pieces than there are threads, and each thread takes the next
/// piece when it is done with one, so a thread that the operating system pauses (on a shared
/// machine) holds up the others only for the piece it is on. Which thread computes a piece
/// never changes its result: pieces are fixed by the sizes and the thread count alone.
public enum Parallel {
    /// Elements per piece below which a loop is not split.
    public static let minimumChunk = 1 << 14
    /// Pieces per thread for element-wise loops.
    static let chunksPerThread = 4

    /// Calls `body` on contiguous ranges that cover `0..<count`: one range (on the calling
    /// thread) for small counts or one thread, else up to 4 × threadCount ranges of at least
    /// `minimumChunk` elements, taken by the threads in turn. Ranges start at multiples of 16.
    public static func forEachChunk(_ count: Int, minimumChunk: Int = minimumChunk, _ body: (Range<Int>) -> Void) {
        let threads = LinearAlgebra.threadCount
        let chunks = Swift.min(threads * chunksPerThread, count / Swift.max(1, minimumChunk))
        if threads <= 1 || chunks <= 1 {
            body(0..<count)
            return
        }
        let size = (count / chunks + 15) & ~15
        forEach(chunks) { chunk in
            let start = chunk * size
            let end = chunk == chunks - 1 ? count : Swift.min(count, start + size)
            if start < end { body(start..<end) }
        }
    }

    /// Runs `body(0) … body(count − 1)`, each once: when `concurrent` (and more than one
    /// thread is configured), on up to ``LinearAlgebra/threadCount`` threads that each take
    /// the next unclaimed item; else in order on the calling thread. `body(i)` must only write
    /// what item i owns.
    public static func forEach(_ count: Int, concurrent: Bool = true, _ body: (Int) -> Void) {
        forEach(count, concurrent: concurrent) { item, _ in body(item) }
    }

    /// As ``forEach(_:concurrent:_:)-swift.type.method``, also passing the participant that runs the
    /// item: 0 for the calling thread, 1…threadCount − 1 for workers, distinct among the threads
    /// of one loop (an index into per-thread scratch space).
    public static func forEach(_ count: Int, concurrent: Bool = true, _ body: (_ item: Int, _ participant: Int) -> Void) {
        let threads = Swift.min(count, LinearAlgebra.threadCount)
        if !concurrent || threads <= 1 {
            for item in 0..<count { body(item, 0) }
            return
        }
        ThreadPool.shared.forEach(count, threads: threads, body)
    }
}
