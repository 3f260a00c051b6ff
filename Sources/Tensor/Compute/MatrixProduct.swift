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
/// of depth at a time, and running the 6 × 16 micro-kernel of `_TensorKernels` over them. (On
/// CPUs with AVX-512F, ``ComputeKernels/avx512``, the same blocking runs a 12 × 32 micro-kernel
/// on panels of 12 rows and 32 columns: every tile size below is that of the kernel that runs,
/// ``PackedKernel``.) The
/// threads share the packed B — where splitting a product into separate sgemm calls would pack
/// it once per call — and nothing waits on anything but the packing of B. A C wider than tall
/// on several threads swaps the roles: op(A) is packed once and blocks of columns of C pack
/// their own columns of op(B), so the operand every block streams is the smaller one. A bias and an
/// element-wise epilogue (the fused activation of a layer) are applied to each block of C while
/// it is still in cache. Every element is summed in depth order in blocks of depth fixed by k
/// alone, so results do not depend on the thread count.
///
/// With the ``ComputeKernels/reference`` kernels the same blocking runs the portable C packing
/// and micro-kernel of `Reference.c` (the same bits as the AVX2 kernel, on any CPU). The AVX-512
/// kernel gives those bits too: whatever the tile, each element of C takes one fused
/// multiply–add per depth in depth order, in the same blocks of depth, then one addition. With the
/// ``ComputeKernels/portable`` kernels it is OpenBLAS's `cblas_sgemm`, large products split
/// into blocks of rows (or columns) over the threads.
public enum MatrixProduct {
    /// Depth of one packed block: a block of 144 rows of A (144 × 256 floats, 144 KiB) stays in
    /// a core's L2 cache, a 16-column panel of B (16 KiB) in L1. The same for every packed
    /// kernel: the blocks of depth decide which partial sums are added to C, so kernels that
    /// are to give the same bits must share them.
    static let maximumDepthBlock = 256

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
        precondition(kernels.isAvailable, "this CPU cannot run the \(kernels) kernels")
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
        MultiplyAddCounter.add(m * n * k)
        let packed: PackedKernel? = switch kernels {
        case .avx512: .avx512
        case .avx2: .avx2
        case .reference: .reference
        case .portable: nil
        }
        // A packed kernel computes whole tiles (6 × 16, or 12 × 32 for AVX-512): its work is
        // that of the product padded to its tile.
        let work = packed.map { roundUp(m, to: $0.tileRows) * roundUp(n, to: $0.tileColumns) * k } ?? m * n * k
        let threads = work >= LinearAlgebra.parallelProductThreshold ? LinearAlgebra.threadCount : 1
        if let packed {
            packedProduct(packed, m: m, n: n, k: k, a, lda, transposeA, b, ldb, transposeB, c, accumulate, bias, threads, epilogue)
        } else {
            if let bias, !accumulate {
                for i in 0..<m { (c + i * n).update(from: bias, count: n) }
            }
            blasProduct(m: m, n: n, k: k, a, lda, transposeA, b, ldb, transposeB,
                        beta: accumulate || bias != nil ? 1 : 0, c, threads: threads)
            epilogue?(0..<m, 0..<n)
        }
    }

    // MARK: - Packed kernel

    /// The three C functions of a packed product — the AVX-512 ones, the AVX2 ones, or the
    /// AVX2 ones' portable references (the same layouts and the same sums) — with their register
    /// tile and the block sizes derived from it. Called through pointers once per block, not per tile.
    struct PackedKernel {
        let packA: @convention(c) (UnsafePointer<Float>?, Int, Int32, Int, Int, Int, Int, UnsafeMutablePointer<Float>?) -> Void
        let packB: @convention(c) (UnsafePointer<Float>?, Int, Int32, Int, Int, Int, Int, UnsafeMutablePointer<Float>?) -> Void
        let block: @convention(c) (Int, Int, Int, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
                                   Int, Int32, UnsafePointer<Float>?) -> Void
        /// Rows of the register tile: op(A) is packed in panels of this many rows, and every
        /// block of rows of C but the last is a multiple of it.
        let tileRows: Int
        /// Columns of the register tile: op(B) is packed in panels of this many columns.
        let tileColumns: Int
        /// Rows of C per block at most, a multiple of ``tileRows``: the block's packed rows of
        /// A, maximumRowBlock × 256 floats, stay in a core's L2 cache.
        let maximumRowBlock: Int
        /// Columns of C per block at most when blocks of columns are shared out, a multiple of
        /// ``tileColumns``: the block's packed columns of B, 256 × maximumColumnBlock floats, stay in L2.
        let maximumColumnBlock: Int

        /// The 6 × 16 kernel (MatrixProduct.c). Blocks of 144 rows (24 tiles; 144 KiB of A in
        /// L2, one 16 KiB panel of B in L1 against them) and of 256 columns (256 KiB of B in L2).
        static let avx2 = PackedKernel(packA: tk_gemm_pack_a, packB: tk_gemm_pack_b, block: tk_gemm_block,
                                       tileRows: Int(TK_GEMM_MR), tileColumns: Int(TK_GEMM_NR),
                                       maximumRowBlock: 144, maximumColumnBlock: 256)
        /// The AVX2 kernel's portable twin, with its tile and blocks.
        static let reference = PackedKernel(packA: tk_gemm_pack_a_reference, packB: tk_gemm_pack_b_reference,
                                            block: tk_gemm_block_reference,
                                            tileRows: Int(TK_GEMM_MR), tileColumns: Int(TK_GEMM_NR),
                                            maximumRowBlock: 144, maximumColumnBlock: 256)
        /// The 12 × 32 kernel (MatrixProductAVX512.c). Blocks of 144 rows are 12 tiles: 144 KiB
        /// of packed A in L2, of which the kernel keeps one 12-row panel (12 KiB) in L1 while it
        /// sweeps up to 256 columns of B (8 panels of 32 KiB, 256 KiB, from L2 — 1 MiB on
        /// Skylake-X and Zen 4). Blocks of 256 columns are 8 panels. The row block stays at 144,
        /// a multiple of both tiles, so that the two kernels cut C alike. (Chosen by the cache
        /// sizes, not yet by measurement.)
        static let avx512 = PackedKernel(packA: tk_gemm_pack_a_avx512, packB: tk_gemm_pack_b_avx512,
                                         block: tk_gemm_block_avx512,
                                         tileRows: Int(TK_GEMM_MR_AVX512), tileColumns: Int(TK_GEMM_NR_AVX512),
                                         maximumRowBlock: 144, maximumColumnBlock: 256)
    }

    private static func packedProduct(
        _ kernel: PackedKernel, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, _ lda: Int, _ transposeA: Bool,
        _ b: UnsafePointer<Float>, _ ldb: Int, _ transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool, _ bias: UnsafePointer<Float>?, _ threads: Int,
        _ epilogue: ((Range<Int>, Range<Int>) -> Void)?
    ) {
        if threads > 1 && n > m {
            packedProductSplittingColumns(kernel, m: m, n: n, k: k, a, lda, transposeA, b, ldb, transposeB, c, accumulate, bias, threads, epilogue)
            return
        }
        let depth = DepthBlocks(k: k)
        let tileRows = kernel.tileRows, tileColumns = kernel.tileColumns
        // op(B), packed once into panels of 16 (32) columns, shared by every block of rows.
        let packedB = packShared(extent: n, tile: tileColumns, depth: depth, threads: threads) { d, first, count, into in
            kernel.packB(b, ldb, transposeB ? 1 : 0, depth[d].lowerBound, depth[d].count, first, count, into)
        }
        let panels = (n + tileColumns - 1) / tileColumns

        // Blocks of rows of C, of decreasing size (``guidedBlocks``); when there are fewer blocks
        // than threads, columns are split too.
        let rowStarts = guidedBlocks(tiles: (m + tileRows - 1) / tileRows, tileSize: tileRows, extent: m,
                                     largest: kernel.maximumRowBlock / tileRows, threads: threads)
        let rowBlocks = rowStarts.count - 1
        let rowBlock = (0..<rowBlocks).map { rowStarts[$0 + 1] - rowStarts[$0] }.max() ?? 0
        let columnBlocks = rowBlocks < threads ? Swift.min(panels, (2 * threads + rowBlocks - 1) / rowBlocks) : 1
        let columnBlock = roundUp((n + columnBlocks - 1) / columnBlocks, to: tileColumns)
        let scratchA = roundUp(rowBlock, to: tileRows) * depth.size
        Parallel.forEach(rowBlocks * columnBlocks, concurrent: threads > 1) { item in
            let rows = rowStarts[item / columnBlocks]..<rowStarts[item / columnBlocks + 1]
            let columns = (item % columnBlocks * columnBlock)..<Swift.min(n, (item % columnBlocks + 1) * columnBlock)
            guard !rows.isEmpty, !columns.isEmpty, let packedA = tk_thread_scratch(1, scratchA) else {
                precondition(rows.isEmpty || columns.isEmpty, "out of memory packing a block of \(rowBlock) × \(depth.size)")
                return
            }
            let target = c + rows.lowerBound * n + columns.lowerBound
            for d in 0..<depth.count {
                kernel.packA(a, lda, transposeA ? 1 : 0, rows.lowerBound, rows.count, depth[d].lowerBound, depth[d].count, packedA)
                kernel.block(rows.count, columns.count, depth[d].count, packedA, packedB.panels(d, from: columns.lowerBound),
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
        _ kernel: PackedKernel, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, _ lda: Int, _ transposeA: Bool,
        _ b: UnsafePointer<Float>, _ ldb: Int, _ transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool, _ bias: UnsafePointer<Float>?, _ threads: Int,
        _ epilogue: ((Range<Int>, Range<Int>) -> Void)?
    ) {
        let depth = DepthBlocks(k: k)
        let tileRows = kernel.tileRows, tileColumns = kernel.tileColumns
        // op(A), packed once into panels of 6 (12) rows, shared by every block of columns.
        let packedA = packShared(extent: m, tile: tileRows, depth: depth, threads: threads) { d, first, count, into in
            kernel.packA(a, lda, transposeA ? 1 : 0, first, count, depth[d].lowerBound, depth[d].count, into)
        }

        let columnStarts = guidedBlocks(tiles: (n + tileColumns - 1) / tileColumns, tileSize: tileColumns, extent: n,
                                        largest: kernel.maximumColumnBlock / tileColumns, threads: threads)
        let widest = (0..<(columnStarts.count - 1)).map { columnStarts[$0 + 1] - columnStarts[$0] }.max() ?? 0
        let scratchB = roundUp(widest, to: tileColumns) * depth.size
        Parallel.forEach(columnStarts.count - 1) { item in
            let columns = columnStarts[item]..<columnStarts[item + 1]
            guard !columns.isEmpty, let packedB = tk_thread_scratch(1, scratchB) else {
                precondition(columns.isEmpty, "out of memory packing a block of \(depth.size) × \(widest)")
                return
            }
            for d in 0..<depth.count {
                kernel.packB(b, ldb, transposeB ? 1 : 0, depth[d].lowerBound, depth[d].count, columns.lowerBound, columns.count, packedB)
                kernel.block(m, columns.count, depth[d].count, packedA.panels(d, from: 0), packedB, c + columns.lowerBound, n,
                              accumulate || d > 0 ? 1 : 0, d == 0 ? bias.map { $0 + columns.lowerBound } : nil)
            }
            epilogue?(0..<m, columns)
        }
    }

    /// The blocks of depth of a product: near-equal sizes of at most ``maximumDepthBlock``,
    /// fixed by k alone (so the sums do not depend on the thread count).
    struct DepthBlocks {
        let k: Int
        /// The number of blocks.
        let count: Int
        /// The size of every block but possibly the last.
        let size: Int

        init(k: Int) {
            self.k = k
            count = (k + MatrixProduct.maximumDepthBlock - 1) / MatrixProduct.maximumDepthBlock
            size = (k + count - 1) / count
        }

        /// Block d's depths.
        subscript(d: Int) -> Range<Int> { (d * size)..<Swift.min(k, (d + 1) * size) }
    }

    /// The operand that every block of C shares, packed: depth block d's panels start at
    /// d·size·padded, column (row) j of them at j·(block d's depth).
    struct SharedOperand {
        let base: UnsafeMutablePointer<Float>
        let depth: DepthBlocks
        /// Columns (rows) rounded up to whole panels.
        let padded: Int

        /// Depth block d of the packed operand, from column (row) `offset`.
        func panels(_ d: Int, from offset: Int) -> UnsafeMutablePointer<Float> {
            base + d * depth.size * padded + offset * depth[d].count
        }
    }

    /// Packs the operand that every block of C shares — op(B) in panels of the kernel's tile
    /// columns, or op(A) in panels of its tile rows (`tile`; `extent` columns or rows) — into this thread's scratch slot
    /// 0, in pieces of whole panels for each block of depth, shared out over the threads.
    /// `pack(d, first, count, into)` packs `count` columns (rows) from `first` of depth block d.
    private static func packShared(
        extent: Int, tile: Int, depth: DepthBlocks, threads: Int,
        _ pack: (_ d: Int, _ first: Int, _ count: Int, _ into: UnsafeMutablePointer<Float>) -> Void
    ) -> SharedOperand {
        let panels = (extent + tile - 1) / tile
        guard let base = tk_thread_scratch(0, depth.k * panels * tile) else {
            preconditionFailure("out of memory packing a \(depth.k) × \(extent) matrix")
        }
        let packed = SharedOperand(base: base, depth: depth, padded: panels * tile)
        let groups = threads > 1 ? Swift.min(panels, Swift.max(1, (4 * threads + depth.count - 1) / depth.count)) : 1
        let panelsPerGroup = (panels + groups - 1) / groups
        Parallel.forEach(depth.count * groups, concurrent: threads > 1) { item in
            let d = item / groups, group = item % groups
            let first = group * panelsPerGroup * tile
            guard first < extent else { return }
            pack(d, first, Swift.min(extent - first, panelsPerGroup * tile), packed.panels(d, from: first))
        }
        return packed
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
