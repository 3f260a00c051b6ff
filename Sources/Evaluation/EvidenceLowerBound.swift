/// The per-example terms of the evidence lower bound, in nats, as plain arrays.
///
///     ELBO(xᵢ) = reconstruction(xᵢ) − Σ_l KL_l(xᵢ)
///
/// with reconstruction(xᵢ) = log p(xᵢ | z) (Monte Carlo) and KL_l the KL term of latent layer l
/// (for the DDPM, layer t is L_t and the reconstruction is −L₀). See
/// docs/math.md#evidence-lower-bound.
///
/// Shapes: `reconstruction[example]`, `layerKL[layer][example]`.
public struct EvidenceLowerBoundTerms: Equatable, Sendable {
    public var reconstruction: [Double]
    public var layerKL: [[Double]]

    public init(reconstruction: [Double], layerKL: [[Double]]) {
        precondition(layerKL.allSatisfy { $0.count == reconstruction.count }, "one KL per example in every layer")
        self.reconstruction = reconstruction
        self.layerKL = layerKL
    }

    public var exampleCount: Int { reconstruction.count }

    /// ELBO(xᵢ) = reconstruction(xᵢ) − Σ_l KL_l(xᵢ), the layers subtracted in order.
    public var elbo: [Double] {
        var result = reconstruction
        for layer in layerKL { for i in result.indices { result[i] -= layer[i] } }
        return result
    }

    /// The terms averaged over R independent draws for the same examples:
    /// (1/R) Σ_r termᵣ(xᵢ), for the reconstruction and every layer's KL.
    ///
    /// Why: the reconstruction and any sampled KL are Monte Carlo, so one draw's noise would
    /// dominate the paired gap IWAE − ELBO; averaging R draws divides their variance by R.
    /// The draws are summed in order and the sum multiplied by 1/R.
    public static func average(of draws: [EvidenceLowerBoundTerms]) -> EvidenceLowerBoundTerms {
        precondition(!draws.isEmpty, "the average of no draws")
        var sum = draws[0]
        for more in draws.dropFirst() {
            precondition(more.layerKL.count == sum.layerKL.count && more.exampleCount == sum.exampleCount,
                         "averaging draws of different shapes")
            for i in sum.reconstruction.indices { sum.reconstruction[i] += more.reconstruction[i] }
            for l in sum.layerKL.indices { for i in sum.layerKL[l].indices { sum.layerKL[l][i] += more.layerKL[l][i] } }
        }
        let scale = 1 / Double(draws.count)
        sum.reconstruction = sum.reconstruction.map { $0 * scale }
        sum.layerKL = sum.layerKL.map { $0.map { $0 * scale } }
        return sum
    }

    /// Concatenates the examples of another batch with the same layers.
    public mutating func append(_ other: EvidenceLowerBoundTerms) {
        precondition(layerKL.count == other.layerKL.count, "appending ELBO terms of different layers")
        reconstruction += other.reconstruction
        for l in layerKL.indices { layerKL[l] += other.layerKL[l] }
    }
}
