/// What the DDPM is trained to minimize.
public enum DiffusionLoss: String, Codable, Sendable, CaseIterable {
    /// E_{t,ε} ‖ε − ε_θ(x_t, t)‖² averaged over dimensions (Ho et al. 2020).
    case simple
    /// T · L_{t−1} for one uniformly drawn t per example: an unbiased estimate of −ELBO − L_T.
    case vlb
    /// L_simple + λ L_vlb with λ = 0.001 and the mean's gradient stopped inside L_vlb
    /// (Nichol & Dhariwal 2021); trains the learned variance. λ multiplies L_vlb in nats per
    /// dimension here, where improved-diffusion's is in bits: this term is ln 2 ≈ 0.69 times
    /// theirs (docs/math.md#departures).
    case hybrid
}
