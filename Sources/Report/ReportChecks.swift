import Evaluation

/// One automatic check of an inequality the math guarantees, tested on one run at
/// `ReportCheck.standardErrors` standard errors. The test itself is
/// ``Evaluation/boundInequalityChecks(_:toleranceInStandardErrors:)``; this type only words it.
public struct ReportCheck: Equatable, Sendable {
    /// The inequality checked (see ``Evaluation/BoundInequality``).
    public typealias Kind = BoundInequality

    public enum Outcome: Equatable, Sendable {
        case pass
        case fail
        /// Not testable on this run (no known density, a single K, no K = 1).
        case notApplicable
    }

    /// Standard errors of slack allowed in every check.
    public static let standardErrors = 3.0

    public let kind: Kind
    public let outcome: Outcome
    /// The measured quantity ("0.123 ± 0.004"), or why the check does not apply.
    public let detail: String
    /// On failure: what went wrong and the likely reason.
    public let explanation: String?
}

extension BoundInequality {
    /// The statement, as the report's column header.
    public var statement: String {
        switch self {
        case .gapNonNegative: return "gap ≥ -3 s.e."
        case .jointAboveMarginal: return "KL_joint ≥ KL_marginal - 3 s.e."
        case .jointNonNegative: return "KL_joint ≥ -3 s.e."
        case .marginalNonNegative: return "KL_marginal ≥ -3 s.e."
        case .iwaeNonDecreasing: return "IWAE_K non-decreasing in K"
        case .iwaeOneMatchesELBO: return "IWAE_1 = ELBO within 3 s.e."
        }
    }
}

/// Why an entropy ceiling fails: the causes, most likely first. Monte Carlo noise is the least likely
/// of them (a 3 s.e. excursion happens about once in 700 tests), and the paired s.e. is small.
let impossibilityCauses = "The likely causes are a density that is wrong, not a model that is good: a normalising term dropped "
    + "or counted twice in the model's log-likelihood (a missing -½ log 2π per dimension, a Jacobian of a rescaling of the data), "
    + "or a stored log q(x0) that does not belong to these data (rescaled or regenerated data). Do not use the numbers until "
    + "this is explained; with very few test examples, rerun with more (compare eval --examples) to rule out chance."

/// The automatic checks of one run's evaluation, in the order of ``ReportCheck/Kind/allCases``.
public func reportChecks(_ evaluation: ModelEvaluation) -> [ReportCheck] {
    let kMax = evaluation.maximumSampleCount
    return boundInequalityChecks(evaluation, toleranceInStandardErrors: ReportCheck.standardErrors).map { check in
        guard let holds = check.holds else {
            let reason: String
            switch check.inequality {
            case .jointAboveMarginal, .jointNonNegative, .marginalNonNegative: reason = "data density unknown"
            case .iwaeNonDecreasing: reason = "one K only"
            case .iwaeOneMatchesELBO: reason = "K = 1 not evaluated"
            case .gapNonNegative: reason = "not testable"   // always testable: every run has a gap
            }
            return ReportCheck(kind: check.inequality, outcome: .notApplicable, detail: reason, explanation: nil)
        }
        let outcome: ReportCheck.Outcome = holds ? .pass : .fail
        switch check.inequality {
        case .gapNonNegative:
            let gap = check.tested!
            return ReportCheck(
                kind: .gapNonNegative, outcome: outcome, detail: "gap = \(formatEstimate(gap))",
                explanation: holds ? nil : "log p̂ (IWAE_\(kMax)) is below the ELBO by more than 3 s.e. (gap = \(formatEstimate(gap))), "
                    + "although E[IWAE_K] ≥ ELBO always holds. Likely reason: too few test examples or importance samples for "
                    + "heavy-tailed importance weights (typical of an encoder with too little training), so the s.e. understates the noise; "
                    + "evaluate more examples (compare eval --examples) and a larger K. If it persists, the ELBO and IWAE paths disagree (a bug).")
        case .jointAboveMarginal:
            let known = evaluation.knownDensityKL!
            return ReportCheck(
                kind: .jointAboveMarginal, outcome: outcome,
                detail: "KL_joint - KL_marginal = \(formatEstimate(check.tested!))",
                explanation: holds ? nil : "KL_joint (\(formatEstimate(known.joint))) is below KL_marginal (\(formatEstimate(known.marginal))) by more than 3 s.e. "
                    + "of their paired difference, which is the gap: the same failure as the gap check, with the same likely reason.")
        case .jointNonNegative, .marginalNonNegative:
            let ceiled = check.inequality.ceiledEstimate!, kl = check.tested!
            return ReportCheck(
                kind: check.inequality, outcome: outcome, detail: "\(ceiled.kl) = \(formatEstimate(kl))",
                explanation: holds ? nil : "Impossible result: \(ceiled.kl) = \(formatEstimate(kl)) is below 0 by more than 3 s.e., "
                    + "so the mean \(ceiled.estimate) is above the data's entropy ceiling -H. No model can do that (the ELBO and E[IWAE_K] "
                    + "never exceed log p(x0) in expectation, and E[log p(x0)] ≤ -H because KL(q ‖ p) ≥ 0). " + impossibilityCauses)
        case .iwaeNonDecreasing:
            if holds {
                let list = check.sampleCounts.map(String.init).joined(separator: ", ")
                return ReportCheck(kind: .iwaeNonDecreasing, outcome: .pass, detail: "K = \(list)", explanation: nil)
            }
            let (low, high, step) = (check.sampleCounts[0], check.sampleCounts[1], check.tested!)
            return ReportCheck(
                kind: .iwaeNonDecreasing, outcome: .fail,
                detail: "IWAE_\(high) - IWAE_\(low) = \(formatEstimate(step))",
                explanation: "IWAE_\(high) is below IWAE_\(low) by more than 3 s.e. (difference \(formatEstimate(step))), although "
                    + "E[IWAE_K] increases with K. Likely reason: too few samples: each large K is averaged over few groups of "
                    + "importance weights and the weights are heavy-tailed (an encoder with too little training); evaluate more "
                    + "examples or a larger K_max.")
        case .iwaeOneMatchesELBO:
            let difference = check.tested!
            return ReportCheck(
                kind: .iwaeOneMatchesELBO, outcome: outcome, detail: "IWAE_1 - ELBO = \(formatEstimate(difference))",
                explanation: holds ? nil : "IWAE_1 differs from the ELBO by more than 3 s.e. (\(formatEstimate(difference))), although "
                    + "they are equal in expectation. Likely reason: too few test examples for heavy-tailed log-weights; if it "
                    + "persists with more examples, the importance-weight path and the ELBO path compute different bounds (a bug).")
        }
    }
}
