extension Tensor {
    /// The sum of each row of a [rows, columns] tensor, accumulated in Double (per-example
    /// log-probabilities of high-dimensional data lose digits when summed in Float).
    public func rowSumsInDouble() -> [Double] {
        precondition(rank == 2 || rank == 1, "rowSumsInDouble needs [rows, columns] or [rows], got \(shape)")
        if rank == 1 { return storage.map(Double.init) }
        let rows = shape[0], columns = shape[1]
        var sums = [Double](repeating: 0, count: rows)
        storage.withUnsafeBufferPointer { x in
            sums.withUnsafeMutableBufferPointer { sums in
                let x = x.baseAddress!, sums = sums.baseAddress!
                // Rows are split over threads; each row is summed in order, as on one thread.
                Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, Parallel.minimumChunk / Swift.max(columns, 1))) { range in
                    for r in range {
                        var total = 0.0
                        for c in 0..<columns { total += Double(x[r * columns + c]) }
                        sums[r] = total
                    }
                }
            }
        }
        return sums
    }

    /// Rows `range` of the first axis, without recording (data batches).
    public func rows(_ range: Range<Int>) -> Tensor {
        let rowSize = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape, storage: Array(storage[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)]))
    }
}
