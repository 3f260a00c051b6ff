/// A boolean array with a shape: the condition of ``Tensor/select(_:_:_:)``.
public struct Mask: Sendable {
    public let shape: [Int]
    public let values: [Bool]

    public init(shape: [Int], values: [Bool]) {
        precondition(values.count == shape.reduce(1, *), "mask of \(values.count) values does not fit \(shape)")
        self.shape = shape
        self.values = values
    }
}

extension Tensor {
    /// Where `condition` holds, the element of `whenTrue`, elsewhere that of `whenFalse`
    /// (numpy's `where`). Both branches broadcast to the condition's shape; each receives the
    /// gradient only where it was chosen — exactly zero elsewhere, so an overflowing value in
    /// the unchosen branch must not be built from the same input (see ``sigmoid()``).
    public static func select(_ condition: Mask, _ whenTrue: Tensor, _ whenFalse: Tensor) -> Tensor {
        let shape = condition.shape
        let a = Broadcasting.expand(whenTrue.storage, from: whenTrue.shape, to: shape)
        let b = Broadcasting.expand(whenFalse.storage, from: whenFalse.shape, to: shape)
        let c = condition.values
        var values = [Float](repeating: 0, count: c.count)
        for i in 0..<c.count { values[i] = c[i] ? a[i] : b[i] }
        return Tensor(shape: shape, storage: values, inputs: [whenTrue, whenFalse]) { output in
            let g = output.gradient!
            if whenTrue.requiresGradient {
                var part = g
                for i in 0..<c.count where !c[i] { part[i] = 0 }
                whenTrue.accumulateGradient(part, shape: shape)
            }
            if whenFalse.requiresGradient {
                var part = g
                for i in 0..<c.count where c[i] { part[i] = 0 }
                whenFalse.accumulateGradient(part, shape: shape)
            }
        }
    }

    /// The mask of elements satisfying `predicate`.
    public func mask(_ predicate: (Float) -> Bool) -> Mask {
        Mask(shape: shape, values: storage.map(predicate))
    }
}
