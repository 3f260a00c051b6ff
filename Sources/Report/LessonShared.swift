import Core
import Evaluation
import Foundation

// Shared pieces of the four lesson reports (`compare lesson 1|2|3|4`): the checks with their
// verdicts, the footer, labels and a few small formatting helpers. Every lesson generator is a
// pure function from evaluation results to [ReportFile]; the command line gathers the inputs.

/// One statement of a lesson tested on measured numbers, allowing
/// ``LessonCheck/standardErrors`` standard errors of Monte Carlo noise.
public struct LessonCheck: Equatable, Sendable {
    /// The statement, e.g. "IWAE_10 ≥ IWAE_1".
    public let statement: String
    /// What it is tested on: a model, a dataset, a pair of runs.
    public let subject: String
    /// The measured quantity, e.g. "IWAE_10 - IWAE_1 = 0.123 ± 0.004".
    public let measured: String
    public let holds: Bool
    /// When it does not hold: what the numbers say, and the likely reason, in plain words.
    public let reason: String?

    public init(statement: String, subject: String, measured: String, holds: Bool, reason: String?) {
        self.statement = statement
        self.subject = subject
        self.measured = measured
        self.holds = holds
        self.reason = holds ? nil : (reason ?? "no reason recorded")
    }

    /// Standard errors of slack: a statement fails only when the numbers contradict it by more.
    public static let standardErrors = 3.0
}

/// How a lesson was run, for the report's footer and its "Reproduce" section.
public struct LessonFooter: Equatable, Sendable {
    /// The command that made the report, e.g. `compare lesson 1`.
    public var command: String
    /// `full`, `quick` or `smoke`.
    public var mode: String
    /// One line per size choice ("DDPM: 8,000 steps, cosine schedule, …").
    public var sizes: [String]
    /// Wall-clock seconds of this lesson in the invocation that wrote the report (training and
    /// evaluation that were reused from earlier invocations cost nothing here).
    public var lessonSeconds: Double
    /// Wall-clock seconds of the whole `compare lesson all`, when the report was written by it.
    public var totalSeconds: Double?
    /// The command lines that trained and evaluated the runs.
    public var reproduce: [String]

    public init(command: String, mode: String, sizes: [String], lessonSeconds: Double, totalSeconds: Double? = nil,
                reproduce: [String] = []) {
        self.command = command
        self.mode = mode
        self.sizes = sizes
        self.lessonSeconds = lessonSeconds
        self.totalSeconds = totalSeconds
        self.reproduce = reproduce
    }
}

// MARK: - Testing statements

/// `difference ≥ 0`, unless contradicted by more than 3 s.e.
func lessonAtLeastZero(_ difference: MeanEstimate) -> Bool {
    difference.isNonNegative(withinStandardErrors: LessonCheck.standardErrors)
}

/// `difference = 0` within 3 s.e. (both sides).
func lessonEqualsZero(_ difference: MeanEstimate) -> Bool {
    let slack = LessonCheck.standardErrors * (difference.standardError.isFinite ? difference.standardError : 0)
    return abs(difference.mean) <= slack + 1e-12 * max(1, abs(difference.mean))
}

/// `difference > 0` by more than 3 s.e.: a positive claim the numbers must establish, not merely not contradict.
func lessonSignificantlyPositive(_ difference: MeanEstimate) -> Bool {
    let se = difference.standardError.isFinite ? difference.standardError : 0
    return difference.mean > LessonCheck.standardErrors * se
}

/// The difference a − b of two estimates: paired (per-example differences) when they were made on
/// the same examples, otherwise with the independent standard error √(s.e.ₐ² + s.e.ᵦ²).
func lessonDifference(_ a: [Double], _ b: [Double], paired: Bool) -> MeanEstimate {
    if paired && a.count == b.count { return MeanEstimate(pairedDifferenceOf: a, minus: b) }
    let x = MeanEstimate(a), y = MeanEstimate(b)
    let se = (sq(x.standardError) + sq(y.standardError)).squareRoot()
    return MeanEstimate(mean: x.mean - y.mean, standardError: se, count: min(a.count, b.count))
}

private func sq(_ x: Double) -> Double { x.isFinite ? x * x : 0 }

/// Whether two runs were evaluated on the same test examples (same count and, when the data
/// density is known, the same log-densities), so their per-example values may be paired.
func lessonSameExamples(_ a: ModelEvaluation, _ b: ModelEvaluation) -> Bool {
    guard a.exampleCount == b.exampleCount else { return false }
    if let x = a.logDensity, let y = b.logDensity { return x == y }
    return true
}

/// The likely reasons a measured inequality fails, in words a student can act on.
enum LessonReason {
    static func training(_ run: RunSummary) -> String {
        "too little training (\(formatCount(run.trainingSteps)) steps): the bound is valid at any step, but estimates of an "
            + "undertrained model have heavy-tailed importance weights whose standard error understates the noise"
    }

    static func samples(_ run: RunSummary) -> String {
        "too few samples (n = \(formatCount(run.evaluation.exampleCount)) test examples, K up to "
            + "\(formatCount(run.evaluation.maximumSampleCount))): rerun with more examples or a larger K"
    }

    static func both(_ run: RunSummary) -> String {
        "Likely reason: \(samples(run)); or \(training(run))."
    }
}

// MARK: - Labels and formatting

/// A row label that says what distinguishes the run: "VAE", "HVAE (L = 2)", "DDPM (T = 64)".
func lessonLabel(_ run: RunSummary) -> String {
    switch run.model {
    case .vae: return "VAE"
    case .hvae: return "HVAE (L = \(run.latentLayers))"
    case .ddpm: return "DDPM (T = \(run.latentLayers))"
    }
}

/// Labels for a list of runs, made unique with the dataset name and then a number.
func lessonLabels(_ runs: [RunSummary]) -> [String] {
    func duplicated(_ labels: [String]) -> [Bool] { labels.map { label in labels.filter { $0 == label }.count > 1 } }
    var labels = runs.map(lessonLabel)
    for (i, repeated) in duplicated(labels).enumerated() where repeated { labels[i] += " on \(runs[i].datasetName)" }
    for (i, repeated) in duplicated(labels).enumerated() where repeated { labels[i] += " #\(i + 1)" }
    return labels
}

/// An estimate as text: ``formatEstimate(_:)``, or scientific notation for tiny values
/// ("1.20e-06 ± 1.3e-08") where fixed decimals would need a row of zeros.
func lessonFormat(_ estimate: MeanEstimate) -> String {
    let mean = estimate.mean, se = estimate.standardError
    if mean.isFinite, mean != 0, abs(mean) < 1e-3 {
        let seText = se.isFinite ? String(format: "%.2g", abs(se)).replacingOccurrences(of: "e-0", with: "e-") : "n/a"
        return String(format: "%.3g", mean).replacingOccurrences(of: "e-0", with: "e-") + " ± " + seText
    }
    return formatEstimate(estimate)
}

/// "a ± b" with an explicit sign: "+0.12 ± 0.01".
func formatSignedEstimate(_ estimate: MeanEstimate) -> String {
    let text = formatEstimate(estimate)
    return estimate.mean > 0 && !text.hasPrefix("-") ? "+" + text : text
}

/// A plain number with `decimals` digits (ASCII minus).
func formatNumber(_ value: Double, decimals: Int = 3) -> String { formatFixed(value, decimals: decimals) }

// MARK: - Sections

/// The verdict line under a lesson's statement. `theorem`: whether the statement is a mathematical
/// fact (lessons 1 and 2) or an empirical claim about trained models (lessons 3 and 4, in part).
func lessonVerdict(_ checks: [LessonCheck], theorem: Bool) -> String {
    let failed = checks.filter { !$0.holds }
    if failed.isEmpty {
        return "**Verdict: the statement holds.** All \(checks.count) checks below hold within "
            + "\(formatFixed(LessonCheck.standardErrors, decimals: 0)) standard errors.\n\n"
    }
    return "**Verdict: \(failed.count) of \(checks.count) checks do NOT hold** on these numbers; see \"Checks\" for what "
        + "failed and the likely reason. "
        + (theorem ? "The statement itself is a theorem: a failure here means the measurement is not good enough to show it, "
            + "not that the mathematics is wrong.\n\n"
            : "Where a check is a theorem (bounds, identities), a failure means the measurement is not good enough to show it; "
            + "where it is a claim about trained models, it means this training budget or sample size does not bear it out.\n\n")
}

/// `text` with its first letter in upper case.
func capitalizedFirst(_ text: String) -> String {
    guard let first = text.first else { return text }
    return first.uppercased() + text.dropFirst()
}

/// The checks as a table, then every failure spelled out with its reason.
func lessonChecksSection(_ checks: [LessonCheck]) -> String {
    var out = "## Checks\n\n"
    out += "Each statement is tested on the numbers above, allowing \(formatFixed(LessonCheck.standardErrors, decimals: 0)) "
        + "standard errors of Monte Carlo noise; differences of estimates on the same test examples use the standard error "
        + "of the paired per-example differences.\n\n"
    var table = MarkdownTable(headers: ["statement", "tested on", "measured", "holds?"])
    for check in checks {
        table.append([check.statement, check.subject, check.measured, check.holds ? "holds" : "**DOES NOT HOLD**"])
    }
    out += table.text + "\n"
    let failed = checks.filter { !$0.holds }
    if failed.isEmpty {
        out += "All \(checks.count) checks hold.\n\n"
    } else {
        out += "**\(failed.count) of \(checks.count) checks do not hold:**\n\n"
        for check in failed {
            out += "- **Does not hold:** \(check.statement) (\(check.subject)): \(check.measured). \(capitalizedFirst(check.reason ?? ""))\n"
        }
        out += "\n"
    }
    return out
}

/// A table of the runs behind a lesson: options, training, evaluation sizes.
func lessonRunsSection(_ runs: [RunSummary], labels: [String]) -> String {
    let out = "## Runs\n\n"
    var table = MarkdownTable(headers: ["run", "dataset", "checkpoint", "options", "encoder params", "decoder params",
                                        "steps", "training time", "n", "K"])
    for (i, run) in runs.enumerated() {
        table.append([labels[i], run.datasetName, "`\(run.path)`", run.modelDescription, formatCount(run.encoderParameters),
                      formatCount(run.decoderParameters), formatCount(run.trainingSteps), formatDuration(run.trainingSeconds),
                      formatCount(run.evaluation.exampleCount),
                      run.evaluation.sampleCounts.map(String.init).joined(separator: ", ")])
    }
    return out + table.text + "\n"
}

/// Sizes, reproduce commands and timing.
func lessonFooterSection(_ footer: LessonFooter, runs: [RunSummary]) -> String {
    var out = "## How this report was made\n\n"
    out += "Mode: **\(footer.mode)**. "
    out += "Training seed 0 and evaluation seed 1 for every run; every number is nats per example, mean ± standard error "
        + "over the n test examples (the first n of the test split).\n\n"
    for line in footer.sizes { out += "- \(line)\n" }
    if !footer.sizes.isEmpty { out += "\n" }
    out += "```sh\n\(footer.command)\n"
    var seen = Set<String>()
    let lines = footer.reproduce + runs.flatMap { [$0.trainCommand, $0.evaluateCommand] }
    var body: [String] = []
    for line in lines where !line.isEmpty && !seen.contains(line) {
        seen.insert(line)
        body.append(line)
    }
    if !body.isEmpty { out += "# which runs, in process (reusing finished runs and evaluations):\n" + body.joined(separator: "\n") + "\n" }
    out += "```\n\n"
    let training = runs.reduce(0) { $0 + $1.trainingSeconds }
    out += "---\n\n"
    out += "*Time: this lesson took \(formatDuration(footer.lessonSeconds)) of wall-clock time in the invocation that wrote it"
    if let total = footer.totalSeconds { out += "; the whole `compare lesson all` took \(formatDuration(total))" }
    out += ". Its runs' stored training time adds up to \(formatDuration(training)).*\n"
    return out
}

/// The plots section: one image per file.
func lessonPlotsSection(_ plots: [(caption: String, file: String)]) -> String {
    guard !plots.isEmpty else { return "" }
    var out = "## Plots\n\n"
    for plot in plots { out += "![\(plot.caption)](\(plot.file))\n\n" }
    return out
}

/// E[log q(x0)] = −H of the runs' test examples, when every run knows it and they agree.
func lessonNegativeEntropy(_ runs: [RunSummary]) -> MeanEstimate? {
    guard let first = runs.first?.evaluation.logDensity else { return nil }
    return MeanEstimate(first)
}

/// The index of IWAE_K in an evaluation, or nil.
func lessonIndex(ofK k: Int, in evaluation: ModelEvaluation) -> Int? { evaluation.sampleCounts.firstIndex(of: k) }
