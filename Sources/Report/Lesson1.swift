import Core
import Evaluation

/// Lesson 1, "maximum likelihood": the ELBO is a lower bound on log p(x0), and the
/// importance-weighted bounds climb from it towards log p(x0):
/// ELBO = E[IWAE_1] ≤ E[IWAE_10] ≤ … ≤ E[IWAE_1000] ≤ log p(x0), the remaining gap closing with K.
public struct Lesson1Input: Sendable {
    /// Evaluated runs on one dataset under one likelihood (typically VAE, HVAE, DDPM).
    public var runs: [RunSummary]
    public var footer: LessonFooter

    public init(runs: [RunSummary], footer: LessonFooter) {
        self.runs = runs
        self.footer = footer
    }
}

/// The checks of lesson 1, per run:
/// - ELBO ≤ IWAE_1, in fact equal in expectation (|IWAE_1 − ELBO| ≤ 3 paired s.e.);
/// - IWAE_K ≤ IWAE_K' for consecutive K < K' (paired);
/// - the gap closes: the last step in K gains no more than the first (paired);
/// - with a known data density, IWAE_Kmax ≤ E[log q(x0)] (Gibbs: E_q[log p] ≤ E_q[log q]).
public func lesson1Checks(_ runs: [RunSummary]) -> [LessonCheck] {
    let labels = lessonLabels(runs)
    var checks: [LessonCheck] = []
    for (r, run) in runs.enumerated() {
        let e = run.evaluation
        let label = labels[r]
        let counts = e.sampleCounts
        if let one = lessonIndex(ofK: 1, in: e) {
            let d = MeanEstimate(pairedDifferenceOf: e.iwae[one], minus: e.elbo)
            let holds = lessonEqualsZero(d)
            checks.append(LessonCheck(
                statement: "ELBO ≤ IWAE_1 (equal in expectation)", subject: label,
                measured: "IWAE_1 - ELBO = \(lessonFormat(d))", holds: holds,
                reason: "IWAE_1 and the ELBO are the same quantity in expectation (one importance weight is one ELBO draw), "
                    + "but they differ by more than 3 s.e. " + (d.mean < 0
                        ? "IWAE_1 is the lower of the two, which E[IWAE_1] = ELBO forbids. " : "")
                    + LessonReason.both(run) + " If it persists with more samples, the two code paths compute different bounds."))
        }
        for j in 0..<max(0, counts.count - 1) {
            let d = MeanEstimate(pairedDifferenceOf: e.iwae[j + 1], minus: e.iwae[j])
            let holds = lessonAtLeastZero(d)
            checks.append(LessonCheck(
                statement: "IWAE_\(counts[j]) ≤ IWAE_\(counts[j + 1])", subject: label,
                measured: "IWAE_\(counts[j + 1]) - IWAE_\(counts[j]) = \(lessonFormat(d))", holds: holds,
                reason: "IWAE_\(counts[j + 1]) is below IWAE_\(counts[j]) by more than 3 s.e., although E[IWAE_K] can only grow with K. "
                    + LessonReason.both(run)))
        }
        if counts.count >= 3 {
            // First and last steps in K, paired per example: (IWAE_last − IWAE_prev) − (IWAE_2nd − IWAE_1st).
            let n = e.exampleCount, last = counts.count - 1
            let first = (0..<n).map { e.iwae[1][$0] - e.iwae[0][$0] }
            let final = (0..<n).map { e.iwae[last][$0] - e.iwae[last - 1][$0] }
            let d = MeanEstimate(pairedDifferenceOf: first, minus: final)
            let holds = lessonAtLeastZero(d)
            checks.append(LessonCheck(
                statement: "the gap closes: IWAE_\(counts[last]) - IWAE_\(counts[last - 1]) ≤ IWAE_\(counts[1]) - IWAE_\(counts[0])",
                subject: label,
                measured: "first step \(lessonFormat(MeanEstimate(first))), last step \(lessonFormat(MeanEstimate(final)))",
                holds: holds,
                reason: "the last step in K gains more than the first, so on these numbers the bound is not yet closing in on log p(x0). "
                    + "Likely reason: the importance weights are so heavy-tailed that even K = \(counts[last]) samples rarely hit "
                    + "the region of the posterior that carries the likelihood (an encoder far from the model's posterior, typical of "
                    + "too little training, \(formatCount(run.trainingSteps)) steps); or too few test examples (n = \(formatCount(n)))."))
        }
        if let density = e.logDensity {
            let d = MeanEstimate(pairedDifferenceOf: density, minus: e.logLikelihood)
            let holds = lessonAtLeastZero(d)
            checks.append(LessonCheck(
                statement: "IWAE_\(e.maximumSampleCount) ≤ E[log q(x0)] = -H (no model beats the data's own density on average)",
                subject: label, measured: "E[log q(x0)] - IWAE_\(e.maximumSampleCount) = \(lessonFormat(d))", holds: holds,
                reason: "the model's log p̂ exceeds the data's own log-density on average by more than 3 s.e., which Gibbs' "
                    + "inequality E_q[log p] ≤ E_q[log q] forbids for any model. Likely reason: too few test examples "
                    + "(n = \(formatCount(n(e)))) for a reliable s.e.; otherwise the stored log q(x0) does not belong to these data."))
        }
    }
    return checks
}

private func n(_ e: ModelEvaluation) -> Int { e.exampleCount }

/// Lesson 1's report: `lesson-1.md`, `lesson-1-iwae.svg` (IWAE_K against K per model with the
/// ELBO and −H) and `lesson-1-gain.svg` (IWAE_K − ELBO against K, all models in one panel).
public func makeLesson1Report(_ input: Lesson1Input, reportName: String = "lesson-1") throws -> [ReportFile] {
    let runs = input.runs
    try validateComparable(runs)
    let name = reportBaseName(reportName)
    let labels = lessonLabels(runs)
    let checks = lesson1Checks(runs)
    let first = runs[0]
    let allCounts = Array(Set(runs.flatMap { $0.evaluation.sampleCounts })).sorted()
    let entropy = lessonNegativeEntropy(runs)

    var out = "# Lesson 1 — Maximum likelihood: the ELBO is a lower bound on log p(x0)\n\n"
    out += "**Statement.** Training any of the three models maximizes the ELBO, and for every x0\n\n"
    out += "    ELBO(x0) = E_q[log p(x0, z) - log q(z|x0)] = log p(x0) - KL(q(z|x0) ‖ p(z|x0)) ≤ log p(x0),\n\n"
    out += "so maximizing the ELBO maximizes a lower bound of the log-likelihood. Importance weighting with K samples "
        + "gives a family of tighter bounds, ELBO = E[IWAE_1] ≤ E[IWAE_10] ≤ … ≤ E[IWAE_1000] ≤ log p(x0), and the "
        + "remaining gap log p(x0) - IWAE_K closes as K grows (Burda et al. 2016).\n\n"
    out += lessonVerdict(checks, theorem: true)

    // Table 1: the bounds.
    out += "## The bounds, from the ELBO up\n\n"
    out += "Dataset **\(first.datasetName)** (D = \(first.dimension), \(first.likelihood)); nats per example, mean ± s.e. over "
        + "n test examples. Read each row left to right: every column is a lower bound on log p(x0), each at least as tight "
        + "as the one before.\n\n"
    var headers = ["model", "ELBO"] + allCounts.map { "IWAE_\($0)" }
    if entropy != nil { headers.append("E[log q(x0)] (ceiling)") }
    headers.append("n")
    var table = MarkdownTable(headers: headers, alignments: [.left] + Array(repeating: .right, count: headers.count - 1))
    for (i, run) in runs.enumerated() {
        let e = run.evaluation
        var cells = [labels[i], lessonFormat(e.elboEstimate)]
        for k in allCounts { cells.append(lessonIndex(ofK: k, in: e).map { lessonFormat(e.iwaeEstimate($0)) } ?? "-") }
        if entropy != nil { cells.append(e.logDensity.map { lessonFormat(MeanEstimate($0)) } ?? "n/a") }
        cells.append(formatCount(e.exampleCount))
        table.append(cells)
    }
    out += table.text + "\n"

    // Table 2: the gain over the ELBO, paired.
    out += "## How much of the gap each K closes\n\n"
    out += "IWAE_K - ELBO, the mean of the per-example differences with their (paired) standard error: the part of "
        + "E[KL(q(z|x0) ‖ p(z|x0))] that K importance samples recover. The last column is the step from the "
        + "second-largest to the largest K: when it is small, the bound has nearly converged to log p(x0).\n\n"
    let gainCounts = allCounts.filter { $0 > 1 }
    var gains = MarkdownTable(headers: ["model"] + gainCounts.map { "IWAE_\($0) - ELBO" } + ["last step in K"],
                              alignments: [.left] + Array(repeating: .right, count: gainCounts.count + 1))
    for (i, run) in runs.enumerated() {
        let e = run.evaluation
        var cells = [labels[i]]
        for k in gainCounts {
            cells.append(lessonIndex(ofK: k, in: e).map { lessonFormat(MeanEstimate(pairedDifferenceOf: e.iwae[$0], minus: e.elbo)) } ?? "-")
        }
        let c = e.sampleCounts
        if c.count >= 2 {
            let last = c.count - 1
            cells.append("IWAE_\(c[last]) - IWAE_\(c[last - 1]) = "
                + lessonFormat(MeanEstimate(pairedDifferenceOf: e.iwae[last], minus: e.iwae[last - 1])))
        } else {
            cells.append("-")
        }
        gains.append(cells)
    }
    out += gains.text + "\n"

    // What the numbers say.
    out += "## What the numbers say\n\n"
    for (i, run) in runs.enumerated() {
        let e = run.evaluation
        let gap = e.gapEstimate
        var sentence = "- **\(labels[i])**: ELBO \(lessonFormat(e.elboEstimate)); with K = \(e.maximumSampleCount) importance "
            + "samples the bound rises by \(lessonFormat(gap)) nats to \(lessonFormat(e.logLikelihoodEstimate))."
        let c = e.sampleCounts
        if c.count >= 3 {
            let firstStep = MeanEstimate(pairedDifferenceOf: e.iwae[1], minus: e.iwae[0])
            let lastStep = MeanEstimate(pairedDifferenceOf: e.iwae[c.count - 1], minus: e.iwae[c.count - 2])
            sentence += " The first step (K = \(c[0]) → \(c[1])) gains \(lessonFormat(firstStep)), the last "
                + "(K = \(c[c.count - 2]) → \(c[c.count - 1])) \(lessonFormat(lastStep))"
            let shrink = MeanEstimate(pairedDifferenceOf: zipDiff(e, 1, 0), minus: zipDiff(e, c.count - 1, c.count - 2))
            sentence += lessonSignificantlyPositive(shrink)
                ? ": each step in K buys less, the gap is closing."
                : ": the steps are alike within noise, so the bound is still climbing at K = \(c[c.count - 1])."
        }
        out += sentence + "\n"
    }
    if let entropy {
        out += "- No bound can exceed E[log q(x0)] = \(lessonFormat(entropy)) on average: for any model, "
            + "E_q[log p(x0)] ≤ E_q[log q(x0)] (Gibbs' inequality), so -H is the ceiling every row climbs towards. "
            + "What is left between a row's best bound and the ceiling is the marginal KL of lesson 2.\n"
    }
    if let loosest = runs.indices.max(by: { runs[$0].evaluation.gapEstimate.mean < runs[$1].evaluation.gapEstimate.mean }),
       let tightest = runs.indices.min(by: { runs[$0].evaluation.gapEstimate.mean < runs[$1].evaluation.gapEstimate.mean }),
       loosest != tightest {
        func gaps(_ e: ModelEvaluation) -> [Double] { zip(e.logLikelihood, e.elbo).map { $0 - $1 } }
        let a = runs[loosest].evaluation, b = runs[tightest].evaluation
        let difference = lessonDifference(gaps(a), gaps(b), paired: lessonSameExamples(a, b))
        if lessonSignificantlyPositive(difference) {
            out += "- The loosest ELBO is the \(labels[loosest])'s (gap \(lessonFormat(a.gapEstimate))), the tightest the "
                + "\(labels[tightest])'s (gap \(lessonFormat(b.gapEstimate))). A large gap means q(z|x0) is far from the model's "
                + "posterior p(z|x0): the ELBO, which training maximizes, then understates how good the model is, and ranking "
                + "models by ELBO can mislead.\n"
        } else {
            out += "- The gaps do not differ significantly between the models (from \(lessonFormat(b.gapEstimate)) to "
                + "\(lessonFormat(a.gapEstimate)) nats): each encoder sits about as far from its model's posterior p(z|x0). "
                + (runs.contains { $0.model == .ddpm }
                    ? "For the DDPM that is remarkable, since its encoder cannot move at all: training has made the fixed noising "
                        + "process nearly the posterior of the learned decoder. "
                    : "")
                + "Where gaps differ, the ELBO understates the better-fitted models unequally, and ranking models by ELBO can mislead.\n"
        }
    }
    out += "\n"

    out += lessonChecksSection(checks)

    var files: [ReportFile] = []
    var plots: [(caption: String, file: String)] = []
    files.append(ReportFile(name: "\(name)-iwae.svg", text: iwaeFigure(runs, labels: labels).svg))
    plots.append(("IWAE_K against K for each model, with the ELBO (dotted) and E[log q(x0)] (dashed)", "\(name)-iwae.svg"))
    files.append(ReportFile(name: "\(name)-gain.svg", text: lesson1GainFigure(runs, labels: labels).svg))
    plots.append(("IWAE_K - ELBO against K (paired s.e.): how much of the gap K samples close", "\(name)-gain.svg"))
    out += lessonPlotsSection(plots)
    out += lessonRunsSection(runs, labels: labels)
    out += lessonFooterSection(input.footer, runs: runs)
    return [ReportFile(name: "\(name).md", text: out)] + files
}

/// Per-example IWAE_{K_a} − IWAE_{K_b}.
private func zipDiff(_ e: ModelEvaluation, _ a: Int, _ b: Int) -> [Double] {
    (0..<e.exampleCount).map { e.iwae[a][$0] - e.iwae[b][$0] }
}

/// IWAE_K − ELBO against K (log axis), every run in one panel, with paired s.e. bars.
func lesson1GainFigure(_ runs: [RunSummary], labels: [String]) -> Figure {
    let counts = runs.flatMap { $0.evaluation.sampleCounts }.map(Double.init)
    var panel = PlotPanel(title: "IWAE_K - ELBO", subtitle: "per-example differences, bars: paired s.e.",
                          xLabel: "K (importance samples)", yLabel: "IWAE_K - ELBO (nats)", xScale: .logarithmic,
                          xAxis: PlotAxis(lower: (counts.min() ?? 1) / 1.6, upper: (counts.max() ?? 10) * 1.6, scale: .logarithmic))
    for (i, run) in runs.enumerated() {
        let e = run.evaluation
        let estimates = e.sampleCounts.indices.map { MeanEstimate(pairedDifferenceOf: e.iwae[$0], minus: e.elbo) }
        panel.series.append(.errorBars(points: zip(e.sampleCounts, estimates).map { (x: Double($0), y: $1.mean) },
                                       errors: estimates.map(\.standardError), color: seriesColor(i), label: labels[i]))
    }
    panel.series.append(.horizontalLine(y: 0, color: "#888888", label: nil, dash: "2 3"))
    var figure = Figure(title: "The gap closing with K", panels: [panel])
    figure.panelWidth = 560
    figure.panelHeight = 360
    return figure
}
