#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// The effective sample size of one example's importance weights (Kish 1965):
//
//     ESS = (Σ_k w_k)² / Σ_k w_k²  ∈ [1, K],
//
// K when all weights are equal, 1 when one weight carries everything. Computed from the log
// weights ℓ_k as exp(2·LSE(ℓ) − LSE(2ℓ)), which does not change when every ℓ_k is shifted by the
// same constant and never overflows. See docs/math.md#convergence-diagnostics.
//
// A diagnostic, not a proof: weights that all miss the posterior's mass can agree with each other
// and have a high ESS. A low ESS says that log p̂ rests on a few draws.

/// Kish's effective sample size of one example's log weights, in [1, K]; 0 when every weight is 0
/// (all log weights −∞), where no draw carries anything.
public func effectiveSampleSize<C: Collection>(logWeights: C) -> Double where C.Element == Double {
    guard let maximum = logWeights.max(), maximum > -.infinity else { return 0 }
    var sum = 0.0, sumOfSquares = 0.0
    for value in logWeights {
        let w = exp(value - maximum)
        sum += w
        sumOfSquares += w * w
    }
    return Swift.min(Double(logWeights.count), Swift.max(1, sum * sum / sumOfSquares))
}

/// The effective sample size of every example's K_max weights.
///
/// - Parameters:
///   - logWeights: [K_max, n] row-major, as ``importanceWeightedBounds(logWeights:exampleCount:sampleCounts:)``:
///     `logWeights[k * exampleCount + i]` is log w_k of example i.
///   - exampleCount: n.
/// - Returns: [n], each in [1, K_max] (0 for an example whose weights are all 0).
public func effectiveSampleSizes(logWeights: [Double], exampleCount: Int) -> [Double] {
    precondition(exampleCount >= 1 && logWeights.count % exampleCount == 0, "\(logWeights.count) log weights for \(exampleCount) examples")
    let largest = logWeights.count / exampleCount
    return (0..<exampleCount).map { i in
        effectiveSampleSize(logWeights: (0..<largest).lazy.map { logWeights[$0 * exampleCount + i] })
    }
}
