extension Tensor {
    /// Normalizes possibly negative axes (−1 is the last axis) and checks their range.
    func normalizedAxes(_ axes: [Int]) -> [Int] {
        axes.map { axis in
            let a = axis < 0 ? axis + rank : axis
            precondition(a >= 0 && a < rank, "axis \(axis) out of range for shape \(shape)")
            return a
        }
    }

    /// The sum over `axes` (all axes when `nil`). With `keepingDimensions` the reduced axes
    /// stay as extent 1. Its gradient broadcasts the output gradient back over those axes.
    public func sum(axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let reduced = Set(normalizedAxes(axes ?? Array(0..<rank)))
        let keptShape = shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
        let values = Broadcasting.reduce(storage, from: shape, to: keptShape)
        let outputShape = keepingDimensions ? keptShape : shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
        return Tensor(shape: outputShape, storage: values, inputs: [self]) { output in
            self.accumulateGradient(Broadcasting.expand(output.gradient!, from: keptShape, to: self.shape), shape: self.shape)
        }
    }

    /// The sum over one axis.
    public func sum(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        sum(axes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The mean over `axes` (all axes when `nil`): the sum divided by the number of terms.
    public func mean(axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let reduced = normalizedAxes(axes ?? Array(0..<rank))
        let terms = reduced.reduce(1) { $0 * shape[$1] }
        return sum(axes: reduced, keepingDimensions: keepingDimensions) * (1 / Float(terms))
    }

    /// The largest element along `axis`. The gradient flows to the first position that
    /// attains the maximum.
    public func max(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let a = normalizedAxes([axis])[0]
        let outer = shape[..<a].reduce(1, *)
        let length = shape[a]
        let inner = shape[(a + 1)...].reduce(1, *)
        precondition(length > 0, "max over an empty axis of shape \(shape)")
        var values = [Float](repeating: -.infinity, count: outer * inner)
        var winners = [Int](repeating: 0, count: outer * inner)
        storage.withUnsafeBufferPointer { x in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = x[o * length * inner + i]
                    var bestIndex = o * length * inner + i
                    for l in 1..<Swift.max(length, 1) {
                        let index = (o * length + l) * inner + i
                        if x[index] > best { best = x[index]; bestIndex = index }
                    }
                    values[o * inner + i] = best
                    winners[o * inner + i] = bestIndex
                }
            }
        }
        var outputShape = shape
        if keepingDimensions { outputShape[a] = 1 } else { outputShape.remove(at: a) }
        return Tensor(shape: outputShape, storage: values, inputs: [self]) { output in
            var g = [Float](repeating: 0, count: self.count)
            let incoming = output.gradient!
            for (position, index) in winners.enumerated() { g[index] += incoming[position] }
            self.accumulateGradient(g, shape: self.shape)
        }
    }
}
