import Core
import Evaluation
import Foundation

// The exact baselines of a comparison report (docs/math.md#exact-baselines): their rows above
// the learned models, the sentence and section that say what they are, their commands under
// Reproduce, and the check "beats the per-pixel baseline". `ComparisonReport.swift` calls these
// hooks; with no baselines each returns nothing, and the report is what it was without them.

extension DataKey {
    /// The data a baseline was fitted and evaluated on, compared as a run's.
    public init(_ baseline: BaselineSummary) {
        datasetName = baseline.datasetName
        datasetHash = baseline.datasetHash
        likelihood = baseline.likelihood
        levels = baseline.levels
        exampleShape = baseline.exampleShape
    }
}

/// The number of test examples the learned models were evaluated on: the baseline rows are
/// shown on this prefix (the largest n among the runs).
func baselineExampleCount(_ runs: [RunSummary]) -> Int {
    runs.map(\.evaluation.exampleCount).max() ?? 0
}

/// Refuses baselines that cannot share the runs' table, each with one line:
/// ``ReportError/mixedData(_:)`` for another dataset, example shape, likelihood or contents (as
/// ``validateComparable(_:)`` refuses mixed runs); ``ReportError/inconsistentRun(_:)`` for a
/// baseline with no, non-finite or positive log-probabilities, of continuous data, or evaluated
/// on fewer test examples than a model (a baseline evaluated on more is shown on the models'
/// prefix, which is exact: its values are per-example and deterministic);
/// ``ReportError/repeatedRun(_:)`` for a file given twice among runs and baselines.
public func validateBaselines(_ baselines: [BaselineSummary], runs: [RunSummary]) throws {
    guard !baselines.isEmpty else { return }
    guard let first = runs.first else {
        throw ReportError.noRuns
    }
    let reference = DataKey(first)
    let rule = "baselines are only compared with models on the same data under the same likelihood"
    let needed = baselineExampleCount(runs)
    try refuseRepeatedFiles(runs.map { ($0.path, $0.runIdentity) } + baselines.map { ($0.path, $0.runIdentity) }, noun: "file")
    for baseline in baselines {
        if baseline.logLikelihoods.isEmpty {
            throw ReportError.inconsistentRun("\(baseline.path): the baseline has no evaluated test examples; evaluate it again with compare eval")
        }
        if let bad = baseline.logLikelihoods.firstIndex(where: { !($0.isFinite && $0 <= 0) }) {
            throw ReportError.inconsistentRun("\(baseline.path): the baseline's log p(x) of test example \(bad) is \(baseline.logLikelihoods[bad]), not a finite log-probability (≤ 0); evaluate it again with compare eval")
        }
        if baseline.likelihood == .continuous {
            throw ReportError.inconsistentRun("\(baseline.path): a baseline of continuous data cannot exist (it has no levels); refit it with compare baseline")
        }
        if let mismatch = dataMismatch(DataKey(baseline), reference: reference, first: first.path, other: baseline.path,
                                       otherIsBaseline: true) {
            throw ReportError.mixedData("\(mismatch) (\(rule))")
        }
        if baseline.exampleCount < needed {
            let model = runs.first { $0.evaluation.exampleCount == needed }!
            throw ReportError.inconsistentRun("\(baseline.path): the baseline was evaluated on \(baseline.exampleCount) test examples, fewer than the \(needed) of \(model.path); run `compare eval \(baseline.path) --examples \(needed)` (or without --examples)")
        }
    }
}

/// The baselines restricted to the first n test examples of the runs (``baselineExampleCount(_:)``).
func restrictedBaselines(_ baselines: [BaselineSummary], runs: [RunSummary]) -> [BaselineSummary] {
    let n = baselineExampleCount(runs)
    return baselines.map { baseline in
        var shown = baseline
        shown.logLikelihoods = Array(baseline.logLikelihoods.prefix(n))
        return shown
    }
}

/// "baseline: per-pixel categorical (add-1)".
func baselineRowLabel(_ baseline: BaselineSummary) -> String { "baseline: \(baseline.label)" }

/// The main table's rows of the baselines, in the runs' columns: encoder params 0, decoder
/// params the baseline's, no latent layers, ELBO = log p̂ = the exact value, gap "0 (exact)",
/// "n/a" for the KLs (never shown for discrete data), bits/dim, "—" for steps and time.
func baselineTableRows(_ baselines: [BaselineSummary], densityKnown: Bool, showsBits: Bool) -> [[String]] {
    baselines.map { baseline in
        var estimate = MeanEstimate(baseline.logLikelihoods)
        if let value = baseline.logLikelihoods.first, baseline.logLikelihoods.allSatisfy({ $0 == value }) {
            // The uniform baseline: every example has the same value, which is the mean exactly
            // (a sum of n copies would round it), so that 1 bit/dim prints as 1.000.
            estimate = MeanEstimate(mean: value, standardError: estimate.count > 1 ? 0 : .nan, count: estimate.count)
        }
        var cells = [baselineRowLabel(baseline), "0", formatCount(baseline.parameterCount), "0",
                     formatEstimate(estimate), formatEstimate(estimate), "0 (exact)"]
        if densityKnown { cells += ["n/a", "n/a"] }
        if showsBits {
            // Divided, not multiplied by the reciprocal: the uniform baseline of binary data is 1 bit/dim exactly.
            let perDimension = Double(baseline.dimension) * log(2)
            let bits = formatEstimate(MeanEstimate(mean: -estimate.mean / perDimension, standardError: estimate.standardError / perDimension,
                                                   count: estimate.count))
            cells += [bits, bits]
        }
        return cells + ["—", "—"]
    }
}

/// The sentence under the main table: the baseline rows are exact, on the models' examples.
func baselineSentence(_ baselines: [BaselineSummary], restrictedFrom original: [BaselineSummary]) -> String {
    guard let first = baselines.first else { return "" }
    let names = baselines.map(\.label).joined(separator: "; ")
    var out = "The baseline rows (\(names)) are **exact**: log p(x0) in closed form from counts of the training split "
        + "(see [Baselines](#baselines)), so ELBO = log p̂ = log p and the gap is 0 by construction. They are evaluated on the "
        + "same first n = \(formatCount(first.exampleCount)) test examples as the models"
    let longer = zip(original, baselines).filter { $0.0.exampleCount > $0.1.exampleCount }.map(\.0)
    if !longer.isEmpty {
        out += " (\(longer.map { "`\($0.path)` holds \(formatCount($0.exampleCount))" }.joined(separator: ", ")); the rows use the first "
            + "\(formatCount(first.exampleCount)), exactly, since each example's log p(x0) does not depend on the others)"
    }
    return out + ".\n\n"
}

/// The "Baselines" section: what each baseline is, its checkpoint, its size, and why a model
/// must beat it.
func baselinesSection(_ baselines: [BaselineSummary]) -> String {
    guard !baselines.isEmpty else { return "" }
    var out = "## Baselines\n\n"
    var table = MarkdownTable(headers: ["baseline", "checkpoint", "what it is", "parameters", "training examples", "n"],
                              alignments: [.left, .left, .left, .right, .right, .right])
    for baseline in baselines {
        table.append([baselineRowLabel(baseline), "`\(baseline.path)`", baseline.description, formatCount(baseline.parameterCount),
                      formatCount(baseline.trainingExamples), formatCount(baseline.exampleCount)])
    }
    out += table.text + "\n"
    out += "The **uniform** baseline gives each of the L levels of every pixel probability 1/L: log p(x0) = -D log L, the "
        + "log-likelihood of knowing nothing. The **per-pixel** baseline treats every pixel as an independent draw from its own "
        + "histogram of the training split, smoothed by adding α to every count (add-one, Laplace, for α = 1): "
        + "p_d(l) = (c_{d,l} + α) / (N + α L), log p(x0) = Σ_d log p_d(x0_d) (for binary data an independent Bernoulli per pixel). "
        + "Both are computed exactly, so they carry no estimation error beyond the choice of test examples. A learned model that "
        + "does not beat the per-pixel baseline has not learned how pixels go together, the one thing the per-pixel model "
        + "cannot express.\n\n"
    return out
}

/// The Reproduce lines of the baselines: each `compare baseline` command and, when its stored
/// evaluation came from a later `compare eval`, that command.
func baselineReproduceLines(_ baselines: [BaselineSummary]) -> String {
    guard !baselines.isEmpty else { return "" }
    var lines: [String] = []
    for baseline in baselines {
        let command = baseline.command.isEmpty ? "# (a baseline command was not recorded)" : baseline.command
        if !lines.contains(command) { lines.append(command) }
        if !baseline.evaluateCommand.isEmpty, !lines.contains(baseline.evaluateCommand) { lines.append(baseline.evaluateCommand) }
    }
    return "# baselines\n" + lines.map { $0 + "\n" }.joined()
}

/// The reference of the check: the first per-pixel baseline, if any.
func pixelBaseline(_ baselines: [BaselineSummary]) -> BaselineSummary? {
    baselines.first { $0.kind == .pixel }
}

/// "beats the per-pixel baseline": the paired difference log p̂_model − log p_pixel on the
/// model's n test examples, more than ``ReportCheck/standardErrors`` paired standard errors
/// above 0 (pass), as far below it (fail), or in between (undecided: the examples cannot tell).
public struct BaselineCheck: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable { case pass, fail, undecided }

    /// The column header of the check.
    public static let statement = "beats the per-pixel baseline"

    public let outcome: Outcome
    /// The paired difference, nats per example.
    public let difference: MeanEstimate
    /// The Checks table's cell.
    public let cell: String
    /// For a failure or an undecided check: what it means, in words.
    public let explanation: String?

    /// The check of `run` against the per-pixel baseline `baseline` (which holds at least the
    /// run's n examples, ``validateBaselines(_:runs:)``).
    public init(run: RunSummary, baseline: BaselineSummary) {
        let model = run.evaluation.logLikelihood
        let reference = Array(baseline.logLikelihoods.prefix(model.count))
        let difference = MeanEstimate(pairedDifferenceOf: model, minus: reference)
        let k = ReportCheck.standardErrors
        let se = difference.standardError
        let outcome: Outcome = se.isFinite && difference.mean > k * se ? .pass : (se.isFinite && difference.mean < -k * se ? .fail : .undecided)
        let measured = "log p̂ - log p_pixel = \(formatEstimate(difference))"
        let bits = formatEstimate(difference.scaled(by: -1 / (Double(run.dimension) * log(2))))
        let n = formatCount(model.count)
        let draw = baseline.levels == 2 ? "an independent coin flip with its own training frequency" : "an independent draw from its training histogram"
        self.outcome = outcome
        self.difference = difference
        switch outcome {
        case .pass:
            cell = "pass (\(measured))"
            explanation = nil
        case .fail:
            cell = "**FAIL** (\(measured))"
            explanation = "this model gives the test images less probability than a model that treats every pixel as \(draw): "
                + (overfittingDiagnosis(run) == nil ? "it has not yet learned how pixels go together. "
                    : "it learned its training images rather than how pixels go together. ")
                + "Its log p̂ is below the per-pixel baseline's exact log p by "
                + "\(formatEstimate(difference.scaled(by: -1))) nats per example (\(bits) bits/dim more) on the same \(n) test examples. "
                + "log p̂ is a lower bound, so a larger K can raise it somewhat, but "
                + (overfittingDiagnosis(run).map { "here the cause is visible in training: \($0)" }
                    ?? "a difference this clear usually means too little training or too small a network: train longer, or a larger model.")
        case .undecided:
            cell = "undecided (\(measured))"
            explanation = "the difference \(measured) is within \(formatFixed(k, decimals: 0)) paired standard errors of 0: on these \(n) "
                + "test examples the model cannot be told apart from the per-pixel baseline. Evaluate more test examples "
                + "(compare eval --examples) to decide." + (overfittingDiagnosis(run).map { " Note that \($0)" } ?? "")
        }
    }
}

/// Whether the run's test ELBO during training (`--evaluate-every`, on a fixed subset of the test
/// split) peaked and then fell clearly and lastingly — its last two values both below the peak by
/// more than 1 nat and 2 % of it — the sign of a model that learned its training examples rather
/// than their distribution; the sentence that says so, or nil. One low last value is not enough:
/// a continuous-time DDPM's test ELBO is a one-draw estimate of ELBO_∞ whose noise alone can
/// drop that far once (digits, 20 s: -155.4 at step 2,000, -161.9 at the run's end 60 steps later).
func overfittingDiagnosis(_ run: RunSummary) -> String? {
    let pairs = zip(run.testELBOSteps, run.testELBOs).filter { $0.1.isFinite }
    guard pairs.count >= 3, let last = pairs.last, let peak = pairs.max(by: { $0.1 < $1.1 }) else { return nil }
    let threshold = max(1, 0.02 * abs(peak.1))
    guard pairs.suffix(2).allSatisfy({ peak.1 - $0.1 > threshold }) else { return nil }
    return "its test ELBO during training peaked at \(formatFixed(peak.1, decimals: 1)) nats at step \(formatCount(Int(peak.0))) "
        + "and fell to \(formatFixed(last.1, decimals: 1)) by step \(formatCount(Int(last.0))): the model overfit its training "
        + "examples. A shorter budget (or stopping where held-out data peak) would have kept it near its peak."
}

/// The Checks section's sentence on the baseline column ("" without a per-pixel baseline).
func baselineCheckIntroduction(_ baselines: [BaselineSummary]) -> String {
    guard let pixel = pixelBaseline(baselines) else { return "" }
    return "\"\(BaselineCheck.statement)\" compares each model's log p̂ with the exact log p of the \(pixel.label) baseline on the same "
        + "test examples, by the mean and paired standard error of their per-example difference.\n\n"
}
