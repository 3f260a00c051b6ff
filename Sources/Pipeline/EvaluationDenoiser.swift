/// `compare eval --denoiser`: whose noise predictions a DDPM is evaluated with.
public enum EvaluationDenoiser: String, CaseIterable, Sendable {
    /// The checkpoint's trained network (the default; the result is stored under `/evaluation`).
    case network
    /// The Bayes-optimal ε̂*(x_t, t) = E[ε | x_t] of the dataset's own Gaussian-mixture density,
    /// with no parameters: the same DDPM with a perfect denoiser, so its ELBO and IWAE show how
    /// loose the bound is by itself (docs/math.md#oracle-denoiser). Printed, never stored.
    case oracle
}
