/// The inequalities the math guarantees between one run's estimates, in the order they are checked.
///
/// Each holds in expectation; on a finite sample it is tested on a paired mean, allowing
/// `toleranceInStandardErrors` standard errors of slack. See docs/math.md#bound-gap and
/// docs/math.md#known-density-kls.
public enum BoundInequality: CaseIterable, Sendable {
    /// gap = E[IWAE_{K_max} − ELBO] ≥ 0 (it estimates E_x KL(q(z|x) ‖ p(z|x))).
    case gapNonNegative
    /// KL_joint ≥ KL_marginal: their difference is the gap, tested on the paired differences IWAE − ELBO.
    case jointAboveMarginal
    /// KL_joint = E[log q − ELBO] ≥ 0, i.e. the mean ELBO is at most −H: the entropy ceiling for the ELBO.
    case jointNonNegative
    /// KL_marginal = E[log q − IWAE_{K_max}] ≥ 0 (it bounds KL(q(x₀) ‖ p(x₀)) ≥ 0 from above), i.e. the
    /// mean log p̂ is at most −H: the entropy ceiling for log p̂.
    case marginalNonNegative
    /// E[IWAE_K] non-decreasing in K: every consecutive K < K' by the paired differences IWAE_{K'} − IWAE_K.
    case iwaeNonDecreasing
    /// E[IWAE_1] = E[ELBO]: the paired difference IWAE_1 − ELBO is 0 within the tolerance on both sides.
    case iwaeOneMatchesELBO

    /// Whether a violation is impossible for a correct estimator, whatever the model and however
    /// badly it is trained: the two entropy ceilings (docs/math.md#entropy-ceiling). No model can
    /// exceed the data's own log-density on average, so a mean ELBO or log p̂ above −H by more than
    /// the tolerance means a density is wrong (a dropped normalising term, a Jacobian of a rescaling,
    /// a stored log q(x₀) that does not belong to the data), not that the model is good. The other
    /// inequalities can also fail from heavy-tailed weights that the standard error understates.
    public var isImpossibleWhenViolated: Bool { ceiledEstimate != nil }

    /// For an entropy ceiling, the estimate it bounds ("ELBO" or "log p̂") and the KL it tests it on;
    /// nil for the other inequalities.
    public var ceiledEstimate: (estimate: String, kl: String)? {
        switch self {
        case .jointNonNegative: return ("ELBO", "KL_joint")
        case .marginalNonNegative: return ("log p̂", "KL_marginal")
        case .gapNonNegative, .jointAboveMarginal, .iwaeNonDecreasing, .iwaeOneMatchesELBO: return nil
        }
    }
}

/// One inequality tested on one run: the verdict and the numbers it rests on.
public struct BoundInequalityCheck: Equatable, Sendable {
    public let inequality: BoundInequality
    /// Whether the tested mean is within the tolerance; nil when this run cannot test it
    /// (no known data density, a single K, or K = 1 not evaluated).
    public let holds: Bool?
    /// The tested paired mean: the gap; KL_joint − KL_marginal (which is the gap); KL_joint; KL_marginal;
    /// the worst failing step IWAE_{K'} − IWAE_K (nil when every step holds); IWAE_1 − ELBO.
    public let tested: MeanEstimate?
    /// The K involved: for ``BoundInequality/iwaeNonDecreasing`` the failing pair [K, K'], or every K
    /// when it holds or cannot be tested; [1] for ``BoundInequality/iwaeOneMatchesELBO``; else empty.
    public let sampleCounts: [Int]
    /// The slack allowed, in standard errors of `tested`.
    public let toleranceInStandardErrors: Double

    public init(inequality: BoundInequality, holds: Bool?, tested: MeanEstimate?, sampleCounts: [Int] = [],
                toleranceInStandardErrors: Double) {
        self.inequality = inequality
        self.holds = holds
        self.tested = tested
        self.sampleCounts = sampleCounts
        self.toleranceInStandardErrors = toleranceInStandardErrors
    }
}

/// Tests every ``BoundInequality`` on `evaluation`, in the order of ``BoundInequality/allCases``.
///
/// - Parameter k: the slack allowed, in standard errors of each tested paired mean.
public func boundInequalityChecks(_ evaluation: ModelEvaluation, toleranceInStandardErrors k: Double = 3) -> [BoundInequalityCheck] {
    var checks: [BoundInequalityCheck] = []

    let gap = evaluation.gapEstimate
    checks.append(BoundInequalityCheck(inequality: .gapNonNegative, holds: gap.isNonNegative(withinStandardErrors: k), tested: gap,
                                       toleranceInStandardErrors: k))

    if let known = evaluation.knownDensityKL {
        checks.append(BoundInequalityCheck(inequality: .jointAboveMarginal, holds: known.jointMinusMarginal.isNonNegative(withinStandardErrors: k),
                                           tested: known.jointMinusMarginal, toleranceInStandardErrors: k))
        checks.append(BoundInequalityCheck(inequality: .jointNonNegative, holds: known.joint.isNonNegative(withinStandardErrors: k),
                                           tested: known.joint, toleranceInStandardErrors: k))
        checks.append(BoundInequalityCheck(inequality: .marginalNonNegative, holds: known.marginal.isNonNegative(withinStandardErrors: k),
                                           tested: known.marginal, toleranceInStandardErrors: k))
    } else {
        for inequality in [BoundInequality.jointAboveMarginal, .jointNonNegative, .marginalNonNegative] {
            checks.append(BoundInequalityCheck(inequality: inequality, holds: nil, tested: nil, toleranceInStandardErrors: k))
        }
    }

    // Consecutive K by paired differences; a failure reports the step furthest below zero in standard errors.
    let counts = evaluation.sampleCounts
    if counts.count >= 2 {
        func score(_ step: MeanEstimate) -> Double {
            step.mean / (step.standardError.isFinite && step.standardError > 0 ? step.standardError : 1)
        }
        var worst: (index: Int, estimate: MeanEstimate)? = nil
        for j in 0..<(counts.count - 1) {
            let step = MeanEstimate(pairedDifferenceOf: evaluation.iwae[j + 1], minus: evaluation.iwae[j])
            if !step.isNonNegative(withinStandardErrors: k) {
                if let current = worst {
                    if score(step) < score(current.estimate) { worst = (j, step) }
                } else {
                    worst = (j, step)
                }
            }
        }
        if let worst {
            checks.append(BoundInequalityCheck(inequality: .iwaeNonDecreasing, holds: false, tested: worst.estimate,
                                               sampleCounts: [counts[worst.index], counts[worst.index + 1]], toleranceInStandardErrors: k))
        } else {
            checks.append(BoundInequalityCheck(inequality: .iwaeNonDecreasing, holds: true, tested: nil, sampleCounts: counts,
                                               toleranceInStandardErrors: k))
        }
    } else {
        checks.append(BoundInequalityCheck(inequality: .iwaeNonDecreasing, holds: nil, tested: nil, sampleCounts: counts,
                                           toleranceInStandardErrors: k))
    }

    if let one = counts.firstIndex(of: 1) {
        let difference = MeanEstimate(pairedDifferenceOf: evaluation.iwae[one], minus: evaluation.elbo)
        let negated = MeanEstimate(mean: -difference.mean, standardError: difference.standardError, count: difference.count)
        let holds = difference.isNonNegative(withinStandardErrors: k) && negated.isNonNegative(withinStandardErrors: k)
        checks.append(BoundInequalityCheck(inequality: .iwaeOneMatchesELBO, holds: holds, tested: difference, sampleCounts: [1],
                                           toleranceInStandardErrors: k))
    } else {
        checks.append(BoundInequalityCheck(inequality: .iwaeOneMatchesELBO, holds: nil, tested: nil, toleranceInStandardErrors: k))
    }
    return checks
}
