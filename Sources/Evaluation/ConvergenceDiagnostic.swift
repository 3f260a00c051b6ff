/// Whether log p̂ = IWAE_{K_max} has stopped rising with K, and how many of its K_max importance
/// weights carry it. See docs/math.md#convergence-diagnostics.
///
/// **The rise.** With K' < K_max evaluated and dividing K_max (K_max/10 when evaluated, else the
/// largest such K'), Δ(x) = IWAE_{K_max}(x) − IWAE_{K'}(x) ≥ 0 for every example, not only in
/// expectation: IWAE_{K_max} is the log of a mean of the group means that make up IWAE_{K'}, and
/// log is concave. Its paired mean and standard error are reported. A rise beyond
/// `toleranceInStandardErrors` standard errors means the estimate still moves with K: log p̂ has
/// not converged. The rise itself is always a lower bound on how far log p̂ still is below log p at
/// K' (E[IWAE_{K'}] ≤ E[IWAE_{K_max}] ≤ log p).
///
/// **The remaining bias.** For large K, E[IWAE_K] ≈ log p − c/K (c = Var(w)/(2p²), Maddison et al.
/// 2017), so E[Δ] ≈ c (1/K' − 1/K_max) and the bias left at K_max, c/K_max, is about
/// Δ/(K_max/K' − 1): Δ/9 for K' = K_max/10. An estimate under that asymptotic assumption, which
/// heavy-tailed weights break.
///
/// **ESS.** The median and 10th percentile over examples of Kish's effective sample size of the
/// K_max weights (``effectiveSampleSizes(logWeights:exampleCount:)``), when the evaluation kept them.
public struct ConvergenceDiagnostic: Equatable, Sendable {
    /// K_max.
    public let maximumSampleCount: Int
    /// [K', K_max], the pair whose rise is measured; nil when only one K was evaluated.
    public let riseSampleCounts: [Int]?
    /// The paired mean of IWAE_{K_max} − IWAE_{K'} over the examples.
    public let rise: MeanEstimate?
    /// The bias left at K_max under E[IWAE_K] ≈ log p − c/K: rise/(K_max/K' − 1).
    public let remainingBias: Double?
    /// Whether the rise is within the tolerance of 0; nil when no rise could be measured.
    public let hasConverged: Bool?
    /// The median and the 10th percentile of the per-example ESS; nil when not kept.
    public let medianEffectiveSampleSize: Double?
    public let tenthPercentileEffectiveSampleSize: Double?
    public let toleranceInStandardErrors: Double

    public init(_ evaluation: ModelEvaluation, toleranceInStandardErrors k: Double = 3) {
        let counts = evaluation.sampleCounts
        let largest = evaluation.maximumSampleCount
        maximumSampleCount = largest
        toleranceInStandardErrors = k
        let candidates = counts.dropLast().filter { largest % $0 == 0 }
        let lower = candidates.contains(largest / 10) && largest % 10 == 0 ? largest / 10 : candidates.last
        if let lower, let j = counts.firstIndex(of: lower) {
            let rise = MeanEstimate(pairedDifferenceOf: evaluation.logLikelihood, minus: evaluation.iwae[j])
            self.riseSampleCounts = [lower, largest]
            self.rise = rise
            remainingBias = rise.mean / (Double(largest) / Double(lower) - 1)
            // Converged: the rise is not significantly above 0. A rise below 0 cannot happen per example
            // (see above); the report's other checks catch arrays that break it.
            hasConverged = !(rise.mean > k * rise.standardError)
        } else {
            riseSampleCounts = nil
            rise = nil
            remainingBias = nil
            hasConverged = nil
        }
        if let sizes = evaluation.effectiveSampleSize, !sizes.isEmpty {
            medianEffectiveSampleSize = percentile(sizes, 0.5)
            tenthPercentileEffectiveSampleSize = percentile(sizes, 0.1)
        } else {
            medianEffectiveSampleSize = nil
            tenthPercentileEffectiveSampleSize = nil
        }
    }
}
