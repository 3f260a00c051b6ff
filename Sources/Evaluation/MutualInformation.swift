import Core

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// Bounds on the mutual information I(x0; z) between the data and one Gaussian latent,
// z | x0 ~ N(μ(x0), diag v(x0)), for lesson 3 ("what the latents know about x0").
//
// - Upper bound: for any prior p(z), I(x0; z) = E_x KL(q(z|x0) ‖ q(z)) ≤ E_x KL(q(z|x0) ‖ p(z)),
//   since the two differ by KL(q(z) ‖ p(z)) ≥ 0 (q(z) the aggregate posterior). With p(z) = N(0, I)
//   this is the model's own top-layer KL term: the VAE's KL(q(z|x0) ‖ N(0, I)), the DDPM's L_T.
// - Lower bound (InfoNCE / "minibatch aggregate posterior", Poole et al. 2019): with n
//   examples x_i and one draw z_i ~ q(z|x_i) each,
//     I(x0; z) ≥ E[(1/n) Σ_i log q(z_i|x_i) − log (1/n) Σ_j q(z_i|x_j)],
//   which can never exceed log n.
//
// These are pure functions of the encoder's Gaussian parameters (gathered by the caller); the report
// only formats them. See docs/math.md#mutual-information-bounds.
//
// The Gaussian formulas come from Core's `GaussianFormulas`, in their (mean, variance) form.

/// KL(N(μ, diag v) ‖ N(0, I)) = ½ Σ_d [v + μ² − 1 − log v]: per example, the upper bound's term
/// (its mean over x0 bounds I(x0; z) from above when the prior is N(0, I)).
public func gaussianKLToStandardNormal(mean: [Double], variance: [Double]) -> Double {
    GaussianFormulas.klToStandardNormal(mean: mean, variance: variance)
}

/// The per-example terms of the InfoNCE lower bound on I(x0; z) for Gaussian codes: example i
/// contributes log q(z_i|x_i) − log (1/n) Σ_j q(z_i|x_j) with z_i = μ_i + √v_i ⊙ ε_i. Their mean is
/// the bound (at most log n).
///
/// - Parameters:
///   - means, variances: μ_i and v_i per example, [n][d].
///   - noise: ε_i ~ N(0, I) per example, [n][d] (drawn by the caller).
public func informationLowerBoundTerms(means: [[Double]], variances: [[Double]], noise: [[Double]]) -> [Double] {
    let n = means.count
    precondition(variances.count == n && noise.count == n, "one variance and one noise row per example")
    let codes = (0..<n).map { i in (0..<means[i].count).map { means[i][$0] + variances[i][$0].squareRoot() * noise[i][$0] } }
    return (0..<n).map { i in
        let own = GaussianFormulas.logDensity(codes[i], mean: means[i], variance: variances[i])
        let all = (0..<n).map { j in GaussianFormulas.logDensity(codes[i], mean: means[j], variance: variances[j]) }
        return own - logMeanExp(all)
    }
}

/// Bounds on I(x0; x_t) for the latents of one diffusion, t = `steps`, from its own q(x_t|x0).
public struct InformationProfile: Sendable, Equatable {
    /// Which model ("DDPM (T = 64)").
    public var label: String
    /// The timesteps t.
    public var steps: [Int]
    /// InfoNCE lower bound on I(x0; x_t) per t.
    public var lower: [MeanEstimate]
    /// E[KL(q(x_t|x0) ‖ N(0, I))] per t, an upper bound on I(x0; x_t).
    public var upper: [MeanEstimate]

    public init(label: String, steps: [Int], lower: [MeanEstimate], upper: [MeanEstimate]) {
        precondition(steps.count == lower.count && steps.count == upper.count, "one bound of each kind per step")
        self.label = label
        self.steps = steps
        self.lower = lower
        self.upper = upper
    }
}

/// The profile of a diffusion whose q(x_t|x0) = N(√ᾱ_t x0, (1 − ᾱ_t) I): both bounds at each t of
/// `steps`, on the examples `data` [n][D] (on the diffusion's scale), with `noise(t)` giving the
/// [n][D] standard-normal draws for step t.
public func diffusionInformationProfile(label: String, data: [[Double]], alphasCumprod: [Double], steps: [Int],
                                        noise: (Int) -> [[Double]]) -> InformationProfile {
    var lower: [MeanEstimate] = [], upper: [MeanEstimate] = []
    for t in steps {
        let a = alphasCumprod[t - 1]
        let means = data.map { row in row.map { a.squareRoot() * $0 } }
        let variances = data.map { row in [Double](repeating: 1 - a, count: row.count) }
        lower.append(MeanEstimate(informationLowerBoundTerms(means: means, variances: variances, noise: noise(t))))
        upper.append(MeanEstimate(zip(means, variances).map { gaussianKLToStandardNormal(mean: $0, variance: $1) }))
    }
    return InformationProfile(label: label, steps: steps, lower: lower, upper: upper)
}
