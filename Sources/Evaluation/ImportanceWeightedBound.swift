// The importance-weighted bound (IWAE) for several K from one set of K_max log weights per example:
//
//     IWAE_K(x) = log (1/K) Σ_{k=1..K} w_k,   log w_k = log p(x, z_k) − log q(z_k | x),  z_k ~ q(· | x).
//
// A lower bound on log p(x), increasing in K in expectation, equal to the ELBO in expectation at
// K = 1. See docs/math.md#importance-weighted-bound.
//
// For each K, the K_max weights of an example are split into K_max/K disjoint groups of K
// (group g holds samples gK … gK + K − 1) and IWAE_K(x) is the average over groups of
// log-mean-exp over the group. Why: every group is an unbiased draw of IWAE_K, so their average
// is too, with less variance than one group, and all K reuse the same K_max model passes.

/// IWAE_K of one example: the average over the K_max/K disjoint groups of K log weights.
///
/// - Parameters:
///   - logWeights: the K_max log weights of one example, in sample order (K_max = `logWeights.count`).
///   - sampleCount: K; it must divide K_max.
public func importanceWeightedBound(logWeights: [Double], sampleCount: Int) -> Double {
    precondition(sampleCount >= 1 && logWeights.count % sampleCount == 0, "K = \(sampleCount) must divide K_max = \(logWeights.count)")
    let groups = logWeights.count / sampleCount
    var total = 0.0
    for g in 0..<groups {
        total += logMeanExp(logWeights[(g * sampleCount)..<((g + 1) * sampleCount)])
    }
    return total / Double(groups)
}

/// IWAE_K per example for every K of `sampleCounts`, from row-major log weights.
///
/// - Parameters:
///   - logWeights: [K_max, n] row-major: `logWeights[k * exampleCount + i]` is log w_k of example i.
///   - exampleCount: n.
///   - sampleCounts: the K values; each must divide K_max = `logWeights.count / exampleCount`.
/// - Returns: `[j][i]`, IWAE_{sampleCounts[j]} of example i.
public func importanceWeightedBounds(logWeights: [Double], exampleCount: Int, sampleCounts: [Int]) -> [[Double]] {
    precondition(exampleCount >= 1 && logWeights.count % exampleCount == 0, "\(logWeights.count) log weights for \(exampleCount) examples")
    let largest = logWeights.count / exampleCount
    let perExample = (0..<exampleCount).map { i in (0..<largest).map { logWeights[$0 * exampleCount + i] } }
    return sampleCounts.map { k in perExample.map { importanceWeightedBound(logWeights: $0, sampleCount: k) } }
}

/// The K values to evaluate, ascending and without repeats, checked for the disjoint-group scheme:
/// every K ≥ 1 and the largest a multiple of each.
public func validatedSampleCounts(_ requested: [Int]) throws -> [Int] {
    let counts = Array(Set(requested)).sorted()
    guard let largest = counts.last else { throw EvaluationError.invalidOption("--samples needs at least one K") }
    guard counts.first! >= 1 else { throw EvaluationError.invalidOption("--samples: every K must be at least 1, got \(counts.first!)") }
    for k in counts where largest % k != 0 {
        throw EvaluationError.invalidOption("--samples: the largest K (\(largest)) must be a multiple of every K, and \(k) does not divide it")
    }
    return counts
}
