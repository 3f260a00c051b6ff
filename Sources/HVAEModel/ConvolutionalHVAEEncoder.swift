import Core
import NN
import Tensor

/// The inference networks of a convolutional ``HVAE``: every parameter of q(z_{1:L} | x), under
/// `encoder.` (see ``ConvolutionalHVAEPlan`` for where each part lives).
///
/// - `bottomUp`: the deterministic ResNet on the image (``BottomUpResNet``), giving the features
///   f_ℓ at each resolution;
/// - `posteriors.<i>`: the correction [Δμ | Δlog σ²] of layer i from concat[h, f_ℓ(i)] (the
///   top-down state h, then the features; 2·c_ℓ → 2·s_i channels), added to the prior's parameters.
public final class ConvolutionalHVAEEncoder: Module {
    public let bottomUp: BottomUpResNet
    public let posteriors: [GaussianMapHead]

    /// Residual blocks start as the identity, as the VAE's (``ResidualBlock``'s `zeroInitializedOutput`).
    init(plan: ConvolutionalHVAEPlan, using generator: inout RandomGenerator) {
        bottomUp = BottomUpResNet(settings: plan.settings, levels: plan.levels, blocksPerLevel: plan.blocksPerLevel,
                                  zeroInitializedBlocks: true, using: &generator)
        posteriors = plan.latentChannels.indices.map { i in
            GaussianMapHead(inputs: 2 * plan.channels(level: plan.latentLevels[i]), latentChannels: plan.latentChannels[i],
                            groups: plan.settings.normalizationGroups, using: &generator)
        }
    }

    static func parameterShapes(plan: ConvolutionalHVAEPlan) -> [(key: String, shape: [Int])] {
        var shapes = prefixed("bottomUp", BottomUpResNet.parameterShapes(settings: plan.settings, levels: plan.levels,
                                                                        blocksPerLevel: plan.blocksPerLevel))
        for i in plan.latentChannels.indices {
            shapes += prefixed("posteriors.\(i)", GaussianMapHead.parameterShapes(inputs: 2 * plan.channels(level: plan.latentLevels[i]),
                                                                                 latentChannels: plan.latentChannels[i]))
        }
        return shapes
    }

    /// Floats one example keeps through a training pass: the bottom-up path, and for each layer
    /// the concatenation and its head.
    static func activationsPerExample(plan: ConvolutionalHVAEPlan) -> Int {
        var total = BottomUpResNet.activationsPerExample(settings: plan.settings, levels: plan.levels, blocksPerLevel: plan.blocksPerLevel)
        for i in plan.latentChannels.indices {
            let level = plan.latentLevels[i], pixels = plan.pixels(level: level), inputs = 2 * plan.channels(level: level)
            total += pixels * inputs + GaussianMapHead.activationsPerExample(inputs: inputs, latentChannels: plan.latentChannels[i], pixels: pixels)
        }
        return total
    }
}
