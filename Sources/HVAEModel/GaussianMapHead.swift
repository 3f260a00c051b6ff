import Core
import NN
import Tensor

/// The parameters of a diagonal Gaussian over a latent map, from a feature map:
/// [μ | log σ²] = conv3×3(SiLU(GN(h))), `inputs` → 2·s channels (μ in the first s, log σ² in
/// the last s). The priors p(zᵢ | z_{>i}) and the posterior corrections of a convolutional
/// ``HVAE`` are such heads. Parameter keys: `norm.scale|offset`, `convolution.weight|bias`.
public final class GaussianMapHead: Module {
    public let norm: GroupNormalization
    public let convolution: Convolution2D

    init(inputs: Int, latentChannels: Int, groups: Int, using generator: inout RandomGenerator) {
        norm = GroupNormalization(channels: inputs, groups: groups)
        convolution = Convolution2D(inputs: inputs, outputs: 2 * latentChannels, geometry: .same3x3, using: &generator)
    }

    static func parameterShapes(inputs: Int, latentChannels: Int) -> [(key: String, shape: [Int])] {
        prefixed("norm", GroupNormalization.parameterShapes(channels: inputs))
            + prefixed("convolution", Convolution2D.parameterShapes(inputs: inputs, outputs: 2 * latentChannels, geometry: .same3x3))
    }

    /// Floats one example keeps at a resolution of `pixels` pixels: the normalized input and the output.
    static func activationsPerExample(inputs: Int, latentChannels: Int, pixels: Int) -> Int {
        pixels * (inputs + 2 * latentChannels)
    }

    /// h [N, H, W, inputs] → [N, H, W, 2·s].
    func callAsFunction(_ h: Tensor) -> Tensor { convolution(norm(h, activation: .silu)) }
}
