import Evaluation
import Foundation

// The report's "Convergence of log p̂" section: for each run, how many of its K_max importance
// weights carry log p̂ (effective sample size) and whether log p̂ still rises with K
// (``Evaluation/ConvergenceDiagnostic``; docs/math.md#convergence-diagnostics).

/// The verdict on one run, as a table cell.
func convergenceVerdict(_ diagnostic: ConvergenceDiagnostic) -> String {
    switch diagnostic.hasConverged {
    case true?: return "converged"
    case false?: return "**has not converged**"
    case nil: return "n/a (one K only)"
    }
}

/// The rise as "IWAE_100 → IWAE_1000: 0.12 ± 0.01", or why it is missing.
func formatRise(_ diagnostic: ConvergenceDiagnostic) -> String {
    guard let rise = diagnostic.rise, let pair = diagnostic.riseSampleCounts else { return "n/a" }
    return "\(formatEstimate(rise)) (K = \(pair[0]) → \(pair[1]))"
}

/// Whether `estimate` has a standard error above rounding noise, so that "k s.e." means something.
private func hasUsableStandardError(_ estimate: MeanEstimate) -> Bool {
    estimate.standardError.isFinite && estimate.standardError > 1e-10 * max(1, abs(estimate.mean))
}

/// A table of ESS and rise per run, then one warning line per run whose log p̂ has not converged.
/// Not counted among the checks: a rising IWAE is not an error, it says how much to trust log p̂.
func convergenceSection(_ runs: [RunSummary], labels: [String]) -> String {
    var out = "## Convergence of log p̂\n\n"
    out += "log p̂ is IWAE at the largest K, a lower bound that rises towards log p(x0) as K grows. The **rise** is the paired "
        + "mean of IWAE_{K_max} - IWAE_{K'} (K' = K_max/10 where evaluated); it is ≥ 0 for every example, and significantly "
        + "above 0 (more than 3 s.e.) means log p̂ still moves with K: **has not converged**. If E[IWAE_K] ≈ log p - c/K, about "
        + "rise/(K_max/K' - 1) nats of bias are left at K_max (an asymptotic estimate that heavy-tailed weights break). "
        + "**ESS** is Kish's effective sample size (Σw)²/Σw² of each example's K_max weights: K_max when they are all equal, "
        + "1 when one weight carries log p̂.\n\n"
    let showsSandwich = runs.contains { $0.evaluation.sandwich != nil }
    var headers = ["model", "K_max", "ESS median", "ESS 10th percentile", "rise", "≈ bias left", "log p̂"]
    if showsSandwich { headers.append("sandwich width on model samples") }
    var table = MarkdownTable(headers: headers, alignments: [.left, .right, .right, .right, .right, .right, .left, .right].prefix(headers.count).map { $0 })
    var warnings: [String] = []
    for (i, run) in runs.enumerated() {
        let diagnostic = run.evaluation.convergence
        func ess(_ value: Double?) -> String { value.map { formatFixed($0, decimals: $0 < 10 ? 2 : 1) } ?? "n/a" }
        // The bias estimate is no more precise than the rise it is scaled from: the rise's decimals
        // (a standard error at rounding-noise level, a constant rise, counts as none).
        let riseDecimals = diagnostic.rise.flatMap { rise in
            hasUsableStandardError(rise) ? decimalsForStandardError(rise.standardError) : nil
        }
        let bias = diagnostic.remainingBias.map { formatFixed($0, decimals: riseDecimals ?? decimalsForBareValue($0)) } ?? "n/a"
        table.append([labels[i], formatCount(diagnostic.maximumSampleCount), ess(diagnostic.medianEffectiveSampleSize),
                      ess(diagnostic.tenthPercentileEffectiveSampleSize), formatRise(diagnostic), bias, convergenceVerdict(diagnostic)]
                     + (showsSandwich ? [sandwichWidthCell(run)] : []))
        if diagnostic.hasConverged == false, let rise = diagnostic.rise, let pair = diagnostic.riseSampleCounts {
            let sigmas = hasUsableStandardError(rise) ? " (\(formatFixed(rise.mean / rise.standardError, decimals: 0)) s.e.)" : ""
            warnings.append("- **\(labels[i])**: log p̂ has not converged: IWAE_\(pair[1]) - IWAE_\(pair[0]) = \(formatEstimate(rise))\(sigmas). "
                + "Read its log p̂ as a lower bound that a larger K would raise, by roughly \(bias) nats more if the weights' variance is finite.")
        }
    }
    out += table.text + "\n"
    if runs.contains(where: { $0.evaluation.effectiveSampleSize == nil }) {
        out += "ESS n/a: the evaluation was written before the effective sample size was kept; `compare eval` again to add it.\n\n"
    }
    if !warnings.isEmpty { out += warnings.joined(separator: "\n") + "\n\n" }
    return out
}
