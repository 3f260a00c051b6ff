import Foundation
import XCTest

/// `compare lesson all --smoke`: the real binary runs every lesson end to end (datasets made,
/// models trained, evaluated, reports written) at seconds-long sizes, in a fresh folder.
final class LessonSmokeTests: XCTestCase {
    func testLessonAllSmoke_writesFiveReportsWithTheirChecksAndReusesRuns() throws {
        let manager = FileManager.default
        let folder = manager.temporaryDirectory.appendingPathComponent("compare-lesson-smoke-\(UUID().uuidString)")
        try manager.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? manager.removeItem(at: folder) }

        let first = try runCompare(["lesson", "all", "--smoke"], cwd: folder, timeout: 240)
        XCTAssertFalse(first.signaled, "died from a signal; stderr: \(first.stderr)")
        XCTAssertEqual(first.status, 0, "stderr: \(first.stderr)\nstdout tail: \(first.stdout.suffix(2000))")
        XCTAssertTrue(first.stdout.contains("total wall time:"), first.stdout)

        let reports = folder.appendingPathComponent("Reports/quick/smoke")
        let expected: [(number: Int, title: String, plots: [String])] = [
            (1, "# Lesson 1 — Maximum likelihood", ["lesson-1-iwae.svg", "lesson-1-gain.svg"]),
            (2, "# Lesson 2 — An upper bound on KL(q(x0) ‖ p(x0))", ["lesson-2-kl.svg"]),
            (3, "# Lesson 3 — A DDPM is a hierarchical VAE with a parameterless encoder", ["lesson-3-information.svg", "lesson-3-kl.svg"]),
            (4, "# Lesson 4 — Many easy problems instead of one hard one", ["lesson-4-sweep.svg", "lesson-4-terms.svg", "lesson-4-samples.svg"]),
            (5, "# Lesson 5 — The score-matching view", ["lesson-5-score.svg", "lesson-5-elbo.svg", "lesson-5-rate-distortion.svg"]),
        ]
        for lesson in expected {
            let url = reports.appendingPathComponent("lesson-\(lesson.number).md")
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                XCTFail("lesson-\(lesson.number).md was not written")
                continue
            }
            XCTAssertTrue(text.hasPrefix(lesson.title), "lesson \(lesson.number) starts with: \(text.prefix(80))")
            XCTAssertTrue(text.contains("**Verdict: "), "lesson \(lesson.number) has no verdict")
            XCTAssertTrue(text.contains("## Checks"), "lesson \(lesson.number) has no checks")
            // Every check row says whether it holds; every failure (at these tiny sizes there may be some) gives a reason.
            let rows = text.split(separator: "\n").filter { $0.hasSuffix("| holds |") || $0.hasSuffix("| **DOES NOT HOLD** |") }
            XCTAssertFalse(rows.isEmpty, "lesson \(lesson.number) has no check rows")
            let failures = rows.filter { $0.hasSuffix("| **DOES NOT HOLD** |") }.count
            XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("- **Does not hold:**") }.count, failures)
            XCTAssertTrue(text.contains("compare lesson \(lesson.number) --smoke"), "lesson \(lesson.number) lacks its command")
            XCTAssertTrue(text.contains("the whole `compare lesson all` took"), "lesson \(lesson.number) lacks the total time")
            for plot in lesson.plots {
                XCTAssertTrue(text.contains("](\(plot))"), "lesson \(lesson.number) does not link \(plot)")
                let svg = try? String(contentsOf: reports.appendingPathComponent(plot), encoding: .utf8)
                XCTAssertTrue(svg?.contains("<svg") ?? false, "\(plot) missing or not SVG")
            }
        }
        XCTAssertFalse(manager.fileExists(atPath: folder.appendingPathComponent("Reports/lesson-1.md").path),
                       "a smoke run must not write the committed reports")

        // Again: every run is complete and evaluated, so nothing is trained or evaluated again.
        let second = try runCompare(["lesson", "1", "--smoke"], cwd: folder, timeout: 120)
        XCTAssertEqual(second.status, 0, "stderr: \(second.stderr)")
        XCTAssertTrue(second.stdout.contains("nothing to do"), second.stdout)
        XCTAssertTrue(second.stdout.contains("not evaluating again"), second.stdout)
        XCTAssertFalse(second.stdout.contains("evaluating: "), second.stdout)
    }

    func testLesson_refusesAnUnknownLessonInOneLine() throws {
        assertOneLineFailure(try runCompare(["lesson", "6"]), mentioning: ["'6'", "<lesson>", "'1', '2', '3', '4', '5' or 'all'"])
        assertOneLineFailure(try runCompare(["lesson", "1", "--quick", "--smoke"]), mentioning: ["--quick", "--smoke"])
    }
}
