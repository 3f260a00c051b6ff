import Evaluation

// The report's "Sandwich bounds on model samples" section (docs/math.md#sandwich-bounds): for each
// run evaluated with `compare eval --sandwich N`, per K, the lower bound IWAE_K and the upper bound
// U_K averaged over N samples drawn from the model, and their paired width.

/// The width at the largest K of a run's sandwich, as a cell ("0.12 ± 0.01 (K = 1000)"), or "n/a".
func sandwichWidthCell(_ run: RunSummary) -> String {
    guard let sandwich = run.evaluation.sandwich else { return "n/a" }
    let last = sandwich.sampleCounts.count - 1
    return "\(formatEstimate(sandwich.widthEstimate(last))) (K = \(sandwich.sampleCounts[last]))"
}

/// The section; empty when no run has a sandwich.
func sandwichSection(_ runs: [RunSummary], labels: [String]) -> String {
    let measured = runs.indices.filter { runs[$0].evaluation.sandwich != nil }
    guard !measured.isEmpty else { return "" }
    var out = "## Sandwich bounds on model samples\n\n"
    out += "On N samples x0 drawn from each model, the latents that generated a sample are an exact draw of its true posterior "
        + "p(z|x0). With them, U_K = log (1/K)[w(z*) + Σ_{k=2..K} w(z_k)] is an **upper** bound on log p(x0) in expectation, "
        + "as IWAE_K is a lower one, both from the same K draws of q (docs/math.md#sandwich-bounds). Mean lower ≤ "
        + "E[log p(x0)] = -H(model) ≤ mean upper: the bracket holds the model's own entropy, and the **width** U_K - IWAE_K "
        + "(paired) bounds how far either estimate is from log p(x0) on the model's samples. These are the model's samples, "
        + "not the test examples above: the width says how well the estimator works for this model, not how well the model "
        + "fits the data.\n\n"
    var table = MarkdownTable(headers: ["model", "N", "K", "lower: IWAE_K", "upper: U_K", "width U_K - IWAE_K", "median width"],
                              alignments: [.left, .right, .right, .right, .right, .right, .right])
    var warnings: [String] = []
    for i in measured {
        let sandwich = runs[i].evaluation.sandwich!
        for (j, k) in sandwich.sampleCounts.enumerated() {
            let widths = zip(sandwich.upper[j], sandwich.lower[j]).map { $0 - $1 }
            let median = percentile(widths, 0.5)
            table.append([labels[i], formatCount(sandwich.sampleSize), formatCount(k), formatEstimate(sandwich.lowerEstimate(j)),
                          formatEstimate(sandwich.upperEstimate(j)), formatEstimate(sandwich.widthEstimate(j)),
                          formatFixed(median, decimals: decimalsForBareValue(median))])
            let width = sandwich.widthEstimate(j)
            // A mean width far above the median: a few samples carry it, where q proposes latents the
            // decoder rejects (log weights of -10⁹ and below); say so once per run, at the largest K.
            if j == sandwich.sampleCounts.count - 1, width.mean > 10 * Swift.max(median, 1e-3) {
                warnings.append("- **\(labels[i])**: at K = \(k) the mean width (\(formatEstimate(width))) is far above the median "
                    + "(\(formatFixed(median, decimals: decimalsForBareValue(median)))): a few of the model's samples carry it, samples on "
                    + "which the encoder proposes latents that the decoder rejects, so IWAE_K is unreliable there while U_K, built on the "
                    + "exact latents, is not. The estimator is good for typical samples and poor for the model's outliers.")
            }
            if !width.isNonNegative(withinStandardErrors: ReportCheck.standardErrors) {
                warnings.append("- **\(labels[i])**: at K = \(k) the upper bound is below the lower one by more than 3 s.e. "
                    + "(width \(formatEstimate(width))), which cannot happen in expectation: the importance weights are too heavy-tailed "
                    + "for N = \(formatCount(sandwich.sampleSize)) samples, or a generating weight is wrong; rerun with a larger N.")
            }
        }
    }
    out += table.text + "\n"
    if !warnings.isEmpty { out += warnings.joined(separator: "\n") + "\n\n" }
    return out
}
