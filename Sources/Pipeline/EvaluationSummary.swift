import Evaluation
import Foundation

/// A few lines for the terminal. An estimate from fewer than two examples has no standard error:
/// it prints "± n/a", never "± nan".
public func evaluationSummary(_ e: ModelEvaluation, model: String, path: String) -> String {
    func format(_ m: MeanEstimate) -> String {
        guard m.count >= 2, m.standardError.isFinite else { return String(format: "%.4f ± n/a", m.mean) }
        return String(format: "%.4f ± %.4f", m.mean, m.standardError)
    }
    var lines = ["\(path): \(model), \(e.exampleCount) test examples, nats per example (± s.e.)"]
    lines.append("  ELBO            \(format(e.elboEstimate))")
    for j in e.sampleCounts.indices { lines.append("  IWAE_\(e.sampleCounts[j])".padding(toLength: 18, withPad: " ", startingAt: 0) + format(e.iwaeEstimate(j))) }
    lines.append("  gap (paired)    \(format(e.gapEstimate))")
    if let h = e.entropyEstimate, let joint = e.jointKLEstimate, let marginal = e.marginalKLEstimate {
        lines.append("  H = −E log q    \(format(h))")
        lines.append("  KL_joint        \(format(joint))")
        lines.append("  KL_marginal     \(format(marginal))")
    }
    let convergence = e.convergence
    if let median = convergence.medianEffectiveSampleSize, let tenth = convergence.tenthPercentileEffectiveSampleSize {
        lines.append("  ESS (K = \(convergence.maximumSampleCount))".padding(toLength: 18, withPad: " ", startingAt: 0)
            + String(format: "median %.1f, 10th percentile %.1f", median, tenth))
    }
    if let rise = convergence.rise, let pair = convergence.riseSampleCounts {
        lines.append("  rise \(pair[0]) → \(pair[1])".padding(toLength: 18, withPad: " ", startingAt: 0) + format(rise)
            + (convergence.hasConverged == false ? "  log p̂ has not converged (> 3 s.e.)" : "  converged within 3 s.e."))
    }
    if let sandwich = e.sandwich {
        lines.append("  sandwich on \(sandwich.sampleSize) model samples (docs/math.md#sandwich-bounds): lower IWAE_K ≤ log p ≤ upper U_K")
        for (j, k) in sandwich.sampleCounts.enumerated() {
            lines.append("    K = \(k)".padding(toLength: 16, withPad: " ", startingAt: 0)
                + "lower \(format(sandwich.lowerEstimate(j)))  upper \(format(sandwich.upperEstimate(j)))  width \(format(sandwich.widthEstimate(j)))")
        }
    }
    for check in boundInequalityChecks(e) where check.holds == false {
        guard let ceiled = check.inequality.ceiledEstimate else { continue }
        lines.append("  IMPOSSIBLE: the mean \(ceiled.estimate) is above the data's entropy ceiling -H by more than 3 s.e. "
            + "(\(ceiled.kl) = \(format(check.tested!))): a density is wrong, not the model good (docs/math.md#entropy-ceiling)")
    }
    return lines.joined(separator: "\n")
}
