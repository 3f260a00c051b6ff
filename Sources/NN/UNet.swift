import Core
import Tensor

/// The U-Net ε-network of improved-diffusion (Nichol & Dhariwal 2021; Ho et al. 2020), sized
/// for a CPU by ``ConvolutionalSettings``: ε̂ (and v) = UNet(x_t, e(t)).
///
/// With R resolutions, channels c_r = base · multiplier_r and B residual blocks per resolution:
///
///   emb = Linear(SiLU(Linear(e(t))))                   E → 4·base → 4·base
///   h = conv3×3(x);  keep h
///   down, r = 0…R−1: B × { h = ResBlock(h, emb) → c_r; keep h };  if r < R−1: h = conv3×3/2(h); keep h
///   middle:         h = ResBlock(h, emb); h = ResBlock(h, emb)
///   up, r = R−1…0:  (B+1) × { h = ResBlock([h, popped], emb) → c_r };  if r > 0: h = up×2 + conv3×3(h)
///   out = conv3×3(SiLU(GN(h)))  → outputChannels, zero-initialized
///
/// "[h, popped]" concatenates the last kept activation along channels. Every residual block
/// takes the embedding (``ResidualBlock``). Shapes: x [N, H, W, C], embedding [N, E] →
/// [N, H, W, outputChannels]. Parameter keys follow the property names (`downBlocks.3.inputConvolution.weight`).
public final class UNet: Module {
    public let settings: ConvolutionalSettings
    /// Channels of the input image: the image's own, or more when features of it are stacked
    /// on (``FourierFeatures``).
    public let inputChannels: Int
    public let outputChannels: Int
    public let timeEmbeddingInput: Linear
    public let timeEmbeddingOutput: Linear
    public let inputConvolution: Convolution2D
    /// B per resolution, full size first.
    public let downBlocks: [ResidualBlock]
    /// One per resolution but the last.
    public let downsamplers: [Convolution2D]
    public let middleBlocks: [ResidualBlock]
    /// B + 1 per resolution, lowest first.
    public let upBlocks: [ResidualBlock]
    /// One per resolution but the first, lowest first.
    public let upsamplers: [UpsamplingConvolution]
    public let outputNorm: GroupNormalization
    public let outputConvolution: Convolution2D

    /// The width of the embedding inside the network: 4 × base channels (improved-diffusion's `time_embed_dim`).
    public var embeddingWidth: Int { 4 * settings.baseChannels }

    /// `inputChannels` defaults to the image's channels.
    public init(settings: ConvolutionalSettings, embeddingDimension: Int, outputChannels: Int, inputChannels: Int? = nil,
                using generator: inout RandomGenerator) {
        self.settings = settings
        self.inputChannels = inputChannels ?? settings.image.channels
        self.outputChannels = outputChannels
        let plan = UNetPlan(settings: settings)
        let width = 4 * settings.baseChannels, groups = settings.normalizationGroups
        timeEmbeddingInput = Linear(inputs: embeddingDimension, outputs: width, using: &generator)
        timeEmbeddingOutput = Linear(inputs: width, outputs: width, using: &generator)
        inputConvolution = Convolution2D(inputs: self.inputChannels, outputs: settings.baseChannels, geometry: .same3x3, using: &generator)
        func block(_ sizes: (Int, Int)) -> ResidualBlock {
            ResidualBlock(inputs: sizes.0, outputs: sizes.1, embeddingWidth: width, groups: groups, using: &generator)
        }
        var downBlocks: [ResidualBlock] = [], downsamplers: [Convolution2D] = []
        for (level, blocks) in plan.downBlocks.enumerated() {
            for sizes in blocks { downBlocks.append(block(sizes)) }
            if level < settings.levels - 1 {
                let channels = settings.channels(level: level)
                downsamplers.append(Convolution2D(inputs: channels, outputs: channels, geometry: .downsampling3x3, using: &generator))
            }
        }
        self.downBlocks = downBlocks
        self.downsamplers = downsamplers
        let deepest = settings.channels(level: settings.levels - 1)
        middleBlocks = [block((deepest, deepest)), block((deepest, deepest))]
        var upBlocks: [ResidualBlock] = [], upsamplers: [UpsamplingConvolution] = []
        for (index, blocks) in plan.upBlocks.enumerated() {
            for sizes in blocks { upBlocks.append(block(sizes)) }
            let level = settings.levels - 1 - index
            if level > 0 {
                let channels = settings.channels(level: level)
                upsamplers.append(UpsamplingConvolution(inputs: channels, outputs: channels, using: &generator))
            }
        }
        self.upBlocks = upBlocks
        self.upsamplers = upsamplers
        outputNorm = GroupNormalization(channels: settings.baseChannels, groups: groups)
        outputConvolution = Convolution2D(inputs: settings.baseChannels, outputs: outputChannels, geometry: .same3x3,
                                          zeroInitialized: true, using: &generator)
    }

    /// The keys and shapes of a U-Net of these sizes, in ``Module/namedParameters`` order,
    /// without building it.
    public static func parameterShapes(settings: ConvolutionalSettings, embeddingDimension: Int, outputChannels: Int,
                                       inputChannels: Int? = nil) -> [(key: String, shape: [Int])] {
        let plan = UNetPlan(settings: settings)
        let width = 4 * settings.baseChannels
        var shapes: [(key: String, shape: [Int])] = [
            ("timeEmbeddingInput.weight", [width, embeddingDimension]), ("timeEmbeddingInput.bias", [width]),
            ("timeEmbeddingOutput.weight", [width, width]), ("timeEmbeddingOutput.bias", [width]),
        ]
        shapes += prefixed("inputConvolution", Convolution2D.parameterShapes(inputs: inputChannels ?? settings.image.channels, outputs: settings.baseChannels, geometry: .same3x3))
        for (index, sizes) in plan.downBlocks.joined().enumerated() {
            shapes += prefixed("downBlocks.\(index)", ResidualBlock.parameterShapes(inputs: sizes.0, outputs: sizes.1, embeddingWidth: width))
        }
        for level in 0..<(settings.levels - 1) {
            let channels = settings.channels(level: level)
            shapes += prefixed("downsamplers.\(level)", Convolution2D.parameterShapes(inputs: channels, outputs: channels, geometry: .downsampling3x3))
        }
        let deepest = settings.channels(level: settings.levels - 1)
        for index in 0..<2 {
            shapes += prefixed("middleBlocks.\(index)", ResidualBlock.parameterShapes(inputs: deepest, outputs: deepest, embeddingWidth: width))
        }
        for (index, sizes) in plan.upBlocks.joined().enumerated() {
            shapes += prefixed("upBlocks.\(index)", ResidualBlock.parameterShapes(inputs: sizes.0, outputs: sizes.1, embeddingWidth: width))
        }
        for index in 0..<(settings.levels - 1) {
            let channels = settings.channels(level: settings.levels - 1 - index)
            shapes += prefixed("upsamplers.\(index)", UpsamplingConvolution.parameterShapes(inputs: channels, outputs: channels))
        }
        shapes += prefixed("outputNorm", GroupNormalization.parameterShapes(channels: settings.baseChannels))
        shapes += prefixed("outputConvolution", Convolution2D.parameterShapes(inputs: settings.baseChannels, outputs: outputChannels, geometry: .same3x3))
        return shapes
    }

    /// Floats of activation one example keeps through a training pass (every block's
    /// normalized input, convolution outputs, sums and concatenations), counted from the plan
    /// without building anything: the memory budget's per-row width for a U-Net.
    public static func activationsPerExample(settings: ConvolutionalSettings) -> Int {
        let plan = UNetPlan(settings: settings)
        func pixels(_ level: Int) -> Int { let e = settings.extent(level: level); return e.height * e.width }
        // A block keeps GN(x) (inputs), then conv, +emb, GN, conv and the sum (outputs each).
        func block(_ sizes: (Int, Int), level: Int) -> Int { pixels(level) * (sizes.0 + 5 * sizes.1) }
        var total = pixels(0) * (settings.image.channels + settings.baseChannels)
        for (level, blocks) in plan.downBlocks.enumerated() {
            total += blocks.reduce(0) { $0 + block($1, level: level) }
            if level < settings.levels - 1 { total += pixels(level + 1) * settings.channels(level: level) }
        }
        let deepest = settings.levels - 1
        total += 2 * block((settings.channels(level: deepest), settings.channels(level: deepest)), level: deepest)
        for (index, blocks) in plan.upBlocks.enumerated() {
            let level = settings.levels - 1 - index
            // The concatenation is kept too.
            total += blocks.reduce(0) { $0 + block($1, level: level) + pixels(level) * $1.0 }
            if level > 0 { total += 2 * pixels(level - 1) * settings.channels(level: level) }
        }
        return total + 3 * pixels(0) * settings.baseChannels
    }

    /// `x` [N, H, W, C] (x_t as images), `embedding` [N, E] (the sinusoidal e(t)) →
    /// [N, H, W, outputChannels].
    public func callAsFunction(_ x: Tensor, embedding: Tensor) -> Tensor {
        let emb = timeEmbeddingOutput(timeEmbeddingInput(embedding, activation: .silu))
        var h = inputConvolution(x)
        var kept = [h]
        var blockIndex = 0
        for level in 0..<settings.levels {
            for _ in 0..<settings.residualBlocks {
                h = downBlocks[blockIndex](h, embedding: emb)
                blockIndex += 1
                kept.append(h)
            }
            if level < settings.levels - 1 {
                h = downsamplers[level](h)
                kept.append(h)
            }
        }
        for block in middleBlocks { h = block(h, embedding: emb) }
        blockIndex = 0
        for index in 0..<settings.levels {
            for _ in 0...settings.residualBlocks {
                h = upBlocks[blockIndex](Tensor.concatenate([h, kept.removeLast()], axis: 3), embedding: emb)
                blockIndex += 1
            }
            if index < settings.levels - 1 { h = upsamplers[index](h) }
        }
        return outputConvolution(outputNorm(h, activation: .silu))
    }
}

/// The (inputs, outputs) channels of every residual block of a U-Net, worked out once from the
/// settings by following the kept activations, for the initializer and ``UNet/parameterShapes(settings:embeddingDimension:outputChannels:)`` alike.
struct UNetPlan {
    /// Per resolution, full size first.
    var downBlocks: [[(Int, Int)]] = []
    /// Per resolution, lowest first.
    var upBlocks: [[(Int, Int)]] = []

    init(settings: ConvolutionalSettings) {
        var kept = [settings.baseChannels]
        var current = settings.baseChannels
        for level in 0..<settings.levels {
            var blocks: [(Int, Int)] = []
            for _ in 0..<settings.residualBlocks {
                blocks.append((current, settings.channels(level: level)))
                current = settings.channels(level: level)
                kept.append(current)
            }
            downBlocks.append(blocks)
            if level < settings.levels - 1 { kept.append(current) }
        }
        for level in stride(from: settings.levels - 1, through: 0, by: -1) {
            var blocks: [(Int, Int)] = []
            for _ in 0...settings.residualBlocks {
                let skip = kept.removeLast()
                blocks.append((current + skip, settings.channels(level: level)))
                current = settings.channels(level: level)
            }
            upBlocks.append(blocks)
        }
    }
}
