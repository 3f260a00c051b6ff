import Evaluation

/// One automatic check of an inequality the math guarantees, tested on one run at
/// `ReportCheck.standardErrors` standard errors.
public struct ReportCheck: Equatable, Sendable {
    public enum Kind: CaseIterable, Sendable {
        /// gap = log p̂ − ELBO ≥ −3 s.e.
        case gapNonNegative
        /// KL_joint ≥ KL_marginal − 3 s.e. (their difference is the gap; s.e. of the paired differences).
        case jointAboveMarginal
        /// KL_marginal ≥ −3 s.e.
        case marginalNonNegative
        /// IWAE_K non-decreasing in K (consecutive K, paired differences ≥ −3 s.e.).
        case iwaeNonDecreasing
        /// IWAE_1 equals the ELBO in expectation: |IWAE_1 − ELBO| ≤ 3 s.e.
        case iwaeOneMatchesELBO

        /// The statement, as the report's column header.
        public var statement: String {
            switch self {
            case .gapNonNegative: return "gap ≥ -3 s.e."
            case .jointAboveMarginal: return "KL_joint ≥ KL_marginal - 3 s.e."
            case .marginalNonNegative: return "KL_marginal ≥ -3 s.e."
            case .iwaeNonDecreasing: return "IWAE_K non-decreasing in K"
            case .iwaeOneMatchesELBO: return "IWAE_1 = ELBO within 3 s.e."
            }
        }
    }

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

/// The automatic checks of one run's evaluation, in the order of ``ReportCheck/Kind/allCases``.
public func reportChecks(_ evaluation: ModelEvaluation) -> [ReportCheck] {
    let k = ReportCheck.standardErrors
    var checks: [ReportCheck] = []
    let kMax = evaluation.maximumSampleCount

    // The gap, and KL_joint − KL_marginal (which is the same paired difference).
    let gap = evaluation.gapEstimate
    let gapHolds = gap.isNonNegative(withinStandardErrors: k)
    checks.append(ReportCheck(
        kind: .gapNonNegative, outcome: gapHolds ? .pass : .fail, detail: "gap = \(formatEstimate(gap))",
        explanation: gapHolds ? nil : "log p̂ (IWAE_\(kMax)) is below the ELBO by more than 3 s.e. (gap = \(formatEstimate(gap))), "
            + "although E[IWAE_K] ≥ ELBO always holds. Likely reason: too few test examples or importance samples for "
            + "heavy-tailed importance weights (typical of an encoder with too little training), so the s.e. understates the noise; "
            + "evaluate more examples (compare eval --examples) and a larger K. If it persists, the ELBO and IWAE paths disagree (a bug)."))

    if let joint = evaluation.jointKLEstimate, let marginal = evaluation.marginalKLEstimate {
        checks.append(ReportCheck(
            kind: .jointAboveMarginal, outcome: gapHolds ? .pass : .fail,
            detail: "KL_joint - KL_marginal = \(formatEstimate(gap))",
            explanation: gapHolds ? nil : "KL_joint (\(formatEstimate(joint))) is below KL_marginal (\(formatEstimate(marginal))) by more than 3 s.e. "
                + "of their paired difference, which is the gap: the same failure as the gap check, with the same likely reason."))
        let marginalHolds = marginal.isNonNegative(withinStandardErrors: k)
        checks.append(ReportCheck(
            kind: .marginalNonNegative, outcome: marginalHolds ? .pass : .fail, detail: "KL_marginal = \(formatEstimate(marginal))",
            explanation: marginalHolds ? nil : "KL_marginal = \(formatEstimate(marginal)) is below 0 by more than 3 s.e.: the model's log p̂ "
                + "exceeds the data's own log-density on average, impossible in expectation (log p̂ ≤ log p and KL(q ‖ p) ≥ 0). "
                + "Likely reason: too few test examples for a reliable s.e.; otherwise the stored log q(x0) does not belong to these "
                + "data (rescaled or regenerated data)."))
    } else {
        for kind in [ReportCheck.Kind.jointAboveMarginal, .marginalNonNegative] {
            checks.append(ReportCheck(kind: kind, outcome: .notApplicable, detail: "data density unknown", explanation: nil))
        }
    }

    // IWAE_K against K: consecutive K by paired differences.
    let counts = evaluation.sampleCounts
    if counts.count >= 2 {
        var worst: (index: Int, estimate: MeanEstimate)? = nil
        for j in 0..<(counts.count - 1) {
            let step = MeanEstimate(pairedDifferenceOf: evaluation.iwae[j + 1], minus: evaluation.iwae[j])
            if !step.isNonNegative(withinStandardErrors: k) {
                let score = step.mean / (step.standardError.isFinite && step.standardError > 0 ? step.standardError : 1)
                if let current = worst {
                    let currentScore = current.estimate.mean
                        / (current.estimate.standardError.isFinite && current.estimate.standardError > 0 ? current.estimate.standardError : 1)
                    if score < currentScore { worst = (j, step) }
                } else {
                    worst = (j, step)
                }
            }
        }
        let list = counts.map(String.init).joined(separator: ", ")
        if let worst {
            let (low, high) = (counts[worst.index], counts[worst.index + 1])
            checks.append(ReportCheck(
                kind: .iwaeNonDecreasing, outcome: .fail,
                detail: "IWAE_\(high) - IWAE_\(low) = \(formatEstimate(worst.estimate))",
                explanation: "IWAE_\(high) is below IWAE_\(low) by more than 3 s.e. (difference \(formatEstimate(worst.estimate))), although "
                    + "E[IWAE_K] increases with K. Likely reason: too few samples: each large K is averaged over few groups of "
                    + "importance weights and the weights are heavy-tailed (an encoder with too little training); evaluate more "
                    + "examples or a larger K_max."))
        } else {
            checks.append(ReportCheck(kind: .iwaeNonDecreasing, outcome: .pass, detail: "K = \(list)", explanation: nil))
        }
    } else {
        checks.append(ReportCheck(kind: .iwaeNonDecreasing, outcome: .notApplicable, detail: "one K only", explanation: nil))
    }

    // IWAE_1 against the ELBO: equal in expectation.
    if let one = counts.firstIndex(of: 1) {
        let difference = MeanEstimate(pairedDifferenceOf: evaluation.iwae[one], minus: evaluation.elbo)
        let holds = difference.isNonNegative(withinStandardErrors: k)
            && MeanEstimate(mean: -difference.mean, standardError: difference.standardError, count: difference.count)
                .isNonNegative(withinStandardErrors: k)
        checks.append(ReportCheck(
            kind: .iwaeOneMatchesELBO, outcome: holds ? .pass : .fail, detail: "IWAE_1 - ELBO = \(formatEstimate(difference))",
            explanation: holds ? nil : "IWAE_1 differs from the ELBO by more than 3 s.e. (\(formatEstimate(difference))), although "
                + "they are equal in expectation. Likely reason: too few test examples for heavy-tailed log-weights; if it "
                + "persists with more examples, the importance-weight path and the ELBO path compute different bounds (a bug)."))
    } else {
        checks.append(ReportCheck(kind: .iwaeOneMatchesELBO, outcome: .notApplicable, detail: "K = 1 not evaluated", explanation: nil))
    }
    return checks
}
