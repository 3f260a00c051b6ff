import Core
import Tensor

/// The nonlinearity between the layers of an ``MLP``.
public enum Activation: String, Codable, Sendable, CaseIterable {
    case relu, silu, tanh

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: return x.relu()
        case .silu: return x.silu()
        case .tanh: return x.tanh()
        }
    }

    /// The fused kernel of this activation, for ``Linear/callAsFunction(_:activation:)``.
    public var pointwise: PointwiseActivation {
        switch self {
        case .relu: return .relu
        case .silu: return .silu
        case .tanh: return .tanh
        }
    }
}

/// A multilayer perceptron: Linear → activation → … → Linear (no activation after the last).
///
/// `sizes = [inputs, hidden…, outputs]`; parameters under `layers.<i>.weight|bias`.
public final class MLP: Module {
    public let layers: [Linear]
    public let activation: Activation

    public init(sizes: [Int], activation: Activation, using generator: inout RandomGenerator) {
        precondition(sizes.count >= 2, "an MLP needs at least input and output sizes")
        var layers: [Linear] = []
        for (inputs, outputs) in zip(sizes.dropLast(), sizes.dropFirst()) {
            layers.append(Linear(inputs: inputs, outputs: outputs, using: &generator))
        }
        self.layers = layers
        self.activation = activation
    }

    public init(layers: [Linear], activation: Activation) {
        self.layers = layers
        self.activation = activation
    }

    /// x [batch, sizes.first] → [batch, sizes.last]. Each hidden layer is one fused
    /// affine-and-activation operation.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (index, layer) in layers.enumerated() {
            h = index < layers.count - 1 ? layer(h, activation: activation) : layer(h)
        }
        return h
    }
}
