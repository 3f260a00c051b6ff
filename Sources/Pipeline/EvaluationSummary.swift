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
    return lines.joined(separator: "\n")
}
