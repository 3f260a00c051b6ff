import Core
import NN
import Tensor

/// The ResNet decoder of a convolutional ``VAE``: z → the parameters of p(x | z), the mirror of
/// ``ResNetEncoder``. With R resolutions, channels c_r and n = ``ConvolutionalSettings/autoencoderBlocksPerLevel``:
///
///   h = reshape(Linear(z), [h_{R−1}, w_{R−1}, c_{R−1}])           latent → h·w·c
///   r = R−1 … 0:  n × { h = ResBlock(h) }  (c_r → c_r);  if r > 0: h = up×2 + conv3×3 (h)   c_r → c_{r−1}
///   out = conv3×3(SiLU(GN(h)))                                      c_0 → k·C
///
/// and the k·C output channels regrouped into rows [first parameter (D) | second (D)]
/// (``ImageShape/parameterRows(_:parameters:)``), the layout of the MLP decoder. With the default
/// settings on 28×28×1, latent 32 and Bernoulli logits (k = 1) this is the `convvae28` decoder:
/// Linear 32 → 3136; ResBlock 64; up 64→64; ResBlock 64; up 64→32; ResBlock 32; GN, SiLU; conv 32→1.
/// Parameter keys: `input.weight|bias`, `blocks.<i>.*` (n per resolution, lowest first),
/// `upsamplers.<i>.*` (lowest first), `outputNorm.*`, `outputConvolution.*`.
public final class ResNetDecoder: Module, VAEDecoderNetwork {
    public let settings: ConvolutionalSettings
    /// k: parameters per data value.
    public let outputsPerDimension: Int
    public let input: Linear
    public let blocks: [ResidualBlock]
    public let upsamplers: [UpsamplingConvolution]
    public let outputNorm: GroupNormalization
    public let outputConvolution: Convolution2D

    /// Residual blocks start as the identity (`zeroInitializedOutput`), see ``VAE/init(configuration:using:)``.
    public init(settings: ConvolutionalSettings, latentDimension: Int, outputsPerDimension: Int, using generator: inout RandomGenerator) {
        self.settings = settings
        self.outputsPerDimension = outputsPerDimension
        let n = settings.autoencoderBlocksPerLevel, groups = settings.normalizationGroups
        input = Linear(inputs: latentDimension, outputs: ResNetEncoder.flattenedWidth(settings), using: &generator)
        var blocks: [ResidualBlock] = [], upsamplers: [UpsamplingConvolution] = []
        for level in stride(from: settings.levels - 1, through: 0, by: -1) {
            let channels = settings.channels(level: level)
            for _ in 0..<n {
                blocks.append(ResidualBlock(inputs: channels, outputs: channels, embeddingWidth: nil, groups: groups,
                                            zeroInitializedOutput: true, using: &generator))
            }
            if level > 0 { upsamplers.append(UpsamplingConvolution(inputs: channels, outputs: settings.channels(level: level - 1), using: &generator)) }
        }
        self.blocks = blocks
        self.upsamplers = upsamplers
        outputNorm = GroupNormalization(channels: settings.baseChannels, groups: groups)
        outputConvolution = Convolution2D(inputs: settings.baseChannels, outputs: outputsPerDimension * settings.image.channels,
                                          geometry: .same3x3, using: &generator)
    }

    /// The keys and shapes of a decoder of these sizes, in ``Module/namedParameters`` order, without building it.
    public static func parameterShapes(settings: ConvolutionalSettings, latentDimension: Int, outputsPerDimension: Int) -> [(key: String, shape: [Int])] {
        let width = ResNetEncoder.flattenedWidth(settings), n = settings.autoencoderBlocksPerLevel
        var shapes: [(key: String, shape: [Int])] = [("input.weight", [width, latentDimension]), ("input.bias", [width])]
        var index = 0
        for level in stride(from: settings.levels - 1, through: 0, by: -1) {
            let channels = settings.channels(level: level)
            for _ in 0..<n {
                shapes += prefixed("blocks.\(index)", ResidualBlock.parameterShapes(inputs: channels, outputs: channels, embeddingWidth: nil))
                index += 1
            }
        }
        for (index, level) in stride(from: settings.levels - 1, to: 0, by: -1).enumerated() {
            shapes += prefixed("upsamplers.\(index)", UpsamplingConvolution.parameterShapes(inputs: settings.channels(level: level),
                                                                                           outputs: settings.channels(level: level - 1)))
        }
        shapes += prefixed("outputNorm", GroupNormalization.parameterShapes(channels: settings.baseChannels))
        shapes += prefixed("outputConvolution", Convolution2D.parameterShapes(inputs: settings.baseChannels,
                                                                             outputs: outputsPerDimension * settings.image.channels, geometry: .same3x3))
        return shapes
    }

    /// Floats one example keeps through a training pass: z, the linear map's output, every
    /// block, each upsampling (the enlarged map and its convolution), the normalized map, the
    /// output channels and their regrouping into rows.
    public static func activationsPerExample(settings: ConvolutionalSettings, latentDimension: Int, outputsPerDimension: Int) -> Int {
        func pixels(_ level: Int) -> Int { let e = settings.extent(level: level); return e.height * e.width }
        let n = settings.autoencoderBlocksPerLevel
        var total = latentDimension + ResNetEncoder.flattenedWidth(settings)
        for level in 0..<settings.levels {
            let channels = settings.channels(level: level)
            total += n * ResidualBlock.activationsPerExample(inputs: channels, outputs: channels, embedding: false, pixels: pixels(level))
            if level > 0 { total += pixels(level - 1) * (channels + settings.channels(level: level - 1)) }
        }
        let outputs = outputsPerDimension * settings.image.dimension
        return total + pixels(0) * settings.baseChannels + (outputsPerDimension == 1 ? outputs : 2 * outputs)
    }

    /// z [rows, latent] → [rows, k·D].
    public func decode(_ z: Tensor) -> Tensor {
        let rows = z.shape[0], deepest = settings.levels - 1, extent = settings.extent(level: deepest)
        var h = input(z).reshaped([rows, extent.height, extent.width, settings.channels(level: deepest)])
        let n = settings.autoencoderBlocksPerLevel
        for (index, level) in stride(from: deepest, through: 0, by: -1).enumerated() {
            for block in blocks[(index * n)..<((index + 1) * n)] { h = block(h) }
            if level > 0 { h = upsamplers[index](h) }
        }
        let output = outputConvolution(outputNorm(h, activation: .silu))
        return settings.image.parameterRows(output, parameters: outputsPerDimension)
    }
}
