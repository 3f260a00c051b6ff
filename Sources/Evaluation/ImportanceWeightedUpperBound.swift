#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// The importance-weighted upper bound on model samples (docs/math.md#sandwich-bounds):
//
//     U_K(x₀) = log (1/K) [ w(z*) + Σ_{k=2..K} w(z_k) ],   z* ~ p(z | x₀) exactly,  z_k ~ q(z | x₀),
//
// E[U_K] ≥ log p(x₀) ≥ E[IWAE_K], both gaps non-increasing in K. The exact draw exists only for
// x₀ sampled from the model (the latents that generated it).
//
// Grouped as IWAE_K (ImportanceWeightedBound.swift): the K_max weights of q form K_max/K disjoint
// groups of K, and in each group the first draw is *replaced* by the exact one. Each group's term
// has expectation E[U_K], so their mean is unbiased; the terms share w(z*), so averaging them
// reduces the variance less than for IWAE_K. U_1 = log w(z*).

/// U_K of one sample: the mean over the K_max/K groups of log (1/K)[w* + Σ_{k=2..K} w_{g,k}].
///
/// - Parameters:
///   - logWeights: the K_max log weights of draws from q for this sample, in sample order.
///   - exactLogWeight: log w(z*) of the latents that generated the sample.
///   - sampleCount: K; it must divide K_max.
public func importanceWeightedUpperBound(logWeights: [Double], exactLogWeight: Double, sampleCount: Int) -> Double {
    precondition(sampleCount >= 1 && logWeights.count % sampleCount == 0, "K = \(sampleCount) must divide K_max = \(logWeights.count)")
    let groups = logWeights.count / sampleCount
    var total = 0.0
    var group = [Double](repeating: 0, count: sampleCount)
    for g in 0..<groups {
        group[0] = exactLogWeight
        for k in 1..<sampleCount { group[k] = logWeights[g * sampleCount + k] }
        total += logMeanExp(group)
    }
    return total / Double(groups)
}

/// U_K per sample for every K of `sampleCounts`.
///
/// - Parameters:
///   - logWeights: [K_max, n] row-major as for ``importanceWeightedBounds(logWeights:exampleCount:sampleCounts:)``.
///   - exactLogWeights: [n], log w(z*) per sample.
///   - sampleCounts: the K values; each must divide K_max.
/// - Returns: `[j][i]`, U_{sampleCounts[j]} of sample i.
public func importanceWeightedUpperBounds(logWeights: [Double], exactLogWeights: [Double], sampleCounts: [Int]) -> [[Double]] {
    let n = exactLogWeights.count
    precondition(n >= 1 && logWeights.count % n == 0, "\(logWeights.count) log weights for \(n) samples")
    let largest = logWeights.count / n
    let perSample = (0..<n).map { i in (0..<largest).map { logWeights[$0 * n + i] } }
    return sampleCounts.map { k in
        (0..<n).map { importanceWeightedUpperBound(logWeights: perSample[$0], exactLogWeight: exactLogWeights[$0], sampleCount: k) }
    }
}
