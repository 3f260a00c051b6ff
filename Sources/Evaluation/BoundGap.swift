/// The bound gap, the mean over examples of
///
///     gap(xᵢ) = IWAE_{K_max}(xᵢ) − ELBO(xᵢ)
///
/// which estimates E_x KL(q(z|x) ‖ p(z|x)) from below (IWAE_{K_max} ≤ log p(x)) and is ≥ 0 in
/// expectation. See docs/math.md#bound-gap.
///
/// Why paired: both bounds are measured on the same examples, so the standard error is that of
/// the n per-example differences, √(var(gapᵢ)/n), far smaller than the two bounds' standard
/// errors combined (they share the example-to-example spread of log p(x)).
///
/// - Parameters:
///   - importanceWeightedBound: IWAE_{K_max}(xᵢ) per example, [n].
///   - evidenceLowerBound: ELBO(xᵢ) per example, [n].
public func boundGapEstimate(importanceWeightedBound: [Double], evidenceLowerBound: [Double]) -> MeanEstimate {
    MeanEstimate(pairedDifferenceOf: importanceWeightedBound, minus: evidenceLowerBound)
}
