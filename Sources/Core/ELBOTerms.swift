/// Per-example terms of the evidence lower bound, in nats.
///
/// ELBO(x) = reconstruction(x) − Σ_layers KL_layer(x). For a VAE there is one layer; for an
/// HVAE layer i is KL(q(zᵢ | ·) ‖ p(zᵢ | zᵢ₊₁)); for the DDPM layer t (t = 1…T) is L_t, the KL
/// for latent x_t (L_T = KL(q(x_T|x₀) ‖ N(0, I))), and the reconstruction is −L₀.
/// What every model returns and every estimator reads (docs/math.md#evidence-lower-bound).
public struct ELBOTerms: Equatable, Sendable {
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
