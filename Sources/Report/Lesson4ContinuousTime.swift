import Core
import Evaluation
import Foundation

/// Lesson 4's continuous-time part: one DDPM trained in continuous time (a learned log-SNR
/// schedule), read at T steps for a grid of T and in the limit, and the same network's ELBO_∞
/// under schedules that share the learned schedule's end points (docs/math.md#continuous-time-elbo,
/// docs/math.md#discrete-time-elbo-of-a-continuous-model).
public struct ContinuousTimeLesson: Sendable {
    /// ELBO_T of the model on the lesson's n test examples (per example, mean of the draws);
    /// `timesteps` nil is ELBO_∞.
    public struct Reading: Sendable {
        public var timesteps: Int?
        public var elbo: [Double]
        public init(timesteps: Int?, elbo: [Double]) {
            self.timesteps = timesteps
            self.elbo = elbo
        }
    }

    /// ELBO_∞ of the same network under one log-SNR schedule, and the variance of the one-draw
    /// estimate of its diffusion term ½ γ'(t) ‖ε − ε̂‖² over examples, t and ε.
    public struct ScheduleReading: Sendable {
        public var schedule: String
        public var elbo: [Double]
        public var diffusionVariance: Double
        public var draws: Int
        public init(schedule: String, elbo: [Double], diffusionVariance: Double, draws: Int) {
            self.schedule = schedule
            self.elbo = elbo
            self.diffusionVariance = diffusionVariance
            self.draws = draws
        }
    }

    /// The continuous-time run (its evaluation at its stored T, with ELBO_∞ beside).
    public var run: RunSummary
    /// Ascending T, then the limit.
    public var readings: [Reading]
    /// Learned first, then the fixed schedules with its end points.
    public var schedules: [ScheduleReading]
    /// The learned schedule's end points γ(0), γ(1).
    public var endPoints: (start: Double, end: Double)

    public init(run: RunSummary, readings: [Reading], schedules: [ScheduleReading], endPoints: (start: Double, end: Double)) {
        self.run = run
        self.readings = readings
        self.schedules = schedules
        self.endPoints = endPoints
    }

    static func label(_ timesteps: Int?) -> String { timesteps.map { "T = \(formatCount($0))" } ?? "T = ∞" }
}

/// The checks of the continuous-time part:
/// - ELBO_T is non-decreasing along the grid, up to ELBO_∞ (paired, within 3 s.e.): VDM's result
///   for one model read on finer grids of one schedule;
/// - ELBO_∞ is the same under every schedule with the same end points (paired, within 3 s.e.);
/// - the learned schedule's one-draw diffusion term has the smallest variance.
func continuousTimeChecks(_ lesson: ContinuousTimeLesson) -> [LessonCheck] {
    var checks: [LessonCheck] = []
    for (previous, next) in zip(lesson.readings, lesson.readings.dropFirst()) {
        let d = lessonDifference(next.elbo, previous.elbo, paired: true)
        checks.append(LessonCheck(
            statement: "ELBO(\(ContinuousTimeLesson.label(next.timesteps))) ≥ ELBO(\(ContinuousTimeLesson.label(previous.timesteps)))",
            subject: "continuous-time DDPM", measured: "difference = \(lessonFormat(d))", holds: lessonAtLeastZero(d),
            reason: "the finer grid gives a lower ELBO beyond 3 s.e. The statement holds when the network's squared error grows with "
                + "the noise level (docs/math.md#discrete-time-elbo-of-a-continuous-model); here it does not: the denoiser is worse at "
                + "some lower noise level than at a higher one, which more training or a larger network would fix."))
    }
    guard let learned = lesson.schedules.first else { return checks }
    for other in lesson.schedules.dropFirst() {
        let d = lessonDifference(other.elbo, learned.elbo, paired: true)
        checks.append(LessonCheck(
            statement: "ELBO_∞ depends on the schedule only through its end points: ELBO_∞(\(other.schedule)) = ELBO_∞(\(learned.schedule))",
            subject: "continuous-time DDPM", measured: "difference = \(lessonFormat(d))", holds: lessonEqualsZero(d),
            reason: "the two schedules share their end points but their ELBO_∞ differ by more than 3 s.e.: the network is not a "
                + "function of the noise level alone, or an estimate is wrong."))
    }
    let fixed = lesson.schedules.dropFirst()
    if let lowest = fixed.min(by: { $0.diffusionVariance < $1.diffusionVariance }) {
        checks.append(LessonCheck(
            statement: "the learned schedule has the estimate of least variance", subject: "continuous-time DDPM",
            measured: "variance \(formatVariance(learned.diffusionVariance)) (learned) against \(formatVariance(lowest.diffusionVariance)) (\(lowest.schedule))",
            holds: learned.diffusionVariance <= lowest.diffusionVariance,
            reason: "a fixed schedule's one-draw estimate varies less than the learned one's: the schedule's shape was not trained "
                + "long enough on the variance, or the run is too short."))
    }
    return checks
}

/// A variance with four significant digits ("12.35", "0.004127").
func formatVariance(_ value: Double) -> String {
    guard value.isFinite, value != 0 else { return formatFixed(value, decimals: 0) }
    let decimals = Swift.max(0, 3 - Int(log10(abs(value)).rounded(.down)))
    return formatFixed(value, decimals: decimals)
}

/// The section "The DDPM as T → ∞" of lesson 4.
func continuousTimeSection(_ lesson: ContinuousTimeLesson, sweep: [RunSummary]) -> String {
    let run = lesson.run
    var out = "## The DDPM as T → ∞\n\n"
    out += "One DDPM trained in **continuous time** (`--timesteps continuous`, a learned log-SNR schedule γ(t) with end points "
        + "γ(0) = \(formatFixed(lesson.endPoints.start, decimals: 2)), γ(1) = \(formatFixed(lesson.endPoints.end, decimals: 2)); "
        + "the same ε-network and \(formatCount(run.trainingSteps)) training steps as the sweep), then read as a hierarchical VAE "
        + "of T + 1 latent layers on the uniform grid t = i/T, for each T of the sweep and in the limit "
        + "(docs/math.md#discrete-time-elbo-of-a-continuous-model). Same n test examples as the sweep; nats per example.\n\n"
    var table = MarkdownTable(headers: ["T", "ELBO_T (continuous-time model)", "change from the previous T", "ELBO (DDPM trained at this T)"],
                              alignments: [.right, .right, .right, .right])
    var previous: ContinuousTimeLesson.Reading?
    for reading in lesson.readings {
        let change = previous.map { lessonFormat(lessonDifference(reading.elbo, $0.elbo, paired: true)) } ?? "-"
        let trained = reading.timesteps.flatMap { t in sweep.first { $0.latentLayers == t } }.map { lessonFormat($0.evaluation.elboEstimate) } ?? "-"
        table.append([reading.timesteps.map(formatCount) ?? "∞", lessonFormat(MeanEstimate(reading.elbo)), change, trained])
        previous = reading
    }
    out += table.text + "\n"
    let e = run.evaluation
    var evaluated = "Its evaluation at T = \(formatCount(max(1, run.latentLayers - 1))): ELBO \(lessonFormat(e.elboEstimate)), "
        + "log p̂ (K = \(e.maximumSampleCount)) \(lessonFormat(e.logLikelihoodEstimate)), gap \(lessonFormat(e.gapEstimate))"
    if let entropy = lessonNegativeEntropy([run]) { evaluated += " (the ceiling of every bound: E[log q(x0)] = -H = \(lessonFormat(entropy)))" }
    if let best = sweep.max(by: { $0.evaluation.elboEstimate.mean < $1.evaluation.elboEstimate.mean }) {
        evaluated += "; the sweep's best ELBO, at T = \(best.latentLayers), is \(lessonFormat(best.evaluation.elboEstimate)) with "
            + "log p̂ \(lessonFormat(best.evaluation.logLikelihoodEstimate))"
    }
    out += evaluated + ".\n\n"
    // What the sweep itself shows: is some larger T below a smaller one beyond 3 s.e.?
    let ordered = sweep.sorted { $0.latentLayers < $1.latentLayers }
    var inversion: (small: RunSummary, large: RunSummary)?
    for (i, small) in ordered.enumerated() {
        for large in ordered[(i + 1)...] {
            let d = lessonDifference(large.evaluation.elbo, small.evaluation.elbo, paired: lessonSameExamples(large.evaluation, small.evaluation))
            if !lessonAtLeastZero(d), inversion == nil { inversion = (small, large) }
        }
    }
    let sweepFinding = inversion.map { pair in
        ", and here ELBO(T = \(pair.large.latentLayers)) = \(lessonFormat(pair.large.evaluation.elboEstimate)) is below "
            + "ELBO(T = \(pair.small.latentLayers)) = \(lessonFormat(pair.small.evaluation.elboEstimate)) beyond 3 s.e."
    } ?? " (here no larger T is below a smaller one beyond 3 s.e., but nothing guarantees it)."
    out += "**Which statement holds for which model.** The sweep above trains a different model for every T: each has its "
        + "own β schedule and its denoiser sees 1/T of the examples per step, so nothing orders their ELBOs in T" + sweepFinding
        + " The continuous-time model is one model read at different T on one schedule: "
        + "splitting a step s < t at u changes −ELBO by −½ (SNR(s) − SNR(u)) (e(t) − e(u)), where e is the denoiser's squared "
        + "error at a noise level, so refining the grid never lowers the ELBO as long as e grows with the noise (VDM, Appendix "
        + "A.3); in expectation ELBO_T then rises to ELBO_∞ like 1/T. The checks below test it on these numbers.\n\n"
    if !lesson.schedules.isEmpty {
        out += "**Schedule invariance.** In continuous time the diffusion term is ½ ∫ γ'(t) E‖ε − ε̂‖² dt = ½ ∫_{γ(0)}^{γ(1)} "
            + "E‖ε − ε̂(z_γ; γ)‖² dγ: with a network that reads the noise level, ELBO_∞ depends on the schedule only through its "
            + "end points. The trained network under three schedules with the learned one's end points "
            + "(\(lesson.schedules.first.map { "\($0.draws)" } ?? "?") draws of t and ε per example):\n\n"
        var schedules = MarkdownTable(headers: ["schedule", "ELBO_∞", "difference from learned", "variance of the one-draw diffusion term"],
                                      alignments: [.left, .right, .right, .right])
        let learned = lesson.schedules[0]
        for reading in lesson.schedules {
            let difference = reading.schedule == learned.schedule ? "-" : lessonFormat(lessonDifference(reading.elbo, learned.elbo, paired: true))
            schedules.append([reading.schedule, lessonFormat(MeanEstimate(reading.elbo)), difference, formatVariance(reading.diffusionVariance)])
        }
        out += schedules.text + "\n"
        let lowest = lesson.schedules.min { $0.diffusionVariance < $1.diffusionVariance }!
        out += "The same bound, estimated with different noise. The learned schedule was trained to minimise that variance "
            + "(its shape descends the mean square of the diffusion term, its end points the loss; docs/math.md#log-snr-schedules)"
            + (lowest.schedule == learned.schedule
               ? ", and its estimate varies least: it needs the fewest draws for a given standard error.\n\n"
               : "; here the \(lowest.schedule) schedule's estimate varies less (\(formatVariance(lowest.diffusionVariance)) against "
                 + "\(formatVariance(learned.diffusionVariance))): the learned shape has not converged on this training budget.\n\n")
    }
    return out
}
