import Core
import Evaluation

/// The comparison report of `runs` (one table: every run on the same dataset under the same
/// likelihood) as files to write side by side:
///
/// - `NAME.md`, the report (always first);
/// - `NAME-training.svg` (when a run has a training log): loss against step, test ELBO;
/// - `NAME-layers.svg`: per-layer KL (the DDPM's L_t against t) with the reconstruction term;
/// - `NAME-iwae.svg`: IWAE_K against K with ±s.e. bars, the ELBO and −H when known;
/// - `NAME-samples.svg` for 2-D data: samples over the data;
/// - `NAME-samples-MODEL.png` for image data (examples of rank 2): a grid of samples per run.
///
/// `NAME` is `reportName` without any directory or `.md` extension; the Markdown links the
/// other files by relative name. `command` is the command line that made the report (printed
/// in the "Reproduce" section). Throws ``ReportError/mixedData(_:)`` when the runs differ in
/// dataset or likelihood (see ``validateComparable(_:)``; ``groupByData(_:)`` splits them), and
/// ``ReportError/repeatedRun(_:)`` when one checkpoint is given twice (refused, not deduplicated:
/// the caller's list is what the "Reproduce" line prints). `baselines` are exact baselines of the
/// same data, shown above the models (see ``validateBaselines(_:runs:)``).
public func makeComparisonReport(title: String, runs: [RunSummary], baselines: [BaselineSummary] = [], notes: String? = nil, reportName: String,
                                 command: String) throws -> [ReportFile] {
    try validateComparable(runs)
    try refuseRepeatedRuns(runs)
    try validateBaselines(baselines, runs: runs)
    let name = reportBaseName(reportName)
    let labels = rowLabels(runs)
    var files: [ReportFile] = []
    var plots: [(caption: String, file: String)] = []

    if let figure = trainingCurvesFigure(runs, labels: labels) {
        files.append(ReportFile(name: "\(name)-training.svg", text: figure.svg))
        plots.append(("Training curves: loss against step, test ELBO at the logged steps", "\(name)-training.svg"))
    }
    files.append(ReportFile(name: "\(name)-layers.svg", text: layerTermsFigure(runs, labels: labels).svg))
    plots.append(("Per-layer terms: KL per latent layer (the DDPM's L_t against t) and the reconstruction term", "\(name)-layers.svg"))
    files.append(ReportFile(name: "\(name)-iwae.svg", text: iwaeFigure(runs, labels: labels).svg))
    plots.append(("IWAE_K against K, ±s.e.", "\(name)-iwae.svg"))
    if runs[0].exampleShape == [2], let figure = sampleScatterFigure(runs, labels: labels) {
        files.append(ReportFile(name: "\(name)-samples.svg", text: figure.svg))
        plots.append(("Samples over the data", "\(name)-samples.svg"))
    }
    if runs[0].exampleShape.count == 2 {
        for (i, run) in runs.enumerated() {
            let count = min(64, run.samples.count / max(1, run.dimension))
            guard count > 0 else { continue }
            let values = Array(run.samples.prefix(count * run.dimension))
            guard let image = sampleGridImage(samples: values, shape: run.exampleShape,
                                              mapping: .forLikelihood(run.likelihood.rawValue, values: values),
                                              scale: gridScale(for: run.exampleShape)) else { continue }
            let file = "\(name)-samples-\(slug(labels[i])).png"
            files.append(ReportFile(name: file, contents: try encodePNG(image)))
            plots.append(("\(labels[i]): \(count) samples", file))
        }
        for (i, run) in runs.enumerated() where !run.nearestNeighbours.isEmpty {
            let pairs = run.nearestNeighbours
            let values = pairs.flatMap(\.sample) + pairs.flatMap(\.neighbour)
            guard let image = sampleGridImage(samples: values, shape: run.exampleShape,
                                              mapping: .forLikelihood(run.likelihood.rawValue, values: values),
                                              columns: pairs.count, scale: gridScale(for: run.exampleShape)) else { continue }
            let file = "\(name)-neighbours-\(slug(labels[i])).png"
            files.append(ReportFile(name: file, contents: try encodePNG(image)))
            let distances = pairs.map { formatFixed($0.distance, decimals: 2) }.joined(separator: ", ")
            let reference = run.testNeighbourDistances.isEmpty ? "" : "; the first \(run.testNeighbourDistances.count) test images lie at "
                + run.testNeighbourDistances.map { formatFixed($0, decimals: 2) }.joined(separator: ", ") + " from theirs"
            plots.append(("\(labels[i]): \(pairs.count) samples (top row) above the training image nearest to each (bottom row; "
                + "Euclidean distances on the data's scale: \(distances)\(reference))", file))
        }
    }
    let markdown = comparisonMarkdown(title: title, runs: runs, labels: labels, plots: plots, command: command, baselines: baselines,
                                      notes: notes)
    return [ReportFile(name: "\(name).md", text: markdown)] + files
}

/// `reportName` without directories and without a `.md` extension.
func reportBaseName(_ reportName: String) -> String {
    var name = String(reportName.split(separator: "/", omittingEmptySubsequences: true).last ?? "report")
    if name.hasSuffix(".md") { name.removeLast(3) }
    return name.isEmpty ? "report" : name
}

/// One label per run: the model in capitals; with its networks ("VAE (conv)", "VAE (MLP)"), a
/// DDPM's time ("DDPM (T = 100)", "DDPM (continuous time)") and its time budget ("VAE (20.0 s)")
/// where runs of one model differ in them; with the
/// checkpoint's name when neither tells two runs of a model apart; and a number when even that
/// is ambiguous.
public func rowLabels(_ runs: [RunSummary]) -> [String] {
    let models = runs.map { $0.model.displayName }
    var labels = models.enumerated().map { i, model -> String in
        let sameModel = runs.indices.filter { models[$0] == model }
        guard sameModel.count > 1 else { return model }
        // What tells this run from the others of its model: its networks, its budget, or both.
        func networks(_ run: RunSummary) -> String? { run.architecture.map { $0 == "mlp" ? "MLP" : $0 } }
        func budget(_ run: RunSummary) -> String? { run.cost.budgetSeconds.map(formatDuration) }
        // A DDPM's time: T steps, or continuous (read at a finite T, with ELBO_∞ beside).
        func time(_ run: RunSummary) -> String? {
            guard run.model == .ddpm else { return nil }
            return run.continuousELBO != nil ? "continuous time" : "T = \(formatCount(run.latentLayers))"
        }
        func distinction(_ run: RunSummary) -> [String] {
            [Set(sameModel.map { networks(runs[$0]) }).count > 1 ? networks(run) ?? "?" : nil,
             Set(sameModel.map { time(runs[$0]) }).count > 1 ? time(run) ?? "?" : nil,
             Set(sameModel.map { budget(runs[$0]) }).count > 1 ? budget(run) ?? "no budget" : nil].compactMap { $0 }
        }
        let parts = distinction(runs[i])
        if !parts.isEmpty, sameModel.filter({ distinction(runs[$0]) == parts }).count == 1 {
            return "\(model) (\(parts.joined(separator: ", ")))"
        }
        var file = String(runs[i].path.split(separator: "/").last ?? "")
        if file.hasSuffix(".h5") { file.removeLast(3) }
        return "\(model) (\(file))"
    }
    for i in labels.indices where labels.filter({ $0 == labels[i] }).count > 1 {
        labels[i] += " #\(i + 1)"
    }
    return labels
}

/// Lowercase letters, digits and single dashes: "DDPM (run a)" → "ddpm-run-a".
func slug(_ text: String) -> String {
    var result = ""
    for character in text.lowercased() {
        if character.isASCII && (character.isLetter || character.isNumber) {
            result.append(character)
        } else if !result.isEmpty && !result.hasSuffix("-") {
            result.append("-")
        }
    }
    while result.hasSuffix("-") { result.removeLast() }
    return result.isEmpty ? "run" : result
}

/// The Markdown text of the report.
func comparisonMarkdown(title: String, runs: [RunSummary], labels: [String], plots: [(caption: String, file: String)],
                        command: String, baselines allBaselines: [BaselineSummary] = [], notes: String? = nil) -> String {
    let first = runs[0]
    let baselines = restrictedBaselines(allBaselines, runs: runs)
    let key = DataKey(first)
    let densityKnown = runs.contains { $0.evaluation.logDensity != nil }
    let showsBits = first.likelihood == .discrete || first.likelihood == .binary
    let hasDiffusion = runs.contains { $0.model == .ddpm }
    var out = "# \(title)\n\n"
    out += impossibleResultBlock(runs, labels: labels)

    // Data and units.
    let shape = first.exampleShape.map(String.init).joined(separator: " × ")
    out += "Dataset **\(first.datasetName)** (`\(first.datasetPath)`), examples of shape \(shape) (D = \(first.dimension)), "
        + "\(key.likelihoodDescription) likelihood. Every row is on these data under this likelihood.\n\n"
    out += "Units: nats per example, as mean ± standard error over the n test examples"
    out += showsBits ? "; bits/dim = -(nats)/(D ln 2) with D = \(first.dimension) (lower is better).\n\n" : ".\n\n"
    if first.likelihood == .continuous {
        out += "**Densities.** The data are continuous, so every log-likelihood here is a log-*density*: values above 0 are "
            + "normal, and ELBO and log p̂ depend on the scale of the data; differences between rows and the KLs do not. "
            + (hasDiffusion ? "The DDPM's L_0, and with it its ELBO, depends on its reverse variance σ_1 (see its options under Runs). " : "")
            + "No bits/dim are given for continuous data.\n\n"
    }

    // The main table.
    let kMaxima = runs.map { $0.evaluation.maximumSampleCount }
    let sharedK = Set(kMaxima).count == 1 ? kMaxima[0] : nil
    var headers = ["model", "encoder params", "decoder params", "latent layers", "ELBO",
                   sharedK.map { "log p̂ (K = \($0))" } ?? "log p̂ (K)", "gap"]
    if densityKnown { headers += ["KL_joint", "KL_marginal"] }
    if showsBits { headers += ["bits/dim (ELBO)", "bits/dim (log p̂)"] }
    headers += ["steps", "time"]
    var alignments: [MarkdownTable.Alignment] = [.left, .right, .right, .right]
    alignments += Array(repeating: .right, count: headers.count - alignments.count)
    var table = MarkdownTable(headers: headers, alignments: alignments)
    for row in baselineTableRows(baselines, densityKnown: densityKnown, showsBits: showsBits) { table.append(row) }
    for (i, run) in runs.enumerated() {
        let evaluation = run.evaluation
        var logLikelihood = formatEstimate(evaluation.logLikelihoodEstimate)
        if sharedK == nil { logLikelihood += " (K = \(evaluation.maximumSampleCount))" }
        var cells = [labels[i], formatCount(run.encoderParameters), formatCount(run.decoderParameters),
                     formatCount(run.latentLayers), formatEstimate(evaluation.elboEstimate), logLikelihood,
                     formatEstimate(evaluation.gapEstimate)]
        if densityKnown {
            cells.append(evaluation.jointKLEstimate.map(formatEstimate) ?? "n/a")
            cells.append(evaluation.marginalKLEstimate.map(formatEstimate) ?? "n/a")
        }
        if showsBits {
            let factor = evaluation.bitsPerDimensionFactor
            cells.append(formatEstimate(evaluation.elboEstimate.scaled(by: factor)))
            cells.append(formatEstimate(evaluation.logLikelihoodEstimate.scaled(by: factor)))
        }
        cells += [formatCount(run.trainingSteps), formatDuration(run.trainingSeconds)]
        table.append(cells)
    }
    out += table.text + "\n"
    out += "n = \(perRun(runs, labels) { formatCount($0.evaluation.exampleCount) }) test examples; "
        + "K = \(perRun(runs, labels) { $0.evaluation.sampleCounts.map(String.init).joined(separator: ", ") }); "
        + "training seed \(perRun(runs, labels) { String($0.seed) }); "
        + "evaluation seed \(perRun(runs, labels) { String($0.evaluationSeed) }).\n\n"
    out += continuousTimeSentence(runs, labels: labels, showsBits: showsBits)
    out += baselineSentence(baselines, restrictedFrom: allBaselines)

    // The runs.
    if let notes, !notes.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        out += "## Observations\n\n"
        out += "*Written by the report's author after reading the tables and plots below (`compare report --notes`); "
            + "everything else in this report is generated from the checkpoints.*\n\n"
        out += notes.trimmingCharacters(in: .whitespacesAndNewlines) + "\n\n"
    }

    out += "## Runs\n\n"
    var runsHeaders = ["model", "checkpoint", "options", "n", "K"]
    if densityKnown { runsHeaders.append("E[log q(x0)] = -H") }
    runsHeaders += ["training seed", "evaluation seed"]
    var runsTable = MarkdownTable(headers: runsHeaders)
    for (i, run) in runs.enumerated() {
        var cells = [labels[i], "`\(run.path)`", run.modelDescription, formatCount(run.evaluation.exampleCount),
                     run.evaluation.sampleCounts.map(String.init).joined(separator: ", ")]
        if densityKnown { cells.append(run.evaluation.entropyEstimate.map { formatEstimate($0.scaled(by: -1)) } ?? "n/a") }
        cells += [String(run.seed), String(run.evaluationSeed)]
        runsTable.append(cells)
    }
    out += runsTable.text + "\n"
    out += baselinesSection(baselines)
    out += trainingBudgetSection(runs, labels: labels)

    out += howToRead(densityKnown: densityKnown, showsBits: showsBits, hasDiffusion: hasDiffusion, dimension: first.dimension)
    out += checksSection(runs, labels: labels, baselines: baselines)
    out += pairedDifferencesSection(runs, labels: labels, showsBits: showsBits)
    out += convergenceSection(runs, labels: labels)
    out += sandwichSection(runs, labels: labels)
    out += layerSection(runs, labels: labels)
    out += noiseLevelSection(runs, labels: labels)

    if !plots.isEmpty {
        out += "## Plots\n\n"
        for plot in plots { out += "![\(plot.caption)](\(plot.file))\n\n" }
    }

    out += "## Reproduce\n\n```sh\n"
    out += "# train\n"
    for line in unique(runs.map { $0.trainCommand }) { out += line.isEmpty ? "# (a training command was not recorded)\n" : "\(line)\n" }
    out += "# evaluate\n"
    for line in unique(runs.map { $0.evaluateCommand }) { out += line.isEmpty ? "# (an evaluation command was not recorded)\n" : "\(line)\n" }
    out += baselineReproduceLines(baselines)
    out += "# this report\n\(command)\n```\n"
    return out
}

/// One value when all runs agree, else "VAE 1, DDPM 2".
private func perRun(_ runs: [RunSummary], _ labels: [String], _ value: (RunSummary) -> String) -> String {
    let values = runs.map(value)
    if Set(values).count == 1 { return values[0] }
    return zip(labels, values).map { "\($0) \($1)" }.joined(separator: "; ")
}

/// The distinct elements in order of first appearance.
private func unique(_ lines: [String]) -> [String] {
    var seen: [String] = []
    for line in lines where !seen.contains(line) { seen.append(line) }
    return seen
}

/// "How to read this": each column tied to the statement it measures.
private func howToRead(densityKnown: Bool, showsBits: Bool, hasDiffusion: Bool, dimension: Int) -> String {
    var out = "## How to read this\n\n"
    out += "- **ELBO** = E_q[log p(x0, z) - log q(z|x0)], averaged over the test examples: a lower bound, ELBO ≤ log p(x0).\n"
    out += "- **log p̂ (K)** = IWAE_K = log (1/K) Σ_k p(x0, z_k) / q(z_k|x0) with z_k ~ q(z|x0): also a lower bound on "
        + "log p(x0), tighter as K grows (ELBO = E[IWAE_1] ≤ E[IWAE_K] ≤ E[IWAE_2K] ≤ log p(x0)); the table's best estimate "
        + "of the log-likelihood.\n"
    out += "- **gap** = log p̂ - ELBO, the mean of the per-example differences with the standard error of those paired "
        + "differences: it estimates E[KL(q(z|x0) ‖ p(z|x0))] ≥ 0 (from below), how far the encoder is from the model's "
        + "true posterior.\n"
    if densityKnown {
        out += "- **KL_joint** = E[log q(x0)] - ELBO = KL(q(x0, z) ‖ p(x0, z)): data and encoder against the model, jointly. "
            + "**KL_marginal** = E[log q(x0)] - log p̂, an upper estimate of KL(q(x0) ‖ p(x0)) ≥ 0: data against the model's "
            + "marginal. Their difference is the gap, KL_joint - KL_marginal = E[KL(q(z|x0) ‖ p(z|x0))], so "
            + "KL_joint ≥ KL_marginal ≥ 0: the KL of the joints bounds the KL of the marginals, measured. "
            + "E[log q(x0)] = -H is listed under Runs.\n"
    } else {
        out += "- **KL_joint, KL_marginal** need the data's own log-density log q(x0), which this dataset does not store; "
            + "they are not shown.\n"
    }
    out += "- **encoder / decoder params**: the parameters of q(z|x0) and of p(x0, z). "
        + (hasDiffusion ? "The DDPM's encoder has no parameters (0): q(x_1..x_T|x0) is a fixed Gaussian noising process, and only the denoiser (the decoder) is learned. " : "")
        + "**latent layers**: 1 for the VAE, L for the HVAE, T for the DDPM (each x_t the size of x0).\n"
    if showsBits {
        out += "- **bits/dim** = -(nats)/(D ln 2) with D = \(dimension): the negative ELBO and the negative log p̂ in bits per "
            + "dimension, upper bounds on the negative log-likelihood (lower is better).\n"
    }
    out += "- **steps, time**: training steps and training wall-clock time.\n"
    out += "- Numbers are mean ± standard error (√(var/n)); the standard error is rounded to 2 significant digits and the "
        + "mean to the same decimal place. Minus signs are ASCII '-' so that numbers paste cleanly.\n\n"
    return out
}

/// A quoted block right under the title when any run breaks an entropy ceiling
/// (``Evaluation/BoundInequality/isImpossibleWhenViolated``): such a report must not be read as
/// usual, so it says so before any number. Empty when every ceiling holds or none applies.
func impossibleResultBlock(_ runs: [RunSummary], labels: [String]) -> String {
    var broken: [String] = []
    for (i, run) in runs.enumerated() {
        for check in reportChecks(run.evaluation) where check.outcome == .fail && check.kind.isImpossibleWhenViolated {
            broken.append("\(labels[i]) (\(check.detail))")
        }
    }
    guard !broken.isEmpty else { return "" }
    return "> **Impossible result.** \(broken.joined(separator: "; ")): a mean ELBO or log p̂ above the data's entropy "
        + "ceiling -H by more than 3 standard errors. No model can exceed the data's own log-density on average, so a density "
        + "here is wrong; the numbers below are not to be trusted until this is explained (see Checks).\n\n"
}

/// The automatic checks: a table of outcomes, then each failure with its likely reason.
private func checksSection(_ runs: [RunSummary], labels: [String], baselines: [BaselineSummary] = []) -> String {
    var out = "## Checks\n\n"
    out += "Each row is tested against the inequalities above, allowing \(formatFixed(ReportCheck.standardErrors, decimals: 0)) "
        + "standard errors of Monte Carlo noise (differences of estimates on the same examples use paired standard errors).\n\n"
    out += baselineCheckIntroduction(baselines)
    let kinds = ReportCheck.Kind.allCases
    let pixel = pixelBaseline(baselines)
    var table = MarkdownTable(headers: ["model"] + kinds.map(\.statement) + (pixel == nil ? [] : [BaselineCheck.statement]))
    var failures: [String] = []
    var undecided: [String] = []
    for (i, run) in runs.enumerated() {
        let checks = reportChecks(run.evaluation)
        let baselineCheck = pixel.map { BaselineCheck(run: run, baseline: $0) }
        table.append([labels[i]] + checks.map { check -> String in
            switch check.outcome {
            case .pass: return "pass (\(check.detail))"
            case .fail: return "**FAIL** (\(check.detail))"
            case .notApplicable: return "n/a (\(check.detail))"
            }
        } + (baselineCheck.map { [$0.cell] } ?? []))
        for check in checks where check.outcome == .fail {
            failures.append("- **\(labels[i])** fails \"\(check.kind.statement)\": \(check.explanation ?? check.detail)")
        }
        if let check = baselineCheck, let explanation = check.explanation {
            let line = "- **\(labels[i])** \(check.outcome == .fail ? "fails" : "is undecided on") \"\(BaselineCheck.statement)\": \(explanation)"
            if check.outcome == .fail { failures.append(line) } else { undecided.append(line) }
        }
    }
    out += table.text + "\n"
    if failures.isEmpty {
        out += undecided.isEmpty ? "All applicable checks pass.\n\n" : "No check failed.\n\n"
    } else {
        out += "**\(failures.count) check\(failures.count == 1 ? "" : "s") failed:**\n\n" + failures.joined(separator: "\n") + "\n\n"
    }
    if !undecided.isEmpty { out += "**Not decided:**\n\n" + undecided.joined(separator: "\n") + "\n\n" }
    return out
}

/// The per-layer decomposition: reconstruction against the KLs, one problem or many.
private func layerSection(_ runs: [RunSummary], labels: [String]) -> String {
    var out = "## Per-layer terms\n\n"
    out += "ELBO = E[log p(x0|z)] - Σ_layers KL. The VAE puts all of its KL into one layer (one hard problem); "
        + "the DDPM spreads it over T layers L_t, each a small KL between two Gaussians (many easy problems). "
        + "For the DDPM the reconstruction term is -L_0 and the layers are L_1 … L_T (L_T = KL(q(x_T|x0) ‖ N(0, I))).\n\n"
    var table = MarkdownTable(headers: ["model", "layers", "-E[log p(x0|z)]", "Σ KL", "largest layer KL", "mean KL per layer"],
                              alignments: [.left, .right, .right, .right, .right, .right])
    for (i, run) in runs.enumerated() {
        let evaluation = run.evaluation
        let total = MeanEstimate(totalKLPerExample(evaluation))
        let layers = evaluation.layerNames.count
        var largest = "n/a"
        var perLayer = "n/a"
        if layers > 0 {
            let estimates = (0..<layers).map { evaluation.layerKLEstimate($0) }
            let index = estimates.indices.max { estimates[$0].mean < estimates[$1].mean }!
            largest = "\(formatEstimate(estimates[index])) (\(evaluation.layerNames[index]))"
            perLayer = formatEstimate(total.scaled(by: 1 / Double(layers)))
        }
        table.append([labels[i], formatCount(layers), formatEstimate(evaluation.reconstructionEstimate.scaled(by: -1)),
                      formatEstimate(total), largest, perLayer])
    }
    return out + table.text + "\n"
}

/// One sentence per continuous-time DDPM: its ELBO_∞ beside the row, which reads the model at a
/// finite T (docs/math.md#discrete-time-elbo-of-a-continuous-model).
func continuousTimeSentence(_ runs: [RunSummary], labels: [String], showsBits: Bool) -> String {
    var out = ""
    for (i, run) in runs.enumerated() {
        guard let limit = run.continuousELBO else { continue }
        let bits = showsBits ? " (\(formatEstimate(limit.scaled(by: run.evaluation.bitsPerDimensionFactor))) bits/dim)" : ""
        let steps = run.evaluationTimesteps.map { "T = \($0) (\(formatCount($0 + 1)) latent layers)" } ?? "a finite T"
        out += "\(labels[i]) is a continuous-time DDPM: its row reads it at \(steps), where ELBO_T ≤ ELBO_∞; "
            + "in continuous time, on the same examples, ELBO_∞ = \(formatEstimate(limit)) nats per example\(bits)"
        if let excess = run.continuousELBOExcess {
            out += ". Paired over the examples, ELBO_∞ − ELBO_T = \(formatEstimate(excess)) nats"
                + (excess.isNonNegative(withinStandardErrors: ReportCheck.standardErrors) ? ", as the inequality requires (within 3 s.e.)"
                         : ": **below zero by more than 3 s.e.**, which the inequality forbids (an estimator or model error)")
        }
        if let ends = run.learnedScheduleEnds {
            out += ". Its learned schedule ends at γ(0) = \(formatFixed(ends.start, decimals: 2)) and γ(1) = \(formatFixed(ends.end, decimals: 2)) "
                + "(γ = -log SNR; where it started is under Runs)"
        }
        out += ".\n\n"
    }
    return out
}
