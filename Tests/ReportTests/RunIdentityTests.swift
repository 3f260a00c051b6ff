import Report
import XCTest

/// Datasets are identified by content (SHA-256), not by name, and one run makes one row.
final class RunIdentityTests: XCTestCase {
    func testRunsOnDatasetsThatShareANameButNotTheirBytes_areRefusedAndGroupedApart() {
        var first = Fixtures.vae, second = Fixtures.ddpm
        first.datasetHash = String(repeating: "a", count: 64)
        second.datasetHash = String(repeating: "b", count: 64)
        XCTAssertThrowsError(try makeComparisonReport(title: "t", runs: [first, second], reportName: "r", command: "c")) { error in
            guard case ReportError.mixedData = error else { return XCTFail("unexpected error \(error)") }
            let message = String(describing: error)
            XCTAssertFalse(message.contains("\n"))
            for part in [first.path, second.path, "'gmm2d'", "different contents", "aaaaaaaaaaaa…", "bbbbbbbbbbbb…"] {
                XCTAssertTrue(message.contains(part), "\(part) missing from: \(message)")
            }
        }
        XCTAssertEqual(groupByData([first, second]).map { $0.map(\.path) }, [[first.path], [second.path]])
        second.datasetHash = first.datasetHash
        XCTAssertEqual(groupByData([first, second]).count, 1)
        XCTAssertNoThrow(try validateComparable([first, second]))
    }

    func testTheSameRunTwice_isRefused() {
        XCTAssertThrowsError(try makeComparisonReport(title: "t", runs: [Fixtures.vae, Fixtures.vae], reportName: "r", command: "c")) { error in
            guard case ReportError.repeatedRun(let message) = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertTrue(message.contains("\(Fixtures.vae.path) is given twice"), message)
        }
        var first = Fixtures.vae, again = Fixtures.vae
        first.runIdentity = "1:42"
        again.runIdentity = "1:42"
        again.path = "./" + again.path
        XCTAssertThrowsError(try refuseRepeatedRuns([first, Fixtures.ddpm, again])) { error in
            XCTAssertTrue(String(describing: error).contains("\(first.path) and \(again.path) are the same checkpoint file"))
        }
        again.runIdentity = "1:43"
        XCTAssertNoThrow(try refuseRepeatedRuns([first, again]))
    }

    func testDurationsBeyondAnyRun_printNotAvailableWithoutTrapping() {
        XCTAssertEqual(formatDuration(1e300), "n/a")
        XCTAssertEqual(formatDuration(.infinity), "n/a")
        XCTAssertEqual(formatDuration(-1), "n/a")
        XCTAssertEqual(formatDuration(3723), "1 h 02 min")
    }
}
