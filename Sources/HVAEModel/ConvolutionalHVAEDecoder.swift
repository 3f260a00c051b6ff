import Core
import NN
import Tensor

/// The generative networks of a convolutional ``HVAE``: every parameter of p(x, z_{1:L}), under
/// `decoder.` (see ``ConvolutionalHVAEPlan`` for where each part lives). The top-down pass
/// (HVAE+Convolutional.swift), from the top resolution T = ℓ(L) to the image's:
///
///   h = h₀ (learned, [H_T, W_T, c_T], broadcast over the batch)
///   ℓ = T … 0:  for each layer i at ℓ, top first:
///                   p(zᵢ | z_{>i}) = N(0, I) for the top layer, else `priors.<i>`(h)
///                   zᵢ drawn (from q in inference, from p when sampling)
///                   h = `latentBlocks.<i>`(h + `latentProjections.<i>`(zᵢ))      (1×1 conv s_i → c_ℓ)
///               n × { h = ResBlock(h) };  if ℓ > 0: h = up×2 + conv3×3 (h)   c_ℓ → c_{ℓ−1}
///   out = conv3×3(SiLU(GN(h)))   c_0 → k·C, regrouped into rows [first parameter (D) | second (D)]
///
/// Parameter keys: `topInput` [1, H_T, W_T, c_T], `priors.<i>.*` (i < L − 1),
/// `latentProjections.<i>.*`, `latentBlocks.<i>.*`, `blocks.<j>.*` (n per resolution, lowest
/// first), `upsamplers.<j>.*` (lowest first), `outputNorm.*`, `outputConvolution.*`.
public final class ConvolutionalHVAEDecoder: Module {
    /// h₀: the top-down state before any latent (VDVAE's learned bias at the top resolution).
    /// Starts at 0; it learns through the top layer's posterior and every block below.
    public let topInput: Tensor
    public let priors: [GaussianMapHead]
    public let latentProjections: [Convolution2D]
    public let latentBlocks: [ResidualBlock]
    public let blocks: [ResidualBlock]
    public let upsamplers: [UpsamplingConvolution]
    public let outputNorm: GroupNormalization
    public let outputConvolution: Convolution2D

    /// Residual blocks start as the identity, as the VAE's (``ResidualBlock``'s
    /// `zeroInitializedOutput`): with one more block after every latent layer, a fresh state h
    /// keeps its scale however deep the hierarchy.
    init(plan: ConvolutionalHVAEPlan, outputsPerDimension: Int, using generator: inout RandomGenerator) {
        let top = plan.levels - 1, groups = plan.settings.normalizationGroups
        let topExtent = plan.extent(level: top)
        let topShape = [1, topExtent.height, topExtent.width, plan.channels(level: top)]
        topInput = Tensor(parameterShape: topShape, storage: [Float](repeating: 0, count: topShape.reduce(1, *)))
        priors = (0..<Swift.max(0, plan.layerCount - 1)).map { i in
            GaussianMapHead(inputs: plan.channels(level: plan.latentLevels[i]), latentChannels: plan.latentChannels[i], groups: groups, using: &generator)
        }
        latentProjections = plan.latentChannels.indices.map { i in
            Convolution2D(inputs: plan.latentChannels[i], outputs: plan.channels(level: plan.latentLevels[i]), geometry: .pointwise, using: &generator)
        }
        latentBlocks = plan.latentChannels.indices.map { i in
            let channels = plan.channels(level: plan.latentLevels[i])
            return ResidualBlock(inputs: channels, outputs: channels, embeddingWidth: nil, groups: groups, zeroInitializedOutput: true, using: &generator)
        }
        var blocks: [ResidualBlock] = [], upsamplers: [UpsamplingConvolution] = []
        for level in stride(from: top, through: 0, by: -1) {
            let channels = plan.channels(level: level)
            for _ in 0..<plan.blocksPerLevel {
                blocks.append(ResidualBlock(inputs: channels, outputs: channels, embeddingWidth: nil, groups: groups,
                                            zeroInitializedOutput: true, using: &generator))
            }
            if level > 0 { upsamplers.append(UpsamplingConvolution(inputs: channels, outputs: plan.channels(level: level - 1), using: &generator)) }
        }
        self.blocks = blocks
        self.upsamplers = upsamplers
        outputNorm = GroupNormalization(channels: plan.settings.baseChannels, groups: groups)
        outputConvolution = Convolution2D(inputs: plan.settings.baseChannels, outputs: outputsPerDimension * plan.settings.image.channels,
                                          geometry: .same3x3, using: &generator)
    }

    static func parameterShapes(plan: ConvolutionalHVAEPlan, outputsPerDimension: Int) -> [(key: String, shape: [Int])] {
        let top = plan.levels - 1, topExtent = plan.extent(level: top)
        var shapes: [(key: String, shape: [Int])] = [("topInput", [1, topExtent.height, topExtent.width, plan.channels(level: top)])]
        for i in 0..<Swift.max(0, plan.layerCount - 1) {
            shapes += prefixed("priors.\(i)", GaussianMapHead.parameterShapes(inputs: plan.channels(level: plan.latentLevels[i]),
                                                                             latentChannels: plan.latentChannels[i]))
        }
        for i in plan.latentChannels.indices {
            shapes += prefixed("latentProjections.\(i)", Convolution2D.parameterShapes(inputs: plan.latentChannels[i],
                                                                                      outputs: plan.channels(level: plan.latentLevels[i]),
                                                                                      geometry: .pointwise))
        }
        for i in plan.latentChannels.indices {
            let channels = plan.channels(level: plan.latentLevels[i])
            shapes += prefixed("latentBlocks.\(i)", ResidualBlock.parameterShapes(inputs: channels, outputs: channels, embeddingWidth: nil))
        }
        var index = 0
        for level in stride(from: top, through: 0, by: -1) {
            let channels = plan.channels(level: level)
            for _ in 0..<plan.blocksPerLevel {
                shapes += prefixed("blocks.\(index)", ResidualBlock.parameterShapes(inputs: channels, outputs: channels, embeddingWidth: nil))
                index += 1
            }
        }
        for (index, level) in stride(from: top, to: 0, by: -1).enumerated() {
            shapes += prefixed("upsamplers.\(index)", UpsamplingConvolution.parameterShapes(inputs: plan.channels(level: level),
                                                                                           outputs: plan.channels(level: level - 1)))
        }
        shapes += prefixed("outputNorm", GroupNormalization.parameterShapes(channels: plan.settings.baseChannels))
        shapes += prefixed("outputConvolution", Convolution2D.parameterShapes(inputs: plan.settings.baseChannels,
                                                                             outputs: outputsPerDimension * plan.settings.image.channels,
                                                                             geometry: .same3x3))
        return shapes
    }

    /// Floats one example keeps through a training pass of the top-down path: h₀ broadcast; per
    /// layer the prior head, the posterior's sum with it, μ and log σ² of both sliced out (4 s),
    /// the draw (ε, σ, σ ε, z: 4 s), the KL terms (s), the projection, the merge and the latent
    /// block; every resolution's blocks and upsampling; the output and its regrouping into rows.
    static func activationsPerExample(plan: ConvolutionalHVAEPlan, outputsPerDimension: Int) -> Int {
        let top = plan.levels - 1
        var total = plan.pixels(level: top) * plan.channels(level: top)
        for i in plan.latentChannels.indices {
            let level = plan.latentLevels[i], pixels = plan.pixels(level: level), c = plan.channels(level: level), s = plan.latentChannels[i]
            if i < plan.layerCount - 1 {
                total += GaussianMapHead.activationsPerExample(inputs: c, latentChannels: s, pixels: pixels) + pixels * 2 * s
            }
            total += pixels * (4 * s + 4 * s + s + 2 * c)
            total += ResidualBlock.activationsPerExample(inputs: c, outputs: c, embedding: false, pixels: pixels)
        }
        for level in 0...top {
            let c = plan.channels(level: level)
            total += plan.blocksPerLevel * ResidualBlock.activationsPerExample(inputs: c, outputs: c, embedding: false, pixels: plan.pixels(level: level))
            if level > 0 { total += plan.pixels(level: level - 1) * (c + plan.channels(level: level - 1)) }
        }
        let outputs = outputsPerDimension * plan.settings.image.dimension
        return total + plan.pixels(level: 0) * plan.settings.baseChannels + (outputsPerDimension == 1 ? outputs : 2 * outputs)
    }
}
