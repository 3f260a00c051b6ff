import Evaluation

/// Lesson 2, "an upper bound on KL(q(x0) ‖ p(x0))": on data whose density q(x0) is known,
/// KL(q(x0, z) ‖ p(x0, z)) ≥ KL(q(x0) ‖ p(x0)) ≥ 0 for every model, and the difference of the
/// two is the bound gap E[KL(q(z|x0) ‖ p(z|x0))].
public struct Lesson2Input: Sendable {
    /// Evaluated runs on one or more datasets with known density (grouped by dataset in the report).
    public var runs: [RunSummary]
    public var footer: LessonFooter

    public init(runs: [RunSummary], footer: LessonFooter) {
        self.runs = runs
        self.footer = footer
    }
}

/// The checks of lesson 2, per run with a known data density:
/// - KL_joint ≥ KL_marginal (their paired difference is the gap);
/// - KL_joint ≥ 0, the entropy ceiling for the ELBO (mean ELBO ≤ −H);
/// - KL_marginal ≥ 0, the entropy ceiling for log p̂ (paired difference of log q(x0) and log p̂(x0));
/// - KL_joint − KL_marginal equals the gap (an identity of the estimators, to rounding).
/// A run without a known density gets one failing check that says so.
public func lesson2Checks(_ runs: [RunSummary]) -> [LessonCheck] {
    var checks: [LessonCheck] = []
    for run in runs {
        let e = run.evaluation
        let subject = "\(lessonLabel(run)), \(run.datasetName)"
        guard let joint = e.jointKLEstimate, let marginal = e.marginalKLEstimate else {
            checks.append(LessonCheck(statement: "the data density is known", subject: subject, measured: "no log q(x0) stored",
                                      holds: false, reason: "the KLs need log q(x0) for every test example; \(run.datasetName) does not store it. "
                                        + "Use a dataset with a known density (gmm2d, checkerboard, gaussian)."))
            continue
        }
        let gap = e.gapEstimate
        checks.append(LessonCheck(
            statement: "KL_joint ≥ KL_marginal", subject: subject,
            measured: "KL_joint - KL_marginal = \(lessonFormat(gap))", holds: lessonAtLeastZero(gap),
            reason: "KL_joint (\(lessonFormat(joint))) is below KL_marginal (\(lessonFormat(marginal))) by more than 3 s.e. of "
                + "their paired difference, which is the gap log p̂ - ELBO, an estimate of E[KL(q(z|x0) ‖ p(z|x0))] ≥ 0. "
                + LessonReason.both(run)))
        checks.append(LessonCheck(
            statement: "KL_joint ≥ 0 (ELBO ≤ -H)", subject: subject, measured: "KL_joint = \(lessonFormat(joint))",
            holds: lessonAtLeastZero(joint),
            reason: "impossible: the model's ELBO exceeds the data's own log-density on average by more than 3 s.e., which "
                + "ELBO ≤ log p and KL(q(x0) ‖ p(x0)) ≥ 0 forbid for every model. " + impossibilityCauses))
        checks.append(LessonCheck(
            statement: "KL_marginal ≥ 0 (log p̂ ≤ -H)", subject: subject, measured: "KL_marginal = \(lessonFormat(marginal))",
            holds: lessonAtLeastZero(marginal),
            reason: "impossible: the model's log p̂ exceeds the data's own log-density on average by more than 3 s.e., which "
                + "KL(q(x0) ‖ p(x0)) ≥ 0 and E[log p̂] ≤ log p forbid for every model. " + impossibilityCauses))
        let difference = joint.mean - marginal.mean
        let tolerance = 1e-9 * max(1, abs(joint.mean), abs(marginal.mean))
        checks.append(LessonCheck(
            statement: "KL_joint - KL_marginal = gap", subject: subject,
            measured: "\(formatNumber(difference, decimals: 6)) vs \(formatNumber(gap.mean, decimals: 6))",
            holds: abs(difference - gap.mean) <= tolerance,
            reason: "the two differ beyond rounding although (E log q - ELBO) - (E log q - log p̂) = log p̂ - ELBO term by term: "
                + "the evaluation's arrays are inconsistent (evaluate the run again)."))
    }
    return checks
}

/// Lesson 2's report: `lesson-2.md` and `lesson-2-kl.svg` (KL_joint as bars and KL_marginal as
/// points, one panel per dataset).
public func makeLesson2Report(_ input: Lesson2Input, reportName: String = "lesson-2") throws -> [ReportFile] {
    guard !input.runs.isEmpty else { throw ReportError.noRuns }
    let groups = groupByData(input.runs)
    for group in groups { try validateComparable(group) }
    let runs = groups.flatMap { $0 }
    let labels = lessonLabels(runs)
    let name = reportBaseName(reportName)
    let checks = lesson2Checks(runs)

    var out = "# Lesson 2 — An upper bound on KL(q(x0) ‖ p(x0))\n\n"
    out += "**Statement.** Write q(x0, z) = q(x0) q(z|x0) for the data together with the encoder, and p(x0, z) for the model. "
        + "The chain rule of the KL divergence splits the KL of the joints into the KL of the marginals plus an expected "
        + "posterior KL:\n\n"
    out += "    KL(q(x0, z) ‖ p(x0, z)) = KL(q(x0) ‖ p(x0)) + E_q(x0)[KL(q(z|x0) ‖ p(z|x0))] ≥ KL(q(x0) ‖ p(x0)) ≥ 0.\n\n"
    out += "For the DDPM z = x_{1:T}, so this is KL(q(x_{0:T}) ‖ p(x_{0:T})) ≥ KL(q(x0) ‖ p(x0)): training on the joint, "
        + "which is all the ELBO can see, controls the marginal, which is what we care about. With a known log q(x0) every "
        + "term is measurable: KL_joint = E[log q(x0)] - ELBO, KL_marginal = E[log q(x0)] - log p̂ (an upper estimate, since "
        + "log p̂ ≤ log p), and their difference is exactly the bound gap log p̂ - ELBO.\n\n"
    out += lessonVerdict(checks, theorem: true)

    out += "## The numbers\n\n"
    var sentences: [String] = []
    for group in groups {
        let first = group[0]
        let groupLabels = lessonLabels(group)
        let entropy = lessonNegativeEntropy(group)
        out += "**\(first.datasetName)** (D = \(first.dimension), \(first.likelihood)"
        if let entropy { out += "; E[log q(x0)] = -H = \(lessonFormat(entropy)) on these test examples" }
        out += "):\n\n"
        var table = MarkdownTable(headers: ["model", "ELBO", "log p̂ (K)", "KL_joint", "KL_marginal", "KL_joint - KL_marginal", "gap = log p̂ - ELBO", "n"],
                                  alignments: [.left, .right, .right, .right, .right, .right, .right, .right])
        for (i, run) in group.enumerated() {
            let e = run.evaluation
            let joint = e.jointKLEstimate, marginal = e.marginalKLEstimate
            let difference = (joint != nil && marginal != nil) ? formatNumber(joint!.mean - marginal!.mean) : "n/a"
            table.append([groupLabels[i], lessonFormat(e.elboEstimate),
                          "\(lessonFormat(e.logLikelihoodEstimate)) (\(e.maximumSampleCount))",
                          joint.map(lessonFormat) ?? "n/a", marginal.map(lessonFormat) ?? "n/a", difference,
                          lessonFormat(e.gapEstimate), formatCount(e.exampleCount)])
            if let joint, let marginal {
                sentences.append("- **\(groupLabels[i]) on \(first.datasetName)**: of the joint KL \(lessonFormat(joint)) nats, "
                    + "\(lessonFormat(marginal)) is (at most) the marginal KL, the model against the data, and "
                    + "\(lessonFormat(e.gapEstimate)) is the encoder's distance from the model's posterior."
                    + (e.gapEstimate.mean > marginal.mean ? " Most of this model's joint KL is the encoder's share." : ""))
            }
        }
        out += table.text + "\n"
    }
    out += "The column KL_joint - KL_marginal is computed from the two KL columns and equals the gap column to rounding: "
        + "E[log q] cancels, leaving log p̂ - ELBO.\n\n"

    out += "## What the numbers say\n\n"
    out += sentences.joined(separator: "\n") + "\n"
    out += (checks.allSatisfy(\.holds)
        ? "- Every model sits above zero on both KLs and the joint one is the larger: the ELBO's KL bounds the likelihood's. "
        : "- Not every row shows the ordering here (see Checks), although KL_joint ≥ KL_marginal ≥ 0 holds for every model in expectation. ")
        + "The bound is tight only when the encoder matches the model's posterior (gap 0). The DDPM's encoder cannot move "
        + "towards its posterior, since it has no parameters; instead the decoder is trained until the fixed noising "
        + "process *is* (nearly) its posterior.\n"
    out += "- KL_marginal is an upper estimate: log p̂ = IWAE_K ≤ log p(x0), so the true KL(q(x0) ‖ p(x0)) lies between 0 and "
        + "the KL_marginal column.\n\n"

    out += lessonChecksSection(checks)
    let figure = lesson2Figure(groups)
    out += lessonPlotsSection([("KL_joint (bars) and KL_marginal (points, ± s.e.) per model and dataset", "\(name)-kl.svg")])
    out += lessonRunsSection(runs, labels: labels)
    out += lessonFooterSection(input.footer, runs: runs)
    return [ReportFile(name: "\(name).md", text: out), ReportFile(name: "\(name)-kl.svg", text: figure.svg)]
}

/// One panel per dataset: KL_joint as bars, KL_marginal as points with s.e. bars, per model.
func lesson2Figure(_ groups: [[RunSummary]]) -> Figure {
    var panels: [PlotPanel] = []
    for group in groups {
        let groupLabels = lessonLabels(group)
        var jointPoints: [(x: Double, y: Double)] = [], jointErrors: [Double] = []
        var marginalPoints: [(x: Double, y: Double)] = [], marginalErrors: [Double] = []
        for (i, run) in group.enumerated() {
            if let joint = run.evaluation.jointKLEstimate, let marginal = run.evaluation.marginalKLEstimate {
                jointPoints.append((Double(i + 1), joint.mean)); jointErrors.append(joint.standardError)
                marginalPoints.append((Double(i + 1), marginal.mean)); marginalErrors.append(marginal.standardError)
            }
        }
        var panel = PlotPanel(title: group[0].datasetName, subtitle: "gap = KL_joint - KL_marginal (bar above point)",
                              xLabel: "model", yLabel: "KL (nats)",
                              xTickLabels: groupLabels.enumerated().map { (x: Double($0 + 1), label: $1) })
        panel.series.append(.bars(points: jointPoints, errors: jointErrors, color: seriesColor(0), label: "KL_joint"))
        panel.series.append(.errorBars(points: marginalPoints, errors: marginalErrors, color: seriesColor(1), label: "KL_marginal", connect: false))
        panel.series.append(.horizontalLine(y: 0, color: "#888888", label: nil, dash: nil))
        panels.append(panel)
    }
    var figure = Figure(title: "KL of the joints ≥ KL of the marginals ≥ 0", panels: panels, columns: 2)
    figure.panelWidth = 440
    return figure
}
