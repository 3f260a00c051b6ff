/// Numpy broadcasting: shapes are aligned at their trailing axes, and an axis of extent 1
/// (or a missing leading axis) stretches to match the other.
public enum Broadcasting {
    /// The broadcast shape of `lhs` and `rhs`, or `nil` when they are incompatible.
    public static func shape(_ lhs: [Int], _ rhs: [Int]) -> [Int]? {
        let rank = max(lhs.count, rhs.count)
        var result = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let l = axis < rank - lhs.count ? 1 : lhs[axis - (rank - lhs.count)]
            let r = axis < rank - rhs.count ? 1 : rhs[axis - (rank - rhs.count)]
            if l == r || r == 1 { result[axis] = l } else if l == 1 { result[axis] = r } else { return nil }
        }
        return result
    }

    /// Row-major strides of `shape` padded to `rank`, with 0 on every broadcast axis, so that
    /// `Σ index[axis] · stride[axis]` addresses the source element for an output index.
    static func strides(of shape: [Int], broadcastTo outputShape: [Int]) -> [Int] {
        let rank = outputShape.count
        let offset = rank - shape.count
        var strides = [Int](repeating: 0, count: rank)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis + offset] = shape[axis] == 1 && outputShape[axis + offset] != 1 ? 0 : running
            running *= shape[axis]
        }
        return strides
    }

    /// Calls `body(outputIndex, sourceIndex)` for every element of `outputShape`, where
    /// `sourceIndex` addresses a tensor of `sourceShape` broadcast to it.
    @inline(__always)
    static func forEachIndex(_ outputShape: [Int], _ sourceShape: [Int], _ body: (Int, Int) -> Void) {
        let count = outputShape.reduce(1, *)
        if count == 0 { return }
        let strides = Self.strides(of: sourceShape, broadcastTo: outputShape)
        let rank = outputShape.count
        if rank == 0 { body(0, 0); return }
        let inner = outputShape[rank - 1]
        let innerStride = strides[rank - 1]
        var counter = [Int](repeating: 0, count: rank)
        var outer = 0
        var base = 0
        while outer < count {
            var source = base
            for i in 0..<inner {
                body(outer + i, source)
                source += innerStride
            }
            outer += inner
            // Advance the multi-index over all axes but the last.
            var axis = rank - 2
            while axis >= 0 {
                counter[axis] += 1
                base += strides[axis]
                if counter[axis] < outputShape[axis] { break }
                base -= strides[axis] * outputShape[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
    }

    /// Whether `reduced` is `full` with its last axis summed away: `[…, n]` → `[…]` or `[…, 1]`
    /// (with n > 1, and every other extent equal).
    static func isRowReduction(from full: [Int], to reduced: [Int]) -> Bool {
        guard let last = full.last, last > 1 else { return false }
        let leading = full.dropLast()
        return Array(leading) == reduced || (Array(leading) + [1]) == reduced
    }

    /// `values` of `sourceShape` stretched to `outputShape`.
    static func expand(_ values: [Float], from sourceShape: [Int], to outputShape: [Int]) -> [Float] {
        if sourceShape == outputShape { return values }
        let count = outputShape.reduce(1, *)
        if values.count == 1 { return [Float](repeating: values[0], count: count) }
        if let last = outputShape.last, last > 0, isRowReduction(from: outputShape, to: sourceShape) {
            // One value per row ([rows] or [rows, 1] → [rows, last]): fill each row.
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                for row in 0..<(count / last) {
                    (buffer.baseAddress! + row * last).initialize(repeating: values[row], count: last)
                }
                initialized = count
            }
        }
        var result = [Float](repeating: 0, count: count)
        values.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { output in
                forEachIndex(outputShape, sourceShape) { o, s in output[o] = source[s] }
            }
        }
        return result
    }

    /// The sum of `values` (of `sourceShape`) over every axis that `targetShape` broadcasts
    /// along: the adjoint of ``expand(_:from:to:)``. This is where broadcast gradients are
    /// un-broadcast.
    static func reduce(_ values: [Float], from sourceShape: [Int], to targetShape: [Int]) -> [Float] {
        if sourceShape == targetShape { return values }
        let count = targetShape.reduce(1, *)
        // Accumulate in Double: a Float running sum drifts by ~1% over 10⁶ terms.
        var totals = [Double](repeating: 0, count: count)
        values.withUnsafeBufferPointer { source in
            totals.withUnsafeMutableBufferPointer { output in
                if count == 1 {
                    var total = 0.0
                    for v in source { total += Double(v) }
                    output[0] = total
                } else if let last = sourceShape.last, last > 0, isRowReduction(from: sourceShape, to: targetShape) {
                    // The sum of each row ([rows, last] → [rows] or [rows, 1]), in order: the
                    // additions of the general path below, without its index arithmetic.
                    let source = source.baseAddress!
                    Parallel.forEachChunk(count, minimumChunk: Swift.max(1, Parallel.minimumChunk / last)) { rows in
                        for row in rows {
                            var total = 0.0
                            for j in 0..<last { total += Double(source[row * last + j]) }
                            output[row] = total
                        }
                    }
                } else if let last = sourceShape.last, last == count, targetShape.reduce(1, *) == targetShape.last {
                    // A row vector [n] or [1, n] against a matrix [m, n].
                    var offset = 0
                    while offset < source.count {
                        for j in 0..<count { output[j] += Double(source[offset + j]) }
                        offset += count
                    }
                } else {
                    forEachIndex(sourceShape, targetShape) { s, t in output[t] += Double(source[s]) }
                }
            }
        }
        return totals.map { Float($0) }
    }
}
