import Core
import NN
import Tensor

/// The ResNet encoder of a convolutional ``VAE``: an image → [μ | log σ²] of q(z | x).
///
///   f = BottomUpResNet(x)                 the features at the lowest resolution [h, w, c]
///   [μ | log σ²] = Linear(flatten(SiLU(GN(f))))    h·w·c → 2·latent (flattened in NHWC order)
///
/// With the default settings on 28×28×1 and latent 32 this is the `convvae28` encoder: conv 1→32;
/// ResBlock 32; down 32→64; ResBlock 64; down 64→64; ResBlock 64; GN, SiLU; Linear 3136 → 64.
/// Parameter keys: `bottomUp.*` (``BottomUpResNet``), `outputNorm.*`, `output.weight|bias`.
public final class ResNetEncoder: Module, VAEEncoderNetwork {
    public let settings: ConvolutionalSettings
    public let bottomUp: BottomUpResNet
    public let outputNorm: GroupNormalization
    public let output: Linear

    /// Residual blocks start as the identity (`zeroInitializedOutput`), see ``VAE/init(configuration:using:)``.
    public init(settings: ConvolutionalSettings, latentDimension: Int, using generator: inout RandomGenerator) {
        self.settings = settings
        bottomUp = BottomUpResNet(settings: settings, levels: settings.levels, blocksPerLevel: settings.autoencoderBlocksPerLevel,
                                  zeroInitializedBlocks: true, using: &generator)
        let deepest = settings.levels - 1
        outputNorm = GroupNormalization(channels: settings.channels(level: deepest), groups: settings.normalizationGroups)
        output = Linear(inputs: Self.flattenedWidth(settings), outputs: 2 * latentDimension, using: &generator)
    }

    /// h·w·c at the lowest resolution: the width of the flattened features.
    static func flattenedWidth(_ settings: ConvolutionalSettings) -> Int {
        let deepest = settings.levels - 1, extent = settings.extent(level: deepest)
        return extent.height * extent.width * settings.channels(level: deepest)
    }

    /// The keys and shapes of an encoder of these sizes, in ``Module/namedParameters`` order, without building it.
    public static func parameterShapes(settings: ConvolutionalSettings, latentDimension: Int) -> [(key: String, shape: [Int])] {
        let width = flattenedWidth(settings)
        return prefixed("bottomUp", BottomUpResNet.parameterShapes(settings: settings, levels: settings.levels,
                                                                  blocksPerLevel: settings.autoencoderBlocksPerLevel))
            + prefixed("outputNorm", GroupNormalization.parameterShapes(channels: settings.channels(level: settings.levels - 1)))
            + [("output.weight", [2 * latentDimension, width]), ("output.bias", [2 * latentDimension])]
    }

    /// Floats one example keeps through a training pass: the bottom-up path, the normalized
    /// features and the output.
    public static func activationsPerExample(settings: ConvolutionalSettings, latentDimension: Int) -> Int {
        BottomUpResNet.activationsPerExample(settings: settings, levels: settings.levels, blocksPerLevel: settings.autoencoderBlocksPerLevel)
            + flattenedWidth(settings) + 2 * latentDimension
    }

    /// x [rows, D] (images in NHWC order) → [rows, 2·latent].
    public func encode(_ x: Tensor) -> Tensor {
        let features = outputNorm(bottomUp.features(settings.image.images(x)).last!, activation: .silu)
        return output(features.reshaped([x.shape[0], -1]))
    }
}
