import Core
import Evaluation
import Foundation

/// Lesson 5, "the score-matching view": on data whose density is a Gaussian mixture, the noised
/// marginal q(x_t) is known, so the exact score ∇ log q(x_t) and the Bayes-optimal noise
/// prediction ε̂*(x_t, t) = E[ε | x_t] = −√(1 − ᾱ_t) ∇ log q(x_t) are computable
/// (docs/math.md#oracle-denoiser). The lesson measures a trained DDPM's ε-network against them,
/// shows that its simple loss is denoising score matching (Vincent 2011), and uses the oracle as a
/// perfect denoiser to ask what the bound itself costs as T grows (docs/math.md#score-matching-view).
public struct Lesson5Input: Sendable {
    /// The trained DDPM whose network is measured (lessons 1–3's, on the mixture data).
    public var trained: RunSummary
    /// Per-timestep measurements of `trained`'s network and of the oracle on the same draws.
    public var profile: ScoreMatchingProfile
    /// The oracle DDPM's evaluations over T and schedule (ELBO and per-step terms).
    public var oracleSweep: [OracleEvaluation]
    /// Trained DDPMs over T (lesson 4's sweep), shown beside the oracle's, possibly empty.
    public var trainedSweep: [RunSummary]
    public var footer: LessonFooter

    public init(trained: RunSummary, profile: ScoreMatchingProfile, oracleSweep: [OracleEvaluation], trainedSweep: [RunSummary],
                footer: LessonFooter) {
        self.trained = trained
        self.profile = profile
        self.oracleSweep = oracleSweep
        self.trainedSweep = trainedSweep
        self.footer = footer
    }
}

/// One oracle DDPM (no parameters: its ε-prediction is the exact E[ε | x_t]) evaluated on the test
/// examples: T, the schedule, its reverse variance, and the evaluation (ELBO and the terms L_t).
public struct OracleEvaluation: Sendable {
    public var timesteps: Int
    public var schedule: String
    public var variance: String
    public var evaluation: ModelEvaluation

    public init(timesteps: Int, schedule: String, variance: String, evaluation: ModelEvaluation) {
        self.timesteps = timesteps
        self.schedule = schedule
        self.variance = variance
        self.evaluation = evaluation
    }
}

/// Per timestep t = 1 … T and test example i, on one draw (x0ᵢ, ε, x_t = √ᾱ_t x0ᵢ + √(1 − ᾱ_t) ε):
/// squared norms summed over the D dimensions. Every array is `[t − 1][i]`.
public struct ScoreMatchingProfile: Sendable {
    /// D.
    public var dimension: Int
    /// ‖ε − ε_θ(x_t)‖²: the network's simple loss (times D).
    public var networkLoss: [[Double]]
    /// ‖ε − ε̂*(x_t)‖²: the oracle's simple loss.
    public var oracleLoss: [[Double]]
    /// ‖ε_θ(x_t) − ε̂*(x_t)‖² = (1 − ᾱ_t)·‖s_θ − ∇ log q(x_t)‖²: explicit score matching.
    public var scoreGap: [[Double]]
    /// ‖ε̂*(x_t)‖² = (1 − ᾱ_t)·‖∇ log q(x_t)‖².
    public var oracleNorm: [[Double]]
    /// tr Cov(ε | x_t), closed form: the constant C(t) of Vincent's identity at this x_t.
    public var noiseCovarianceTrace: [[Double]]
    /// ‖x0 − x̂0(x_t)‖² with the network's x̂0 and with the oracle's E[x0 | x_t].
    public var networkStartError: [[Double]]
    public var oracleStartError: [[Double]]

    public init(dimension: Int, networkLoss: [[Double]], oracleLoss: [[Double]], scoreGap: [[Double]], oracleNorm: [[Double]],
                noiseCovarianceTrace: [[Double]], networkStartError: [[Double]], oracleStartError: [[Double]]) {
        self.dimension = dimension
        self.networkLoss = networkLoss
        self.oracleLoss = oracleLoss
        self.scoreGap = scoreGap
        self.oracleNorm = oracleNorm
        self.noiseCovarianceTrace = noiseCovarianceTrace
        self.networkStartError = networkStartError
        self.oracleStartError = oracleStartError
    }

    /// T.
    public var timestepCount: Int { networkLoss.count }

    /// ρ(t) = √(E‖ε_θ − ε̂*‖² / E‖ε̂*‖²), the learned score's relative error (the factor 1/√(1 − ᾱ_t)
    /// of both scores cancels), with a delta-method standard error: for the squared ratio
    /// r = ā/b̄, u_i = (a_i − r b_i)/b̄ has mean ≈ 0 and s.e.(r) ≈ s.e.(u); s.e.(ρ) = s.e.(r)/(2ρ).
    public func relativeScoreError(at t: Int) -> MeanEstimate {
        let a = scoreGap[t - 1], b = oracleNorm[t - 1]
        let meanA = a.reduce(0, +) / Double(a.count), meanB = b.reduce(0, +) / Double(b.count)
        guard meanB > 0 else { return MeanEstimate(mean: .nan, standardError: .nan, count: a.count) }
        let ratio = meanA / meanB
        let linearized = MeanEstimate(zip(a, b).map { ($0 - ratio * $1) / meanB })
        let rho = ratio.squareRoot()
        return MeanEstimate(mean: rho, standardError: rho > 0 ? linearized.standardError / (2 * rho) : linearized.standardError,
                            count: a.count)
    }

    /// Per example, the mean over t of `values[t][i]`: one number per example, so t-averaged
    /// statements are tested on n independent values.
    func averageOverTime(_ values: [[Double]]) -> [Double] {
        let n = values[0].count, count = Double(values.count)
        return (0..<n).map { i in values.reduce(0) { $0 + $1[i] } / count }
    }

    /// √(E‖x0 − x̂0(x_t)‖² / D) at t, as an estimate of the mean squared error with its s.e. mapped
    /// through the square root.
    func rootMeanSquaredError(_ values: [[Double]], at t: Int) -> MeanEstimate {
        let m = MeanEstimate(values[t - 1].map { $0 / Double(dimension) })
        let root = Swift.max(m.mean, 0).squareRoot()
        return MeanEstimate(mean: root, standardError: root > 0 ? m.standardError / (2 * root) : m.standardError, count: m.count)
    }
}

/// The grid on which a per-t statement is tested: {1, T/4, T/2, T} (distinct, at least 1).
func lesson5Grid(_ timesteps: Int) -> [Int] {
    Array(Set([1, Swift.max(1, timesteps / 4), Swift.max(1, timesteps / 2), timesteps])).sorted()
}

/// The checks of lesson 5:
/// 1. Vincent's identity: L_simple(t) − ‖ε_θ − ε̂*‖² = C(t), the closed-form tr Cov(ε | x_t), t-averaged;
/// 2. the oracle's loss is that constant: ‖ε − ε̂*‖² − tr Cov(ε | x_t) = 0 on average (the oracle is right);
/// 3. no network beats the oracle: L_simple,θ − L_simple,* ≥ 0 (t-averaged, paired);
/// 4. every oracle ELBO ≤ −H (the entropy ceiling, KL_joint ≥ 0, paired);
/// 5. with a perfect denoiser many steps win: oracle ELBO(largest T) > ELBO(T = 1), per schedule;
/// 6. the oracle's distortion does not decrease with t on {1, T/4, T/2, T} (x_t is a degraded x_s).
public func lesson5Checks(_ input: Lesson5Input) -> [LessonCheck] {
    var checks: [LessonCheck] = []
    let p = input.profile
    let subject = scheduleLabel(input.trained)
    let identity = MeanEstimate(p.averageOverTime(zipMap(p.networkLoss, p.scoreGap, p.noiseCovarianceTrace) { $0 - $1 - $2 }))
    checks.append(LessonCheck(
        statement: "DSM = ESM + C: L_simple(t) - ‖ε_θ - ε̂*‖² = tr Cov(ε|x_t) (mean over t)", subject: subject,
        measured: "difference = \(lessonFormat(identity))", holds: lessonEqualsZero(identity),
        reason: "the simple loss minus the explicit score-matching error differs from the closed-form constant beyond 3 s.e. "
            + "Per draw, ‖ε - ε_θ‖² = ‖ε - ε̂*‖² + ‖ε̂* - ε_θ‖² + 2(ε - ε̂*)·(ε̂* - ε_θ), and the cross term has mean 0 only if "
            + "ε̂* = E[ε | x_t]: the oracle or the x_t it was given is wrong (a bug), or n is too small."))
    let oracleConstant = MeanEstimate(p.averageOverTime(zipMap(p.oracleLoss, p.noiseCovarianceTrace, p.noiseCovarianceTrace) { a, b, _ in a - b }))
    checks.append(LessonCheck(
        statement: "the oracle's loss is the constant: E‖ε - ε̂*‖² = E tr Cov(ε|x_t)", subject: "oracle, T = \(p.timestepCount)",
        measured: "difference = \(lessonFormat(oracleConstant))", holds: lessonEqualsZero(oracleConstant),
        reason: "the oracle's squared error does not match its own posterior covariance: the closed-form q(x_t) is not the noised "
            + "data (a wrong scale of the mixture, a missing √ᾱ_t), a bug."))
    let excess = MeanEstimate(p.averageOverTime(zipMap(p.networkLoss, p.oracleLoss, p.oracleLoss) { a, b, _ in a - b }))
    checks.append(LessonCheck(
        statement: "no network beats the oracle: L_simple,θ ≥ L_simple,* (mean over t)", subject: subject,
        measured: "L_simple,θ - L_simple,* = \(lessonFormat(excess))", holds: lessonAtLeastZero(excess),
        reason: "the trained network's simple loss is below the Bayes-optimal one beyond 3 s.e., impossible since E[ε | x_t] "
            + "minimizes E‖ε - f(x_t)‖² over all f: the oracle is wrong (a bug)."))
    for oracle in input.oracleSweep {
        guard let joint = oracle.evaluation.jointKLEstimate else { continue }
        checks.append(LessonCheck(
            statement: "ELBO ≤ -H", subject: "oracle DDPM (T = \(oracle.timesteps), \(oracle.series))",
            measured: "KL_joint = \(lessonFormat(joint))", holds: lessonAtLeastZero(joint),
            reason: "impossible: an ELBO above the data's entropy ceiling. " + impossibilityCauses))
    }
    for series in orderedSeries(input.oracleSweep) {
        let runs = input.oracleSweep.filter { $0.series == series }.sorted { $0.timesteps < $1.timesteps }
        guard let one = runs.first(where: { $0.timesteps == 1 }), let last = runs.last, last.timesteps > 1 else { continue }
        let gain = MeanEstimate(pairedDifferenceOf: last.evaluation.elbo, minus: one.evaluation.elbo)
        checks.append(LessonCheck(
            statement: "with a perfect denoiser many steps win: ELBO(T = \(last.timesteps)) > ELBO(T = 1)", subject: "oracle DDPM, \(series)",
            measured: "difference = \(lessonFormat(gain))", holds: lessonSignificantlyPositive(gain),
            reason: "even with the exact reverse mean, \(last.timesteps) steps do not improve on one beyond 3 s.e.: Gaussian reverse steps "
                + "with the \(last.variance) variance cost more than they gain at this T (see the table: the per-step term is "
                + "c₁²·MMSE_t/(2σ_t²) plus a variance mismatch, large where a step is large)."))
    }
    let grid = lesson5Grid(p.timestepCount)
    for (s, t) in zip(grid, grid.dropFirst()) {
        let rise = MeanEstimate(pairedDifferenceOf: p.oracleStartError[t - 1], minus: p.oracleStartError[s - 1])
        checks.append(LessonCheck(
            statement: "the oracle's distortion does not decrease: E‖x0 - E[x0|x_\(t)]‖² ≥ E‖x0 - E[x0|x_\(s)]‖²", subject: "oracle, T = \(p.timestepCount)",
            measured: "difference = \(lessonFormat(rise))", holds: lessonAtLeastZero(rise),
            reason: "the minimum mean squared error fell with more noise beyond 3 s.e., impossible since x0 → x_\(s) → x_\(t) is a "
                + "Markov chain (x_\(t) is a degraded x_\(s)); the oracle's E[x0 | x_t] is wrong, or n is too small."))
    }
    return checks
}

/// Element-wise f over three [t][i] arrays.
private func zipMap(_ a: [[Double]], _ b: [[Double]], _ c: [[Double]], _ f: (Double, Double, Double) -> Double) -> [[Double]] {
    a.indices.map { t in a[t].indices.map { i in f(a[t][i], b[t][i], c[t][i]) } }
}

extension OracleEvaluation {
    /// "cosine, fixed-small": what tells the sweep's series apart.
    public var series: String { "\(schedule), \(variance)" }
}

/// The series (schedule and variance) of the sweep in the order they first appear.
private func orderedSeries(_ sweep: [OracleEvaluation]) -> [String] {
    var seen: [String] = []
    for entry in sweep where !seen.contains(entry.series) { seen.append(entry.series) }
    return seen
}

/// Σ_{j=t}^{T} L_j per t = 1 … T: the rate of progressive coding when x_T, …, x_t have been sent
/// (nats per example; L_j is layer j of the evaluation, L_T the prior term; L_0 is not a code length
/// on continuous data and is left out).
func cumulativeRate(_ evaluation: ModelEvaluation) -> [Double] {
    let layers = evaluation.layerKL.count
    var rate = [Double](repeating: 0, count: layers)
    var total = 0.0
    for j in stride(from: layers, through: 1, by: -1) {
        total += evaluation.layerKLEstimate(j - 1).mean
        rate[j - 1] = total
    }
    return rate
}

/// Lesson 5's report: `lesson-5.md`, `lesson-5-score.svg` (ρ(t)), `lesson-5-elbo.svg` (the oracle's
/// ELBO against T per schedule, with the trained sweep and −H) and `lesson-5-rate-distortion.svg`.
public func makeLesson5Report(_ input: Lesson5Input, reportName: String = "lesson-5") throws -> [ReportFile] {
    let name = reportBaseName(reportName)
    let checks = lesson5Checks(input)
    let p = input.profile
    let trained = input.trained
    let T = p.timestepCount
    let entropy = lessonNegativeEntropy([trained])

    var out = "# Lesson 5 — The score-matching view\n\n"
    out += "**Statement.** A DDPM's ε-network is a score estimator: s_θ(x_t, t) = -ε_θ(x_t, t)/√(1 - ᾱ_t) estimates "
        + "∇ log q(x_t), the score of the noised data. Its simple loss E‖ε - ε_θ‖² is *denoising* score matching, which equals "
        + "*explicit* score matching E‖ε_θ - ε̂*‖² plus a constant that does not depend on θ (Vincent 2011), where "
        + "ε̂*(x_t) = E[ε | x_t] = -√(1 - ᾱ_t) ∇ log q(x_t) is the best possible prediction. On "
        + "**\(trained.datasetName)** the data density is a Gaussian mixture, so q(x_t) is one too, and ε̂*, the score and the "
        + "constant are known in closed form: an **oracle denoiser** (docs/math.md#oracle-denoiser). With it the lesson "
        + "separates what the network gets wrong from what the bound itself costs.\n\n"
    out += lessonVerdict(checks, theorem: false)

    // 1. The learned score against the exact one.
    out += "## 1. How good is the learned score?\n\n"
    out += "The network of lessons 1-3's \(scheduleLabel(trained)) against the oracle, on the same draws "
        + "(x0, ε, x_t) for every t; n = \(formatCount(p.networkLoss[0].count)) test examples, one draw per example and t. "
        + "ρ(t) = √(E‖ε_θ - ε̂*‖² / E‖ε̂*‖²) is the learned score's relative error (plot).\n\n"
    var table = MarkdownTable(headers: ["t", "ρ(t)", "L_simple,θ(t)", "L_simple,*(t) = C(t)", "‖ε_θ - ε̂*‖² (ESM)", "DSM - ESM - C"],
                              alignments: Array(repeating: .right, count: 6))
    for t in lesson5Grid(T) {
        let i = t - 1
        let gap = MeanEstimate(zip(zip(p.networkLoss[i], p.scoreGap[i]), p.noiseCovarianceTrace[i]).map { $0.0 - $0.1 - $1 })
        table.append([String(t), lessonFormat(p.relativeScoreError(at: t)), lessonFormat(MeanEstimate(p.networkLoss[i])),
                      lessonFormat(MeanEstimate(p.oracleLoss[i])), lessonFormat(MeanEstimate(p.scoreGap[i])), lessonFormat(gap)])
    }
    out += table.text + "\n"
    let rhos = (1...T).map { p.relativeScoreError(at: $0) }
    if let worst = rhos.indices.max(by: { rhos[$0].mean < rhos[$1].mean }), let best = rhos.indices.min(by: { rhos[$0].mean < rhos[$1].mean }) {
        out += "- The relative error is largest at t = \(worst + 1) (ρ = \(lessonFormat(rhos[worst]))) and smallest at t = \(best + 1) "
            + "(ρ = \(lessonFormat(rhos[best]))). Losses are per example, summed over the D = \(p.dimension) dimensions "
            + "(the training loss is their mean over dimensions, /D).\n"
    }
    let excess = MeanEstimate(p.averageOverTime(p.networkLoss.indices.map { t in zip(p.networkLoss[t], p.oracleLoss[t]).map { $0 - $1 } }))
    out += "- Averaged over t, the network's simple loss is \(lessonFormat(excess)) above the oracle's: that excess is exactly its "
        + "explicit score-matching error, since DSM - ESM equals the constant C(t) = E tr Cov(ε | x_t) for any network (column "
        + "\"DSM - ESM - C\" is 0 within noise at every t).\n\n"

    // 2. The oracle over T.
    out += "## 2. Does the bound improve with T when the denoiser is perfect?\n\n"
    out += "The oracle DDPM has no parameters: its reverse mean is the true E[x_{t-1} | x_t] (μ̃_t is linear in x0, and "
        + "E[x0 | x_t] is exact), so only the Gaussian shape of p(x_{t-1} | x_t) and its variance remain approximations. "
        + "Lesson 4 asked whether ELBO(T = 1000) ≥ ELBO(T = 1) fails for the bound or for the training; here is the bound alone. "
        + "ELBO on the same n test examples for every T; E[log q(x0)] = -H is the ceiling"
        + (entropy.map { " (\(lessonFormat($0)))" } ?? "") + ".\n\n"
    let allSeries = orderedSeries(input.oracleSweep)
    let ts = Array(Set(input.oracleSweep.map(\.timesteps))).sorted()
    var headers = ["T"] + allSeries.map { "oracle, \($0)" }
    if !input.trainedSweep.isEmpty { headers.append("trained, \(scheduleName(input.trainedSweep[0])), learned-range (lesson 4)") }
    var sweepTable = MarkdownTable(headers: headers, alignments: Array(repeating: .right, count: headers.count))
    for t in ts {
        var row = [formatCount(t)]
        for series in allSeries {
            row.append(input.oracleSweep.first { $0.timesteps == t && $0.series == series }.map { lessonFormat($0.evaluation.elboEstimate) } ?? "-")
        }
        if !input.trainedSweep.isEmpty {
            row.append(input.trainedSweep.first { $0.latentLayers == t }.map { lessonFormat($0.evaluation.elboEstimate) } ?? "-")
        }
        sweepTable.append(row)
    }
    out += sweepTable.text + "\n"
    out += "With the exact mean, each step's term is c₁²·MMSE_t/(2σ_t²) plus a mismatch of variances "
        + "(docs/math.md#score-matching-view): small steps make both small, but a large step — the first steps of a short "
        + "linear schedule, or any step whose β_t is near 1 — leaves a large MMSE under a small variance.\n\n"
    for series in allSeries {
        let runs = input.oracleSweep.filter { $0.series == series }.sorted { $0.timesteps < $1.timesteps }
        guard let best = runs.max(by: { $0.evaluation.elboEstimate.mean < $1.evaluation.elboEstimate.mean }),
              let one = runs.first(where: { $0.timesteps == 1 }), let last = runs.last else { continue }
        let gain = MeanEstimate(pairedDifferenceOf: last.evaluation.elbo, minus: one.evaluation.elbo)
        out += "- Oracle, \(series): best ELBO at T = \(formatCount(best.timesteps)) (\(lessonFormat(best.evaluation.elboEstimate))); "
            + "ELBO(T = \(formatCount(last.timesteps))) - ELBO(T = 1) = \(lessonFormat(gain))"
            + (lessonSignificantlyPositive(gain) ? ": the bound itself improves with T.\n" : ": no significant improvement at this T.\n")
    }
    if let trainedBest = input.trainedSweep.max(by: { $0.evaluation.elboEstimate.mean < $1.evaluation.elboEstimate.mean }),
       let trainedLast = input.trainedSweep.max(by: { $0.latentLayers < $1.latentLayers }),
       let oracleLast = input.oracleSweep.first(where: { $0.timesteps == trainedLast.latentLayers && $0.schedule == scheduleName(trainedLast) }) {
        let shortfall = MeanEstimate(pairedDifferenceOf: oracleLast.evaluation.elbo, minus: trainedLast.evaluation.elbo)
        out += "- The trained sweep's best ELBO is at T = \(formatCount(trainedBest.latentLayers)); at T = \(formatCount(trainedLast.latentLayers)) "
            + "the oracle (\(oracleLast.series)) is above the trained network by \(lessonFormat(shortfall)) nats (paired): "
            + "that much of lesson 4's ELBO at large T is the network's, not the bound's.\n"
    }
    out += "\n"

    // 3. Rate and distortion.
    let oracleAtT = input.oracleSweep.first { $0.timesteps == T && $0.schedule == scheduleName(trained) && $0.variance == "fixed-small" }
        ?? input.oracleSweep.first { $0.timesteps == T && $0.schedule == scheduleName(trained) }
    out += "## 3. Rate and distortion per timestep\n\n"
    out += "Ho et al. (2020, §4.3) read the reverse process as progressive coding: a receiver holding x_T, …, x_t has been sent "
        + "rate(t) = Σ_{j=t}^{T} L_j nats (L_0 is left out: on continuous data it is a density, not a code length) and can "
        + "reconstruct x̂0(x_t) with distortion √(E‖x0 - x̂0‖²/D). Plot: the trained DDPM (T = \(T)) and the oracle DDPM at the "
        + "same T and schedule\(oracleAtT.map { " (\($0.variance) variance)" } ?? ""). Where ᾱ_t is near 0 the network's "
        + "x̂0 = (x_t - √(1 - ᾱ_t) ε_θ)/√ᾱ_t divides its error by √ᾱ_t, so its distortion can be far above the data's spread.\n\n"
    var rdTable = MarkdownTable(headers: ["t", "rate, trained", "distortion, trained", "rate, oracle", "distortion, oracle"],
                                alignments: Array(repeating: .right, count: 5))
    let trainedRate = cumulativeRate(trained.evaluation)
    let oracleRate = oracleAtT.map { cumulativeRate($0.evaluation) }
    for t in lesson5Grid(T) {
        rdTable.append([String(t), formatNumber(trainedRate[t - 1], decimals: 3), lessonFormat(p.rootMeanSquaredError(p.networkStartError, at: t)),
                        oracleRate.map { formatNumber($0[t - 1], decimals: 3) } ?? "-",
                        lessonFormat(p.rootMeanSquaredError(p.oracleStartError, at: t))])
    }
    out += rdTable.text + "\n"
    out += lessonChecksSection(checks)

    var files: [ReportFile] = []
    var plots: [(caption: String, file: String)] = []
    files.append(ReportFile(name: "\(name)-score.svg", text: lesson5ScoreFigure(p, label: scheduleLabel(trained)).svg))
    plots.append(("The learned score's relative error ρ(t) against t", "\(name)-score.svg"))
    files.append(ReportFile(name: "\(name)-elbo.svg", text: lesson5SweepFigure(input, entropy: entropy).svg))
    plots.append(("The oracle DDPM's ELBO against T, per schedule, beside the trained sweep", "\(name)-elbo.svg"))
    files.append(ReportFile(name: "\(name)-rate-distortion.svg",
                            text: lesson5RateDistortionFigure(p, trainedRate: trainedRate, oracleRate: oracleRate).svg))
    plots.append(("Rate against distortion per timestep, trained and oracle", "\(name)-rate-distortion.svg"))
    out += lessonPlotsSection(plots)
    let runs = [trained] + input.trainedSweep
    out += lessonRunsSection(runs, labels: runs.map(scheduleLabel))
    out += lessonFooterSection(input.footer, runs: runs)
    return [ReportFile(name: "\(name).md", text: out)] + files
}

/// ρ(t) against t, with s.e. bars.
func lesson5ScoreFigure(_ p: ScoreMatchingProfile, label: String) -> Figure {
    let estimates = (1...p.timestepCount).map { p.relativeScoreError(at: $0) }
    var panel = PlotPanel(title: "Relative error of the learned score", subtitle: "\(label); bars: s.e.",
                          xLabel: "t", yLabel: "ρ(t) = √(E‖ε_θ - ε̂*‖² / E‖ε̂*‖²)")
    panel.series.append(.errorBars(points: estimates.enumerated().map { (x: Double($0 + 1), y: $1.mean) },
                                   errors: estimates.map(\.standardError), color: seriesColor(0), label: "ρ(t)"))
    var figure = Figure(title: "ε-prediction is score estimation", panels: [panel], columns: 1)
    figure.panelWidth = 620
    return figure
}

/// The oracle's ELBO against T (log axis), one series per schedule, the trained sweep and −H.
func lesson5SweepFigure(_ input: Lesson5Input, entropy: MeanEstimate?) -> Figure {
    let ts = input.oracleSweep.map { Double($0.timesteps) } + input.trainedSweep.map { Double($0.latentLayers) }
    var panel = PlotPanel(title: "ELBO against T", subtitle: "oracle: exact reverse mean, no training; bars: s.e.",
                          xLabel: "T (diffusion steps)", yLabel: "nats per example", xScale: .logarithmic,
                          xAxis: PlotAxis(lower: Swift.max(0.5, (ts.min() ?? 1) / 1.6), upper: (ts.max() ?? 10) * 1.6, scale: .logarithmic))
    for (index, series) in orderedSeries(input.oracleSweep).enumerated() {
        let runs = input.oracleSweep.filter { $0.series == series }.sorted { $0.timesteps < $1.timesteps }
        panel.series.append(.errorBars(points: runs.map { (x: Double($0.timesteps), y: $0.evaluation.elboEstimate.mean) },
                                       errors: runs.map { $0.evaluation.elboEstimate.standardError }, color: seriesColor(index),
                                       label: "oracle, \(series)"))
    }
    if !input.trainedSweep.isEmpty {
        let runs = input.trainedSweep.sorted { $0.latentLayers < $1.latentLayers }
        panel.series.append(.errorBars(points: runs.map { (x: Double($0.latentLayers), y: $0.evaluation.elboEstimate.mean) },
                                       errors: runs.map { $0.evaluation.elboEstimate.standardError }, color: seriesColor(4),
                                       label: "trained, \(scheduleName(runs[0]))"))
    }
    if let entropy { panel.series.append(.horizontalLine(y: entropy.mean, color: "#000000", label: "E[log q] = -H")) }
    var figure = Figure(title: "Does the bound improve with T when the denoiser is perfect?", panels: [panel], columns: 1)
    figure.panelWidth = 620
    figure.panelHeight = 360
    return figure
}

/// Distortion (x) against rate (y) per t, trained and oracle.
func lesson5RateDistortionFigure(_ p: ScoreMatchingProfile, trainedRate: [Double], oracleRate: [Double]?) -> Figure {
    let T = p.timestepCount
    var panel = PlotPanel(title: "Rate and distortion", subtitle: "one point per t; x_T (t = T) at the top-right end",
                          xLabel: "distortion √(E‖x0 - x̂0(x_t)‖²/D)", yLabel: "rate Σ_{j≥t} L_j (nats)")
    panel.series.append(.line(points: (1...T).map { (x: p.rootMeanSquaredError(p.networkStartError, at: $0).mean, y: trainedRate[$0 - 1]) },
                              color: seriesColor(0), label: "trained", markers: true))
    if let oracleRate {
        panel.series.append(.line(points: (1...T).map { (x: p.rootMeanSquaredError(p.oracleStartError, at: $0).mean, y: oracleRate[$0 - 1]) },
                                  color: seriesColor(1), label: "oracle", markers: true))
    }
    var figure = Figure(title: "Progressive coding: rate against distortion", panels: [panel], columns: 1)
    figure.panelWidth = 620
    figure.panelHeight = 360
    return figure
}
