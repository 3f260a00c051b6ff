import Core
import Evaluation

/// A plain-text table of one run's evaluation for the terminal (`compare eval`): a header line,
/// then one aligned line per quantity (nats per example, mean ± s.e.), ending with a newline.
/// Per-layer KLs are listed for up to 10 layers; deeper models show the sum and the largest.
public func evaluationTable(_ run: RunSummary) -> String {
    let evaluation = run.evaluation
    let key = DataKey(run)
    var rows: [(String, String)] = []
    rows.append(("ELBO", formatEstimate(evaluation.elboEstimate)))
    for (j, k) in evaluation.sampleCounts.enumerated() {
        let name = j == evaluation.sampleCounts.count - 1 ? "log p̂ = IWAE_\(k)" : "IWAE_\(k)"
        rows.append((name, formatEstimate(evaluation.iwaeEstimate(j))))
    }
    rows.append(("gap = log p̂ - ELBO", formatEstimate(evaluation.gapEstimate)))
    let reconstructionName = run.model == .ddpm ? "L_0 = -E[log p(x0|x1)]" : "-E[log p(x0|z)]"
    rows.append((reconstructionName, formatEstimate(evaluation.reconstructionEstimate.scaled(by: -1))))
    let layers = evaluation.layerNames.count
    if layers <= 10 {
        for (i, name) in evaluation.layerNames.enumerated() {
            rows.append(("KL \(name)", formatEstimate(evaluation.layerKLEstimate(i))))
        }
    }
    if layers > 1 {
        rows.append(("Σ KL (\(layers) layers)", formatEstimate(MeanEstimate(totalKLPerExample(evaluation)))))
    }
    if layers > 10 {
        let estimates = (0..<layers).map { evaluation.layerKLEstimate($0) }
        let index = estimates.indices.max { estimates[$0].mean < estimates[$1].mean }!
        rows.append(("largest KL (\(evaluation.layerNames[index]))", formatEstimate(estimates[index])))
    }
    if let entropy = evaluation.entropyEstimate, let joint = evaluation.jointKLEstimate,
       let marginal = evaluation.marginalKLEstimate {
        rows.append(("E[log q(x0)] = -H", formatEstimate(entropy.scaled(by: -1))))
        rows.append(("KL_joint", formatEstimate(joint)))
        rows.append(("KL_marginal", formatEstimate(marginal)))
    }
    if run.likelihood == .discrete || run.likelihood == .binary {
        let factor = evaluation.bitsPerDimensionFactor
        rows.append(("bits/dim (ELBO)", formatEstimate(evaluation.elboEstimate.scaled(by: factor))))
        rows.append(("bits/dim (log p̂)", formatEstimate(evaluation.logLikelihoodEstimate.scaled(by: factor))))
    }

    var out = "\(run.model) on \(run.datasetName) (\(key.likelihoodDescription)), D = \(run.dimension), "
        + "n = \(evaluation.exampleCount) test examples, K = \(evaluation.sampleCounts.map(String.init).joined(separator: ", "))\n"
    let width = max("quantity".count, rows.map { $0.0.count }.max() ?? 0)
    func pad(_ text: String) -> String { text + String(repeating: " ", count: width - text.count) }
    out += "\(pad("quantity"))  nats per example (mean ± s.e.)\n"
    out += String(repeating: "-", count: width) + "  " + String(repeating: "-", count: 30) + "\n"
    for (name, value) in rows {
        let unit = name.hasPrefix("bits/dim") ? " bits/dim" : ""
        out += "\(pad(name))  \(value)\(unit)\n"
    }
    let failed = reportChecks(evaluation).filter { $0.outcome == .fail }
    for check in failed {
        let prefix = check.kind.isImpossibleWhenViolated ? "IMPOSSIBLE" : "check failed"
        out += "\(prefix): \(check.kind.statement): \(check.explanation ?? check.detail)\n"
    }
    return out
}
