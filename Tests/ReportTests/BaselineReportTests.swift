import Core
import Evaluation
import Foundation
import Report
import XCTest

/// Exact baselines in the comparison report: their rows above the models (numbers computed by
/// hand), the sentence and section that say what they are, their commands under Reproduce, the
/// check "beats the per-pixel baseline" passing, failing and undecided, and the refusals of
/// baselines that do not belong in the table. The image fixtures: VAE and DDPM on 4 × 4 digits
/// (17 levels, D = 16), n = 4, log p̂ = [-37.2, -35.1, -38.6, -36.5] and [-33.2, -31.75, -35.0, -33.957].
final class BaselineReportTests: XCTestCase {
    func baseline(_ kind: BaselineKind = .pixel, _ values: [Double], path: String? = nil, datasetName: String = "digits",
                  levels: Int = 17, shape: [Int] = [4, 4], hash: String = "") -> BaselineSummary {
        let file = path ?? "Runs/baseline-\(kind.rawValue)-digits.h5"
        let command = "compare baseline --dataset Datasets/\(datasetName).h5" + (kind == .uniform ? " --kind uniform" : "") + " --out \(file)"
        return BaselineSummary(
            path: file, kind: kind, label: kind == .pixel ? "per-pixel categorical (add-1)" : "uniform",
            description: kind == .pixel ? "per-pixel categorical, add-1 smoothing of the training counts" : "uniform over 17 levels",
            datasetName: datasetName, datasetPath: "Datasets/\(datasetName).h5", datasetHash: hash, likelihood: .discrete, levels: levels,
            exampleShape: shape, logLikelihoods: values, parameterCount: kind == .pixel ? 16 * 16 : 0, trainingExamples: 1497,
            command: command, evaluateCommand: command)
    }

    func markdown(_ baselines: [BaselineSummary]) throws -> String {
        try makeComparisonReport(title: "t", runs: Fixtures.imageRuns(), baselines: baselines, reportName: "digits",
                                 command: "compare report …")[0].text
    }

    func lines(_ text: String, starting prefix: String) -> [String] {
        text.components(separatedBy: "\n").filter { $0.hasPrefix(prefix) }
    }

    func testRows_areExactAboveTheModels_onTheModelsExamples() throws {
        // Six examples stored; the models have four, so the rows use the first four:
        // mean -45.05, s.e. 0.4113 (by hand: deviations 0.05, 1.05, -0.95, -0.15); bits/dim 45.05/(16 ln 2) = 4.062 ± 0.037.
        let pixel = baseline(.pixel, [-45.0, -44.0, -46.0, -45.2, -80.0, -10.0])
        let uniform = baseline(.uniform, [Double](repeating: -16 * log(17.0), count: 4))
        let text = try markdown([uniform, pixel])
        let table = text.components(separatedBy: "\n").filter { $0.hasPrefix("| ") }
        XCTAssertEqual(table[1], "| baseline: uniform | 0 | 0 | 0 | -45.33 ± 0 | -45.33 ± 0 | 0 (exact) | 4.087 ± 0 | 4.087 ± 0 | — | — |")
        XCTAssertEqual(table[2], "| baseline: per-pixel categorical (add-1) | 0 | 256 | 0 | -45.05 ± 0.41 | -45.05 ± 0.41 | 0 (exact) "
                       + "| 4.062 ± 0.037 | 4.062 ± 0.037 | — | — |")
        XCTAssertTrue(table[3].hasPrefix("| VAE |"), "the models follow the baselines")
        XCTAssertTrue(text.contains("are **exact**"))
        XCTAssertTrue(text.contains("same first n = 4 test examples as the models (`Runs/baseline-pixel-digits.h5` holds 6; the rows use the first 4"))
        XCTAssertTrue(text.contains("## Baselines\n\n| baseline | checkpoint | what it is | parameters | training examples | n |"))
        XCTAssertTrue(text.contains("| baseline: per-pixel categorical (add-1) | `Runs/baseline-pixel-digits.h5` | per-pixel categorical, add-1 smoothing of the training counts | 256 | 1,497 | 4 |"))
        XCTAssertTrue(text.contains("""
            # baselines
            compare baseline --dataset Datasets/digits.h5 --kind uniform --out Runs/baseline-uniform-digits.h5
            compare baseline --dataset Datasets/digits.h5 --out Runs/baseline-pixel-digits.h5
            # this report
            """))
    }

    func testCheck_passes_whenEveryModelIsClearlyAboveThePerPixelBaseline() throws {
        let text = try markdown([baseline(.pixel, [-45.0, -44.0, -46.0, -45.2])])
        XCTAssertTrue(text.contains("| IWAE_1 = ELBO within 3 s.e. | beats the per-pixel baseline |"))
        // VAE: differences 7.8, 8.9, 7.4, 8.7 → 8.20 ± 0.36; DDPM: 11.57 ± 0.28.
        XCTAssertTrue(lines(text, starting: "| VAE | pass").first?.hasSuffix("| pass (log p̂ - log p_pixel = 8.20 ± 0.36) |") == true, text)
        XCTAssertTrue(lines(text, starting: "| DDPM | pass").first?.hasSuffix("| pass (log p̂ - log p_pixel = 11.57 ± 0.28) |") == true, text)
        XCTAssertFalse(text.contains("beats the per-pixel baseline\": this model"))
    }

    func testCheck_fails_withAnExplanationAStudentUnderstands() throws {
        let text = try markdown([baseline(.pixel, [-30.0, -29.0, -31.0, -30.2])])
        XCTAssertTrue(lines(text, starting: "| VAE | pass").first?.hasSuffix("| **FAIL** (log p̂ - log p_pixel = -6.80 ± 0.36) |") == true, text)
        XCTAssertTrue(text.contains("- **VAE** fails \"beats the per-pixel baseline\": this model gives the test images less probability than a "
                                    + "model that treats every pixel as an independent draw from its training histogram: it has not yet learned "
                                    + "how pixels go together. Its log p̂ is below the per-pixel baseline's exact log p by 6.80 ± 0.36 nats per "
                                    + "example (0.613 ± 0.032 bits/dim more) on the same 4 test examples."), text)
        XCTAssertTrue(text.contains("- **DDPM** fails \"beats the per-pixel baseline\""))
        XCTAssertFalse(text.contains("All applicable checks pass."))
    }

    /// A model whose test ELBO during training peaked and fell lastingly (its last two values) is
    /// said to have overfit, and the advice is a shorter budget, not "train longer"; a steady rise,
    /// or one low last value after the peak (noise), says nothing of the kind.
    func testCheck_failure_ofAnOverfitModel_saysItOverfit() throws {
        var runs = Fixtures.imageRuns()
        runs[0].testELBOSteps = [1000, 2000, 3000, 4000]
        runs[0].testELBOs = [-40.0, -36.5, -45.0, -52.0]
        runs[1].testELBOSteps = [1000, 2000, 3000]
        runs[1].testELBOs = [-40.0, -36.5, -36.0]
        func text(_ runs: [RunSummary]) throws -> String {
            try makeComparisonReport(title: "t", runs: runs, baselines: [baseline(.pixel, [-30.0, -29.0, -31.0, -30.2])],
                                     reportName: "digits", command: "c")[0].text
        }
        let vae = try XCTUnwrap(lines(try text(runs), starting: "- **VAE** fails").first)
        XCTAssertTrue(vae.contains("its test ELBO during training peaked at -36.5 nats at step 2,000 and fell to -52.0 by step 4,000: "
                                   + "the model overfit its training examples."), vae)
        XCTAssertFalse(vae.contains("train longer"))
        let ddpm = try XCTUnwrap(lines(try text(runs), starting: "- **DDPM** fails").first)
        XCTAssertFalse(ddpm.contains("overfit"), "a test ELBO that keeps rising is no sign of overfitting")
        XCTAssertTrue(ddpm.contains("train longer"))
        // One low value at the end, right after the peak: noise as likely as overfitting.
        runs[0].testELBOSteps = [1000, 2000, 2060]
        runs[0].testELBOs = [-40.0, -36.5, -52.0]
        let once = try XCTUnwrap(lines(try text(runs), starting: "- **VAE** fails").first)
        XCTAssertFalse(once.contains("overfit"), once)
    }

    func testCheck_inBetween_saysItIsUndecided() throws {
        // VAE: differences -0.2, 0.4, -0.2, 0.1 → 0.02 ± 0.14, within 3 s.e. of 0; DDPM: 3.40 ± 0.27, a pass.
        let text = try markdown([baseline(.pixel, [-37.0, -35.5, -38.4, -36.6])])
        XCTAssertTrue(lines(text, starting: "| VAE | pass").first?.hasSuffix("| undecided (log p̂ - log p_pixel = 0.02 ± 0.14) |") == true, text)
        XCTAssertTrue(text.contains("No check failed.\n\n**Not decided:**\n\n- **VAE** is undecided on \"beats the per-pixel baseline\": "
                                    + "the difference log p̂ - log p_pixel = 0.02 ± 0.14 is within 3 paired standard errors of 0"), text)
    }

    func testBinaryBaseline_isWordedAsCoinFlips() throws {
        var runs = Fixtures.imageRuns()
        for i in runs.indices { runs[i].likelihood = .binary; runs[i].levels = 2 }
        var pixel = baseline(.pixel, [-30.0, -29.0, -31.0, -30.2], levels: 2)
        pixel.likelihood = .binary
        let text = try makeComparisonReport(title: "t", runs: runs, baselines: [pixel], reportName: "b", command: "c")[0].text
        XCTAssertTrue(text.contains("treats every pixel as an independent coin flip with its own training frequency"), text)
    }

    func testWithoutAPerPixelBaseline_thereIsNoBaselineCheck() throws {
        let text = try markdown([baseline(.uniform, [Double](repeating: -16 * log(17.0), count: 4))])
        XCTAssertTrue(text.contains("| baseline: uniform |"))
        XCTAssertFalse(text.contains("beats the per-pixel baseline"))
        XCTAssertTrue(text.contains("All applicable checks pass.") || text.contains("failed:"))
    }

    /// Without baselines the report is exactly what it was (the golden files hold it too).
    func testNoBaselines_leaveTheReportUnchanged() throws {
        let with = try makeComparisonReport(title: "t", runs: Fixtures.imageRuns(), baselines: [], reportName: "d", command: "c")
        let without = try makeComparisonReport(title: "t", runs: Fixtures.imageRuns(), reportName: "d", command: "c")
        XCTAssertEqual(with, without)
        XCTAssertFalse(with[0].text.contains("baseline"))
    }

    func testBaselinesThatDoNotBelong_areRefusedInOneLine() {
        func refusal(_ baselines: [BaselineSummary]) -> String {
            do { _ = try markdown(baselines); return "accepted" } catch { return "\(error)" }
        }
        let values = [-45.0, -44.0, -46.0, -45.2]
        XCTAssertTrue(refusal([baseline(.pixel, values, datasetName: "fashion-mnist")]).hasPrefix("cannot put a baseline of another dataset in this table"))
        XCTAssertTrue(refusal([baseline(.pixel, values, levels: 256)]).hasPrefix("cannot put a baseline under another likelihood"))
        XCTAssertTrue(refusal([baseline(.pixel, values, shape: [16])]).hasPrefix("cannot put a baseline of other data"))
        XCTAssertTrue(refusal([baseline(.pixel, values, hash: "abc")]).contains("different contents"))
        XCTAssertEqual(refusal([baseline(.pixel, [-45.0, -44.0, -46.0])]),
                       "Runs/baseline-pixel-digits.h5: the baseline was evaluated on 3 test examples, fewer than the 4 of Runs/digits-vae.h5; "
                       + "run `compare eval Runs/baseline-pixel-digits.h5 --examples 4` (or without --examples)")
        XCTAssertTrue(refusal([baseline(.pixel, [-45.0, .nan, -46.0, -45.2])]).contains("not a finite log-probability"))
        XCTAssertTrue(refusal([baseline(.pixel, [-45.0, 0.5, -46.0, -45.2])]).contains("not a finite log-probability"))
        XCTAssertTrue(refusal([baseline(.pixel, values), baseline(.pixel, values)]).contains("is given twice"))
        XCTAssertTrue(refusal([baseline(.pixel, values, path: "Runs/digits-vae.h5")]).contains("is given twice"))
        for message in [refusal([baseline(.pixel, values, datasetName: "x")]), refusal([baseline(.pixel, [-1])])] {
            XCTAssertFalse(message.contains("\n"))
        }
    }
}
