import Evaluation

/// How far each model row is from the best one, measured example by example.
///
/// A row's ± is the standard error of its mean over the test examples, and on images most of it
/// is the spread between the examples themselves (some garments cost twice the nats of others),
/// which every row shares. Two rows' means can then differ by far less than either ± and still
/// be told apart: the difference is measured on each example, dᵢ = log p̂_row(xᵢ) − log p̂_best(xᵢ),
/// and its standard error is s.d.(d)/√n (docs/math.md#paired-differences-between-models). Rows evaluated on
/// different n are paired on the first min(n) test examples, which both saw (every evaluation
/// takes the first n of the split).
///
/// The best row is the one with the highest mean log p̂. A difference is "resolved" when it lies
/// more than ``ReportCheck/standardErrors`` standard errors from zero.
func pairedDifferencesSection(_ runs: [RunSummary], labels: [String], showsBits: Bool) -> String {
    guard runs.count >= 2 else { return "" }
    let best = runs.indices.max { runs[$0].evaluation.logLikelihoodEstimate.mean < runs[$1].evaluation.logLikelihoodEstimate.mean }!
    var headers = ["model", "n paired", "Δ log p̂ (nats)", "Δ ELBO (nats)"]
    if showsBits { headers += ["Δ bits/dim (log p̂; + is worse)"] }
    headers += ["log p̂ below the best"]
    var table = MarkdownTable(headers: headers, alignments: [.left] + Array(repeating: .right, count: headers.count - 1))
    for i in runs.indices where i != best {
        let row = runs[i].evaluation, top = runs[best].evaluation
        let n = Swift.min(row.exampleCount, top.exampleCount)
        let logLikelihood = MeanEstimate(pairedDifferenceOf: Array(row.logLikelihood.prefix(n)), minus: Array(top.logLikelihood.prefix(n)))
        let elbo = MeanEstimate(pairedDifferenceOf: Array(row.elbo.prefix(n)), minus: Array(top.elbo.prefix(n)))
        var cells = [labels[i], formatCount(n), formatEstimate(logLikelihood), formatEstimate(elbo)]
        if showsBits { cells.append(formatEstimate(logLikelihood.scaled(by: row.bitsPerDimensionFactor))) }
        let resolved = !logLikelihood.isNonNegative(withinStandardErrors: ReportCheck.standardErrors)
        let ratio = logLikelihood.standardError > 0 ? String(format: "%.0f", -logLikelihood.mean / logLikelihood.standardError) : "∞"
        cells.append(resolved ? "yes (\(ratio) s.e.)" : "not resolved")
        table.append(cells)
    }
    return "## Paired differences\n\n"
        + "Each model against the row with the highest log p̂, **\(labels[best])**, example by example on the same test "
        + "examples (row − best; negative: below the best). Most of each row's ± above is the spread between the test "
        + "examples, which all rows share; these differences are measured per example, so their standard errors are "
        + "much smaller and say whether the order of two rows is resolved (beyond \(Int(ReportCheck.standardErrors)) s.e.).\n\n"
        + table.text + "\n"
}
