import Core
import Tensor

/// The bottom-up ResNet of the convolutional VAE's encoder and of the hierarchical VAE's
/// inference path: an image → its features at each of `levels` resolutions.
///
/// With channels c_r = base · multiplier_r and n blocks per resolution:
///
///   h = conv3×3(x)                                            C → c_0
///   r = 0 … levels−1:  n × { h = ResBlock(h) }  (c_r → c_r);  f_r = h
///                      if r < levels−1: h = conv3×3 stride 2 (h)   c_r → c_{r+1}
///
/// The stride-2 convolution changes the width, so every block keeps its width (the
/// `convvae28` encoder: conv 1→32; ResBlock 32; down 32→64; ResBlock 64; down 64→64; ResBlock 64).
/// Blocks have no embedding. Shapes: x [N, H, W, C] → f_r [N, H_r, W_r, c_r].
/// Parameter keys: `inputConvolution.*`, `blocks.<i>.*` (n per resolution, full size first),
/// `downsamplers.<r>.*`.
public final class BottomUpResNet: Module {
    public let settings: ConvolutionalSettings
    /// Resolutions computed: the first `levels` of the settings'.
    public let levels: Int
    public let blocksPerLevel: Int
    public let inputConvolution: Convolution2D
    public let blocks: [ResidualBlock]
    /// One per resolution but the last.
    public let downsamplers: [Convolution2D]

    /// `zeroInitializedBlocks`: see ``ResidualBlock`` (each block starts as the identity).
    public init(settings: ConvolutionalSettings, levels: Int, blocksPerLevel: Int, zeroInitializedBlocks: Bool,
                using generator: inout RandomGenerator) {
        precondition(levels >= 1 && levels <= settings.levels && blocksPerLevel >= 1, "\(levels) levels of \(settings.levels), \(blocksPerLevel) blocks")
        self.settings = settings
        self.levels = levels
        self.blocksPerLevel = blocksPerLevel
        let groups = settings.normalizationGroups
        inputConvolution = Convolution2D(inputs: settings.image.channels, outputs: settings.baseChannels, geometry: .same3x3, using: &generator)
        var blocks: [ResidualBlock] = [], downsamplers: [Convolution2D] = []
        for level in 0..<levels {
            let channels = settings.channels(level: level)
            for _ in 0..<blocksPerLevel {
                blocks.append(ResidualBlock(inputs: channels, outputs: channels, embeddingWidth: nil, groups: groups,
                                            zeroInitializedOutput: zeroInitializedBlocks, using: &generator))
            }
            if level < levels - 1 {
                downsamplers.append(Convolution2D(inputs: channels, outputs: settings.channels(level: level + 1),
                                                  geometry: .downsampling3x3, using: &generator))
            }
        }
        self.blocks = blocks
        self.downsamplers = downsamplers
    }

    /// The keys and shapes of a path of these sizes, in ``Module/namedParameters`` order, without building it.
    public static func parameterShapes(settings: ConvolutionalSettings, levels: Int, blocksPerLevel: Int) -> [(key: String, shape: [Int])] {
        var shapes = prefixed("inputConvolution", Convolution2D.parameterShapes(inputs: settings.image.channels, outputs: settings.baseChannels,
                                                                                geometry: .same3x3))
        for level in 0..<levels {
            let channels = settings.channels(level: level)
            for index in 0..<blocksPerLevel {
                shapes += prefixed("blocks.\(level * blocksPerLevel + index)",
                                   ResidualBlock.parameterShapes(inputs: channels, outputs: channels, embeddingWidth: nil))
            }
        }
        for level in 0..<(levels - 1) {
            shapes += prefixed("downsamplers.\(level)", Convolution2D.parameterShapes(inputs: settings.channels(level: level),
                                                                                     outputs: settings.channels(level: level + 1),
                                                                                     geometry: .downsampling3x3))
        }
        return shapes
    }

    /// Floats one example keeps through a training pass: the image, the input convolution's
    /// output, every block (``ResidualBlock/activationsPerExample(inputs:outputs:embedding:pixels:)``)
    /// and every downsampler's output.
    public static func activationsPerExample(settings: ConvolutionalSettings, levels: Int, blocksPerLevel: Int) -> Int {
        func pixels(_ level: Int) -> Int { let e = settings.extent(level: level); return e.height * e.width }
        var total = settings.image.dimension + pixels(0) * settings.baseChannels
        for level in 0..<levels {
            let channels = settings.channels(level: level)
            total += blocksPerLevel * ResidualBlock.activationsPerExample(inputs: channels, outputs: channels, embedding: false, pixels: pixels(level))
            if level < levels - 1 { total += pixels(level + 1) * settings.channels(level: level + 1) }
        }
        return total
    }

    /// x [N, H, W, C] → the features f_r [N, H_r, W_r, c_r] of every resolution, full size first.
    public func features(_ x: Tensor) -> [Tensor] {
        var h = inputConvolution(x)
        var result: [Tensor] = []
        for level in 0..<levels {
            for index in 0..<blocksPerLevel { h = blocks[level * blocksPerLevel + index](h) }
            result.append(h)
            if level < levels - 1 { h = downsamplers[level](h) }
        }
        return result
    }
}
