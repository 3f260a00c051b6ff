/// The sandwich on N samples drawn from the model: per K, the lower bound IWAE_K and the upper
/// bound U_K (``importanceWeightedUpperBound(logWeights:exactLogWeight:sampleCount:)``) of every
/// sample, from the same K_max draws of q. See docs/math.md#sandwich-bounds.
///
/// Averaged over the samples, mean IWAE_K ≤ E_{x₀~p}[log p(x₀)] = −H(p) ≤ mean U_K in
/// expectation: a bracket on the model's own entropy, and per sample the width U_K − IWAE_K
/// bounds how far either estimate can be from log p(x₀). It says nothing directly about test
/// data, which are not drawn from the model.
public struct SandwichBounds: Equatable, Sendable {
    /// The K values, ascending.
    public let sampleCounts: [Int]
    /// `lower[j][i]`: IWAE_{K_j} of sample i.
    public let lower: [[Double]]
    /// `upper[j][i]`: U_{K_j} of sample i.
    public let upper: [[Double]]

    public init(sampleCounts: [Int], lower: [[Double]], upper: [[Double]]) {
        precondition(!sampleCounts.isEmpty && lower.count == sampleCounts.count && upper.count == sampleCounts.count,
                     "one row of lower and upper bounds per K")
        precondition(Set(lower.map(\.count) + upper.map(\.count)).count == 1, "every K needs one bound per sample")
        self.sampleCounts = sampleCounts
        self.lower = lower
        self.upper = upper
    }

    /// N, the number of model samples.
    public var sampleSize: Int { lower[0].count }

    public func lowerEstimate(_ j: Int) -> MeanEstimate { MeanEstimate(lower[j]) }
    public func upperEstimate(_ j: Int) -> MeanEstimate { MeanEstimate(upper[j]) }
    /// The paired mean of U_K − IWAE_K: how wide the bracket is on these samples.
    public func widthEstimate(_ j: Int) -> MeanEstimate { MeanEstimate(pairedDifferenceOf: upper[j], minus: lower[j]) }

    /// Whether every K keeps mean U_K ≥ mean IWAE_K within `k` standard errors of their paired
    /// difference: the order the bracket guarantees in expectation. A violation means the weights
    /// are heavy-tailed beyond what N samples can average, or the generating weight is wrong.
    public func isOrdered(withinStandardErrors k: Double = 3) -> Bool {
        sampleCounts.indices.allSatisfy { widthEstimate($0).isNonNegative(withinStandardErrors: k) }
    }
}
