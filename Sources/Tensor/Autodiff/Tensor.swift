import Core

/// A dense, row-major array of `Float` with a shape, recording how it was computed.
///
/// `Tensor` is the single value type of the autodiff engine (in the spirit of micrograd):
/// every primitive operation returns a new tensor holding its result plus **one**
/// vector–Jacobian closure that, given the gradient of the output, adds the gradients of
/// its inputs. ``backward()`` orders the recorded graph topologically and replays those
/// closures in reverse. Gradients of broadcast inputs are reduced back to the input's shape
/// in exactly one place, ``accumulateGradient(_:shape:)``.
///
/// Nothing is recorded when no input requires a gradient, or inside
/// ``GradientMode/withoutRecording(_:)`` — the evaluation path builds no graph at all.
///
/// Storage is contiguous with no strides: views such as transposes are materialized, except
/// in ``matmul(_:_:transposeA:transposeB:)``, which passes transpose flags to BLAS instead.
public final class Tensor {
    /// The extent of each axis; `[]` is a scalar.
    public let shape: [Int]
    /// The elements in row-major order; `storage.count == shape.reduce(1, *)`.
    public internal(set) var storage: [Float]
    /// The accumulated gradient of the last ``backward()`` with respect to this tensor,
    /// same layout as ``storage``; `nil` until a gradient reaches it.
    public internal(set) var gradient: [Float]?
    /// Whether gradients flow to this tensor (parameters, and anything computed from them).
    public let requiresGradient: Bool

    /// The inputs this tensor was computed from (empty for leaves and unrecorded results).
    let inputs: [Tensor]
    /// The vector–Jacobian product: reads `output.gradient`, accumulates into ``inputs``.
    let pullback: ((Tensor) -> Void)?

    /// A constant (no gradient) of the given shape and values.
    public init(shape: [Int], storage: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        precondition(storage.count == shape.reduce(1, *), "storage of \(storage.count) elements does not fit shape \(shape)")
        self.shape = shape
        self.storage = storage
        self.requiresGradient = false
        self.inputs = []
        self.pullback = nil
    }

    /// A leaf that receives gradients: a trainable parameter.
    public init(parameterShape shape: [Int], storage: [Float]) {
        precondition(storage.count == shape.reduce(1, *), "storage of \(storage.count) elements does not fit shape \(shape)")
        self.shape = shape
        self.storage = storage
        self.requiresGradient = true
        self.inputs = []
        self.pullback = nil
    }

    /// The result of an operation; records `pullback` only when an input needs a gradient
    /// and recording is on.
    init(shape: [Int], storage: [Float], inputs: [Tensor], pullback: @escaping (Tensor) -> Void) {
        self.shape = shape
        self.storage = storage
        let records = GradientMode.isRecording && inputs.contains { $0.requiresGradient }
        self.requiresGradient = records
        self.inputs = records ? inputs : []
        self.pullback = records ? pullback : nil
    }

    /// Number of elements.
    @inlinable public var count: Int { storage.count }
    /// Number of axes.
    @inlinable public var rank: Int { shape.count }

    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(storage.count == 1, "scalar of a tensor with shape \(shape)")
        return storage[0]
    }

    /// The same values with no recorded history: gradients stop here.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// Records a custom operation from outside this module (a fused kernel, a distribution's
    /// log-probability): `pullback` receives the output and must call
    /// ``accumulateGradient(_:shape:)`` on each input that needs it.
    public static func recordOperation(
        shape: [Int], storage: [Float], inputs: [Tensor], pullback: @escaping (_ output: Tensor) -> Void
    ) -> Tensor {
        Tensor(shape: shape, storage: storage, inputs: inputs, pullback: pullback)
    }

    /// Overwrites the values of a parameter in place (optimizer updates, checkpoint loads).
    public func assign(_ values: [Float]) {
        precondition(values.count == storage.count, "assigning \(values.count) values to a tensor of shape \(shape)")
        storage = values
    }

    /// Updates the values in place through a pointer (fused optimizer loops).
    public func withMutableStorage<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Forgets the accumulated gradient.
    public func zeroGradient() { gradient = nil }

    /// Replaces the accumulated gradient with `values` (same layout as ``storage``): data-parallel
    /// training forms a step's gradient outside the graph, from the gradients of its shards.
    public func replaceGradient(_ values: [Float]) {
        precondition(values.count == storage.count, "a gradient of \(values.count) values for a tensor of shape \(shape)")
        gradient = values
    }
}

extension Tensor {
    /// A tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, storage: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A scalar constant (shape `[]`).
    public convenience init(_ value: Float) {
        self.init(shape: [], storage: [value])
    }

    /// A constant from nested rows: `Tensor([[1, 2], [3, 4]])` has shape `[2, 2]`.
    public convenience init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "ragged rows")
        self.init(shape: [rows.count, columns], storage: rows.flatMap { $0 })
    }

    /// Standard normal entries: ε ~ N(0, I) of the given shape.
    public static func randomNormal(shape: [Int], using generator: inout RandomGenerator) -> Tensor {
        // Every element is written by the draw.
        var values = uninitializedBuffer(shape.reduce(1, *))
        values.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
        return Tensor(shape: shape, storage: values)
    }

    /// Uniform entries on [low, high).
    public static func randomUniform(shape: [Int], low: Float = 0, high: Float = 1, using generator: inout RandomGenerator) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        // Rounding to Float can reach `high` itself; keep the interval half-open.
        for i in 0..<count { values[i] = Swift.min(low + (high - low) * Float(generator.nextUniform()), high.nextDown) }
        return Tensor(shape: shape, storage: values)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = storage.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(storage.count > 8 ? ", …" : "")])"
    }
}
