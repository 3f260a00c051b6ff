import _CBLAS
import _TensorKernels

/// C = op(A) · op(B) (+ bias), or C += op(A) · op(B), on row-major buffers: the one place the
/// toolkit multiplies matrices (``Tensor/matmul(_:_:transposeA:transposeB:)`` and
/// ``Tensor/affine(_:weight:bias:activation:)`` call it).
///
/// On CPUs with AVX2 and FMA the product is computed by the engine's own kernel, blocked as in
/// BLIS (Goto & van de Geijn 2008; Van Zee & van de Geijn 2015): op(B) is packed once into
/// panels of 16 columns (all threads packing), then blocks of rows of C are computed by
/// whichever thread is free, each packing its rows of op(A) into panels of 6 rows, one block
/// of depth at a time, and running the 6 × 16 micro-kernel of `_TensorKernels` over them. The
/// threads share the packed B — where splitting a product into separate sgemm calls would pack
/// it once per call — and nothing waits on anything but the packing of B. A C wider than tall
/// on several threads swaps the roles: op(A) is packed once and blocks of columns of C pack
/// their own columns of op(B), so the operand every block streams is the smaller one. A bias and an
/// element-wise epilogue (the fused activation of a layer) are applied to each block of C while
/// it is still in cache. Every element is summed in depth order in blocks of depth fixed by k
/// alone, so results do not depend on the thread count.
///
/// With the ``ComputeKernels/portable`` kernels it is OpenBLAS's `cblas_sgemm`, large products
/// split into blocks of rows (or columns) over the threads.
public enum MatrixProduct {
    /// Depth of one packed block: a block of 144 rows of A (144 × 256 floats, 144 KiB) stays in
    /// a core's L2 cache, a 16-column panel of B (16 KiB) in L1.
    static let maximumDepthBlock = 256
    /// Rows of C per block at most.
    static let maximumRowBlock = 144
    /// Columns of C per block at most, when blocks of columns are shared out (a block of 256
    /// columns of B, 256 KiB, in L2).
    static let maximumColumnBlock = 256
    static let tileRows = Int(TK_GEMM_MR)
    static let tileColumns = Int(TK_GEMM_NR)

    /// C (m × n, leading dimension n) = op(A) op(B) (+ `bias[j]` on every column j), or with
    /// `accumulate` C += op(A) op(B). op(A) is m × k, op(B) is k × n; A is stored row-major with
    /// leading dimension `lda` (k, or m when transposed), B likewise. Without `accumulate`, C's
    /// previous contents are ignored (it may be uninitialized).
    ///
    /// `epilogue(rows, columns)` is called once for each block of a partition of C, after that
    /// block is final, possibly on several threads at once (it must only touch its block).
    public static func multiply(
        m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, leading lda: Int, transpose transposeA: Bool,
        _ b: UnsafePointer<Float>, leading ldb: Int, transpose transposeB: Bool,
        into c: UnsafeMutablePointer<Float>, accumulate: Bool, bias: UnsafePointer<Float>? = nil,
        kernels: ComputeKernels = .current,
        epilogue: ((_ rows: Range<Int>, _ columns: Range<Int>) -> Void)? = nil
    ) {
        precondition(kernels == .portable || ComputeKernels.avx2Available, "this CPU cannot run the AVX2 kernels")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate {
                for i in 0..<m {
                    for j in 0..<n { c[i * n + j] = bias?[j] ?? 0 }
                }
            }
            epilogue?(0..<m, 0..<n)
            return
        }
        // The packed kernel computes whole 6 × 16 tiles: its work is that of the padded product.
        let work = kernels == .avx2 ? roundUp(m, to: tileRows) * roundUp(n, to: tileColumns) * k : m * n * k
        let threads = work >= LinearAlgebra.parallelProductThreshold ? LinearAlgebra.threadCount : 1
        switch kernels {
        case .avx2:
            packedProduct(m: m, n: n, k: k, a, lda, transposeA, b, ldb, transposeB, c, accumulate, bias, threads, epilogue)
        case .portable:
            if let bias, !accumulate {
                for i in 0..<m { (c + i * n).update(from: bias, count: n) }
            }
            blasProduct(m: m, n: n, k: k, a, lda, transposeA, b, ldb, transposeB,
                        beta: accumulate || bias != nil ? 1 : 0, c, threads: threads)
            epilogue?(0..<m, 0..<n)
        }
    }

    // MARK: - Packed kernel

    private static func packedProduct(
        m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, _ lda: Int, _ transposeA: Bool,
        _ b: UnsafePointer<Float>, _ ldb: Int, _ transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool, _ bias: UnsafePointer<Float>?, _ threads: Int,
        _ epilogue: ((Range<Int>, Range<Int>) -> Void)?
    ) {
        if threads > 1 && n > m {
            packedProductSplittingColumns(m: m, n: n, k: k, a, lda, transposeA, b, ldb, transposeB, c, accumulate, bias, threads, epilogue)
            return
        }
        // Blocks of depth of near-equal size, fixed by k alone.
        let depthBlocks = (k + maximumDepthBlock - 1) / maximumDepthBlock
        let depthBlock = (k + depthBlocks - 1) / depthBlocks
        func depthRange(_ d: Int) -> Range<Int> { (d * depthBlock)..<Swift.min(k, (d + 1) * depthBlock) }

        let panels = (n + tileColumns - 1) / tileColumns
        let paddedColumns = panels * tileColumns
        guard let packedB = tk_thread_scratch(0, k * paddedColumns) else {
            preconditionFailure("out of memory packing a \(k) × \(n) matrix")
        }
        // Depth block d of op(B) starts at d·depthBlock·paddedColumns; column j of it at j·depth.
        func packedPanels(_ d: Int, column: Int) -> UnsafeMutablePointer<Float> {
            packedB + d * depthBlock * paddedColumns + column * depthRange(d).count
        }

        // Pack op(B): pieces of whole panels, for each block of depth.
        let groups = threads > 1 ? Swift.min(panels, Swift.max(1, (4 * threads + depthBlocks - 1) / depthBlocks)) : 1
        let panelsPerGroup = (panels + groups - 1) / groups
        Parallel.forEach(depthBlocks * groups, concurrent: threads > 1) { item in
            let d = item / groups, group = item % groups
            let first = group * panelsPerGroup * tileColumns
            guard first < n else { return }
            let columns = Swift.min(n - first, panelsPerGroup * tileColumns)
            let depth = depthRange(d)
            tk_gemm_pack_b(b, ldb, transposeB ? 1 : 0, depth.lowerBound, depth.count, first, columns, packedPanels(d, column: first))
        }

        // Blocks of rows of C, of decreasing size (``guidedBlocks``); when there are fewer blocks
        // than threads, columns are split too.
        let rowStarts = guidedBlocks(tiles: (m + tileRows - 1) / tileRows, tileSize: tileRows, extent: m,
                                     largest: maximumRowBlock / tileRows, threads: threads)
        let rowBlocks = rowStarts.count - 1
        let rowBlock = (0..<rowBlocks).map { rowStarts[$0 + 1] - rowStarts[$0] }.max() ?? 0
        let columnBlocks = rowBlocks < threads ? Swift.min(panels, (2 * threads + rowBlocks - 1) / rowBlocks) : 1
        let columnBlock = roundUp((n + columnBlocks - 1) / columnBlocks, to: tileColumns)
        let scratchA = roundUp(rowBlock, to: tileRows) * depthBlock
        Parallel.forEach(rowBlocks * columnBlocks, concurrent: threads > 1) { item in
            let rows = rowStarts[item / columnBlocks]..<rowStarts[item / columnBlocks + 1]
            let columns = (item % columnBlocks * columnBlock)..<Swift.min(n, (item % columnBlocks + 1) * columnBlock)
            guard !rows.isEmpty, !columns.isEmpty, let packedA = tk_thread_scratch(1, scratchA) else {
                precondition(rows.isEmpty || columns.isEmpty, "out of memory packing a block of \(rowBlock) × \(depthBlock)")
                return
            }
            let target = c + rows.lowerBound * n + columns.lowerBound
            for d in 0..<depthBlocks {
                let depth = depthRange(d)
                tk_gemm_pack_a(a, lda, transposeA ? 1 : 0, rows.lowerBound, rows.count, depth.lowerBound, depth.count, packedA)
                tk_gemm_block(rows.count, columns.count, depth.count, packedA, packedPanels(d, column: columns.lowerBound),
                              target, n, accumulate || d > 0 ? 1 : 0, d == 0 ? bias.map { $0 + columns.lowerBound } : nil)
            }
            epilogue?(rows, columns)
        }
    }

    /// The packed product of a wide C (n > m) on several threads: the roles of the operands
    /// swap, so that the operand streamed by every block is the smaller one. op(A) (m × k) is
    /// packed once, by all threads; C is cut into blocks of columns of decreasing size, and
    /// each block packs its own columns of op(B) next to its computation. (Blocks of rows would
    /// each read all of the larger packed B from L3.) Element by element the same sums as
    /// ``packedProduct``: same tiles, same blocks of depth.
    private static func packedProductSplittingColumns(
        m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, _ lda: Int, _ transposeA: Bool,
        _ b: UnsafePointer<Float>, _ ldb: Int, _ transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool, _ bias: UnsafePointer<Float>?, _ threads: Int,
        _ epilogue: ((Range<Int>, Range<Int>) -> Void)?
    ) {
        let depthBlocks = (k + maximumDepthBlock - 1) / maximumDepthBlock
        let depthBlock = (k + depthBlocks - 1) / depthBlocks
        func depthRange(_ d: Int) -> Range<Int> { (d * depthBlock)..<Swift.min(k, (d + 1) * depthBlock) }

        let rowPanels = (m + tileRows - 1) / tileRows
        let paddedRows = rowPanels * tileRows
        guard let packedA = tk_thread_scratch(0, k * paddedRows) else {
            preconditionFailure("out of memory packing a \(m) × \(k) matrix")
        }
        // Depth block d of op(A) starts at d·depthBlock·paddedRows; row i of it at i·depth.
        func packedRows(_ d: Int, row: Int) -> UnsafeMutablePointer<Float> {
            packedA + d * depthBlock * paddedRows + row * depthRange(d).count
        }
        let groups = Swift.min(rowPanels, Swift.max(1, (4 * threads + depthBlocks - 1) / depthBlocks))
        let panelsPerGroup = (rowPanels + groups - 1) / groups
        Parallel.forEach(depthBlocks * groups) { item in
            let d = item / groups, group = item % groups
            let first = group * panelsPerGroup * tileRows
            guard first < m else { return }
            let rows = Swift.min(m - first, panelsPerGroup * tileRows)
            let depth = depthRange(d)
            tk_gemm_pack_a(a, lda, transposeA ? 1 : 0, first, rows, depth.lowerBound, depth.count, packedRows(d, row: first))
        }

        let columnStarts = guidedBlocks(tiles: (n + tileColumns - 1) / tileColumns, tileSize: tileColumns, extent: n,
                                        largest: maximumColumnBlock / tileColumns, threads: threads)
        let widest = (0..<(columnStarts.count - 1)).map { columnStarts[$0 + 1] - columnStarts[$0] }.max() ?? 0
        let scratchB = roundUp(widest, to: tileColumns) * depthBlock
        Parallel.forEach(columnStarts.count - 1) { item in
            let columns = columnStarts[item]..<columnStarts[item + 1]
            guard !columns.isEmpty, let packedB = tk_thread_scratch(1, scratchB) else {
                precondition(columns.isEmpty, "out of memory packing a block of \(depthBlock) × \(widest)")
                return
            }
            for d in 0..<depthBlocks {
                let depth = depthRange(d)
                tk_gemm_pack_b(b, ldb, transposeB ? 1 : 0, depth.lowerBound, depth.count, columns.lowerBound, columns.count, packedB)
                tk_gemm_block(m, columns.count, depth.count, packedRows(d, row: 0), packedB, c + columns.lowerBound, n,
                              accumulate || d > 0 ? 1 : 0, d == 0 ? bias.map { $0 + columns.lowerBound } : nil)
            }
            epilogue?(0..<m, columns)
        }
    }

    /// Starts of blocks of whole tiles covering `0..<extent`, in decreasing sizes ("guided"
    /// scheduling): each takes 1/(2·threads) of the tiles left, at most `largest` tiles and at
    /// least two, so that the thread that finishes first — cores of a shared machine run at
    /// different speeds — takes the small blocks at the end and no thread waits long for
    /// another. One thread gets blocks of `largest` tiles. The last start is `extent`.
    static func guidedBlocks(tiles: Int, tileSize: Int, extent: Int, largest: Int, threads: Int) -> [Int] {
        var starts = [0]
        var assigned = 0
        while assigned < tiles {
            let left = tiles - assigned
            let size = threads > 1 ? Swift.min(largest, Swift.max(2, (left + 2 * threads - 1) / (2 * threads))) : largest
            assigned += Swift.min(size, left)
            starts.append(Swift.min(extent, assigned * tileSize))
        }
        return starts
    }

    private static func roundUp(_ value: Int, to multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

    // MARK: - OpenBLAS

    /// One `cblas_sgemm` (row-major, C's leading dimension n), or — with more than one thread —
    /// one single-threaded sgemm per block of C's rows (or of its columns when C is wider than
    /// tall), the blocks shared out by ``Parallel/forEach(_:concurrent:_:)-swift.type.method``.
    /// Every element of C is computed by exactly one call over the full k, so blocks are
    /// independent. Splitting rows repacks B once per block (columns: A), so blocks are at
    /// least 64 rows and at most two per thread.
    static func blasProduct(
        m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, _ lda: Int, _ transposeA: Bool,
        _ b: UnsafePointer<Float>, _ ldb: Int, _ transposeB: Bool,
        beta: Float, _ c: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let splitRows = m >= n
        let extent = splitRows ? m : n
        let blocks = threads > 1 ? Swift.min(2 * threads, extent / 64) : 1
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
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

