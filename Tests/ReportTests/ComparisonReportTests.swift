import Core
import Evaluation
import Foundation
import Report
import XCTest

final class ComparisonReportTests: XCTestCase {
    /// The golden files live next to this file; set REPORT_UPDATE_GOLDEN=1 to rewrite them (then review them).
    private func assertMatchesGolden(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
        if ProcessInfo.processInfo.environment["REPORT_UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        if text != expected {
            let actual = text.components(separatedBy: "\n"), golden = expected.components(separatedBy: "\n")
            let index = (0..<min(actual.count, golden.count)).first { actual[$0] != golden[$0] } ?? min(actual.count, golden.count)
            XCTFail("\(name) differs from the golden file at line \(index + 1):\n  got:      \(index < actual.count ? actual[index] : "<end>")\n  expected: \(index < golden.count ? golden[index] : "<end>")",
                    file: file, line: line)
        }
    }

    func testComparisonReport_matchesGoldenForContinuousData() throws {
        let files = try makeComparisonReport(title: "VAE, HVAE and DDPM on gmm2d", runs: Fixtures.gmmRuns,
                                             reportName: "gmm2d", command: Fixtures.gmmCommand)
        try Fixtures.dumpForReview(files)
        try assertMatchesGolden(files[0].text, "gmm2d.md")
    }

    func testComparisonReport_matchesGoldenForDiscreteImages() throws {
        let files = try makeComparisonReport(title: "VAE and DDPM on digits", runs: Fixtures.imageRuns(),
                                             reportName: "Reports/digits.md", command: Fixtures.digitsCommand)
        try Fixtures.dumpForReview(files)
        try assertMatchesGolden(files[0].text, "digits.md")
    }

    func testComparisonReport_namesFilesBesideTheMarkdown() throws {
        let gmm = try makeComparisonReport(title: "t", runs: Fixtures.gmmRuns, reportName: "gmm2d", command: "c")
        XCTAssertEqual(gmm.map(\.name), ["gmm2d.md", "gmm2d-training.svg", "gmm2d-layers.svg", "gmm2d-iwae.svg", "gmm2d-samples.svg"])
        let digits = try makeComparisonReport(title: "t", runs: Fixtures.imageRuns(), reportName: "Reports/digits.md", command: "c")
        XCTAssertEqual(digits.map(\.name), ["digits.md", "digits-layers.svg", "digits-iwae.svg",
                                            "digits-samples-vae.png", "digits-samples-ddpm.png", "digits-neighbours-ddpm.png"])
        // Every other file is linked from the Markdown by its relative name.
        for report in [gmm, digits] {
            for file in report.dropFirst() { XCTAssertTrue(report[0].text.contains("](\(file.name))"), file.name) }
        }
    }

    /// The VAE row computed by hand (numpy, ddof = 1, s.e. = s/√n) rather than read off the golden file.
    /// Runs of one model are told apart by what differs between them: networks, budget, or the file.
    func testRowLabels_nameTheNetworksOrTheBudgetThatTellRunsApart() throws {
        let base = Fixtures.imageRuns()[0]
        func variant(_ path: String, _ architecture: String?, _ budget: Double?) -> RunSummary {
            var run = base
            run.path = path
            run.runIdentity = path
            run.architecture = architecture
            run.cost.budgetSeconds = budget
            run.cost.budgetClock = budget == nil ? nil : "cpu"
            return run
        }
        let ddpm = Fixtures.imageRuns()[1]
        XCTAssertEqual(rowLabels([variant("a.h5", "conv", 60), variant("b.h5", "mlp", 60), ddpm]), ["VAE (conv)", "VAE (MLP)", "DDPM"])
        XCTAssertEqual(rowLabels([variant("a.h5", "mlp", 20), variant("b.h5", "mlp", 120)]), ["VAE (20.0 s)", "VAE (2 min 00 s)"])
        XCTAssertEqual(rowLabels([variant("a.h5", "conv", 20), variant("b.h5", "mlp", 20), variant("c.h5", "mlp", 120)]),
                       ["VAE (conv, 20.0 s)", "VAE (MLP, 20.0 s)", "VAE (MLP, 2 min 00 s)"])
        XCTAssertEqual(rowLabels([variant("Runs/a.h5", "mlp", 20), variant("Runs/b.h5", "mlp", 20)]), ["VAE (a)", "VAE (b)"])
        // DDPMs told apart by their time: T steps or continuous (a stored ELBO_∞), and by budget.
        func diffusion(_ path: String, continuous: Bool, _ budget: Double) -> RunSummary {
            var run = ddpm
            run.path = path
            run.runIdentity = path
            run.cost.budgetSeconds = budget
            run.cost.budgetClock = "cpu"
            if continuous { run.continuousELBO = MeanEstimate(mean: -1, standardError: 0.1, count: 5) }
            return run
        }
        XCTAssertEqual(rowLabels([diffusion("a.h5", continuous: false, 20), diffusion("b.h5", continuous: true, 20),
                                  diffusion("c.h5", continuous: true, 120)]),
                       ["DDPM (T = \(ddpm.latentLayers), 20.0 s)", "DDPM (continuous time, 20.0 s)", "DDPM (continuous time, 2 min 00 s)"])
    }

    func testVAERow_matchesHandComputedEstimates() throws {
        let evaluation = Fixtures.vae.evaluation
        // ELBO = reconstruction − KL = [-2.10, -1.85, -2.40, -2.05, -1.95].
        XCTAssertEqual(evaluation.elboEstimate.mean, -2.07, accuracy: 1e-12)
        XCTAssertEqual(evaluation.elboEstimate.standardError, 0.0930054, accuracy: 1e-6)
        XCTAssertEqual(evaluation.logLikelihoodEstimate.mean, -1.878, accuracy: 1e-12)
        XCTAssertEqual(evaluation.logLikelihoodEstimate.standardError, 0.0904655, accuracy: 1e-6)
        XCTAssertEqual(evaluation.gapEstimate.mean, 0.192, accuracy: 1e-12)
        XCTAssertEqual(evaluation.gapEstimate.standardError, 0.0037417, accuracy: 1e-6)
        XCTAssertEqual(evaluation.jointKLEstimate!.mean, 0.38, accuracy: 1e-12)
        XCTAssertEqual(evaluation.jointKLEstimate!.standardError, 0.0122474, accuracy: 1e-6)
        XCTAssertEqual(evaluation.marginalKLEstimate!.mean, 0.188, accuracy: 1e-12)
        XCTAssertEqual(evaluation.marginalKLEstimate!.standardError, 0.0096954, accuracy: 1e-6)

        let markdown = try makeComparisonReport(title: "t", runs: Fixtures.gmmRuns, reportName: "gmm2d", command: "c")[0].text
        let row = try XCTUnwrap(markdown.components(separatedBy: "\n").first { $0.hasPrefix("| VAE |") })
        XCTAssertEqual(row, "| VAE | 4,612 | 4,578 | 1 | -2.070 ± 0.093 | -1.878 ± 0.090 | 0.1920 ± 0.0037 | "
                          + "0.380 ± 0.012 | 0.1880 ± 0.0097 | 2,000 | 12.3 s |")
        // -H = E[log q(x0)] = -1.690 ± 0.084 in the runs table.
        XCTAssertTrue(markdown.contains("| VAE | `Runs/vae.h5` | latent 2, hidden 64×2 | 5 | 1, 10, 100 | -1.690 ± 0.084 | 1 | 0 |"))
    }

    func testDiscreteReport_showsBitsPerDimension() throws {
        let runs = Fixtures.imageRuns()
        let markdown = try makeComparisonReport(title: "t", runs: runs, reportName: "digits", command: "c")[0].text
        // VAE ELBO = [-38, -36, -39.6, -37.2]: mean -37.7, s.e. 0.75498; bits/dim = 37.7 / (16 ln 2) = 3.39935 ± 0.068076.
        let elbo = runs[0].evaluation.elboEstimate
        XCTAssertEqual(elbo.mean, -37.7, accuracy: 1e-12)
        XCTAssertEqual(elbo.standardError, 0.754983, accuracy: 1e-6)
        XCTAssertEqual(elbo.scaled(by: runs[0].evaluation.bitsPerDimensionFactor).mean, 3.399350, accuracy: 1e-6)
        XCTAssertTrue(markdown.contains("bits/dim (ELBO)"))
        XCTAssertTrue(markdown.contains("| -37.70 ± 0.75 |"))
        XCTAssertTrue(markdown.contains("| 3.399 ± 0.068 |"))
        XCTAssertFalse(markdown.contains("KL_marginal |"), "no KL columns without a known density")
        XCTAssertFalse(markdown.contains("**Densities.**"))
    }

    func testContinuousReport_saysValuesAreDensities() throws {
        let markdown = try makeComparisonReport(title: "t", runs: Fixtures.gmmRuns, reportName: "gmm2d", command: "c")[0].text
        XCTAssertTrue(markdown.contains("log-*density*: values above 0 are normal"))
        XCTAssertFalse(markdown.contains("bits/dim ("), "no bits/dim on continuous data")
    }

    func testComparisonReport_refusesDifferentDatasets() {
        var other = Fixtures.ddpm
        other.datasetName = "checkerboard"
        other.path = "Runs/checker.h5"
        XCTAssertThrowsError(try makeComparisonReport(title: "t", runs: [Fixtures.vae, other], reportName: "r", command: "c")) { error in
            guard case ReportError.mixedData = error else { return XCTFail("unexpected error \(error)") }
            let message = String(describing: error)
            XCTAssertFalse(message.contains("\n"), "one line")
            for part in ["Runs/vae.h5", "Runs/checker.h5", "'gmm2d'", "'checkerboard'", "different datasets"] {
                XCTAssertTrue(message.contains(part), "\(part) missing from: \(message)")
            }
        }
    }

    func testComparisonReport_refusesDifferentLikelihoodsOnTheSameDataset() {
        var runs = Fixtures.imageRuns()
        runs[1].likelihood = .binary
        runs[1].levels = 2
        XCTAssertThrowsError(try makeComparisonReport(title: "t", runs: runs, reportName: "r", command: "c")) { error in
            guard case ReportError.mixedData = error else { return XCTFail("unexpected error \(error)") }
            let message = String(describing: error)
            XCTAssertFalse(message.contains("\n"))
            for part in ["Runs/digits-vae.h5", "Runs/digits-ddpm.h5", "discrete (17 levels)", "binary", "different likelihoods"] {
                XCTAssertTrue(message.contains(part), "\(part) missing from: \(message)")
            }
        }
        // Same kind, different levels: also refused.
        var levels = Fixtures.imageRuns()
        levels[1].levels = 256
        XCTAssertThrowsError(try validateComparable(levels)) { error in
            XCTAssertTrue(String(describing: error).contains("discrete (256 levels)"))
        }
    }

    func testComparisonReport_refusesNoRunsAndInconsistentRuns() {
        XCTAssertThrowsError(try makeComparisonReport(title: "t", runs: [], reportName: "r", command: "c")) { error in
            XCTAssertEqual(error as? ReportError, .noRuns)
        }
        var wrongShape = Fixtures.vae
        wrongShape.exampleShape = [3]
        XCTAssertThrowsError(try validateComparable([wrongShape])) { error in
            guard case ReportError.inconsistentRun = error else { return XCTFail("unexpected error \(error)") }
        }
    }

    func testGroupByData_splitsByDatasetAndLikelihood() {
        var binary = Fixtures.imageRuns()[1]
        binary.likelihood = .binary
        binary.levels = 2
        let groups = groupByData([Fixtures.vae, Fixtures.imageRuns()[0], Fixtures.ddpm, binary])
        XCTAssertEqual(groups.map { $0.map(\.path) },
                       [["Runs/vae.h5", "Runs/ddpm.h5"], ["Runs/digits-vae.h5"], ["Runs/digits-ddpm.h5"]])
        for group in groups { XCTAssertNoThrow(try validateComparable(group)) }
    }

    func testChecks_passOnConsistentRuns() throws {
        for run in Fixtures.gmmRuns {
            let checks = reportChecks(run.evaluation)
            XCTAssertEqual(checks.map(\.kind), ReportCheck.Kind.allCases)
            XCTAssertTrue(checks.allSatisfy { $0.outcome == .pass }, "\(run.model): \(checks)")
        }
        let markdown = try makeComparisonReport(title: "t", runs: Fixtures.gmmRuns, reportName: "gmm2d", command: "c")[0].text
        XCTAssertTrue(markdown.contains("All applicable checks pass."))
        XCTAssertFalse(markdown.contains("FAIL"))
    }

    /// IWAE_K below the ELBO by much more than 3 s.e.: the gap (and KL_joint ≥ KL_marginal) checks fail.
    func testChecks_flagNegativeGap() throws {
        let elboShift = 0.5
        var run = Fixtures.vae
        let base = run.evaluation
        run.evaluation = Fixtures.evaluation(
            dimension: 2, sampleCounts: base.sampleCounts, reconstruction: base.reconstruction.map { $0 + elboShift },
            layerNames: base.layerNames, layerKL: base.layerKL, iwae: base.iwae, logDensity: base.logDensity)
        XCTAssertLessThan(run.evaluation.gapEstimate.mean, -3 * run.evaluation.gapEstimate.standardError)
        let checks = reportChecks(run.evaluation)
        XCTAssertEqual(checks.first { $0.kind == .gapNonNegative }?.outcome, .fail)
        XCTAssertEqual(checks.first { $0.kind == .jointAboveMarginal }?.outcome, .fail)
        XCTAssertEqual(checks.first { $0.kind == .iwaeOneMatchesELBO }?.outcome, .fail)
        XCTAssertEqual(checks.first { $0.kind == .iwaeNonDecreasing }?.outcome, .pass)

        let markdown = try makeComparisonReport(title: "t", runs: [run, Fixtures.ddpm], reportName: "r", command: "c")[0].text
        XCTAssertTrue(markdown.contains("| VAE | **FAIL** (gap = -0.3080 ± 0.0037) |"), markdown)
        // Raising the ELBO by 0.5 nats also lifts it above the entropy ceiling -H (KL_joint was 0.38):
        // the fourth failure, and the impossible-result block under the title.
        XCTAssertEqual(checks.first { $0.kind == .jointNonNegative }?.outcome, .fail)
        XCTAssertTrue(markdown.contains("**4 checks failed:**"), markdown)
        XCTAssertTrue(markdown.contains("> **Impossible result.** VAE (KL_joint = "))
        XCTAssertTrue(markdown.contains("- **VAE** fails \"gap ≥ -3 s.e.\": log p̂ (IWAE_100) is below the ELBO by more than 3 s.e."))
        XCTAssertTrue(markdown.contains("Likely reason: too few test examples"))
        XCTAssertTrue(markdown.contains("too little training"))
        XCTAssertFalse(markdown.contains("All applicable checks pass."))
        XCTAssertTrue(evaluationTable(run).contains("check failed: gap ≥ -3 s.e."))
    }

    func testChecks_flagNegativeMarginalKL() {
        var evaluation = Fixtures.vae.evaluation
        evaluation = Fixtures.evaluation(dimension: 2, sampleCounts: evaluation.sampleCounts, reconstruction: evaluation.reconstruction,
                                         layerNames: evaluation.layerNames, layerKL: evaluation.layerKL, iwae: evaluation.iwae,
                                         logDensity: Fixtures.gmmLogDensity.map { $0 - 1 })
        let check = reportChecks(evaluation).first { $0.kind == .marginalNonNegative }!
        XCTAssertEqual(check.outcome, .fail)
        XCTAssertEqual(check.detail, "KL_marginal = -0.8120 ± 0.0097")
        XCTAssertTrue(check.explanation!.contains("Impossible result"))
        XCTAssertTrue(check.explanation!.contains("a stored log q(x0) that does not belong to these data"))
    }

    /// The entropy ceiling, planted: the stored log q(x0) is 2 nats too low per example, as when the
    /// data were rescaled by e per axis (D = 2) and their density was not. Both ceilings then fail on
    /// every run, and the report says so under its title before any number; the same runs with the
    /// true density show no such block.
    func testPlantedDensityError_failsLoudlyUnderTheTitle() throws {
        let clean = try makeComparisonReport(title: "T", runs: Fixtures.gmmRuns, reportName: "r", command: "c")[0].text
        XCTAssertFalse(clean.contains("Impossible result"))

        let planted = Fixtures.gmmRuns.map { run -> RunSummary in
            var run = run
            let e = run.evaluation
            run.evaluation = ModelEvaluation(exampleCount: e.exampleCount, dataDimension: e.dataDimension, sampleCounts: e.sampleCounts,
                                             elbo: e.elbo, reconstruction: e.reconstruction, layerNames: e.layerNames, layerKL: e.layerKL,
                                             iwae: e.iwae, logDensity: e.logDensity!.map { $0 - 2 })
            return run
        }
        let labels = rowLabels(planted)
        let markdown = try makeComparisonReport(title: "T", runs: planted, reportName: "r", command: "c")[0].text
        XCTAssertTrue(markdown.hasPrefix("# T\n\n> **Impossible result.** \(labels[0]) (KL_joint = "), markdown)
        for (run, label) in zip(planted, labels) {
            let checks = reportChecks(run.evaluation)
            for kind in [BoundInequality.jointNonNegative, .marginalNonNegative] {
                XCTAssertEqual(checks.first { $0.kind == kind }?.outcome, .fail, "\(label) \(kind)")
                XCTAssertTrue(kind.isImpossibleWhenViolated)
            }
            XCTAssertTrue(markdown.contains("- **\(label)** fails \"KL_joint ≥ -3 s.e.\": Impossible result"), label)
            XCTAssertTrue(evaluationTable(run).contains("IMPOSSIBLE: KL_marginal ≥ -3 s.e."))
        }
        // The checks that heavy-tailed weights can break are not called impossible.
        for kind in [BoundInequality.gapNonNegative, .jointAboveMarginal, .iwaeNonDecreasing, .iwaeOneMatchesELBO] {
            XCTAssertFalse(kind.isImpossibleWhenViolated)
        }
    }

    func testChecks_flagIWAEDecreasingInK() {
        let base = Fixtures.vae.evaluation
        let evaluation = Fixtures.evaluation(dimension: 2, sampleCounts: base.sampleCounts, reconstruction: base.reconstruction,
                                             layerNames: base.layerNames, layerKL: base.layerKL,
                                             iwae: [base.iwae[0], base.iwae[2], base.iwae[1]], logDensity: base.logDensity)
        let check = reportChecks(evaluation).first { $0.kind == .iwaeNonDecreasing }!
        XCTAssertEqual(check.outcome, .fail)
        XCTAssertEqual(check.detail, "IWAE_100 - IWAE_10 = -0.0420 ± 0.0037")
        XCTAssertTrue(check.explanation!.contains("too few samples"))
    }

    func testChecks_notApplicableWithoutDensityOrSeveralK() {
        let evaluation = Fixtures.evaluation(dimension: 2, sampleCounts: [8], reconstruction: [-1, -2, -1.5],
                                             layerNames: ["z"], layerKL: [[0.5, 0.6, 0.4]], iwae: [[-1.3, -2.4, -1.8]],
                                             logDensity: nil)
        let outcomes = reportChecks(evaluation).map(\.outcome)
        XCTAssertEqual(outcomes, [.pass, .notApplicable, .notApplicable, .notApplicable, .notApplicable, .notApplicable])
    }

    func testEvaluationTable_listsEveryQuantity() {
        let table = evaluationTable(Fixtures.vae)
        let lines = table.components(separatedBy: "\n")
        XCTAssertEqual(lines[0], "vae on gmm2d (continuous), D = 2, n = 5 test examples, K = 1, 10, 100")
        for expected in ["ELBO                -2.070 ± 0.093", "log p̂ = IWAE_100    -1.878 ± 0.090",
                         "gap = log p̂ - ELBO  0.1920 ± 0.0037", "KL z                0.920 ± 0.012",
                         "E[log q(x0)] = -H   -1.690 ± 0.084", "KL_joint            0.380 ± 0.012",
                         "KL_marginal         0.1880 ± 0.0097"] {
            XCTAssertTrue(lines.contains(expected), "missing line: \(expected)\n\(table)")
        }
        XCTAssertFalse(table.contains("check failed"))
        let digits = evaluationTable(Fixtures.imageRuns()[1])
        XCTAssertTrue(digits.contains("L_0 = -E[log p(x0|x1)]"))
        XCTAssertTrue(digits.contains("bits/dim (log p̂)"))
    }
}
