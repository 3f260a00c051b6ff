import Core
import Tensor

/// A 2-D convolution layer over NHWC images: y = f(conv(x, W) + b).
///
/// Shapes: `weight` [outputs, k, k, inputs], `bias` [outputs]; x [N, H, W, inputs] →
/// [N, H_out, W_out, outputs] (``Tensor/convolution2D(_:weight:bias:geometry:activation:)``).
/// PyTorch stores the same weight as [outputs, inputs, k, k]; only the order of axes differs.
public final class Convolution2D: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let geometry: ConvolutionGeometry

    public var inputChannels: Int { weight.shape[3] }
    public var outputChannels: Int { weight.shape[0] }

    /// PyTorch's default initialization (`kaiming_uniform_(a=√5)`): W and b uniform on
    /// ±1/√fanIn with fanIn = k·k·inputs. `zeroInitialized` sets both to 0 instead
    /// (improved-diffusion's `zero_module` for a network's last layer, so that a fresh
    /// residual branch or ε̂ starts at 0).
    public init(inputs: Int, outputs: Int, geometry: ConvolutionGeometry, zeroInitialized: Bool = false,
                using generator: inout RandomGenerator) {
        let k = geometry.kernelSize
        let shape = [outputs, k, k, inputs]
        let bound = 1 / Float(k * k * inputs).squareRoot()
        if zeroInitialized {
            weight = Tensor(parameterShape: shape, storage: [Float](repeating: 0, count: shape.reduce(1, *)))
            bias = Tensor(parameterShape: [outputs], storage: [Float](repeating: 0, count: outputs))
        } else {
            weight = Tensor(parameterShape: shape, storage: Tensor.randomUniform(shape: shape, low: -bound, high: bound, using: &generator).storage)
            bias = Tensor(parameterShape: [outputs], storage: Tensor.randomUniform(shape: [outputs], low: -bound, high: bound, using: &generator).storage)
        }
        self.geometry = geometry
    }

    /// The parameter shapes of a layer of these sizes, without building it.
    public static func parameterShapes(inputs: Int, outputs: Int, geometry: ConvolutionGeometry) -> [(key: String, shape: [Int])] {
        [("weight", [outputs, geometry.kernelSize, geometry.kernelSize, inputs]), ("bias", [outputs])]
    }

    /// conv(x, W) + b, then `activation` fused into the product when given.
    public func callAsFunction(_ x: Tensor, activation: Activation? = nil) -> Tensor {
        Tensor.convolution2D(x, weight: weight, bias: bias, geometry: geometry, activation: activation?.pointwise)
    }
}

/// Group normalization with a learned per-channel scale γ (init 1) and offset β (init 0),
/// optionally followed by a fused activation: y = f(γ x̂ + β).
/// ``Tensor/groupNormalization(_:groups:scale:offset:epsilon:activation:)`` gives the formula.
public final class GroupNormalization: Module {
    public let scale: Tensor
    public let offset: Tensor
    public let groups: Int
    /// ε inside √(σ² + ε): PyTorch's default.
    public static let epsilon: Float = 1e-5

    public init(channels: Int, groups: Int) {
        precondition(channels % groups == 0, "\(channels) channels do not split into \(groups) groups")
        scale = Tensor(parameterShape: [channels], storage: [Float](repeating: 1, count: channels))
        offset = Tensor(parameterShape: [channels], storage: [Float](repeating: 0, count: channels))
        self.groups = groups
    }

    public static func parameterShapes(channels: Int) -> [(key: String, shape: [Int])] {
        [("scale", [channels]), ("offset", [channels])]
    }

    /// x [N, H, W, C] → [N, H, W, C].
    public func callAsFunction(_ x: Tensor, activation: Activation? = nil) -> Tensor {
        Tensor.groupNormalization(x, groups: groups, scale: scale, offset: offset, epsilon: Self.epsilon, activation: activation?.pointwise)
    }
}

/// Nearest-neighbour ×2 upsampling followed by a 3 × 3 convolution (improved-diffusion's
/// `Upsample` with `use_conv`): [N, H, W, inputs] → [N, 2H, 2W, outputs].
public final class UpsamplingConvolution: Module {
    public let convolution: Convolution2D

    public init(inputs: Int, outputs: Int, using generator: inout RandomGenerator) {
        convolution = Convolution2D(inputs: inputs, outputs: outputs, geometry: .same3x3, using: &generator)
    }

    public static func parameterShapes(inputs: Int, outputs: Int) -> [(key: String, shape: [Int])] {
        prefixed("convolution", Convolution2D.parameterShapes(inputs: inputs, outputs: outputs, geometry: .same3x3))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { convolution(x.upsampledNearest(factor: 2)) }
}

/// Keys of a sub-module's parameter shapes under `prefix`.
public func prefixed(_ prefix: String, _ shapes: [(key: String, shape: [Int])]) -> [(key: String, shape: [Int])] {
    shapes.map { (prefix + "." + $0.key, $0.shape) }
}
