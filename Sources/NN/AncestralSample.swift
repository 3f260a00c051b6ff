import Tensor

/// Draws x₀ ~ p(x₀) by ancestral sampling, each with the log importance weight of the latents
/// that produced it: z* ~ p(z), x₀ ~ p(x₀ | z*), and
///
///     log w(z*) = log p(x₀, z*) − log q(z* | x₀).
///
/// (x₀, z*) is a draw of the model's joint, so given x₀, z* is an **exact** draw of the true
/// posterior p(z | x₀) — the one draw the encoder q cannot give. With it, the importance-weighted
/// *upper* bound U_K brackets log p(x₀) from above (docs/math.md#sandwich-bounds).
///
/// Shapes: `samples` [n, D] on the dataset's scale (as ``LatentVariableModel/sample(count:using:)``
/// returns them), `generatingLogWeights` [n] in nats, each evaluated at the sample as returned
/// (continuous values rounded to Float, discrete ones on their levels), so that it is the weight
/// that the lower bound's draws are compared with.
public struct AncestralSample {
    public let samples: Tensor
    public let generatingLogWeights: [Double]

    public init(samples: Tensor, generatingLogWeights: [Double]) {
        precondition(samples.rank == 2 && samples.shape[0] == generatingLogWeights.count,
                     "\(generatingLogWeights.count) weights for samples of shape \(samples.shape)")
        self.samples = samples
        self.generatingLogWeights = generatingLogWeights
    }
}
