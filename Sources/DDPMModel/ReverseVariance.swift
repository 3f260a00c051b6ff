/// The reverse-process variance σ_t² of p_θ(x_{t−1} | x_t).
public enum ReverseVariance: String, Codable, Sendable, CaseIterable {
    /// σ_t² = β_t (Ho et al.); at t = 1, β̃_2 as in improved-diffusion.
    case fixedLarge = "fixed-large"
    /// σ_t² = β̃_t (Ho et al.); at t = 1, where β̃_1 = 0, β̃_2.
    case fixedSmall = "fixed-small"
    /// log σ_t² = v log β_t + (1 − v) log β̃_t, v = (network output + 1)/2 (Nichol & Dhariwal).
    case learnedRange = "learned-range"
}
