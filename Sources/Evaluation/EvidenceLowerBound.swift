import Core

/// The ELBO of each example from R draws (docs/math.md#evidence-lower-bound):
///
///     ELBO(xᵢ) = reconstruction(xᵢ) − Σ_l KL_l(xᵢ)
///
/// with reconstruction(xᵢ) = log p(xᵢ | z) (Monte Carlo) and KL_l the KL term of latent layer l
/// (for the DDPM, layer t is L_t and the reconstruction is −L₀). The per-draw terms are Core's
/// ``ELBOTerms``, what every model returns.
extension ELBOTerms {
    /// The terms averaged over R independent draws for the same examples:
    /// (1/R) Σ_r termᵣ(xᵢ), for the reconstruction and every layer's KL.
    ///
    /// Why: the reconstruction and any sampled KL are Monte Carlo, so one draw's noise would
    /// dominate the paired gap IWAE − ELBO; averaging R draws divides their variance by R.
    /// The draws are summed in order and the sum multiplied by 1/R.
    public static func average(of draws: [ELBOTerms]) -> ELBOTerms {
        precondition(!draws.isEmpty, "the average of no draws")
        var sum = draws[0]
        for more in draws.dropFirst() {
            precondition(more.layerNames == sum.layerNames && more.exampleCount == sum.exampleCount,
                         "averaging draws of different shapes")
            for i in sum.reconstruction.indices { sum.reconstruction[i] += more.reconstruction[i] }
            for l in sum.layerKL.indices { for i in sum.layerKL[l].indices { sum.layerKL[l][i] += more.layerKL[l][i] } }
        }
        let scale = 1 / Double(draws.count)
        sum.reconstruction = sum.reconstruction.map { $0 * scale }
        sum.layerKL = sum.layerKL.map { $0.map { $0 * scale } }
        return sum
    }

}
