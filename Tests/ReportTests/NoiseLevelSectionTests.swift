import Core
import Evaluation
import Report
import XCTest

/// The "By noise level" table: the DDPM's KL steps summed over decades of t, the prior and L_0,
/// each cell the mean of per-example sums ± its s.e. — checked against sums done by hand.
final class NoiseLevelSectionTests: XCTestCase {
    /// A DDPM of T = 12 steps on 2 examples: KL steps L_1 … L_11 and the prior L_12. Layer k has
    /// KL k on the first example and 2k on the second, so a range's sums are Σk and 2Σk.
    private func ddpm(path: String, layers: Int) -> RunSummary {
        let names = (1...layers).map { "L_\($0)" }
        let layerKL = (1...layers).map { [Double($0), 2 * Double($0)] }
        let evaluation = Fixtures.evaluation(dimension: 16, sampleCounts: [1], reconstruction: [-3, -5], layerNames: names,
                                             layerKL: layerKL, iwae: [[-80, -160]], logDensity: nil)
        return Fixtures.run(path: path, model: .ddpm, description: "T = \(layers)", datasetName: "digits", likelihood: .discrete,
                            levels: 17, exampleShape: [4, 4], encoderParameters: 0, decoderParameters: 10, latentLayers: layers,
                            trainingSeconds: 1, evaluation: evaluation)
    }

    func testSections_sumEachDecadeOfStepsAndStopAtEachModelsLastStep() throws {
        let short = ddpm(path: "Runs/a.h5", layers: 12)
        let long = ddpm(path: "Runs/b.h5", layers: 120)
        let markdown = try makeComparisonReport(title: "t", runs: [short, long], reportName: "d", command: "c")[0].text
        let lines = markdown.components(separatedBy: "\n")
        func row(_ name: String) throws -> [String] {
            let line = try XCTUnwrap(lines.first { $0.hasPrefix("| \(name) |") }, name)
            return line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        // Sums over examples [s, 2s]: mean 1.5 s, s.e. = s.d. / √2 = (s/√2)/√2 = s / 2.
        XCTAssertEqual(try row("L_1 (the finest step)").suffix(2), ["1.50 ± 0.50", "1.50 ± 0.50"])
        // L_2 … L_10: s = 54 in both.
        XCTAssertEqual(try row("L_2 … L_10").suffix(2), ["81 ± 27", "81 ± 27"])
        // L_11 … L_100: the 12-step model has only L_11 (its L_12 is the prior): s = 11; the other
        // s = Σ 11…100 = 4,995, 7,492.5 ± 2,497.5 to two significant digits of the s.e.
        XCTAssertEqual(try row("L_11 … L_100").suffix(2), ["16.5 ± 5.5", "7500 ± 2500"])
        // L_101 … L_1,000: none for the first, Σ 101…119 = 2,090 for the second: 3,135 ± 1,045.
        XCTAssertEqual(try row("L_101 … L_1,000").suffix(2), ["—", "3100 ± 1000"])
        // The prior is the last layer: 12 and 120.
        XCTAssertEqual(try row("prior (the last layer)").suffix(2), ["18.0 ± 6.0", "180 ± 60"])
        XCTAssertEqual(try row("L_0 (the reconstruction term)").suffix(2), ["4.0 ± 1.0", "4.0 ± 1.0"])
        // -ELBO = -reconstruction + Σ KL: (3 + 78, 5 + 156) and (3 + 7,260, 5 + 14,520).
        XCTAssertEqual(try row("-ELBO (the sum)").suffix(2), ["121 ± 40", "10900 ± 3600"])
    }

    func testSection_isLeftOutWithoutADDPMOfMoreThanTenSteps() throws {
        let markdown = try makeComparisonReport(title: "t", runs: Fixtures.imageRuns(), reportName: "d", command: "c")[0].text
        XCTAssertFalse(markdown.contains("### By noise level"))
        let withOne = try makeComparisonReport(title: "t", runs: Fixtures.imageRuns() + [ddpm(path: "Runs/c.h5", layers: 11)],
                                               reportName: "d", command: "c")[0].text
        XCTAssertTrue(withOne.contains("### By noise level"))
    }
}
