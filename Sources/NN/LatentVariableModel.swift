import Core
import Tensor

/// Per-example terms of the evidence lower bound, in nats.
///
/// ELBO(x) = reconstruction(x) − Σ_layers KL_layer(x). For a VAE there is one layer; for an
/// HVAE layer i is KL(q(zᵢ | ·) ‖ p(zᵢ | zᵢ₊₁)); for the DDPM layer t (t = 1…T) is L_t, the KL
/// for latent x_t (L_T = KL(q(x_T|x₀) ‖ N(0, I))), and the reconstruction is −L₀.
public struct ELBOTerms: Sendable {
    /// log p(x | z) (Monte Carlo) per example: [batch].
    public var reconstruction: [Double]
    /// One label per latent layer, in order (`z1`, `z2`, … or `L_1` … `L_T`).
    public var layerNames: [String]
    /// KL per layer per example: `layerKL[layer][example]`.
    public var layerKL: [[Double]]

    public init(reconstruction: [Double], layerNames: [String], layerKL: [[Double]]) {
        precondition(layerNames.count == layerKL.count, "one name per layer")
        precondition(layerKL.allSatisfy { $0.count == reconstruction.count }, "one KL per example in every layer")
        self.reconstruction = reconstruction
        self.layerNames = layerNames
        self.layerKL = layerKL
    }

    public var exampleCount: Int { reconstruction.count }

    /// ELBO per example: reconstruction − Σ KL.
    public var elbo: [Double] {
        var result = reconstruction
        for layer in layerKL { for i in result.indices { result[i] -= layer[i] } }
        return result
    }

    /// Total KL per example.
    public var totalKL: [Double] {
        var result = [Double](repeating: 0, count: exampleCount)
        for layer in layerKL { for i in result.indices { result[i] += layer[i] } }
        return result
    }

    /// Concatenates the examples of two batches with the same layers.
    public mutating func append(_ other: ELBOTerms) {
        precondition(layerNames == other.layerNames, "appending ELBO terms of different layers")
        reconstruction += other.reconstruction
        for i in layerKL.indices { layerKL[i] += other.layerKL[i] }
    }
}

/// log w_k = log p(x, z_k) − log q(z_k | x) for K draws z_k ~ q(· | x) per example, in Double.
public struct LogImportanceWeights: Sendable {
    public let samples: Int
    public let batch: Int
    /// Row-major [samples, batch]: `values[k * batch + i]`.
    public var values: [Double]

    public init(samples: Int, batch: Int, values: [Double]) {
        precondition(values.count == samples * batch, "\(values.count) weights for [\(samples), \(batch)]")
        self.samples = samples
        self.batch = batch
        self.values = values
    }

    public subscript(sample k: Int, example i: Int) -> Double { values[k * batch + i] }
}

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

    /// The marginal posterior q(z_layer | x) of latent layer `layer` (1-based; the top layer is
    /// ``latentLayerCount``) when it is a diagonal Gaussian in closed form, `nil` otherwise:
    /// the VAE's q(z | x); the DDPM's q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) for every t; the
    /// HVAE returns `nil` (its top layer's marginal is a Gaussian mixture when L > 1). `x` is [n, D] on the dataset's scale.
    func latentPosterior(layer: Int, of x: Tensor) -> LatentGaussians?
}
