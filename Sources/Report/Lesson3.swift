import Core
import Evaluation
import Foundation

/// Lesson 3, "a hierarchical VAE with a parameterless encoder": the VAE, the bottom-up HVAE and
/// the DDPM in one table (encoder parameters N, M and 0); the DDPM evaluated through the generic
/// HVAE path agrees with its closed-form ELBO; and where the analogy breaks: the DDPM's top
/// latent x_T knows nothing about x0, the VAE's z does.
public struct Lesson3Input: Sendable {
    /// Evaluated runs on one dataset (typically VAE, HVAE with bottom-up inference, DDPM).
    public var runs: [RunSummary]
    /// Per run (same order): the per-example terms of the InfoNCE lower bound on I(x0; top latent)
    /// (see ``informationLowerBoundTerms(means:variances:noise:)``), or nil where q(top latent | x0)
    /// has no closed form (the HVAE's z_L for L ≥ 2).
    public var topLatentLowerBoundTerms: [[Double]?]
    /// Bounds on I(x0; x_t) against t for the DDPM, when computed.
    public var diffusionProfile: InformationProfile?
    public var footer: LessonFooter

    public init(runs: [RunSummary], topLatentLowerBoundTerms: [[Double]?], diffusionProfile: InformationProfile?, footer: LessonFooter) {
        self.runs = runs
        self.topLatentLowerBoundTerms = topLatentLowerBoundTerms
        self.diffusionProfile = diffusionProfile
        self.footer = footer
    }
}

/// "Negligible" information, in nats: below this the top latent is practically independent of x0.
public let lessonNegligibleInformation = 0.01

/// The name of a run's top latent: `z` (VAE), `z_L` (HVAE), `x_T` (DDPM).
func topLatentName(_ run: RunSummary) -> String {
    switch run.model {
    case .vae: return "z"
    case .hvae: return "z_\(run.latentLayers)"
    case .ddpm: return "x_T (T = \(run.latentLayers))"
    default: return run.evaluation.layerNames.last ?? "top"
    }
}

/// Per example, the top latent layer's KL term: KL(q(z_top | ·) ‖ N(0, I)), an upper bound on I(x0; z_top) on average.
func topLatentKL(_ run: RunSummary) -> [Double]? { run.evaluation.layerKL.last }

/// The checks of lesson 3.
public func lesson3Checks(_ input: Lesson3Input) -> [LessonCheck] {
    let runs = input.runs
    let labels = lessonLabels(runs)
    var checks: [LessonCheck] = []
    for (i, run) in runs.enumerated() {
        let e = run.evaluation
        guard let one = lessonIndex(ofK: 1, in: e) else { continue }
        let d = MeanEstimate(pairedDifferenceOf: e.iwae[one], minus: e.elbo)
        let isDiffusion = run.model == .ddpm
        checks.append(LessonCheck(
            statement: isDiffusion
                ? "generic HVAE path E[log p(x_0:T) - log q(x_1:T|x0)] = closed-form ELBO"
                : "generic path E[log p(x0, z) - log q(z|x0)] = the model's ELBO",
            subject: labels[i], measured: "difference = \(lessonFormat(d))", holds: lessonEqualsZero(d),
            reason: "the mean log-weight of sampled latents (IWAE_1) and the model's own ELBO estimate differ by more than 3 s.e., "
                + "although both estimate E_q[log p(x0, z) - log q(z|x0)]. " + LessonReason.both(run)
                + (isDiffusion ? " For the DDPM the closed form replaces sampled log-ratios by exact Gaussian KLs: if the difference "
                    + "persists with more samples, the two paths disagree (a bug)." : "")))
    }
    for (i, run) in runs.enumerated() where run.model == .ddpm {
        checks.append(LessonCheck(
            statement: "the DDPM's encoder has no parameters", subject: labels[i],
            measured: "\(formatCount(run.encoderParameters)) encoder parameters", holds: run.encoderParameters == 0,
            reason: "a DDPM's q(x_1:T|x0) is a fixed noising process; a non-zero count means the run is not a plain DDPM."))
        if let kl = topLatentKL(run) {
            let estimate = MeanEstimate(kl)
            let slack = LessonCheck.standardErrors * (estimate.standardError.isFinite ? estimate.standardError : 0)
            checks.append(LessonCheck(
                statement: "x_T carries no information about x0: I(x0; x_T) ≤ E[L_T] < \(formatNumber(lessonNegligibleInformation, decimals: 2)) nats",
                subject: labels[i], measured: "E[L_T] = \(lessonFormat(estimate))",
                holds: estimate.mean - slack < lessonNegligibleInformation,
                reason: "the noising process leaves x_T dependent on x0 (ᾱ_T is not small enough): this schedule does not "
                    + "end at pure noise, so the DDPM's prior N(0, I) does not match q(x_T|x0). Use more steps or a schedule that ends at ᾱ_T ≈ 0."))
        }
    }
    let lowerTerms = input.topLatentLowerBoundTerms
    for (i, run) in runs.enumerated() where run.model != .ddpm {
        guard i < lowerTerms.count, let terms = lowerTerms[i], !terms.isEmpty else { continue }
        let lower = MeanEstimate(terms)
        checks.append(LessonCheck(
            statement: "\(lessonLabel(run))'s \(topLatentName(run)) carries information about x0: I(x0; \(topLatentName(run))) > 0",
            subject: labels[i], measured: "InfoNCE lower bound = \(lessonFormat(lower))",
            holds: lessonSignificantlyPositive(lower),
            reason: "the lower bound on I(x0; \(topLatentName(run))) is not more than 3 s.e. above 0: the encoder's codes overlap so much "
                + "that this latent is (nearly) ignored, posterior collapse. Likely reason: too little training "
                + "(\(formatCount(run.trainingSteps)) steps) or a KL term that pushed q(z|x0) to the prior (try KL warm-up); "
                + "or too few examples (n = \(formatCount(terms.count)))."))
        for (j, other) in runs.enumerated() where other.model == .ddpm {
            guard let upper = topLatentKL(other) else { continue }
            let same = terms.count == upper.count && lessonSameExamples(run.evaluation, other.evaluation)
            let d = lessonDifference(terms, upper, paired: same)
            checks.append(LessonCheck(
                statement: "I(x0; \(topLatentName(run))) of the \(lessonLabel(run)) > I(x0; x_T) of the \(lessonLabel(other))",
                subject: "\(labels[i]) vs \(labels[j])",
                measured: "lower bound - upper bound = \(lessonFormat(d))", holds: lessonSignificantlyPositive(d),
                reason: "the \(lessonLabel(run))'s lower bound does not exceed the DDPM's upper bound by 3 s.e.: either the learned "
                    + "latent carries little information (posterior collapse, too little training) or x_T still depends on x0."))
        }
    }
    return checks
}

/// Lesson 3's report: `lesson-3.md`, `lesson-3-information.svg` (bounds on I(x0; x_t) against t
/// with the VAE's z for comparison) and `lesson-3-kl.svg` (per-example top-layer KL, sorted).
public func makeLesson3Report(_ input: Lesson3Input, reportName: String = "lesson-3") throws -> [ReportFile] {
    let runs = input.runs
    try validateComparable(runs)
    let name = reportBaseName(reportName)
    let labels = lessonLabels(runs)
    let checks = lesson3Checks(input)
    let first = runs[0]
    let densityKnown = runs.allSatisfy { $0.evaluation.logDensity != nil }

    var out = "# Lesson 3 — A DDPM is a hierarchical VAE with a parameterless encoder\n\n"
    out += "**Statement.** A hierarchical VAE with a bottom-up (Markov) encoder q(z_1|x0) q(z_2|z_1) … q(z_L|z_{L-1}) and a "
        + "top-down decoder p(z_L) p(z_{L-1}|z_L) … p(x0|z_1) has exactly the shape of a DDPM with z_t = x_t: the DDPM's encoder "
        + "q(x_t|x_{t-1}) = N(√(1-β_t) x_{t-1}, β_t I) is fixed, with **no parameters**, and every latent has the size of x0. "
        + "So the same estimator serves all three models: sample the latents from the encoder, average log p(x0, z) - "
        + "log q(z|x0). For the DDPM that generic path must agree with its closed-form ELBO "
        + "(-L_T - Σ L_{t-1} - L_0 with exact Gaussian KLs). "
        + "**Where the analogy breaks:** a VAE's encoder is trained to put information about x0 into z; the DDPM's is built to "
        + "destroy it, so that x_T is pure noise and p(x_T) = N(0, I) is right. Its top layer's KL, L_T = KL(q(x_T|x0) ‖ N(0, I)), "
        + "is an upper bound on I(x0; x_T) and is essentially 0, while the VAE's KL(q(z|x0) ‖ N(0, I)) is large.\n\n"
    out += lessonVerdict(checks, theorem: false)

    // The table.
    out += "## One table for three models\n\n"
    out += "Dataset **\(first.datasetName)** (D = \(first.dimension)); nats per example, mean ± s.e. "
        + "\"generic path\" is IWAE_1, the mean of log p(x0, z) - log q(z|x0) over sampled latents (for the DDPM, x_1:T sampled "
        + "forward step by step, exactly as for any HVAE); \"ELBO\" is each model's own estimate (closed-form KLs where the "
        + "Gaussians are known; for the DDPM, all of them).\n\n"
    var headers = ["model", "encoder params", "decoder params", "latent layers", "ELBO", "generic path", "generic - ELBO",
                   "log p̂ (K)", "gap"]
    if densityKnown { headers += ["KL_joint", "KL_marginal"] }
    var table = MarkdownTable(headers: headers, alignments: [.left] + Array(repeating: .right, count: headers.count - 1))
    for (i, run) in runs.enumerated() {
        let e = run.evaluation
        let one = lessonIndex(ofK: 1, in: e)
        var cells = [labels[i], formatCount(run.encoderParameters), formatCount(run.decoderParameters), formatCount(run.latentLayers),
                     lessonFormat(e.elboEstimate), one.map { lessonFormat(e.iwaeEstimate($0)) } ?? "n/a",
                     one.map { lessonFormat(MeanEstimate(pairedDifferenceOf: e.iwae[$0], minus: e.elbo)) } ?? "n/a",
                     "\(lessonFormat(e.logLikelihoodEstimate)) (\(e.maximumSampleCount))", lessonFormat(e.gapEstimate)]
        if densityKnown { cells += [e.jointKLEstimate.map(lessonFormat) ?? "n/a", e.marginalKLEstimate.map(lessonFormat) ?? "n/a"] }
        table.append(cells)
    }
    out += table.text + "\n"

    // What the top latent knows.
    out += "## What the top latent knows about x0\n\n"
    out += "For any prior, I(x0; z) = E_x0[KL(q(z|x0) ‖ p(z))] - KL(q(z) ‖ p(z)) ≤ E_x0[KL(q(z|x0) ‖ p(z))]: the top layer's own "
        + "KL term (for the DDPM, L_T, layer T of its ELBO terms) bounds the information from above. A lower bound comes from "
        + "InfoNCE over the n test examples, (1/n) Σ_i [log q(z_i|x_i) - log (1/n) Σ_j q(z_i|x_j)] ≤ I(x0; z), which cannot "
        + "exceed log n = \(formatNumber(log(Double(first.evaluation.exampleCount)), decimals: 2)).\n\n"
    var info = MarkdownTable(headers: ["model", "top latent", "I(x0; ·) lower bound (InfoNCE)", "upper bound E[KL(q(·|x0) ‖ N(0, I))]",
                                       "median per-example KL", "largest per-example KL"],
                             alignments: [.left, .left, .right, .right, .right, .right])
    for (i, run) in runs.enumerated() {
        guard let kl = topLatentKL(run) else { continue }
        let sorted = kl.sorted()
        let lower = i < input.topLatentLowerBoundTerms.count ? input.topLatentLowerBoundTerms[i].map { lessonFormat(MeanEstimate($0)) } : nil
        info.append([labels[i], topLatentName(run),
                     lower ?? (run.model == .hvae ? "n/a (q(z_L|x0) has no closed form)" : "n/a"),
                     lessonFormat(MeanEstimate(kl)), formatGeneral(sorted[sorted.count / 2]), formatGeneral(sorted.last!)])
    }
    out += info.text + "\n"

    // Sentences.
    out += "## What the numbers say\n\n"
    for (i, run) in runs.enumerated() {
        out += "- **\(labels[i])**: \(formatCount(run.encoderParameters)) encoder parameters, \(formatCount(run.decoderParameters)) "
            + "decoder parameters, \(formatCount(run.latentLayers)) latent layer\(run.latentLayers == 1 ? "" : "s")."
        if let one = lessonIndex(ofK: 1, in: run.evaluation) {
            let d = MeanEstimate(pairedDifferenceOf: run.evaluation.iwae[one], minus: run.evaluation.elbo)
            out += " Generic path minus ELBO: \(lessonFormat(d))"
            out += lessonEqualsZero(d) ? " (the same number, within noise)." : " (they disagree beyond 3 s.e.)."
        }
        if let kl = topLatentKL(run) { out += " Top-layer KL: \(lessonFormat(MeanEstimate(kl))) nats." }
        out += "\n"
    }
    if let ddpm = runs.first(where: { $0.model == .ddpm }), let vaeIndex = runs.firstIndex(where: { $0.model == .vae }),
       let ddpmKL = topLatentKL(ddpm), let vaeKL = topLatentKL(runs[vaeIndex]) {
        let vae = runs[vaeIndex]
        let encodes = vaeIndex < input.topLatentLowerBoundTerms.count
            && input.topLatentLowerBoundTerms[vaeIndex].map { lessonSignificantlyPositive(MeanEstimate($0)) } == true
        let destroyed = MeanEstimate(ddpmKL).mean < lessonNegligibleInformation
        if encodes && destroyed {
            out += "- The \(lessonLabel(vae))'s z costs \(lessonFormat(MeanEstimate(vaeKL))) nats of KL per example because it "
                + "encodes x0 (its InfoNCE lower bound is well above 0); the DDPM's x_T costs \(lessonFormat(MeanEstimate(ddpmKL))): "
                + "nothing is encoded there. "
        } else {
            out += "- On these numbers the contrast is not clean (see Checks): the \(lessonLabel(vae))'s z costs "
                + "\(lessonFormat(MeanEstimate(vaeKL))) nats of KL per example, the DDPM's x_T \(lessonFormat(MeanEstimate(ddpmKL))). "
        }
        out += "By construction the DDPM's information about x0 lives in its *early* latents (small t) and fades as t grows "
            + "(plot below), so its decoder, not its encoder, does all the work: it must rebuild x0 from noise one small step "
            + "at a time (lesson 4).\n"
    }
    out += "\n"

    out += lessonChecksSection(checks)

    var files: [ReportFile] = []
    var plots: [(caption: String, file: String)] = []
    if let figure = lesson3InformationFigure(input, labels: labels) {
        files.append(ReportFile(name: "\(name)-information.svg", text: figure.svg))
        plots.append(("Bounds on I(x0; x_t) against t for the DDPM, with the VAE's z for comparison", "\(name)-information.svg"))
    }
    files.append(ReportFile(name: "\(name)-kl.svg", text: lesson3KLFigure(runs, labels: labels).svg))
    plots.append(("Per-example KL of the top latent to N(0, I), sorted (log scale)", "\(name)-kl.svg"))
    out += lessonPlotsSection(plots)
    out += lessonRunsSection(runs, labels: labels)
    out += lessonFooterSection(input.footer, runs: runs)
    return [ReportFile(name: "\(name).md", text: out)] + files
}

/// A value with four significant digits (exponent form when tiny).
func formatGeneral(_ value: Double) -> String {
    guard value.isFinite else { return formatFixed(value, decimals: 0) }
    if value != 0 && abs(value) < 1e-3 { return String(format: "%.3g", value).replacingOccurrences(of: "e-0", with: "e-") }
    return formatFixed(value, decimals: decimalsForBareValue(value))
}

/// Both bounds on I(x0; x_t) against t (log y axis), with the other models' top-latent bounds as lines.
func lesson3InformationFigure(_ input: Lesson3Input, labels: [String]) -> Figure? {
    guard let profile = input.diffusionProfile, !profile.steps.isEmpty else { return nil }
    var panel = PlotPanel(title: "What x_t knows about x0 (\(profile.label))",
                          subtitle: "upper: E[KL(q(x_t|x0) ‖ N(0, I))]; lower: InfoNCE (≤ log n)",
                          xLabel: "t", yLabel: "nats (log scale)", yScale: .logarithmic)
    let steps = profile.steps.map(Double.init)
    panel.series.append(.line(points: zip(steps, profile.upper).map { (x: $0, y: $1.mean) }, color: seriesColor(2),
                              label: "DDPM upper", markers: profile.steps.count <= 70))
    panel.series.append(.line(points: zip(steps, profile.lower).map { (x: $0, y: $1.mean) }, color: seriesColor(2),
                              label: "DDPM lower", dash: "5 3"))
    for (i, run) in input.runs.enumerated() where run.model != .ddpm {
        if let kl = topLatentKL(run) {
            panel.series.append(.horizontalLine(y: MeanEstimate(kl).mean, color: seriesColor(i == 0 ? 0 : 1),
                                                label: "\(labels[i]) \(topLatentName(run)) upper", dash: nil))
        }
        if i < input.topLatentLowerBoundTerms.count, let terms = input.topLatentLowerBoundTerms[i] {
            panel.series.append(.horizontalLine(y: MeanEstimate(terms).mean, color: seriesColor(i == 0 ? 0 : 1),
                                                label: "\(labels[i]) lower", dash: "5 3"))
        }
    }
    let values = (profile.upper + profile.lower).map(\.mean).filter { $0 > 0 }
        + input.runs.compactMap { topLatentKL($0).map { MeanEstimate($0).mean } }.filter { $0 > 0 }
    let low = max(values.min() ?? 1e-6, 1e-8)
    panel.yAxis = PlotAxis(covering: [low, (values.max() ?? 10) * 1.5], scale: .logarithmic)
    var figure = Figure(title: "Information about x0 in the top latent: DDPM against VAE", panels: [panel])
    figure.panelWidth = 620
    figure.panelHeight = 380
    return figure
}

/// Sorted per-example KL of each run's top latent to N(0, I), log y axis.
func lesson3KLFigure(_ runs: [RunSummary], labels: [String]) -> Figure {
    var panel = PlotPanel(title: "Per-example KL(q(top latent | ·) ‖ N(0, I)), sorted",
                          subtitle: "VAE: KL(q(z|x0) ‖ N(0, I)); DDPM: L_T = KL(q(x_T|x0) ‖ N(0, I))",
                          xLabel: "test examples, ranked (fraction)", yLabel: "nats (log scale)", yScale: .logarithmic)
    var all: [Double] = []
    for (i, run) in runs.enumerated() {
        guard let kl = topLatentKL(run) else { continue }
        let sorted = kl.sorted()
        let n = Double(max(1, sorted.count - 1))
        panel.series.append(.line(points: sorted.enumerated().map { (x: Double($0) / n, y: $1) }, color: seriesColor(i),
                                  label: "\(labels[i]) \(topLatentName(run))"))
        all += sorted.filter { $0 > 0 }
    }
    panel.xAxis = PlotAxis(lower: 0, upper: 1)
    if let low = all.min(), let high = all.max() { panel.yAxis = PlotAxis(covering: [max(low, 1e-12), high], scale: .logarithmic) }
    var figure = Figure(title: "The VAE's z encodes x0; the DDPM's x_T does not", panels: [panel])
    figure.panelWidth = 620
    figure.panelHeight = 360
    return figure
}
