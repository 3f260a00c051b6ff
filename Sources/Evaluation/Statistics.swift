#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A sample mean with its standard error √(s²/n), s² the unbiased sample variance.
public struct MeanEstimate: Equatable, Sendable, Codable {
    public let mean: Double
    public let standardError: Double
    public let count: Int

    public init(mean: Double, standardError: Double, count: Int) {
        self.mean = mean
        self.standardError = standardError
        self.count = count
    }

    /// The estimate of `values`' mean. One value has an undefined spread: its standard error is NaN.
    public init(_ values: [Double]) {
        let n = values.count
        precondition(n > 0, "the mean of no values")
        // Two-pass for accuracy with large offsets (log-likelihoods of images).
        let mean = values.reduce(0, +) / Double(n)
        var squares = 0.0
        for v in values { squares += (v - mean) * (v - mean) }
        self.mean = mean
        self.standardError = n > 1 ? (squares / Double(n - 1) / Double(n)).squareRoot() : .nan
        self.count = n
    }

    /// The estimate of the mean of the paired differences aᵢ − bᵢ: the right standard error
    /// for a difference of two estimates made on the same examples.
    public init(pairedDifferenceOf a: [Double], minus b: [Double]) {
        precondition(a.count == b.count, "paired differences need equal counts")
        self.init(zip(a, b).map { $0 - $1 })
    }

    /// The same estimate scaled by `factor` (unit conversions such as nats → bits/dim).
    public func scaled(by factor: Double) -> MeanEstimate {
        MeanEstimate(mean: mean * factor, standardError: standardError * abs(factor), count: count)
    }

    /// Whether `mean ≥ −k · standardError`: non-negative within k standard errors.
    public func isNonNegative(withinStandardErrors k: Double = 3) -> Bool {
        mean >= -k * (standardError.isFinite ? standardError : 0)
    }
}

/// log (1/K) Σ_k exp(valuesₖ) in Double, subtracting the maximum first.
public func logMeanExp<C: Collection>(_ values: C) -> Double where C.Element == Double {
    guard let maximum = values.max() else { return -.infinity }
    if maximum == -.infinity { return -.infinity }
    if maximum == .infinity { return .infinity }
    var total = 0.0
    for v in values { total += exp(v - maximum) }
    return maximum + log(total / Double(values.count))
}

/// The p-quantile of `values` (p in [0, 1]) by linear interpolation between order statistics:
/// with the values sorted as v_0 ≤ … ≤ v_{n−1} and h = p·(n − 1), v_⌊h⌋ + (h − ⌊h⌋)(v_⌊h⌋+1 − v_⌊h⌋).
/// This is numpy's default rule, so a reader can check a report's percentiles with `np.percentile`.
/// NaN for no values.
public func percentile(_ values: [Double], _ p: Double) -> Double {
    precondition(p >= 0 && p <= 1, "a percentile needs p in [0, 1], got \(p)")
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let h = p * Double(sorted.count - 1)
    let lower = Int(h.rounded(.down))
    let upper = Swift.min(lower + 1, sorted.count - 1)
    return sorted[lower] + (h - Double(lower)) * (sorted[upper] - sorted[lower])
}
