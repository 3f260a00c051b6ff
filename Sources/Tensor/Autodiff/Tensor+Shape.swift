extension Tensor {
    /// The same elements under a new shape of equal size; one extent may be −1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let unknown = newShape.firstIndex(of: -1) {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            resolved[unknown] = known == 0 ? 0 : count / known
        }
        precondition(resolved.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: resolved, storage: storage, inputs: [self]) { output in
            self.accumulateGradient(output.gradient!, shape: self.shape)
        }
    }

    /// The tensor stretched to `newShape` by broadcasting; the gradient sums back.
    public func broadcast(to newShape: [Int]) -> Tensor {
        precondition(Broadcasting.shape(shape, newShape) == newShape, "cannot broadcast \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: Broadcasting.expand(storage, from: shape, to: newShape), inputs: [self]) { output in
            self.accumulateGradient(output.gradient!, shape: output.shape)
        }
    }

    /// Axes reordered: output axis `i` is input axis `permutation[i]`.
    /// The gradient applies the inverse permutation.
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.sorted() == Array(0..<rank), "\(permutation) is not a permutation of the axes of \(shape)")
        let outputShape = permutation.map { shape[$0] }
        let values = Tensor.permute(storage, shape: shape, permutation)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return Tensor(shape: outputShape, storage: values, inputs: [self]) { output in
            self.accumulateGradient(Tensor.permute(output.gradient!, shape: outputShape, inverse), shape: self.shape)
        }
    }

    /// The transpose of a matrix, materialized. (Products never need it: see ``matmul(_:_:transposeA:transposeB:)``.)
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, got \(shape)")
        return permuted([1, 0])
    }

    static func permute(_ values: [Float], shape: [Int], _ permutation: [Int]) -> [Float] {
        let rank = shape.count
        var inputStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { inputStrides[axis] = inputStrides[axis + 1] * shape[axis + 1] }
        let outputShape = permutation.map { shape[$0] }
        let strides = permutation.map { inputStrides[$0] }
        var result = [Float](repeating: 0, count: values.count)
        if values.isEmpty { return result }
        var index = [Int](repeating: 0, count: rank)
        var source = 0
        for o in 0..<values.count {
            result[o] = values[source]
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                source += strides[axis]
                if index[axis] < outputShape[axis] { break }
                source -= strides[axis] * outputShape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// Tensors joined along `axis`; all other extents must agree. The gradient is sliced back.
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let first = tensors[0]
        let a = first.normalizedAxes([axis])[0]
        for t in tensors {
            precondition(t.rank == first.rank && (0..<first.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "cannot concatenate \(t.shape) with \(first.shape) along axis \(axis)")
        }
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        let extents = tensors.map { $0.shape[a] }
        let total = extents.reduce(0, +)
        var outputShape = first.shape
        outputShape[a] = total
        // The parts cover every element.
        var values = uninitializedBuffer(outer * total * inner)
        var offset = 0
        for (t, extent) in zip(tensors, extents) {
            let block = extent * inner
            t.storage.withUnsafeBufferPointer { source in
                values.withUnsafeMutableBufferPointer { destination in
                    for o in 0..<outer {
                        let to = destination.baseAddress! + o * total * inner + offset * inner
                        to.update(from: source.baseAddress! + o * block, count: block)
                    }
                }
            }
            offset += extent
        }
        return Tensor(shape: outputShape, storage: values, inputs: tensors) { output in
            let g = output.gradient!
            var offset = 0
            for (t, extent) in zip(tensors, extents) {
                defer { offset += extent }
                guard t.requiresGradient else { continue }
                let block = extent * inner
                var part = [Float](repeating: 0, count: outer * block)
                for o in 0..<outer {
                    for j in 0..<block { part[o * block + j] = g[o * total * inner + offset * inner + j] }
                }
                t.accumulateGradient(part, shape: t.shape)
            }
        }
    }

    /// The elements with index in `range` along `axis`. The gradient is zero-padded back.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = normalizedAxes([axis])[0]
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a], "slice \(range) out of bounds for axis \(a) of \(shape)")
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        let length = shape[a]
        let block = range.count * inner
        var values = [Float](repeating: 0, count: outer * block)
        for o in 0..<outer {
            for j in 0..<block { values[o * block + j] = storage[(o * length + range.lowerBound) * inner + j] }
        }
        var outputShape = shape
        outputShape[a] = range.count
        return Tensor(shape: outputShape, storage: values, inputs: [self]) { output in
            let g = output.gradient!
            var padded = [Float](repeating: 0, count: self.count)
            for o in 0..<outer {
                for j in 0..<block { padded[(o * length + range.lowerBound) * inner + j] = g[o * block + j] }
            }
            self.accumulateGradient(padded, shape: self.shape)
        }
    }

    /// Rows picked along the first axis: `result[i] = self[indices[i]]`. Indices may repeat;
    /// the gradient scatter-adds into the picked rows.
    public func gather(rows indices: [Int]) -> Tensor {
        precondition(rank >= 1, "gather needs at least one axis")
        let rowSize = shape.dropFirst().reduce(1, *)
        let rows = shape[0]
        for r in indices { precondition(r >= 0 && r < rows, "gather index \(r) out of range 0..<\(rows)") }
        let values = [Float](unsafeUninitializedCapacity: indices.count * rowSize) { buffer, initialized in
            storage.withUnsafeBufferPointer { source in
                guard rowSize > 0 else { return }
                for (i, r) in indices.enumerated() {
                    (buffer.baseAddress! + i * rowSize).initialize(from: source.baseAddress! + r * rowSize, count: rowSize)
                }
            }
            initialized = indices.count * rowSize
        }
        var outputShape = shape
        outputShape[0] = indices.count
        return Tensor(shape: outputShape, storage: values, inputs: [self]) { output in
            let g = output.gradient!
            var scattered = [Float](repeating: 0, count: self.count)
            for (i, r) in indices.enumerated() {
                for j in 0..<rowSize { scattered[r * rowSize + j] += g[i * rowSize + j] }
            }
            self.accumulateGradient(scattered, shape: self.shape)
        }
    }
}
