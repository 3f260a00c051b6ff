import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The reliability promises (docs/guarantees.md) through the real `compare` binary: whole
/// files only, exact resume after Ctrl-C, numerical faults stop training with the last good
/// checkpoint intact, and evaluation refuses to print a non-finite estimate.
final class ReliabilityCLITests: XCTestCase {
    private var folder: ScratchFolder!

    override func setUpWithError() throws {
        folder = try ScratchFolder("ReliabilityCLITests")
        try runCompareSucceeding(["datasets", "make", "gmm2d", "--train", "256", "--test", "32", "--out", "data.h5"], in: folder)
    }

    override func tearDownWithError() throws {
        folder?.remove()
    }

    /// The digests that must agree between a straight and a resumed run: everything but the
    /// wall-clock `training_seconds` (which `compare-fixtures read-checkpoint` leaves out of `attributes`).
    private let comparedParts = ["model", "step", "header", "parameters", "optimizer", "generator", "history", "attributes", "evaluation"]

    /// Promises 2 and 3: Ctrl-C writes a checkpoint, exits with 130 and says how to resume;
    /// the same command line plus --resume then ends bit-identical to an uninterrupted run.
    func testInterrupt_SIGINTCheckpointsAndTheResumedRunEqualsAStraightRun() throws {
        let arguments = ["train", "--model", "vae", "--dataset", "data.h5", "--steps", "300", "--batch-size", "32", "--hidden", "16",
                         "--checkpoint-every", "5", "--evaluate-every", "40", "--log-every", "7", "--out", "run.h5"]
        let straight = try ScratchFolder("ReliabilityCLITests-straight")
        defer { straight.remove() }
        try FileManager.default.copyItem(atPath: folder.path("data.h5"), toPath: straight.path("data.h5"))
        try runCompareSucceeding(arguments, in: straight)

        let running = try RunningCompare(arguments, cwd: folder.url)
        XCTAssertTrue(waitUntil(timeout: 120) { FileManager.default.fileExists(atPath: self.folder.path("run.h5")) }, "no first checkpoint")
        running.send(SIGINT)
        let interrupted = running.wait()
        XCTAssertFalse(interrupted.signaled, "SIGINT must not kill compare: \(interrupted.stderr)")
        XCTAssertEqual(interrupted.status, 130, "stderr: \(interrupted.stderr)")
        XCTAssertTrue(interrupted.stderr.contains("--resume"), "the message must say how to resume: \(interrupted.stderr)")
        XCTAssertTrue(interrupted.stderr.contains("run.h5"), interrupted.stderr)
        XCTAssertEqual(folder.temporaryFiles(), [])
        let saved = try checkpointDigests("run.h5", in: folder)
        let stoppedAt = Int(saved["step"] ?? "") ?? -1
        XCTAssertTrue((1..<300).contains(stoppedAt), "interrupted at step \(stoppedAt)")

        let resumed = try runCompareSucceeding(arguments + ["--resume"], in: folder)
        XCTAssertTrue(resumed.stdout.contains("300 steps"), resumed.stdout)
        let a = try checkpointDigests("run.h5", in: straight), b = try checkpointDigests("run.h5", in: folder)
        for part in comparedParts {
            XCTAssertNotNil(a[part], part)
            XCTAssertEqual(a[part], b[part], "\(part) differs between the straight run and the run interrupted at step \(stoppedAt) and resumed")
        }
        XCTAssertEqual(folder.temporaryFiles(), [])

        // Resuming a finished run changes nothing.
        let bytes = try folder.bytes("run.h5")
        let again = try runCompareSucceeding(arguments + ["--resume"], in: folder)
        XCTAssertTrue(again.stdout.contains("nothing to do"), again.stdout)
        XCTAssertEqual(try folder.bytes("run.h5"), bytes)
    }

    /// Promise 6: a non-finite loss or gradient stops training with one error line naming the
    /// step; the checkpoint written before it is byte-identical afterwards (also when the same
    /// command is resumed and fails again), and `eval` of the diverged model reports an error
    /// instead of printing "nan".
    func testNonFinite_stopsAtTheStepAndLeavesTheLastCheckpointIntact() throws {
        let arguments = ["train", "--model", "vae", "--dataset", "data.h5", "--steps", "50", "--batch-size", "16", "--hidden", "8",
                         "--lr", "1e30", "--clip", "0", "--checkpoint-every", "1", "--evaluate-every", "0", "--out", "run.h5"]
        let first = try runCompare(arguments, cwd: folder.url)
        let step = try assertNonFiniteFailure(first)
        XCTAssertGreaterThan(step, 1, "the first step cannot diverge before any update")
        // Non-finite steps are skipped until 11 come in a row; the error names the first of them,
        // and the last checkpoint is the step before it (skipped steps are not checkpointed).
        let firstSkipped = first.stderr.range(of: "from step ").map { Int(first.stderr[$0.upperBound...].prefix { $0.isNumber }) ?? -1 } ?? step
        XCTAssertEqual(try checkpointDigests("run.h5", in: folder)["step"], String(firstSkipped - 1), "the last good checkpoint is the step before")
        let bytes = try folder.bytes("run.h5")

        let second = try runCompare(arguments + ["--resume"], cwd: folder.url)
        XCTAssertEqual(try assertNonFiniteFailure(second), step, "the resumed run diverges at the same step")
        XCTAssertEqual(try folder.bytes("run.h5"), bytes, "the last good checkpoint must be left byte-identical")
        XCTAssertEqual(folder.temporaryFiles(), [])

        // The diverged model's estimates are not finite: eval refuses rather than printing nan.
        let evaluation = try runCompare(["eval", "run.h5", "--samples", "1,2", "--examples", "8", "--elbo-draws", "1"], cwd: folder.url)
        XCTAssertFalse(evaluation.signaled)
        XCTAssertNotEqual(evaluation.status, 0, "eval of a diverged model must fail: \(evaluation.stdout)")
        XCTAssertFalse(evaluation.stdout.lowercased().contains("nan"), evaluation.stdout)
        let errors = evaluation.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
        XCTAssertEqual(errors.count, 1, evaluation.stderr)
        XCTAssertTrue(errors.first?.contains("not finite") ?? false, evaluation.stderr)
        XCTAssertEqual(try folder.bytes("run.h5"), bytes, "a failed eval must not touch the checkpoint")

        // A fresh run over an existing file that fails before its first checkpoint leaves the
        // old file as it was.
        var overwrite = arguments + ["--overwrite"]
        overwrite[overwrite.firstIndex(of: "--checkpoint-every")! + 1] = "0"
        _ = try assertNonFiniteFailure(try runCompare(overwrite, cwd: folder.url))
        XCTAssertEqual(try folder.bytes("run.h5"), bytes)
        XCTAssertEqual(folder.temporaryFiles(), [])
    }

    /// Checks a non-finite stop: exit status 1, no signal, exactly one `Error:` line (the last
    /// line of stderr; progress lines may precede it) naming the step. Returns the step.
    private func assertNonFiniteFailure(_ result: (status: Int32, stdout: String, stderr: String, signaled: Bool),
                                        file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        XCTAssertFalse(result.signaled, file: file, line: line)
        XCTAssertEqual(result.status, 1, "stderr: \(result.stderr)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        let errors = lines.filter { $0.hasPrefix("Error: ") }
        XCTAssertEqual(errors.count, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(lines.last.map(String.init), errors.first.map(String.init), "the error is the last line", file: file, line: line)
        let message = String(errors.first ?? "")
        XCTAssertTrue(message.contains("not finite"), message, file: file, line: line)
        guard let range = message.range(of: #"step (\d+)"#, options: .regularExpression),
              let step = Int(message[range].dropFirst(5)) else {
            XCTFail("the message names no step: \(message)", file: file, line: line)
            return -1
        }
        return step
    }

    /// Promise 1: every writer leaves no temporary file, and one left by a killed earlier run
    /// (`NAME.tmp`, with garbage in it) is gone after the next run.
    func testStaleTemporaryFiles_areGoneAfterTheNextRun() throws {
        let garbage = ByteSurgery.randomBytes(777, seed: 9)
        let steps: [([String], [String])] = [
            (["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--out", "small.h5"], ["small.h5"]),
            (["train", "--model", "ddpm", "--dataset", "small.h5", "--steps", "3", "--batch-size", "16", "--hidden", "8", "--timesteps", "10", "--out", "run.h5"], ["run.h5"]),
            (["eval", "run.h5", "--samples", "1,2", "--examples", "4", "--elbo-draws", "1"], ["run.h5"]),
            (["sample", "run.h5", "--count", "16", "--out", "s.h5"], ["s.h5"]),
            (["sample", "run.h5", "--count", "16", "--out", "s.svg"], ["s.svg"]),
            (["report", "run.h5", "--out", "r.md"], ["r.md"]),
        ]
        for (arguments, outputs) in steps {
            for output in outputs { try folder.write(garbage, to: output + ".tmp") }
            try runCompareSucceeding(arguments, in: folder)
            XCTAssertEqual(folder.temporaryFiles(), [], "after compare \(arguments.joined(separator: " "))")
            for output in outputs { XCTAssertTrue(FileManager.default.fileExists(atPath: folder.path(output)), output) }
        }
        XCTAssertEqual(try checkpointDigests("run.h5", in: folder)["step"], "3")
        XCTAssertNotEqual(try checkpointDigests("run.h5", in: folder)["evaluation"], "none")
        XCTAssertTrue(try String(contentsOfFile: folder.path("s.svg"), encoding: .utf8).hasSuffix("</svg>\n"))
    }
}
