import Core
import Evaluation
import Report
import XCTest

final class Lesson1Tests: XCTestCase {
    private var goodRuns: [RunSummary] {
        [LessonFixtures.goodRun(model: .vae, layers: 1, gap: 0.4, offset: 0),
         LessonFixtures.goodRun(model: .hvae, layers: 2, gap: 0.3, offset: 3),
         LessonFixtures.goodRun(model: .ddpm, layers: 64, gap: 1.6, offset: 6)]
    }

    func testLesson1_reportsThatTheChainHoldsWhenItDoes() throws {
        let checks = lesson1Checks(goodRuns)
        // Per model: IWAE_1 = ELBO, three steps in K, the gap closing, the ceiling.
        XCTAssertEqual(checks.count, 3 * 6)
        XCTAssertTrue(checks.allSatisfy(\.holds), checks.filter { !$0.holds }.map(\.measured).joined(separator: "; "))
        let files = try makeLesson1Report(Lesson1Input(runs: goodRuns, footer: LessonFixtures.footer))
        XCTAssertEqual(files.map(\.name), ["lesson-1.md", "lesson-1-iwae.svg", "lesson-1-gain.svg"])
        let text = LessonFixtures.markdown(files)
        assertHolds(text)
        XCTAssertTrue(text.contains("All 18 checks hold."))
        for k in [1, 10, 100, 1000] { XCTAssertTrue(text.contains("IWAE_\(k)")) }
        XCTAssertTrue(text.contains("| VAE |") && text.contains("| HVAE (L = 2) |") && text.contains("| DDPM (T = 64) |"))
        // The footer: sizes, commands, and the times.
        XCTAssertTrue(text.contains("every run 2,000 steps"))
        XCTAssertTrue(text.contains("this lesson took 12.5 s"))
        XCTAssertTrue(text.contains("the whole `compare lesson all` took 1 min 00 s"))
        for file in files.dropFirst() {
            XCTAssertTrue(text.contains("](\(file.name))"))
            XCTAssertTrue(file.text.contains("<svg") && file.text.hasSuffix("</svg>\n"))
        }
    }

    func testLesson1_saysPlainlyWhenIWAEDecreasesInK() throws {
        var runs = goodRuns
        // The VAE's IWAE_1000 falls 0.3 nats below IWAE_100, with a paired s.e. of about 0.006.
        let e = runs[0].evaluation
        let broken = e.iwae[2].map { $0 - 0.3 }
        runs[0].evaluation = ModelEvaluation(exampleCount: e.exampleCount, dataDimension: 2, sampleCounts: e.sampleCounts, elbo: e.elbo,
                                             reconstruction: e.reconstruction, layerNames: e.layerNames, layerKL: e.layerKL,
                                             iwae: [e.iwae[0], e.iwae[1], e.iwae[2], broken], logDensity: e.logDensity)
        let failed = lesson1Checks(runs).filter { !$0.holds }
        XCTAssertTrue(failed.contains { $0.statement == "IWAE_100 ≤ IWAE_1000" && $0.subject == "VAE" })
        XCTAssertTrue(failed.allSatisfy { $0.subject == "VAE" }, failed.map(\.subject).joined(separator: ", "))
        let text = LessonFixtures.markdown(try makeLesson1Report(Lesson1Input(runs: runs, footer: LessonFixtures.footer)))
        assertDoesNotHold(text, statement: "IWAE_100 ≤ IWAE_1000", reason: "Likely reason: too few samples")
        XCTAssertTrue(text.contains("**DOES NOT HOLD**"))
    }

    func testLesson1_toleratesADipWithinThreeStandardErrors() throws {
        var runs = goodRuns
        let e = runs[1].evaluation
        // IWAE_1000 a hair (0.001) below IWAE_100 with per-example noise 0.05: s.e. ≈ 0.011, well within 3 s.e.
        let dip = LessonFixtures.plus(e.iwae[2], LessonFixtures.values(-0.001, spread: 0.05, 11))
        runs[1].evaluation = ModelEvaluation(exampleCount: e.exampleCount, dataDimension: 2, sampleCounts: e.sampleCounts, elbo: e.elbo,
                                             reconstruction: e.reconstruction, layerNames: e.layerNames, layerKL: e.layerKL,
                                             iwae: [e.iwae[0], e.iwae[1], e.iwae[2], dip], logDensity: e.logDensity)
        let check = lesson1Checks(runs).first { $0.subject == "HVAE (L = 2)" && $0.statement == "IWAE_100 ≤ IWAE_1000" }!
        XCTAssertTrue(check.holds, check.measured)
    }

    func testLesson1_flagsABoundAboveTheDataDensity() throws {
        var runs = goodRuns
        let e = runs[2].evaluation
        let above = e.logDensity!.map { $0 + 0.5 }
        runs[2].evaluation = ModelEvaluation(exampleCount: e.exampleCount, dataDimension: 2, sampleCounts: e.sampleCounts, elbo: e.elbo,
                                             reconstruction: e.reconstruction, layerNames: e.layerNames, layerKL: e.layerKL,
                                             iwae: [e.iwae[0], e.iwae[1], e.iwae[2], above], logDensity: e.logDensity)
        let text = LessonFixtures.markdown(try makeLesson1Report(Lesson1Input(runs: runs, footer: LessonFixtures.footer)))
        assertDoesNotHold(text, statement: "IWAE_1000 ≤ E[log q(x0)]", reason: "Gibbs' inequality")
    }

    func testLesson1_refusesRunsOnDifferentData() {
        let runs = [LessonFixtures.goodRun(model: .vae, layers: 1), LessonFixtures.goodRun(model: .ddpm, layers: 4, dataset: "checkerboard")]
        XCTAssertThrowsError(try makeLesson1Report(Lesson1Input(runs: runs, footer: LessonFixtures.footer)))
    }
}
