import Core
import Evaluation
import Report
import XCTest

final class Lesson3Tests: XCTestCase {
    /// VAE (top-layer KL ≈ 3 nats), HVAE (top layer ≈ 0.8) and DDPM (L_T ≈ 1e-5) on gmm2d.
    private func runs(ddpmTop: Double = 1e-5, generic: Double = 0) -> [RunSummary] {
        var vae = LessonFixtures.goodRun(model: .vae, layers: 1, gap: 0.4)
        vae = relayer(vae, [LessonFixtures.values(3.0, spread: 0.4, 4)])
        var hvae = LessonFixtures.goodRun(model: .hvae, layers: 2, gap: 0.3, offset: 3)
        hvae = relayer(hvae, [LessonFixtures.values(2.0, spread: 0.3, 5), LessonFixtures.values(0.8, spread: 0.2, 6)])
        var ddpm = LessonFixtures.goodRun(model: .ddpm, layers: 4, gap: 1.6, offset: 6)
        ddpm = relayer(ddpm, [LessonFixtures.values(1.0, spread: 0.2, 7), LessonFixtures.values(0.5, spread: 0.1, 8),
                              LessonFixtures.values(0.2, spread: 0.05, 9),
                              LessonFixtures.values(ddpmTop, spread: ddpmTop / 10, 10)])
        if generic != 0 {
            let e = ddpm.evaluation
            ddpm.evaluation = ModelEvaluation(exampleCount: e.exampleCount, dataDimension: 2, sampleCounts: e.sampleCounts, elbo: e.elbo,
                                              reconstruction: e.reconstruction, layerNames: e.layerNames, layerKL: e.layerKL,
                                              iwae: [e.iwae[0].map { $0 + generic }] + e.iwae.dropFirst(), logDensity: e.logDensity)
        }
        return [vae, hvae, ddpm]
    }

    /// The same ELBO with other per-layer KLs (the reconstruction absorbs the change).
    private func relayer(_ run: RunSummary, _ layerKL: [[Double]]) -> RunSummary {
        let e = run.evaluation
        var reconstruction = e.elbo
        for layer in layerKL { for i in reconstruction.indices { reconstruction[i] += layer[i] } }
        var result = run
        result.evaluation = ModelEvaluation(exampleCount: e.exampleCount, dataDimension: 2, sampleCounts: e.sampleCounts, elbo: e.elbo,
                                            reconstruction: reconstruction, layerNames: e.layerNames, layerKL: layerKL, iwae: e.iwae,
                                            logDensity: e.logDensity)
        return result
    }

    private func input(_ runs: [RunSummary], vaeLower: Double = 2.0) -> Lesson3Input {
        let profile = InformationProfile(
            label: "DDPM (T = 4)", steps: [1, 2, 3, 4],
            lower: [4.0, 1.0, 0.1, 1e-6].map { MeanEstimate(mean: $0, standardError: $0 / 20, count: 20) },
            upper: [9.0, 2.0, 0.2, 1e-5].map { MeanEstimate(mean: $0, standardError: $0 / 20, count: 20) })
        return Lesson3Input(runs: runs, topLatentLowerBoundTerms: [LessonFixtures.values(vaeLower, spread: 0.3, 12), nil,
                                                                  LessonFixtures.values(0, spread: 1e-4, 13)],
                            diffusionProfile: profile, footer: LessonFixtures.footer)
    }

    func testLesson3_reportsTheAnalogyAndWhereItBreaksWhenTheNumbersAgree() throws {
        let checks = lesson3Checks(input(runs()))
        XCTAssertTrue(checks.allSatisfy(\.holds), checks.filter { !$0.holds }.map { "\($0.statement): \($0.measured)" }.joined(separator: "; "))
        let statements = checks.map(\.statement)
        XCTAssertTrue(statements.contains("generic HVAE path E[log p(x_0:T) - log q(x_1:T|x0)] = closed-form ELBO"))
        XCTAssertTrue(statements.contains("the DDPM's encoder has no parameters"))
        XCTAssertTrue(statements.contains { $0.hasPrefix("x_T carries no information about x0") })
        XCTAssertTrue(statements.contains { $0.hasPrefix("VAE's z carries information about x0") })
        let files = try makeLesson3Report(input(runs()))
        XCTAssertEqual(files.map(\.name), ["lesson-3.md", "lesson-3-information.svg", "lesson-3-kl.svg"])
        let text = LessonFixtures.markdown(files)
        assertHolds(text)
        // Encoder parameters N, M and 0 in one table.
        XCTAssertTrue(text.contains("| VAE | 1,000 |"))
        XCTAssertTrue(text.contains("| HVAE (L = 2) | 2,000 |"))
        XCTAssertTrue(text.contains("| DDPM (T = 4) | 0 |"))
        XCTAssertTrue(text.contains("n/a (q(z_L|x0) has no closed form)".replacingOccurrences(of: "|", with: "\\|")))
    }

    func testLesson3_saysPlainlyWhenTheGenericPathDisagreesWithTheClosedForm() throws {
        let text = LessonFixtures.markdown(try makeLesson3Report(input(runs(generic: 0.5))))
        assertDoesNotHold(text, statement: "generic HVAE path", reason: "Likely reason: too few samples")
        XCTAssertTrue(text.contains("the two paths disagree (a bug)"))
    }

    func testLesson3_saysPlainlyWhenXTStillKnowsX0() throws {
        let failed = lesson3Checks(input(runs(ddpmTop: 0.5))).filter { !$0.holds }
        XCTAssertTrue(failed.contains { $0.statement.hasPrefix("x_T carries no information") })
        let text = LessonFixtures.markdown(try makeLesson3Report(input(runs(ddpmTop: 0.5))))
        assertDoesNotHold(text, statement: "x_T carries no information about x0", reason: "does not end at pure noise")
    }

    func testLesson3_saysPlainlyWhenTheVAEsLatentHasCollapsed() throws {
        let text = LessonFixtures.markdown(try makeLesson3Report(input(runs(), vaeLower: 0.01)))
        assertDoesNotHold(text, statement: "VAE's z carries information about x0", reason: "posterior collapse")
    }
}
