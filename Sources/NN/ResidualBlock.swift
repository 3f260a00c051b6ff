import Core
import Tensor

/// The residual block of improved-diffusion's U-Net and of the ResNet VAEs:
///
///   h = conv3×3(SiLU(GN(x)))            inputs → outputs
///   h = h + Linear(SiLU(e))             (only with an embedding e [N, E]; broadcast over H, W)
///   h = conv3×3(SiLU(GN(h)))            outputs → outputs
///   y = skip(x) + h,  skip = identity when inputs = outputs, else a 1 × 1 convolution.
///
/// Shapes: x [N, H, W, inputs] → [N, H, W, outputs]. Each GroupNorm → SiLU is one fused
/// operation. The second convolution starts at zero (improved-diffusion's `zero_module`) when
/// `zeroInitializedOutput` is set, so that a fresh block is the identity on its skip path.
public final class ResidualBlock: Module {
    public let inputNorm: GroupNormalization
    public let inputConvolution: Convolution2D
    public let embeddingProjection: Linear?
    public let outputNorm: GroupNormalization
    public let outputConvolution: Convolution2D
    public let skipProjection: Convolution2D?

    public init(inputs: Int, outputs: Int, embeddingWidth: Int?, groups: Int, zeroInitializedOutput: Bool = true,
                using generator: inout RandomGenerator) {
        inputNorm = GroupNormalization(channels: inputs, groups: groups)
        inputConvolution = Convolution2D(inputs: inputs, outputs: outputs, geometry: .same3x3, using: &generator)
        embeddingProjection = embeddingWidth.map { Linear(inputs: $0, outputs: outputs, using: &generator) }
        outputNorm = GroupNormalization(channels: outputs, groups: groups)
        outputConvolution = Convolution2D(inputs: outputs, outputs: outputs, geometry: .same3x3,
                                          zeroInitialized: zeroInitializedOutput, using: &generator)
        skipProjection = inputs == outputs ? nil : Convolution2D(inputs: inputs, outputs: outputs, geometry: .pointwise, using: &generator)
    }

    /// The keys and shapes of a block of these sizes, in the order ``Module/namedParameters`` lists them.
    public static func parameterShapes(inputs: Int, outputs: Int, embeddingWidth: Int?) -> [(key: String, shape: [Int])] {
        var shapes = prefixed("inputNorm", GroupNormalization.parameterShapes(channels: inputs))
        shapes += prefixed("inputConvolution", Convolution2D.parameterShapes(inputs: inputs, outputs: outputs, geometry: .same3x3))
        if let embeddingWidth { shapes += [("embeddingProjection.weight", [outputs, embeddingWidth]), ("embeddingProjection.bias", [outputs])] }
        shapes += prefixed("outputNorm", GroupNormalization.parameterShapes(channels: outputs))
        shapes += prefixed("outputConvolution", Convolution2D.parameterShapes(inputs: outputs, outputs: outputs, geometry: .same3x3))
        if inputs != outputs {
            shapes += prefixed("skipProjection", Convolution2D.parameterShapes(inputs: inputs, outputs: outputs, geometry: .pointwise))
        }
        return shapes
    }

    /// `x` [N, H, W, inputs], `embedding` [N, E] (required when built with an embedding width)
    /// → [N, H, W, outputs].
    public func callAsFunction(_ x: Tensor, embedding: Tensor? = nil) -> Tensor {
        var h = inputConvolution(inputNorm(x, activation: .silu))
        if let embeddingProjection {
            guard let embedding else { preconditionFailure("this residual block needs an embedding") }
            let projected = embeddingProjection(embedding.silu())
            h = h + projected.reshaped([projected.shape[0], 1, 1, projected.shape[1]])
        }
        h = outputConvolution(outputNorm(h, activation: .silu))
        return (skipProjection?(x) ?? x) + h
    }
}

extension ResidualBlock {
    /// Floats one example keeps through a training pass of a block at a resolution of `pixels`
    /// pixels: GN(x) (inputs), then the first convolution, the embedding sum (with an embedding),
    /// GN, the second convolution and the residual sum (outputs each), and the skip projection
    /// when the widths differ. UNet.activationsPerExample counts its blocks the same way.
    public static func activationsPerExample(inputs: Int, outputs: Int, embedding: Bool, pixels: Int) -> Int {
        pixels * (inputs + (embedding ? 5 : 4) * outputs + (inputs == outputs ? 0 : outputs))
    }
}
