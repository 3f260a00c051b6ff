import Core
import Evaluation
import Report
import XCTest

final class Lesson4Tests: XCTestCase {
    /// A DDPM at T with the given ELBO and log p̂ (K = 100) means on the shared test examples;
    /// per-step KLs that shrink with T, L_T tiny.
    private func ddpm(_ t: Int, elbo: Double, logLikelihood: Double) -> RunSummary {
        let density = LessonFixtures.density
        let e = LessonFixtures.plus(density, LessonFixtures.values(elbo + 0.4, spread: 0.3, 1))
        let gap = logLikelihood - elbo
        let iwae = [0.0, 0.7, 1.0].enumerated().map { j, g in LessonFixtures.plus(e, LessonFixtures.values(g * gap, spread: 0.02, 2 + j)) }
        let steps = (0..<t).map { s in LessonFixtures.values(s == t - 1 ? 1e-5 : 2.0 / Double(t), spread: 0.01 / Double(t), 3 + s % 5) }
        return LessonFixtures.run(model: .ddpm, layers: t, elbo: e, counts: [1, 10, 100], iwae: iwae, logDensity: density, layerKL: steps)
    }

    private func sweep(elboAt16: Double = -1.5) -> [RunSummary] {
        [ddpm(1, elbo: -4.0, logLikelihood: -3.9), ddpm(4, elbo: -3.0, logLikelihood: -2.0), ddpm(16, elbo: elboAt16, logLikelihood: -0.9)]
    }

    private var depth: [RunSummary] {
        [LessonFixtures.goodRun(model: .hvae, layers: 1, gap: 0.3), LessonFixtures.goodRun(model: .hvae, layers: 2, gap: 0.3, offset: 2)]
    }

    private func input(_ sweep: [RunSummary]) -> Lesson4Input {
        Lesson4Input(sweep: sweep, depth: depth, references: [LessonFixtures.goodRun(model: .vae, layers: 1)], termsT: 16,
                     footer: LessonFixtures.footer)
    }

    func testLesson4_reportsManyEasyStepsBeatingOneWhenTheyDo() throws {
        let checks = lesson4Checks(input(sweep()))
        XCTAssertTrue(checks.allSatisfy(\.holds), checks.filter { !$0.holds }.map { "\($0.statement): \($0.measured)" }.joined(separator: "; "))
        XCTAssertTrue(checks.contains { $0.statement == "ELBO(T = 16) ≥ ELBO(T = 1)" })
        XCTAssertTrue(checks.contains { $0.statement == "many easy steps beat one hard step: ELBO(best T = 16) > ELBO(T = 1)" })
        XCTAssertTrue(checks.contains { $0.statement == "log p̂(T = 4) ≥ log p̂(T = 1) (K = 100)" })
        let files = try makeLesson4Report(input(sweep()))
        XCTAssertEqual(files.map(\.name), ["lesson-4.md", "lesson-4-sweep.svg", "lesson-4-terms.svg", "lesson-4-samples.svg"])
        let text = LessonFixtures.markdown(files)
        assertHolds(text)
        XCTAssertTrue(text.contains("cosine schedule"))
        XCTAssertTrue(text.contains("**T = 1** is a VAE whose encoder is fixed to noise"))
        XCTAssertTrue(text.contains("## The hierarchical VAE against depth L"))
    }

    func testLesson4_saysPlainlyWhenMoreStepsGiveAWorseELBO() throws {
        let runs = sweep(elboAt16: -4.6)
        let failed = lesson4Checks(input(runs)).filter { !$0.holds }
        XCTAssertEqual(failed.map(\.statement), ["ELBO(T = 16) ≥ ELBO(T = 1)"])
        let text = LessonFixtures.markdown(try makeLesson4Report(input(runs)))
        assertDoesNotHold(text, statement: "ELBO(T = 16) ≥ ELBO(T = 1)", reason: "Likely reason: too little training: the same 2,000 steps are spread over 16 timesteps")
        // The sentences name the best T and say the ELBO does not keep rising.
        XCTAssertTrue(text.contains("The best ELBO is at **T = 4**"))
        XCTAssertTrue(text.contains("The ELBO does not keep rising with T"))
    }

    func testLesson4_saysPlainlyWhenNoTBeatsOneStep() throws {
        let runs = [ddpm(1, elbo: -2.0, logLikelihood: -1.9), ddpm(4, elbo: -2.0, logLikelihood: -1.9)]
        let text = LessonFixtures.markdown(try makeLesson4Report(input(runs)))
        assertDoesNotHold(text, statement: "many easy steps beat one hard step: ELBO(best T = 4) > ELBO(T = 1)",
                          reason: "Likely reason: too little training")
    }

    // MARK: - The continuous-time part

    /// A continuous-time lesson whose ELBO_T rises with T (or dips at `dipAt`), whose fixed
    /// schedules give ELBO_∞ within noise of the learned one (or off by `shift`), with variances.
    private func continuous(dipAt: Int? = nil, shift: Double = 0, learnedVariance: Double = 3) -> ContinuousTimeLesson {
        let base = LessonFixtures.density
        func reading(_ t: Int?, _ mean: Double, _ k: Int) -> ContinuousTimeLesson.Reading {
            ContinuousTimeLesson.Reading(timesteps: t, elbo: LessonFixtures.plus(base, LessonFixtures.values(mean, spread: 0.01, k)))
        }
        var readings = [reading(1, -9, 1), reading(4, -3, 2), reading(16, -1.6, 3), reading(nil, -1.5, 4)]
        if let dipAt, let index = readings.firstIndex(where: { $0.timesteps == dipAt }) {
            readings[index] = reading(dipAt, -12, 5)
        }
        let limit = readings.last!.elbo
        let schedules = [
            ContinuousTimeLesson.ScheduleReading(schedule: "learned", elbo: limit, diffusionVariance: learnedVariance, draws: 10),
            ContinuousTimeLesson.ScheduleReading(schedule: "linear", elbo: LessonFixtures.plus(limit, LessonFixtures.values(shift, spread: 0.05, 6)),
                                                 diffusionVariance: 7, draws: 10),
            ContinuousTimeLesson.ScheduleReading(schedule: "cosine", elbo: LessonFixtures.plus(limit, LessonFixtures.values(0, spread: 0.05, 7)),
                                                 diffusionVariance: 5, draws: 10),
        ]
        return ContinuousTimeLesson(run: ddpm(17, elbo: -1.6, logLikelihood: -1.0), readings: readings, schedules: schedules,
                                    endPoints: (-13.3, 5))
    }

    private func input(_ sweep: [RunSummary], continuous: ContinuousTimeLesson) -> Lesson4Input {
        Lesson4Input(sweep: sweep, depth: depth, references: [], termsT: 16, continuousTime: continuous, footer: LessonFixtures.footer)
    }

    func testContinuousTime_holdsWhenELBORisesWithTAndTheSchedulesAgree() throws {
        let checks = lesson4Checks(input(sweep(), continuous: continuous()))
        XCTAssertTrue(checks.allSatisfy(\.holds), checks.filter { !$0.holds }.map { "\($0.statement): \($0.measured)" }.joined(separator: "; "))
        for statement in ["ELBO(T = 4) ≥ ELBO(T = 1)", "ELBO(T = ∞) ≥ ELBO(T = 16)",
                          "ELBO_∞ depends on the schedule only through its end points: ELBO_∞(linear) = ELBO_∞(learned)",
                          "the learned schedule has the estimate of least variance"] {
            XCTAssertTrue(checks.contains { $0.statement == statement && $0.subject == "continuous-time DDPM" }, statement)
        }
        let text = LessonFixtures.markdown(try makeLesson4Report(input(sweep(), continuous: continuous())))
        XCTAssertTrue(text.contains("## The DDPM as T → ∞"))
        XCTAssertTrue(text.contains("\n| ∞ | "), "the limit has its row")
        XCTAssertTrue(text.contains("and its estimate varies least"))
        XCTAssertTrue(text.contains("here no larger T is below a smaller one beyond 3 s.e."))
    }

    func testContinuousTime_saysPlainlyWhatFails() throws {
        let failed = lesson4Checks(input(sweep(elboAt16: -4.6), continuous: continuous(dipAt: 16, shift: 0.5, learnedVariance: 9))).filter { !$0.holds }
        XCTAssertEqual(Set(failed.map(\.statement)), [
            "ELBO(T = 16) ≥ ELBO(T = 1)",
            "ELBO(T = 16) ≥ ELBO(T = 4)",
            "ELBO_∞ depends on the schedule only through its end points: ELBO_∞(linear) = ELBO_∞(learned)",
            "the learned schedule has the estimate of least variance",
        ])
        let text = LessonFixtures.markdown(try makeLesson4Report(input(sweep(elboAt16: -4.6),
                                                                          continuous: continuous(dipAt: 16, shift: 0.5, learnedVariance: 9))))
        XCTAssertTrue(text.contains("and here ELBO(T = 16) ="), "the sweep's inversion is named")
        XCTAssertTrue(text.contains("here the cosine schedule's estimate varies less"))
    }
}
