/// The KLs between data and model when the data density log q(x₀) is known (toy datasets store it
/// for every example). See docs/math.md#known-density-kls.
///
///     H           = −E[log q(x₀)]                                     (data entropy)
///     KL_joint    = KL(q(x₀, z) ‖ p(x₀, z)) = E[log q(x₀) − ELBO(x₀)]
///     KL_marginal = E[log q(x₀) − IWAE_{K_max}(x₀)]  ≥ KL(q(x₀) ‖ p(x₀)) in expectation (an upper estimate)
///
/// Per example, (log q − ELBO) − (log q − IWAE) = IWAE − ELBO, so
/// KL_joint − KL_marginal = the bound gap (``boundGapEstimate(importanceWeightedBound:evidenceLowerBound:)``),
/// and KL_joint ≥ KL_marginal ≥ 0 in expectation: the chain rule of KL, measured.
///
/// Every estimate is a paired mean over the same n examples (shapes: every array is [n]).
public struct KnownDensityKL: Equatable, Sendable {
    /// H = −E[log q(x₀)].
    public let entropy: MeanEstimate
    /// KL_joint = E[log q(x₀) − ELBO(x₀)].
    public let joint: MeanEstimate
    /// KL_marginal = E[log q(x₀) − IWAE_{K_max}(x₀)].
    public let marginal: MeanEstimate
    /// KL_joint − KL_marginal, estimated from the paired per-example differences IWAE − ELBO:
    /// the bound gap itself, with its paired standard error.
    public let jointMinusMarginal: MeanEstimate

    /// - Parameters:
    ///   - logDensity: log q(xᵢ), [n].
    ///   - evidenceLowerBound: ELBO(xᵢ), [n].
    ///   - importanceWeightedBound: IWAE_{K_max}(xᵢ), the model's log p̂(xᵢ), [n].
    public init(logDensity: [Double], evidenceLowerBound: [Double], importanceWeightedBound: [Double]) {
        entropy = MeanEstimate(logDensity.map { -$0 })
        joint = MeanEstimate(pairedDifferenceOf: logDensity, minus: evidenceLowerBound)
        marginal = MeanEstimate(pairedDifferenceOf: logDensity, minus: importanceWeightedBound)
        jointMinusMarginal = boundGapEstimate(importanceWeightedBound: importanceWeightedBound, evidenceLowerBound: evidenceLowerBound)
    }
}
