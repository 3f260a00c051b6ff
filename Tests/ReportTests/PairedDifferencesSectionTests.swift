import Evaluation
import Report
import XCTest

/// "Paired differences": each row against the best by log p̂, per example — checked against a
/// computation by hand, and on unequal n (paired on the common prefix).
final class PairedDifferencesSectionTests: XCTestCase {
    private func row(_ markdown: String, _ label: String) throws -> [String] {
        let section = try XCTUnwrap(markdown.components(separatedBy: "## Paired differences").last)
        let line = try XCTUnwrap(section.components(separatedBy: "\n").first { $0.hasPrefix("| \(label) |") }, label)
        return line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func testDifferences_matchAHandComputation() throws {
        // log p̂: VAE [-37.2, -35.1, -38.6, -36.5], DDPM [-33.2, -31.75, -35.0, -33.957]: d = [-4, -3.35, -3.6, -2.543],
        // mean -3.37325, s.d. 0.61488, s.e. 0.30744; bits/dim 3.37325 / (16 ln 2) = 0.30416 ± 0.02772.
        // ELBO (reconstruction − Σ KL): VAE [-38, -36, -39.6, -37.2], DDPM [-33.5, -32.1, -35.3, -34.18]:
        // d = [-4.5, -3.9, -4.3, -3.02], mean -3.93, s.d. 0.65596, s.e. 0.32798.
        let markdown = try makeComparisonReport(title: "t", runs: Fixtures.imageRuns(), reportName: "d", command: "c")[0].text
        XCTAssertTrue(markdown.contains("Each model against the row with the highest log p̂, **DDPM**"))
        XCTAssertEqual(try row(markdown, "VAE"), ["VAE", "4", "-3.37 ± 0.31", "-3.93 ± 0.33", "0.304 ± 0.028", "yes (11 s.e.)"])
    }

    func testUnequalExampleCounts_arePairedOnTheCommonPrefix() throws {
        var runs = Fixtures.imageRuns()
        // The VAE evaluated on its first two examples only: d = [-4, -3.35], mean -3.675, s.e. 0.65/2 = 0.325
        // (0.3249… in floating point, printed 0.32).
        let vae = runs[0].evaluation
        runs[0].evaluation = ModelEvaluation(exampleCount: 2, dataDimension: 16, sampleCounts: vae.sampleCounts,
                                             elbo: Array(vae.elbo.prefix(2)), reconstruction: Array(vae.reconstruction.prefix(2)),
                                             layerNames: vae.layerNames, layerKL: vae.layerKL.map { Array($0.prefix(2)) },
                                             iwae: vae.iwae.map { Array($0.prefix(2)) }, logDensity: nil)
        let markdown = try makeComparisonReport(title: "t", runs: runs, reportName: "d", command: "c")[0].text
        let cells = try row(markdown, "VAE")
        XCTAssertEqual(cells[1], "2")
        XCTAssertEqual(cells[2], "-3.68 ± 0.32")
    }

    func testOneModel_hasNoSection() throws {
        let markdown = try makeComparisonReport(title: "t", runs: [Fixtures.imageRuns()[0]], reportName: "d", command: "c")[0].text
        XCTAssertFalse(markdown.contains("## Paired differences"))
    }
}
