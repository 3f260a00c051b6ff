import Core
import Evaluation

/// Lesson 4, "many easy problems instead of one hard one": a sweep of the DDPM over T with the
/// same network and training budget (T = 1 is a VAE whose encoder is fixed to pure noise), the
/// per-step KL terms L_t for one T, and the HVAE over depth L.
public struct Lesson4Input: Sendable {
    /// DDPMs on one dataset that differ only in T (sorted by T in the report).
    public var sweep: [RunSummary]
    /// HVAEs on the same dataset that differ only in depth L (may be empty).
    public var depth: [RunSummary]
    /// Other runs on the same data, shown for reference: typically the VAE and the DDPM of
    /// lessons 1–3 (same T as one point of the sweep, another schedule), whose per-step terms are
    /// then plotted beside the sweep's.
    public var references: [RunSummary]
    /// The T whose per-step terms are plotted (default: the middle of the sweep).
    public var termsT: Int?
    /// One continuous-time DDPM read at the sweep's T and in the limit, and under several
    /// schedules (`nil`: the section is left out).
    public var continuousTime: ContinuousTimeLesson?
    public var footer: LessonFooter

    public init(sweep: [RunSummary], depth: [RunSummary], references: [RunSummary], termsT: Int?,
                continuousTime: ContinuousTimeLesson? = nil, footer: LessonFooter) {
        self.continuousTime = continuousTime
        self.sweep = sweep
        self.depth = depth
        self.references = references
        self.termsT = termsT
        self.footer = footer
    }
}

/// The largest K evaluated for every run (nil when they share none).
func lessonCommonK(_ runs: [RunSummary]) -> Int? {
    guard let first = runs.first else { return nil }
    var common = Set(first.evaluation.sampleCounts)
    for run in runs.dropFirst() { common.formIntersection(run.evaluation.sampleCounts) }
    return common.max()
}

/// IWAE_K per example at K = `k` (nil when not evaluated).
func lessonIWAE(_ run: RunSummary, k: Int) -> [Double]? {
    lessonIndex(ofK: k, in: run.evaluation).map { run.evaluation.iwae[$0] }
}

/// The checks of lesson 4:
/// - for every T > 1: ELBO(T) ≥ ELBO(1) and log p̂(T) ≥ log p̂(1) (at the common K), paired;
/// - the best T beats T = 1 by more than 3 s.e. (ELBO and log p̂): many easy steps win;
/// - every run of the sweep and of the depth series: ELBO ≤ log p̂ (gap ≥ 0).
public func lesson4Checks(_ input: Lesson4Input) -> [LessonCheck] {
    let sweep = input.sweep.sorted { $0.latentLayers < $1.latentLayers }
    var checks: [LessonCheck] = []
    let k = lessonCommonK(sweep)
    if let one = sweep.first(where: { $0.latentLayers == 1 }) {
        for run in sweep where run.latentLayers > 1 {
            let paired = lessonSameExamples(run.evaluation, one.evaluation)
            let d = lessonDifference(run.evaluation.elbo, one.evaluation.elbo, paired: paired)
            checks.append(LessonCheck(
                statement: "ELBO(T = \(run.latentLayers)) ≥ ELBO(T = 1)", subject: "DDPM sweep",
                measured: "difference = \(lessonFormat(d))", holds: lessonAtLeastZero(d),
                reason: "\(run.latentLayers) small steps give a lower ELBO than one step, beyond 3 s.e. Likely reason: too little "
                    + "training: the same \(formatCount(run.trainingSteps)) steps are spread over \(run.latentLayers) timesteps, so each "
                    + "step's denoiser sees about 1/\(run.latentLayers) of the examples" + largestTermNote(run) + "."))
            if let k, let a = lessonIWAE(run, k: k), let b = lessonIWAE(one, k: k) {
                let d = lessonDifference(a, b, paired: paired)
                checks.append(LessonCheck(
                    statement: "log p̂(T = \(run.latentLayers)) ≥ log p̂(T = 1) (K = \(k))", subject: "DDPM sweep",
                    measured: "difference = \(lessonFormat(d))", holds: lessonAtLeastZero(d),
                    reason: "the importance-weighted bound at T = \(run.latentLayers) is below T = 1's beyond 3 s.e. Likely reason: "
                        + LessonReason.training(run) + "; or " + LessonReason.samples(run) + "."))
            }
        }
        let others = sweep.filter { $0.latentLayers > 1 }
        if let best = others.max(by: { $0.evaluation.elboEstimate.mean < $1.evaluation.elboEstimate.mean }) {
            let d = lessonDifference(best.evaluation.elbo, one.evaluation.elbo, paired: lessonSameExamples(best.evaluation, one.evaluation))
            checks.append(LessonCheck(
                statement: "many easy steps beat one hard step: ELBO(best T = \(best.latentLayers)) > ELBO(T = 1)", subject: "DDPM sweep",
                measured: "difference = \(lessonFormat(d))", holds: lessonSignificantlyPositive(d),
                reason: "no T > 1 improves the ELBO on T = 1 by more than 3 s.e. Likely reason: too little training "
                    + "(\(formatCount(best.trainingSteps)) steps) for the denoiser to learn many steps; or too few test examples "
                    + "(n = \(formatCount(best.evaluation.exampleCount)))."))
        }
        if let k, let best = others.max(by: { (lessonIWAE($0, k: k).map { MeanEstimate($0).mean } ?? -.infinity)
                                             < (lessonIWAE($1, k: k).map { MeanEstimate($0).mean } ?? -.infinity) }),
           let a = lessonIWAE(best, k: k), let b = lessonIWAE(one, k: k) {
            let d = lessonDifference(a, b, paired: lessonSameExamples(best.evaluation, one.evaluation))
            checks.append(LessonCheck(
                statement: "many easy steps beat one hard step: log p̂(best T = \(best.latentLayers)) > log p̂(T = 1) (K = \(k))",
                subject: "DDPM sweep", measured: "difference = \(lessonFormat(d))", holds: lessonSignificantlyPositive(d),
                reason: "no T > 1 improves log p̂ on T = 1 by more than 3 s.e. Likely reason: too little training "
                    + "(\(formatCount(best.trainingSteps)) steps); or too few samples (K = \(k), n = \(formatCount(best.evaluation.exampleCount)))."))
        }
    }
    if let continuous = input.continuousTime { checks += continuousTimeChecks(continuous) }
    for run in sweep + input.depth.sorted(by: { $0.latentLayers < $1.latentLayers }) + (input.continuousTime.map { [$0.run] } ?? []) {
        let gap = run.evaluation.gapEstimate
        checks.append(LessonCheck(
            statement: "ELBO ≤ log p̂ (K = \(run.evaluation.maximumSampleCount))", subject: lessonLabel(run),
            measured: "gap = \(lessonFormat(gap))", holds: lessonAtLeastZero(gap),
            reason: "log p̂ is below the ELBO by more than 3 s.e., although E[IWAE_K] ≥ ELBO. " + LessonReason.both(run)))
    }
    return checks
}

/// ", and its largest single term is L_t = …" (with what that step is when it is the first step out of noise).
func largestTermNote(_ run: RunSummary) -> String {
    guard let largest = DiffusionTerms(run).largest else { return "" }
    var note = "; its largest single term is \(largest.name) = \(lessonFormat(largest.estimate))"
    if largest.name == "L_\(run.latentLayers - 1)" {
        note += ", the first reverse step out of pure noise, where the cosine schedule's β_T = 0.999 makes the ε-parameterized "
            + "mean amplify the network's error by 1/√α_T ≈ 32"
    }
    return note
}

/// "DDPM (T = 64, cosine)": the label with the noise schedule.
func scheduleLabel(_ run: RunSummary) -> String {
    run.model == .ddpm ? "DDPM (T = \(run.latentLayers), \(scheduleName(run)))" : lessonLabel(run)
}

/// The noise schedule of a DDPM run (the second item of its model description), e.g. `cosine`.
func scheduleName(_ run: RunSummary) -> String {
    let parts = run.modelDescription.components(separatedBy: ", ")
    return parts.count >= 2 ? parts[1] : "?"
}

/// The decomposition −ELBO = L_0 + Σ_{t=1}^{T−1} L_t + L_T of one DDPM, per example means.
struct DiffusionTerms {
    let decoder: MeanEstimate      // L_0 = −E log p(x0|x1)
    let denoising: MeanEstimate    // Σ_{t=1}^{T−1} L_t
    let prior: MeanEstimate        // L_T
    let largest: (name: String, estimate: MeanEstimate)?
    /// The largest denoising KL after `largest`.
    let secondLargest: (name: String, estimate: MeanEstimate)?
    let meanPerStep: MeanEstimate?

    init(_ run: RunSummary) {
        let e = run.evaluation
        let n = e.exampleCount, layers = e.layerKL.count
        decoder = e.reconstructionEstimate.scaled(by: -1)
        var sum = [Double](repeating: 0, count: n)
        for l in 0..<max(0, layers - 1) { for i in 0..<n { sum[i] += e.layerKL[l][i] } }
        denoising = MeanEstimate(sum)
        prior = layers > 0 ? MeanEstimate(e.layerKL[layers - 1]) : MeanEstimate(mean: 0, standardError: 0, count: n)
        if layers > 1 {
            let estimates = (0..<(layers - 1)).map { e.layerKLEstimate($0) }
            let order = estimates.indices.sorted { estimates[$0].mean > estimates[$1].mean }
            largest = (e.layerNames[order[0]], estimates[order[0]])
            secondLargest = order.count > 1 ? (e.layerNames[order[1]], estimates[order[1]]) : nil
            meanPerStep = denoising.scaled(by: 1 / Double(layers - 1))
        } else {
            largest = nil
            secondLargest = nil
            meanPerStep = nil
        }
    }
}

/// Lesson 4's report: `lesson-4.md`, `lesson-4-sweep.svg` (ELBO and log p̂ against T, and
/// against depth for the HVAE), `lesson-4-terms.svg` (L_t against t for one T) and
/// `lesson-4-samples.svg` (samples at every T).
public func makeLesson4Report(_ input: Lesson4Input, reportName: String = "lesson-4") throws -> [ReportFile] {
    guard !input.sweep.isEmpty else { throw ReportError.noRuns }
    let sweep = input.sweep.sorted { $0.latentLayers < $1.latentLayers }
    let depth = input.depth.sorted { $0.latentLayers < $1.latentLayers }
    try validateComparable(sweep + depth + input.references + (input.continuousTime.map { [$0.run] } ?? []))
    let name = reportBaseName(reportName)
    let checks = lesson4Checks(input)
    let first = sweep[0]
    let k = lessonCommonK(sweep)
    let entropy = lessonNegativeEntropy(sweep)
    let termsRun = input.termsT.flatMap { t in sweep.first { $0.latentLayers == t } } ?? sweep[sweep.count / 2]

    var out = "# Lesson 4 — Many easy problems instead of one hard one\n\n"
    out += "**Statement.** A VAE's decoder must turn its prior into the data in one step; when the encoder is fixed to "
        + "pure noise (a DDPM with T = 1), that step is a single Gaussian p(x0|x1) with x1 independent of x0: one hard problem "
        + "that a Gaussian cannot solve for multimodal data. A DDPM with T steps splits it into T small denoising steps, each "
        + "a KL between two Gaussians, L_t = KL(q(x_t|x_{t+1}, x0) ‖ p(x_t|x_{t+1})), that a Gaussian reverse step can match "
        + "closely when the step is small. With the same network and the same training budget, more steps should give a "
        + "better bound, and each step's term should be small.\n\n"
    out += "All sweep runs use the **cosine schedule** (Nichol & Dhariwal 2021): ᾱ_T ≈ 0 for every T, so even T = 1 ends at "
        + "pure noise and small T are meaningful (the linear schedule of Ho et al. is defined for T = 1000; at small T it would "
        + "stop far from noise). Every run has the same ε-network, training steps, batch size and seed; only T differs.\n\n"
    out += lessonVerdict(checks, theorem: false)

    // The sweep table.
    out += "## The DDPM against T\n\n"
    out += "Dataset **\(first.datasetName)**; nats per example, mean ± s.e. over the same n test examples for every T. "
        + "-ELBO = L_0 + Σ_{t=1}^{T-1} L_t + L_T, with L_0 = -E[log p(x0|x1)] (the decoder), L_t the denoising KLs and "
        + "L_T = KL(q(x_T|x0) ‖ N(0, I)) the prior term."
        + (k.map { " log p̂ is IWAE_\($0), the largest K evaluated for every T." } ?? "") + "\n\n"
    var headers = ["T", "ELBO", k.map { "log p̂ (K = \($0))" } ?? "log p̂", "gap", "L_0", "Σ L_t (t < T)", "L_T", "largest L_t", "mean L_t"]
    headers += ["steps", "training time"]
    var table = MarkdownTable(headers: headers, alignments: Array(repeating: .right, count: headers.count))
    for run in sweep {
        let e = run.evaluation
        let terms = DiffusionTerms(run)
        let logLikelihood = k.flatMap { lessonIWAE(run, k: $0) }.map { MeanEstimate($0) } ?? e.logLikelihoodEstimate
        let gap = k.flatMap { lessonIWAE(run, k: $0) }.map { MeanEstimate(pairedDifferenceOf: $0, minus: e.elbo) } ?? e.gapEstimate
        table.append([formatCount(run.latentLayers), lessonFormat(e.elboEstimate), lessonFormat(logLikelihood), lessonFormat(gap),
                      lessonFormat(terms.decoder), run.latentLayers > 1 ? lessonFormat(terms.denoising) : "-",
                      lessonFormat(terms.prior),
                      terms.largest.map { "\(lessonFormat($0.estimate)) (\($0.name))" } ?? "-",
                      terms.meanPerStep.map(lessonFormat) ?? "-",
                      formatCount(run.trainingSteps), formatDuration(run.trainingSeconds)])
    }
    out += table.text + "\n"
    var notes: [String] = []
    if let entropy { notes.append("E[log q(x0)] = -H = \(lessonFormat(entropy)): the ceiling of every bound on average.") }
    for run in input.references {
        let what = run.model == .vae ? "the VAE (learned encoder, one latent layer)"
            : run.model == .ddpm ? "the DDPM of lessons 1-3 (T = \(run.latentLayers), \(scheduleName(run)) schedule)" : lessonLabel(run)
        notes.append("For reference, \(what): ELBO \(lessonFormat(run.evaluation.elboEstimate)), "
            + "log p̂ \(lessonFormat(run.evaluation.logLikelihoodEstimate)) (K = \(run.evaluation.maximumSampleCount)).")
    }
    if !notes.isEmpty { out += notes.joined(separator: " ") + "\n\n" }

    if let continuous = input.continuousTime { out += continuousTimeSection(continuous, sweep: sweep) }

    // The depth table.
    if !depth.isEmpty {
        out += "## The hierarchical VAE against depth L\n\n"
        out += "Learned encoders (bottom-up, the diffusion's shape), the same hidden widths and training budget; only the number "
            + "of latent layers differs.\n\n"
        var depthTable = MarkdownTable(headers: ["L", "encoder params", "decoder params", "ELBO", "log p̂ (K)", "gap", "-E[log p(x0|z1)]",
                                                 "KL per layer (z1, …, zL)"],
                                       alignments: [.right, .right, .right, .right, .right, .right, .right, .left])
        for run in depth {
            let e = run.evaluation
            depthTable.append([formatCount(run.latentLayers), formatCount(run.encoderParameters), formatCount(run.decoderParameters),
                               lessonFormat(e.elboEstimate), "\(lessonFormat(e.logLikelihoodEstimate)) (\(e.maximumSampleCount))",
                               lessonFormat(e.gapEstimate), lessonFormat(e.reconstructionEstimate.scaled(by: -1)),
                               e.layerKL.indices.map { lessonFormat(e.layerKLEstimate($0)) }.joined(separator: "; ")])
        }
        out += depthTable.text + "\n"
    }

    // Sentences.
    out += "## What the numbers say\n\n"
    if let one = sweep.first(where: { $0.latentLayers == 1 }) {
        let terms = DiffusionTerms(one)
        out += "- **T = 1** is a VAE whose encoder is fixed to noise: L_1 = \(lessonFormat(terms.prior)) nats (x_1 knows nothing "
            + "about x0), so all of -ELBO is the decoder's one hard problem, L_0 = \(lessonFormat(terms.decoder)).\n"
        let others = sweep.filter { $0.latentLayers > 1 }
        if let best = others.max(by: { $0.evaluation.elboEstimate.mean < $1.evaluation.elboEstimate.mean }) {
            let gain = lessonDifference(best.evaluation.elbo, one.evaluation.elbo, paired: lessonSameExamples(best.evaluation, one.evaluation))
            out += "- The best ELBO is at **T = \(best.latentLayers)**: \(lessonFormat(best.evaluation.elboEstimate)) against "
                + "\(lessonFormat(one.evaluation.elboEstimate)) at T = 1 ("
                + (lessonSignificantlyPositive(gain) ? "better by \(lessonFormat(gain)) nats" : "not significantly better: \(lessonFormat(gain))") + ")"
            if let k, let a = lessonIWAE(best, k: k), let b = lessonIWAE(one, k: k) {
                out += "; log p̂ (K = \(k)) \(lessonFormat(MeanEstimate(a))) against \(lessonFormat(MeanEstimate(b)))"
            }
            out += ".\n"
            if let last = others.last, last.latentLayers != best.latentLayers,
               last.evaluation.elboEstimate.mean < best.evaluation.elboEstimate.mean {
                let lastTerms = DiffusionTerms(last)
                out += "- The ELBO does not keep rising with T: at T = \(last.latentLayers) it is \(lessonFormat(last.evaluation.elboEstimate)). "
                    + "Every run had the same \(formatCount(last.trainingSteps)) training steps, so at large T each timestep's "
                    + "denoiser is trained on fewer examples"
                if let largest = lastTerms.largest {
                    out += ", and its largest single term is \(largest.name) = \(lessonFormat(largest.estimate))"
                    if largest.name == "L_\(last.latentLayers - 1)" {
                        out += " — the first reverse step out of pure noise, where the cosine schedule's β_T = 0.999 makes the "
                            + "ε-parameterized mean amplify the network's error by 1/√α_T ≈ 32, and which is drawn in only 1/T of the "
                            + "training examples"
                    }
                }
                out += ". More training at large T, or a learned weighting of the steps, closes this; the importance-weighted "
                    + "bound, less sensitive to single terms, shows the benefit of many steps more clearly.\n"
            }
        }
    }
    let detail = DiffusionTerms(termsRun)
    if let largest = detail.largest, let mean = detail.meanPerStep {
        let oneStep = DiffusionTerms(sweep[0]).decoder.mean
        out += "- **Per-step terms at T = \(termsRun.latentLayers)** (plot): the mean denoising KL is \(lessonFormat(mean)) nats per step, "
            + "the largest \(largest.name) = \(lessonFormat(largest.estimate)); L_0 = \(lessonFormat(detail.decoder)) and "
            + "L_T = \(lessonFormat(detail.prior))."
        if largest.name == "L_\(termsRun.latentLayers - 1)", let next = detail.secondLargest {
            out += " Apart from that first step out of noise, the largest is \(next.name) = \(lessonFormat(next.estimate)):"
                + (next.estimate.mean < 0.5 * oneStep ? " many small problems, each a Gaussian matching a Gaussian, where T = 1 had one large one.\n"
                    : " even the other steps are not small yet; the denoiser is undertrained for this T.\n")
        } else {
            out += largest.estimate.mean < 0.5 * oneStep
                ? " Many small problems, each a Gaussian matching a Gaussian, where T = 1 had one large one.\n"
                : " Here even single steps are not small: the denoiser is undertrained for this T.\n"
        }
    }
    for other in input.references where other.model == .ddpm && other.latentLayers == termsRun.latentLayers {
        let terms = DiffusionTerms(other)
        if let largest = terms.largest, let mean = terms.meanPerStep {
            out += "- The same T with the **\(scheduleName(other)) schedule** (the DDPM of "
                + "lessons 1-3, same network and budget): ELBO \(lessonFormat(other.evaluation.elboEstimate)), mean denoising KL "
                + "\(lessonFormat(mean)) per step, largest \(largest.name) = \(lessonFormat(largest.estimate)). How the noise is "
                + "spread over the steps decides how easy each step is.\n"
        }
    }
    if depth.count >= 2 {
        let values = depth.map { "L = \($0.latentLayers): \(lessonFormat($0.evaluation.elboEstimate))" }.joined(separator: ", ")
        out += "- The HVAE's ELBO against depth: \(values). A learned encoder can already solve the hard problem with one "
            + "layer, so depth matters far less than for the diffusion, whose encoder cannot learn and needs many layers instead.\n"
        for run in depth where run.latentLayers > 1 {
            let unused = run.evaluation.layerKL.indices.filter { run.evaluation.layerKLEstimate($0).mean < 0.05 }
            if !unused.isEmpty {
                out += "- In the L = \(run.latentLayers) HVAE, \(unused.count) of \(run.latentLayers) layers carry less than 0.05 nats of KL "
                    + "(\(unused.map { run.evaluation.layerNames[$0] }.joined(separator: ", "))): they are unused, posterior collapse. "
                    + "A learned hierarchy may switch layers off; a diffusion's layers cannot be switched off, since its encoder is fixed.\n"
            }
        }
    }
    out += "- Is it the bound or the training? Lesson 5 ([lesson-5.md](lesson-5.md)) answers with an oracle denoiser, the exact "
        + "E[ε | x_t] of the data's mixture density: a DDPM with no training error, evaluated for the same T and both schedules, "
        + "so that its ELBO against T shows what the bound itself costs.\n"
    out += "\n"

    out += lessonChecksSection(checks)

    var files: [ReportFile] = []
    var plots: [(caption: String, file: String)] = []
    files.append(ReportFile(name: "\(name)-sweep.svg", text: lesson4SweepFigure(sweep: sweep, depth: depth, references: input.references, k: k).svg))
    plots.append(("ELBO and log p̂ against T (DDPM, cosine schedule) and against depth L (HVAE)", "\(name)-sweep.svg"))
    let termsRuns = [termsRun] + input.references.filter { $0.model == .ddpm && $0.latentLayers == termsRun.latentLayers }
    var termsFigure = layerTermsFigure(termsRuns, labels: termsRuns.map(scheduleLabel))
    termsFigure.title = "Per-step KL terms L_t of the DDPM at T = \(termsRun.latentLayers) (nats per example)"
    termsFigure.columns = termsRuns.count
    termsFigure.panelWidth = termsRuns.count == 1 ? 620 : 470
    files.append(ReportFile(name: "\(name)-terms.svg", text: termsFigure.svg))
    plots.append(("The per-step terms L_t against t at T = \(termsRun.latentLayers)", "\(name)-terms.svg"))
    if first.exampleShape == [2], var figure = sampleScatterFigure(sweep, labels: sweep.map(lessonLabel), maximumPoints: 800) {
        figure.columns = min(4, sweep.count)
        figure.panelWidth = 300
        figure.panelHeight = 290
        figure.title = "Samples at each T (colored) over the data (grey)"
        files.append(ReportFile(name: "\(name)-samples.svg", text: figure.svg))
        plots.append(("Samples from the DDPM at each T", "\(name)-samples.svg"))
    }
    out += lessonPlotsSection(plots)
    let all = sweep + depth + input.references + (input.continuousTime.map { [$0.run] } ?? [])
    out += lessonRunsSection(all, labels: lessonLabels(all))
    out += lessonFooterSection(input.footer, runs: all)
    return [ReportFile(name: "\(name).md", text: out)] + files
}

/// ELBO and log p̂ against T (log axis) for the sweep, and against L for the HVAE depth series.
func lesson4SweepFigure(sweep: [RunSummary], depth: [RunSummary], references: [RunSummary], k: Int?) -> Figure {
    func points(_ runs: [RunSummary], _ values: (RunSummary) -> MeanEstimate) -> ([(x: Double, y: Double)], [Double]) {
        let estimates = runs.map(values)
        return (zip(runs, estimates).map { (x: Double($0.latentLayers), y: $1.mean) }, estimates.map(\.standardError))
    }
    let ts = sweep.map { Double($0.latentLayers) }
    var panel = PlotPanel(title: "DDPM against T", subtitle: "same network and training budget; bars: s.e.",
                          xLabel: "T (diffusion steps)", yLabel: "nats per example", xScale: .logarithmic,
                          xAxis: PlotAxis(lower: max(0.5, (ts.min() ?? 1) / 1.6), upper: (ts.max() ?? 10) * 1.6, scale: .logarithmic))
    let elbo = points(sweep) { $0.evaluation.elboEstimate }
    panel.series.append(.errorBars(points: elbo.0, errors: elbo.1, color: seriesColor(0), label: "ELBO"))
    let logLikelihood = points(sweep) { run in k.flatMap { lessonIWAE(run, k: $0) }.map { MeanEstimate($0) } ?? run.evaluation.logLikelihoodEstimate }
    panel.series.append(.errorBars(points: logLikelihood.0, errors: logLikelihood.1, color: seriesColor(1),
                                   label: k.map { "log p̂ (K=\($0))" } ?? "log p̂"))
    if let entropy = lessonNegativeEntropy(sweep) {
        panel.series.append(.horizontalLine(y: entropy.mean, color: "#000000", label: "E[log q]"))
    }
    for reference in references where reference.model == .vae {
        panel.series.append(.horizontalLine(y: reference.evaluation.elboEstimate.mean, color: seriesColor(2), label: "VAE ELBO", dash: "2 3"))
    }
    let others = references.filter { $0.model == .ddpm }
    if !others.isEmpty {
        panel.series.append(.errorBars(points: others.map { (x: Double($0.latentLayers), y: $0.evaluation.elboEstimate.mean) },
                                       errors: others.map { $0.evaluation.elboEstimate.standardError }, color: seriesColor(3),
                                       label: "ELBO, linear", connect: false))
    }
    var panels = [panel]
    if !depth.isEmpty {
        let ls = depth.map { Double($0.latentLayers) }
        var depthPanel = PlotPanel(title: "HVAE against depth L", subtitle: "learned bottom-up encoder; bars: s.e.",
                                   xLabel: "L (latent layers)", yLabel: "nats per example",
                                   xAxis: PlotAxis(lower: (ls.min() ?? 1) - 0.5, upper: (ls.max() ?? 1) + 0.5),
                                   yAxis: nil)
        let e = points(depth) { $0.evaluation.elboEstimate }
        depthPanel.series.append(.errorBars(points: e.0, errors: e.1, color: seriesColor(0), label: "ELBO"))
        let l = points(depth) { $0.evaluation.logLikelihoodEstimate }
        depthPanel.series.append(.errorBars(points: l.0, errors: l.1, color: seriesColor(1), label: "log p̂"))
        if let entropy = lessonNegativeEntropy(depth) {
            depthPanel.series.append(.horizontalLine(y: entropy.mean, color: "#000000", label: "E[log q]"))
        }
        // One y axis for both panels, so the two series compare at a glance.
        let shared = PlotAxis(covering: panel.yValues + depthPanel.yValues)
        panel.yAxis = shared
        depthPanel.yAxis = shared
        panels = [panel, depthPanel]
    }
    var figure = Figure(title: "Many easy problems instead of one hard one", panels: panels, columns: 2)
    figure.panelWidth = 520
    figure.panelHeight = 340
    return figure
}
