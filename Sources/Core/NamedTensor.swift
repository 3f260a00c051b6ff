/// A named float32 array of a model: a parameter or one of its optimizer moments, as a checkpoint
/// stores it and ``Module/load(_:strict:)`` reads it.
///
/// `key` is dotted (`encoder.layers.0.weight`); in the file every dot becomes a group
/// level: `/parameters/encoder/layers/0/weight`.
public struct NamedTensor: Sendable, Equatable {
    public var key: String
    /// Extent per axis; `values.count == shape.reduce(1, *)`.
    public var shape: [Int]
    /// Row-major values.
    public var values: [Float]

    public init(key: String, shape: [Int], values: [Float]) {
        self.key = key
        self.shape = shape
        self.values = values
    }
}
