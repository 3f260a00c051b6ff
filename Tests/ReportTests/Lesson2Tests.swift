import Core
import Evaluation
import Report
import XCTest

final class Lesson2Tests: XCTestCase {
    private var goodRuns: [RunSummary] {
        ["gmm2d", "checkerboard"].flatMap { dataset in
            [LessonFixtures.goodRun(model: .vae, layers: 1, gap: 0.4, dataset: dataset, offset: 0),
             LessonFixtures.goodRun(model: .hvae, layers: 2, gap: 0.3, dataset: dataset, offset: 3),
             LessonFixtures.goodRun(model: .ddpm, layers: 64, gap: 1.6, dataset: dataset, offset: 6)]
        }
    }

    func testLesson2_reportsThatJointBoundsMarginalWhenItDoes() throws {
        let checks = lesson2Checks(goodRuns)
        XCTAssertEqual(checks.count, 6 * 4)
        XCTAssertTrue(checks.allSatisfy(\.holds), checks.filter { !$0.holds }.map(\.measured).joined(separator: "; "))
        let files = try makeLesson2Report(Lesson2Input(runs: goodRuns, footer: LessonFixtures.footer))
        XCTAssertEqual(files.map(\.name), ["lesson-2.md", "lesson-2-kl.svg"])
        let text = LessonFixtures.markdown(files)
        assertHolds(text)
        XCTAssertTrue(text.contains("**gmm2d**") && text.contains("**checkerboard**"))
        XCTAssertTrue(text.contains("KL(q(x_{0:T}) ‖ p(x_{0:T})) ≥ KL(q(x0) ‖ p(x0))"))
        // The identity KL_joint − KL_marginal = gap, shown to rounding for the VAE (gap 0.95 · 0.4 = 0.38).
        let vae = goodRuns[0].evaluation
        XCTAssertEqual(vae.jointKLEstimate!.mean - vae.marginalKLEstimate!.mean, vae.gapEstimate.mean, accuracy: 1e-12)
        XCTAssertTrue(text.contains("| VAE | "))
    }

    func testLesson2_saysPlainlyWhenTheMarginalKLIsNegative() throws {
        var runs = goodRuns
        // The DDPM on checkerboard: log p̂ 0.5 nats above log q(x0) (paired s.e. ≈ 0.005).
        let e = runs[5].evaluation
        let above = e.logDensity!.map { $0 + 0.5 }
        runs[5].evaluation = ModelEvaluation(exampleCount: e.exampleCount, dataDimension: 2, sampleCounts: e.sampleCounts, elbo: e.elbo,
                                             reconstruction: e.reconstruction, layerNames: e.layerNames, layerKL: e.layerKL,
                                             iwae: [e.iwae[0], e.iwae[1], e.iwae[2], above], logDensity: e.logDensity)
        let failed = lesson2Checks(runs).filter { !$0.holds }
        XCTAssertEqual(failed.map(\.statement), ["KL_marginal ≥ 0 (log p̂ ≤ -H)"])
        XCTAssertEqual(failed.first?.subject, "DDPM (T = 64), checkerboard")
        let text = LessonFixtures.markdown(try makeLesson2Report(Lesson2Input(runs: runs, footer: LessonFixtures.footer)))
        assertDoesNotHold(text, statement: "KL_marginal ≥ 0 (log p̂ ≤ -H)", reason: "Impossible: the model's log p̂ exceeds")
    }

    func testLesson2_saysPlainlyWhenTheGapIsNegative() throws {
        var runs = goodRuns
        // The HVAE on gmm2d: log p̂ 0.2 below the ELBO, so KL_joint < KL_marginal beyond noise.
        let e = runs[1].evaluation
        let below = e.elbo.map { $0 - 0.2 }
        runs[1].evaluation = ModelEvaluation(exampleCount: e.exampleCount, dataDimension: 2, sampleCounts: e.sampleCounts, elbo: e.elbo,
                                             reconstruction: e.reconstruction, layerNames: e.layerNames, layerKL: e.layerKL,
                                             iwae: [e.iwae[0], e.iwae[1], e.iwae[2], below], logDensity: e.logDensity)
        let text = LessonFixtures.markdown(try makeLesson2Report(Lesson2Input(runs: runs, footer: LessonFixtures.footer)))
        assertDoesNotHold(text, statement: "KL_joint ≥ KL_marginal", reason: "Likely reason: too few samples")
    }

    func testLesson2_failsWithoutAKnownDensity() {
        let e = goodRuns[0].evaluation
        var run = goodRuns[0]
        run.evaluation = ModelEvaluation(exampleCount: e.exampleCount, dataDimension: 2, sampleCounts: e.sampleCounts, elbo: e.elbo,
                                         reconstruction: e.reconstruction, layerNames: e.layerNames, layerKL: e.layerKL,
                                         iwae: e.iwae, logDensity: nil)
        let checks = lesson2Checks([run])
        XCTAssertEqual(checks.count, 1)
        XCTAssertFalse(checks[0].holds)
        XCTAssertTrue(checks[0].reason!.contains("known density"))
    }
}
