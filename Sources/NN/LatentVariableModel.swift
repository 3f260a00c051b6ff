import Core
import Tensor

/// The one protocol behind the VAE, the hierarchical VAE and the DDPM.
///
/// Everything the report shows (ELBO, IWAE_K, the gap, the KLs) is computed outside the
/// models from ``elbo(_:using:)`` and ``logImportanceWeights(_:samples:using:)``.
public protocol LatentVariableModel: Module {
    /// Which of the three models this is.
    var kind: ModelKind { get }
    /// The decoder family; the same for all models on one dataset.
    var likelihood: Likelihood { get }
    /// D, the number of data dimensions.
    var dataDimension: Int { get }
    /// The number of latent layers (T for the DDPM).
    var latentLayerCount: Int { get }
    /// Parameters of q(z | x): 0 for the DDPM, whose encoder is a fixed diffusion.
    var encoderParameterCount: Int { get }
    /// Parameters of p(x, z).
    var decoderParameterCount: Int { get }

    /// The scalar loss minimized at training step `step` (1-based), averaged over the batch:
    /// −ELBO (with KL warm-up where configured) or the DDPM's simple/hybrid/vlb loss.
    func trainingLoss(_ x: Tensor, step: Int, using generator: inout RandomGenerator) -> Tensor

    /// The ELBO of each example of `x` [batch, D] with its per-layer terms (β = 1).
    func elbo(_ x: Tensor, using generator: inout RandomGenerator) -> ELBOTerms

    /// log p(x, z_k) − log q(z_k | x), z_k ~ q(· | x), for k = 1…K: [K, batch].
    func logImportanceWeights(_ x: Tensor, samples: Int, using generator: inout RandomGenerator) -> LogImportanceWeights

    /// `count` draws from the model, [count, D].
    func sample(count: Int, using generator: inout RandomGenerator) -> Tensor

    /// `count` draws from the model with the log weight log p(x₀, z*) − log q(z* | x₀) of the
    /// latents z* that generated each (``AncestralSample``). The samples are identical, bit for
    /// bit, to ``sample(count:using:)`` from the same generator state; the weights use no random
    /// numbers, so the generator ends where ``sample(count:using:)`` leaves it.
    func ancestralSample(count: Int, using generator: inout RandomGenerator) -> AncestralSample

    /// The marginal posterior q(z_layer | x) of latent layer `layer` (1-based; the top layer is
    /// ``latentLayerCount``) when it is a diagonal Gaussian in closed form, `nil` otherwise:
    /// the VAE's q(z | x); the DDPM's q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) for every t; the
    /// HVAE returns `nil` (its top layer's marginal is a Gaussian mixture when L > 1). `x` is [n, D] on the dataset's scale.
    func latentPosterior(layer: Int, of x: Tensor) -> LatentGaussians?
}
