import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// One output-safety case: a folder set up from the fixtures (see
/// ``OutputSafetyCLITests/fixtures``), a `compare` command line that must be refused, and the
/// fragments its one stderr line must hold. Every case also asserts: no crash signal, no hang,
/// no leftover `*.tmp` or `*.lock`, and every pre-existing file byte-identical.
struct OutputSafetyCase {
    let name: String
    var setup: (ScratchFolder) throws -> Void = { _ in }
    let arguments: [String]
    let expected: [String]
    /// Whether the refusal must come before any work (well under a second, even with a long run).
    var upFront = false
}

/// A long training run: a refusal that comes after it started would take many seconds.
private func longTrain(out: String, dataset: String = "data.h5", _ extra: [String] = []) -> [String] {
    ["train", "--model", "vae", "--dataset", dataset, "--steps", "100000", "--batch-size", "16", "--hidden", "8",
     "--checkpoint-every", "0", "--out", out] + extra
}

private func symlink(_ target: String, as name: String) -> (ScratchFolder) throws -> Void {
    { folder in try FileManager.default.createSymbolicLink(atPath: folder.path(name), withDestinationPath: target) }
}

private func copy(_ source: String, as name: String) -> (ScratchFolder) throws -> Void {
    { folder in try folder.copy(source, to: name) }
}

enum OutputSafetyCorpus {
    static let cases: [OutputSafetyCase] = clobbering + lateChecks

    /// Every kind pair the commands can meet: a file is replaced only by its own kind, and only
    /// with --overwrite (a report its own previous report); an output equal to an input never.
    static let clobbering: [OutputSafetyCase] = [
        OutputSafetyCase(name: "sample over its own checkpoint", arguments: ["sample", "vae.h5", "--out", "vae.h5", "--overwrite"],
                         expected: ["--out vae.h5", "input vae.h5"]),
        OutputSafetyCase(name: "sample over another checkpoint", setup: copy("vae.h5", as: "other.h5"),
                         arguments: ["sample", "vae.h5", "--out", "other.h5", "--overwrite"], expected: ["other.h5", "is a checkpoint", "--overwrite"]),
        OutputSafetyCase(name: "sample over a dataset", arguments: ["sample", "vae.h5", "--out", "data.h5", "--overwrite"],
                         expected: ["data.h5", "is a dataset"]),
        OutputSafetyCase(name: "sample over a sample file without --overwrite", arguments: ["sample", "vae.h5", "--out", "s.h5"],
                         expected: ["--out s.h5", "exists", "--overwrite"]),
        OutputSafetyCase(name: "sample over a checkpoint through a symlink", setup: symlink("vae.h5", as: "link.h5"),
                         arguments: ["sample", "evaluated.h5", "--out", "link.h5", "--overwrite"], expected: ["link.h5", "is a checkpoint"]),
        OutputSafetyCase(name: "sample over a plot without --overwrite", setup: { try $0.write("<svg></svg>\n", to: "p.svg") },
                         arguments: ["sample", "vae.h5", "--out", "p.svg"], expected: ["--out p.svg", "exists"]),
        OutputSafetyCase(name: "make over a checkpoint", arguments: ["datasets", "make", "gmm2d", "--out", "vae.h5", "--overwrite"],
                         expected: ["vae.h5", "is a checkpoint"]),
        OutputSafetyCase(name: "make over a sample file", arguments: ["datasets", "make", "gmm2d", "--out", "s.h5", "--overwrite"],
                         expected: ["s.h5", "is a sample file"]),
        OutputSafetyCase(name: "make over a dataset without --overwrite", arguments: ["datasets", "make", "gmm2d", "--out", "data.h5"],
                         expected: ["data.h5", "exists", "--overwrite"]),
        OutputSafetyCase(name: "import over a checkpoint",
                         arguments: ["datasets", "import", "digits", "--source", "digits.csv.gz", "--out", "vae.h5", "--overwrite"],
                         expected: ["vae.h5", "is a checkpoint"]),
        OutputSafetyCase(name: "import over its own source", setup: copy("data.h5", as: "src.h5"),
                         arguments: ["datasets", "import", "digits", "--source", "src.h5", "--out", "src.h5", "--overwrite"],
                         expected: ["src.h5", "input"]),
        OutputSafetyCase(name: "train over its dataset", arguments: longTrain(out: "data.h5", ["--overwrite"]),
                         expected: ["--out data.h5", "input data.h5"], upFront: true),
        OutputSafetyCase(name: "train over its dataset through a symlink", setup: symlink("data.h5", as: "dlink.h5"),
                         arguments: longTrain(out: "dlink.h5", ["--overwrite"]), expected: ["dlink.h5", "input data.h5"], upFront: true),
        OutputSafetyCase(name: "train over another dataset", setup: copy("data.h5", as: "other.h5"),
                         arguments: longTrain(out: "other.h5", ["--overwrite"]), expected: ["other.h5", "is a dataset"], upFront: true),
        OutputSafetyCase(name: "train over a sample file", arguments: longTrain(out: "s.h5", ["--overwrite"]),
                         expected: ["s.h5", "is a sample file"], upFront: true),
        OutputSafetyCase(name: "train over a checkpoint without --overwrite", arguments: longTrain(out: "vae.h5"),
                         expected: ["vae.h5", "exists", "--resume", "--overwrite"], upFront: true),
        OutputSafetyCase(name: "report over a user's Markdown", setup: { try $0.write("# my notes\n", to: "notes.md") },
                         arguments: ["report", "evaluated.h5", "--out", "notes.md"], expected: ["notes.md", "not a report"]),
        OutputSafetyCase(name: "report over a checkpoint named .md", setup: copy("vae.h5", as: "ck.md"),
                         arguments: ["report", "evaluated.h5", "--out", "ck.md"], expected: ["ck.md", "not a report", "checkpoint"]),
    ]

    /// Output problems found before any work: a long run is refused at once.
    static let lateChecks: [OutputSafetyCase] = [
        OutputSafetyCase(name: "train into a folder", setup: { try FileManager.default.createDirectory(atPath: $0.path("dir.h5"), withIntermediateDirectories: false) },
                         arguments: longTrain(out: "dir.h5"), expected: ["--out dir.h5", "folder"], upFront: true),
        OutputSafetyCase(name: "train to a name ending in /", arguments: longTrain(out: "sub/"), expected: ["--out sub/", "folder"], upFront: true),
        OutputSafetyCase(name: "train to an empty name", arguments: longTrain(out: ""), expected: ["--out", "empty"], upFront: true),
        OutputSafetyCase(name: "make into a folder", setup: { try FileManager.default.createDirectory(atPath: $0.path("dir.h5"), withIntermediateDirectories: false) },
                         arguments: ["datasets", "make", "gmm2d", "--out", "dir.h5", "--overwrite"], expected: ["dir.h5", "folder"], upFront: true),
        OutputSafetyCase(name: "sample into a folder", setup: { try FileManager.default.createDirectory(atPath: $0.path("dir.h5"), withIntermediateDirectories: false) },
                         arguments: ["sample", "vae.h5", "--out", "dir.h5", "--overwrite"], expected: ["dir.h5", "folder"], upFront: true),
        OutputSafetyCase(name: "train under a regular file", arguments: longTrain(out: "data.h5/run.h5"),
                         expected: ["data.h5/run.h5", "not a folder"], upFront: true),
        OutputSafetyCase(name: "train into a missing folder", arguments: longTrain(out: "missing/run.h5"),
                         expected: ["missing/run.h5", "does not exist"], upFront: true),
    ]
}

final class OutputSafetyCLITests: XCTestCase {
    /// The fixtures every case starts from: `data.h5`, `vae.h5`, `evaluated.h5`, `example.h5`
    /// (``BadInputCorpusTests/makeFixtures(in:)``), `s.h5` (samples of vae.h5) and `r.md` (a report).
    nonisolated(unsafe) private static var fixtures: ScratchFolder?

    private static func fixtureFolder() throws -> ScratchFolder {
        if let fixtures { return fixtures }
        let folder = try ScratchFolder("output-safety-fixtures")
        try BadInputCorpusTests.makeFixtures(in: folder)
        try runCompareSucceeding(["sample", "vae.h5", "--count", "16", "--out", "s.h5"], in: folder)
        try runCompareSucceeding(["report", "evaluated.h5", "--out", "r.md"], in: folder)
        fixtures = folder
        return folder
    }

    override class func tearDown() {
        fixtures?.remove()
        fixtures = nil
        super.tearDown()
    }

    /// A fresh folder holding copies of the fixtures.
    private func caseFolder() throws -> ScratchFolder {
        let source = try Self.fixtureFolder()
        let folder = try ScratchFolder("output-safety-case")
        for name in try FileManager.default.contentsOfDirectory(atPath: source.url.path) {
            try FileManager.default.copyItem(atPath: source.path(name), toPath: folder.path(name))
        }
        return folder
    }

    /// Leftover temporary or lock files under `folder`.
    private func leftovers(_ folder: ScratchFolder) -> [String] {
        folder.snapshot().keys.filter { $0.hasSuffix(".tmp") || $0.hasSuffix(".lock") }.sorted()
    }

    /// The refusal convention: one line with every fragment, no signal, no leftovers, and the
    /// folder exactly as it was.
    private func assertRefused(_ result: (status: Int32, stdout: String, stderr: String, signaled: Bool), in folder: ScratchFolder,
                               before: [String: Data], mentioning fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        assertOneLineFailure(result, mentioning: fragments, file: file, line: line)
        XCTAssertEqual(leftovers(folder), [], file: file, line: line)
        XCTAssertEqual(folder.snapshot(), before, "a refused command must leave every file as it was", file: file, line: line)
    }

    /// A failure after work started (train, eval print progress lines first): no signal, a
    /// non-zero exit, exactly one `Error:` line, last, holding every fragment; any other line is
    /// a progress line.
    private func assertFailsWithOneErrorLine(_ result: (status: Int32, stdout: String, stderr: String, signaled: Bool), mentioning fragments: [String],
                                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(result.signaled, "died from signal \(result.status): \(result.stderr)", file: file, line: line)
        XCTAssertNotEqual(result.status, 0, file: file, line: line)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let errors = lines.filter { $0.hasPrefix("Error: ") }
        XCTAssertEqual(errors.count, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(lines.last, errors.first, "the error is the last line: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("Error: ") || $0.hasPrefix("train ") || $0.hasPrefix("eval ") }, result.stderr, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(result.stderr.contains(fragment), "stderr '\(result.stderr)' lacks '\(fragment)'", file: file, line: line)
        }
    }

    func testCorpus_isLarge() {
        XCTAssertGreaterThanOrEqual(OutputSafetyCorpus.cases.count, 25)
        XCTAssertEqual(Set(OutputSafetyCorpus.cases.map(\.name)).count, OutputSafetyCorpus.cases.count)
    }

    /// Clobbering and late output checks: each case is refused with one line, changes nothing,
    /// and (up-front cases) fails in well under a second although it asks for a long run.
    func testCorpus_everyUnsafeOutputIsRefusedBeforeAnyWork() throws {
        for item in OutputSafetyCorpus.cases {
            let folder = try caseFolder()
            defer { folder.remove() }
            try item.setup(folder)
            let before = folder.snapshot()
            let started = Date()
            let result = try runCompare(item.arguments, cwd: folder.url, timeout: 30)
            let seconds = Date().timeIntervalSince(started)
            activity(item.name) {
                assertRefused(result, in: folder, before: before, mentioning: item.expected)
                if item.upFront { XCTAssertLessThan(seconds, 1.5, "[\(item.name)] refused only after \(seconds) s: too late") }
            }
            if ProcessInfo.processInfo.environment["CORPUS_PRINT"] != nil {
                print("[\(item.name)] \(String(format: "%.2f", seconds)) s: \(result.stderr.trimmingCharacters(in: .newlines))")
            }
        }
    }

    // MARK: read-only folders

    /// A read-only tmpfs (root only; skipped otherwise). Returns its path; unmounted by `defer`.
    private func readOnlyMount(in folder: ScratchFolder) throws -> String {
        let mountPoint = folder.path("ro")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let result = try shell("mount -t tmpfs -o ro,size=64k tmpfs '\(mountPoint)'")
        if result != 0 {
            print("OutputSafetyCLITests: skipping read-only folder cases: cannot mount a read-only tmpfs (not root?)")
            throw XCTSkip("cannot mount a read-only tmpfs (needs root)")
        }
        return mountPoint
    }

    /// A bare `--out run.h5` in a read-only current folder, and `--out ro/…` for train, make,
    /// sample and report: refused at once, before training.
    func testReadOnlyFolders_includingTheCurrentOne_areRefusedUpFront() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        let readOnly = try readOnlyMount(in: folder)
        defer { _ = try? shell("umount '\(readOnly)'") }
        let before = folder.snapshot()
        let cases: [(String, [String], URL, [String])] = [
            ("bare name in a read-only cwd", longTrain(out: "run.h5", dataset: folder.path("data.h5")), URL(fileURLWithPath: readOnly), ["run.h5", "cannot be written"]),
            ("train into a read-only folder", longTrain(out: "ro/run.h5"), folder.url, ["ro/run.h5", "cannot be written"]),
            ("make into a read-only folder", ["datasets", "make", "gmm2d", "--out", "ro/d.h5"], folder.url, ["ro/d.h5", "cannot be written"]),
            ("sample into a read-only folder", ["sample", "vae.h5", "--out", "ro/s.h5"], folder.url, ["ro/s.h5", "cannot be written"]),
            ("report into a read-only folder", ["report", "evaluated.h5", "--out", "ro/r.md"], folder.url, ["ro/r.md", "cannot be written"]),
        ]
        for (name, arguments, cwd, expected) in cases {
            let started = Date()
            let result = try runCompare(arguments, cwd: cwd, timeout: 30)
            activity(name) {
                assertRefused(result, in: folder, before: before, mentioning: expected)
                XCTAssertLessThan(Date().timeIntervalSince(started), 1.5, "\(name): refused too late")
            }
        }
    }

    // MARK: symbolic links

    /// `--resume --out link.h5` and `datasets make --overwrite --out link.h5` write through the
    /// link: the link stays a link and its target holds the new file.
    func testSymlinks_areWrittenThrough() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder.path("real"), withIntermediateDirectories: true)
        try folder.copy("vae.h5", to: "real/run.h5")
        try FileManager.default.createSymbolicLink(atPath: folder.path("link.h5"), withDestinationPath: "real/run.h5")
        let train = ["train", "--model", "vae", "--dataset", "data.h5", "--steps", "4", "--batch-size", "16", "--hidden", "8", "--out", "link.h5", "--resume"]
        try runCompareSucceeding(train, in: folder)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: folder.path("link.h5")), "real/run.h5", "the link must stay a link")
        XCTAssertEqual(try checkpointDigests("real/run.h5", in: folder)["step"], "4")
        try FileManager.default.createSymbolicLink(atPath: folder.path("dlink.h5"), withDestinationPath: "real/d.h5")
        try runCompareSucceeding(["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--out", "dlink.h5"], in: folder)  // dangling link
        try runCompareSucceeding(["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--seed", "3", "--out", "dlink.h5", "--overwrite"], in: folder)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: folder.path("dlink.h5")), "real/d.h5")
        XCTAssertTrue(try runCompare(["datasets", "info", "real/d.h5"], cwd: folder.url).stdout.contains("gmm2d"))
        XCTAssertEqual(leftovers(folder), [])
    }

    // MARK: concurrency

    /// Holds `NAME.lock` the way a writer does (flock, our pid inside) while `body` runs.
    private func holdingLock(_ path: String, _ body: () throws -> Void) throws {
        let fd = open(path + ".lock", O_RDWR | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { unlink(path + ".lock"); close(fd) }
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        let text = "\(getpid())\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        try body()
    }

    /// Every writer (train fresh, --resume, --overwrite, eval, sample, datasets make, report)
    /// is refused at once, with the file and the holder's pid, while another process holds the
    /// output's lock; the files stay as they were.
    func testLockedOutputs_refuseEverySecondWriterAtOnce() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        let pid = String(getpid())
        let writers: [(String, [String])] = [
            ("vae.h5", longTrain(out: "vae.h5", ["--resume"])),
            ("vae.h5", longTrain(out: "vae.h5", ["--overwrite"])),
            ("new.h5", longTrain(out: "new.h5")),
            ("vae.h5", ["eval", "vae.h5", "--samples", "1,2", "--examples", "4"]),
            ("s.h5", ["sample", "vae.h5", "--out", "s.h5", "--overwrite"]),
            ("d.h5", ["datasets", "make", "gmm2d", "--out", "d.h5"]),
            ("r.md", ["report", "evaluated.h5", "--out", "r.md"]),
        ]
        for (output, arguments) in writers {
            try holdingLock(folder.path(output)) {
                let before = folder.snapshot()
                let started = Date()
                let result = try runCompare(arguments, cwd: folder.url, timeout: 30)
                activity(arguments.joined(separator: " ")) {
                    assertOneLineFailure(result, mentioning: [output, "pid \(pid)"])
                    XCTAssertLessThan(Date().timeIntervalSince(started), 1.5)
                    XCTAssertEqual(folder.snapshot(), before)
                }
            }
        }
        XCTAssertEqual(leftovers(folder), [])
    }

    /// A real second `train` (--resume, --overwrite) and an `eval` of the checkpoint a running
    /// `train` writes are refused with the running one's pid; the first then stops on SIGINT
    /// with its checkpoint as usual.
    func testSecondWriterOfARunningCheckpoint_isRefusedWithTheHoldersPid() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        let arguments = longTrain(out: "run.h5", ["--checkpoint-every", "20"])
        let first = try RunningCompare(arguments, cwd: folder.url)
        XCTAssertTrue(waitUntil(timeout: 30) { FileManager.default.fileExists(atPath: folder.path("run.h5")) }, "no first checkpoint")
        let pid = "pid \(first.process.processIdentifier)"
        for extra in [["--resume"], ["--overwrite"]] {
            let started = Date()
            assertOneLineFailure(try runCompare(arguments + extra, cwd: folder.url, timeout: 30), mentioning: ["run.h5", pid])
            XCTAssertLessThan(Date().timeIntervalSince(started), 1.5)
        }
        assertOneLineFailure(try runCompare(["eval", "run.h5"], cwd: folder.url, timeout: 30), mentioning: ["run.h5", pid])
        assertOneLineFailure(try runCompare(["sample", "vae.h5", "--out", "run.h5", "--overwrite"], cwd: folder.url, timeout: 30),
                             mentioning: ["run.h5", pid])
        first.send(SIGINT)
        let done = first.wait(timeout: 30)
        XCTAssertEqual(done.status, 130, done.stderr)
        XCTAssertGreaterThan(Int(try checkpointDigests("run.h5", in: folder)["step"] ?? "") ?? 0, 0)
        XCTAssertEqual(leftovers(folder), [])
    }

    /// Stale temporary files of dead writers are removed by the next writer of that file; a
    /// live process's temporary file is left alone.
    func testStaleTemporaries_ofDeadProcessesOnly_areRemoved() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        let dead = "vae.h5.\(Int32.max - 1).tmp", live = "vae.h5.\(getpid()).tmp"
        try folder.write([1, 2, 3], to: dead)
        try folder.write([4, 5, 6], to: live)
        try folder.write([7], to: "vae.h5.lock")  // a lock file left by a killed writer
        try runCompareSucceeding(["eval", "vae.h5", "--samples", "1,2", "--examples", "4", "--elbo-draws", "1"], in: folder)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path(dead)), "a dead writer's temporary must go")
        XCTAssertEqual(try folder.bytes(live), [4, 5, 6], "a live writer's temporary must stay")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path("vae.h5.lock")))
    }

    /// N writers (`train --resume` to growing step counts, `eval`) and readers on one checkpoint
    /// for a few seconds: every reader reads a whole file, every refused writer says so in the
    /// lock line, every successful train landed, and a stored evaluation is that of the stored
    /// parameters (re-evaluating with the same seed gives the same arrays).
    func testStress_writersAndReadersOnOneCheckpoint() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        let train = { (steps: Int) in ["train", "--model", "vae", "--dataset", "data.h5", "--steps", String(steps), "--batch-size", "16",
                                       "--hidden", "8", "--out", "vae.h5", "--resume"] }
        let evaluate = ["eval", "vae.h5", "--samples", "1,2", "--examples", "8", "--elbo-draws", "1"]
        let deadline = Date().addingTimeInterval(6)
        let lock = NSLock()
        var problems: [String] = [], refused = 0, landedSteps: [Int] = [], evaluations = 0, reads = 0
        let group = DispatchGroup()
        for worker in 0..<6 {
            group.enter()
            Thread { work(worker); group.leave() }.start()
        }
        func work(_ worker: Int) {
            var round = 0
            while Date() < deadline {
                round += 1
                do {
                    switch worker {
                    case 0, 1:
                        let steps = 2 + 40 * (round * 2 + worker)
                        let result = try runCompare(train(steps), cwd: folder.url, timeout: 60)
                        lock.lock(); defer { lock.unlock() }
                        if result.status == 0 {
                            landedSteps.append(steps)
                        } else if result.stderr.contains("another compare process") && result.stderr.contains("vae.h5") && !result.signaled {
                            refused += 1
                        } else if result.stderr.contains("is below the") && result.stderr.contains("steps the run has already taken")
                                    && !result.signaled {
                            // The other train got further first: a shorter --steps is refused, the file untouched.
                            refused += 1
                        } else if !result.stderr.contains("nothing to do") {
                            problems.append("train \(steps): \(result.status) \(result.stderr)")
                        }
                    case 2, 3:
                        let result = try runCompare(evaluate, cwd: folder.url, timeout: 60)
                        lock.lock(); defer { lock.unlock() }
                        if result.status == 0 { evaluations += 1 } else if result.stderr.contains("another compare process") && !result.signaled {
                            refused += 1
                        } else { problems.append("eval: \(result.status) \(result.stderr)") }
                    default:
                        let result = try runCompare(["compare-fixtures", "read-checkpoint", "vae.h5"], cwd: folder.url, timeout: 60)
                        lock.lock(); defer { lock.unlock() }
                        if result.status == 0 { reads += 1 } else { problems.append("read: \(result.status) \(result.stderr)") }
                    }
                } catch {
                    lock.lock(); problems.append("\(error)"); lock.unlock()
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success, "the stress workers hang")
        print("stress: \(landedSteps.count) trains landed, \(evaluations) evaluations, \(refused) writers refused, \(reads) reads")
        XCTAssertEqual(problems, [])
        XCTAssertGreaterThan(reads, 0)
        XCTAssertGreaterThan(landedSteps.count + evaluations, 0)
        let digests = try checkpointDigests("vae.h5", in: folder)
        XCTAssertEqual(Int(digests["step"] ?? ""), landedSteps.max(), "the checkpoint holds the last train that reported success")
        XCTAssertEqual(leftovers(folder), [])
        if digests["evaluation"] != "none" {
            try runCompareSucceeding(evaluate, in: folder)
            let again = try checkpointDigests("vae.h5", in: folder)
            XCTAssertEqual(again["evaluation"], digests["evaluation"], "the stored evaluation is not that of the stored parameters")
            XCTAssertEqual(again["parameters"], digests["parameters"])
        }
    }

    // MARK: signals

    /// SIGTERM and SIGHUP behave like Ctrl-C: a checkpoint is written, the process exits with
    /// 128 + the signal and says how to resume, and nothing is left behind.
    func testSIGTERMAndSIGHUP_checkpointAndExitWithTheConventionalCode() throws {
        for (signal, code) in [(SIGTERM, Int32(143)), (SIGHUP, Int32(129))] {
            let folder = try caseFolder()
            defer { folder.remove() }
            let running = try RunningCompare(["train", "--model", "vae", "--dataset", "data.h5", "--steps", "100000", "--batch-size", "16",
                                              "--hidden", "8", "--checkpoint-every", "20", "--out", "run.h5"], cwd: folder.url)
            XCTAssertTrue(waitUntil(timeout: 30) { FileManager.default.fileExists(atPath: folder.path("run.h5")) }, "no first checkpoint")
            running.send(signal)
            let result = running.wait(timeout: 30)
            XCTAssertFalse(result.signaled, "signal \(signal) must not kill compare: \(result.stderr)")
            XCTAssertEqual(result.status, code, result.stderr)
            XCTAssertTrue(result.stderr.contains("--resume") && result.stderr.contains("run.h5"), result.stderr)
            let step = Int(try checkpointDigests("run.h5", in: folder)["step"] ?? "") ?? 0
            XCTAssertGreaterThan(step, 0)
            XCTAssertEqual(leftovers(folder), [])
        }
    }

    // MARK: full disk and file-size limits

    private func shell(_ command: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " >/dev/null 2>&1"]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Writers into a full 256 KiB tmpfs (root only; skipped otherwise): one line naming the
    /// file and "No space left", no crash, no temporary, the old file byte-identical.
    func testFullDisk_failsInOneLineAndKeepsTheOldFile() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        let disk = folder.path("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        guard try shell("mount -t tmpfs -o size=256k tmpfs '\(disk)'") == 0 else {
            print("OutputSafetyCLITests: skipping the full-disk cases: cannot mount a tmpfs (not root?)")
            throw XCTSkip("cannot mount a small tmpfs (needs root)")
        }
        defer { _ = try? shell("umount '\(disk)'") }
        for name in ["data.h5", "vae.h5", "evaluated.h5", "r.md"] { try FileManager.default.copyItem(atPath: folder.path(name), toPath: "\(disk)/\(name)") }
        // Fill the disk but for a few KiB.
        _ = try shell("dd if=/dev/zero of='\(disk)/filler' bs=1k count=1000")
        let before = folder.snapshot()
        let cases: [(String, [String], String)] = [
            ("dataset", ["datasets", "make", "gmm2d", "--train", "4000", "--out", "disk/data.h5", "--overwrite"], "disk/data.h5"),
            ("checkpoint", ["train", "--model", "vae", "--dataset", "data.h5", "--steps", "2", "--batch-size", "16", "--hidden", "64",
                            "--out", "disk/vae.h5", "--overwrite"], "disk/vae.h5"),
            ("evaluation", ["eval", "disk/evaluated.h5", "--samples", "1,2", "--examples", "4", "--elbo-draws", "1"], "disk/evaluated.h5"),
            ("report", ["report", "evaluated.h5", "--out", "disk/r.md"], "disk/r.md"),
            ("samples", ["sample", "vae.h5", "--count", "20000", "--out", "disk/s.h5"], "disk/s.h5"),
        ]
        for (name, arguments, output) in cases {
            let result = try runCompare(arguments, cwd: folder.url, timeout: 60)
            activity("full disk: \(name)") {
                assertFailsWithOneErrorLine(result, mentioning: [output, "No space left"])
                XCTAssertEqual(folder.snapshot(), before, "\(name): the old file must stay byte-identical")
                XCTAssertEqual(leftovers(folder), [])
            }
        }
    }

    /// Under `ulimit -f` a write fails with EFBIG instead of SIGXFSZ: one line, no temporary,
    /// the old file byte-identical.
    func testFileSizeLimit_failsInOneLineAndKeepsTheOldFile() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        let binary = try CompareBinary.locate().path
        let before = folder.snapshot()
        let cases: [(String, String, String)] = [
            ("dataset", "datasets make gmm2d --train 20000 --out big.h5", "big.h5"),
            ("evaluation", "eval evaluated.h5 --samples 1,2 --examples 4 --elbo-draws 1", "evaluated.h5"),
            ("checkpoint", "train --model vae --dataset data.h5 --steps 2 --batch-size 16 --hidden 8 --out vae.h5 --overwrite", "vae.h5"),
        ]
        for (name, arguments, output) in cases {
            let result = try runCompareViaShell("ulimit -f 8; exec '\(binary)' \(arguments)", cwd: folder.url)
            activity("ulimit -f: \(name)") {
                assertFailsWithOneErrorLine(result, mentioning: [output, "File too large"])
                XCTAssertEqual(folder.snapshot(), before)
                XCTAssertEqual(leftovers(folder), [])
            }
        }
    }

    private func runCompareViaShell(_ command: String, cwd: URL) throws -> (status: Int32, stdout: String, stderr: String, signaled: Bool) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = cwd
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self),
                process.terminationReason == .uncaughtSignal)
    }
}

/// Names the case on stdout before its assertions run (XCTContext is not on Linux), so a
/// failure in the log follows the name of its case.
private func activity(_ name: String, _ body: () -> Void) {
    print("case: \(name)")
    body()
}
