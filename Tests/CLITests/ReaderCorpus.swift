import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Readers that trust nothing (issue 15): edited checkpoints and datasets, reports over bad or
/// mixed runs, statistics of one example, non-regular inputs, and a dataset looked for from
/// another folder. Every case goes through the real binaries and asserts: the exit code, one
/// stderr line naming the file or option, no death by signal, no hang (a timeout), no leftover
/// temporary, and every file that existed before byte-identical (or, for the successes,
/// validly updated).
///
/// Fixtures (made once, copied into each case's folder): `data.h5` (gmm2d, 64 train and 16 test
/// rows, with known log-densities), `vae.h5` (a VAE trained 2 steps, not evaluated) and
/// `evaluated.h5` (the same, evaluated on 4 examples with K = 1, 2).
final class ReaderCorpusTests: XCTestCase {
    struct Case {
        let name: String
        var setup: (ScratchFolder) throws -> Void = { _ in }
        let arguments: [String]
        /// Fragments the stderr line must contain.
        let expected: [String]
        /// The working folder, relative to the case's folder (it must exist after `setup`).
        var cwd: String = ""
    }

    private static var fixtureFolder: ScratchFolder?

    override class func tearDown() {
        fixtureFolder?.remove()
        fixtureFolder = nil
        super.tearDown()
    }

    /// The shared fixtures, made on first use.
    private func fixtures() throws -> ScratchFolder {
        if let folder = Self.fixtureFolder { return folder }
        let folder = try ScratchFolder("reader-fixtures")
        for arguments in [
            ["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--out", "data.h5"],
            ["train", "--model", "vae", "--dataset", "data.h5", "--steps", "2", "--batch-size", "16", "--hidden", "8", "--out", "vae.h5"],
            ["train", "--model", "vae", "--dataset", "data.h5", "--steps", "2", "--batch-size", "16", "--hidden", "8", "--out", "evaluated.h5"],
            ["eval", "evaluated.h5", "--samples", "1,2", "--examples", "4", "--elbo-draws", "1"],
        ] {
            let result = try runCompare(arguments, cwd: folder.url, timeout: 120)
            guard result.status == 0 else { throw ByteSurgery.Failure(description: "fixture: compare \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
        }
        Self.fixtureFolder = folder
        return folder
    }

    /// A folder holding a copy of every fixture.
    private func caseFolder() throws -> ScratchFolder {
        let source = try fixtures()
        let folder = try ScratchFolder("reader-case")
        for name in try FileManager.default.contentsOfDirectory(atPath: source.url.path) {
            try FileManager.default.copyItem(atPath: source.path(name), toPath: folder.path(name))
        }
        return folder
    }

    // MARK: the cases

    /// `compare-fixtures edit-array SOURCE --out NAME --object OBJECT --values VALUES`.
    static func editArray(_ source: String, _ name: String, _ object: String, _ values: String) -> (ScratchFolder) throws -> Void {
        { folder in try fixture(["edit-array", source, "--out", name, "--object", object, "--values=\(values)"], in: folder) }
    }

    /// `compare-fixtures edit-attribute SOURCE --out NAME --name ATTRIBUTE VALUE…`.
    static func editAttribute(_ source: String, as name: String, _ attribute: String, _ value: [String], at object: String = "/") -> (ScratchFolder) throws -> Void {
        { folder in try fixture(["edit-attribute", source, "--out", name, "--name", attribute, "--at", object] + value, in: folder) }
    }

    static func fixture(_ arguments: [String], in folder: ScratchFolder) throws {
        let result = try runCompare(["compare-fixtures"] + arguments, cwd: folder.url, timeout: 30)
        guard result.status == 0 else { throw ByteSurgery.Failure(description: "compare-fixtures \(arguments.joined(separator: " ")): \(result.stderr)") }
        // The edit leaves its own output only: the source of an in-place edit is replaced by its copy.
    }

    static func then(_ steps: ((ScratchFolder) throws -> Void)...) -> (ScratchFolder) throws -> Void {
        { folder in for step in steps { try step(folder) } }
    }

    static func makeFIFO(_ name: String) -> (ScratchFolder) throws -> Void {
        { folder in
            guard mkfifo(folder.path(name), 0o644) == 0 else { throw ByteSurgery.Failure(description: "mkfifo \(name) failed") }
        }
    }

    static let report = ["report", "--out", "r.md"]

    /// Points the `dataset_absolute` of `checkpoint` into the case's own folder (the fixtures
    /// were trained elsewhere), so that a dataset removed there is really gone.
    static func localAbsolutePath(_ checkpoint: String) -> (ScratchFolder) throws -> Void {
        { folder in try fixture(["edit-attribute", checkpoint, "--out", checkpoint, "--name", "dataset_absolute", "--string", folder.path("data.h5")], in: folder) }
    }

    static let cases: [Case] = [
        // /evaluation values a report reads
        Case(name: "report: NaN in /evaluation/sample_counts", setup: editArray("evaluated.h5", "bad.h5", "/evaluation/sample_counts", "nan,2"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "/evaluation/sample_counts", "nan"]),
        Case(name: "report: K = 0 in /evaluation/sample_counts", setup: editArray("evaluated.h5", "bad.h5", "/evaluation/sample_counts", "0,2"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "/evaluation/sample_counts", "0.0"]),
        Case(name: "report: negative K", setup: editArray("evaluated.h5", "bad.h5", "/evaluation/sample_counts", "1,-2"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "/evaluation/sample_counts", "-2.0"]),
        Case(name: "report: K = 1.5", setup: editArray("evaluated.h5", "bad.h5", "/evaluation/sample_counts", "1,1.5"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "/evaluation/sample_counts", "1.5"]),
        Case(name: "report: K = 1e300", setup: editArray("evaluated.h5", "bad.h5", "/evaluation/sample_counts", "1,1e300"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "/evaluation/sample_counts", "1e+300"]),
        Case(name: "report: NaN in /evaluation/elbo", setup: editArray("evaluated.h5", "bad.h5", "/evaluation/elbo", "-1,nan,-2,-3"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "/evaluation/elbo", "nan"]),
        Case(name: "report: -inf in /evaluation/iwae", setup: editArray("evaluated.h5", "bad.h5", "/evaluation/iwae", "-1,-2,-3,-4,-1,-2,-inf,-4"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "/evaluation/iwae", "-inf"]),
        Case(name: "report: ESS below 1", setup: editArray("evaluated.h5", "bad.h5", "/evaluation/effective_sample_size", "1,2,0.5,1"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "/evaluation/effective_sample_size", "0.5"]),
        Case(name: "report: ESS above K_max", setup: editArray("evaluated.h5", "bad.h5", "/evaluation/effective_sample_size", "1,2,1e9,1"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "/evaluation/effective_sample_size", "1000000000"]),
        Case(name: "report: NaN ESS", setup: editArray("evaluated.h5", "bad.h5", "/evaluation/effective_sample_size", "1,nan,1,1"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "/evaluation/effective_sample_size", "nan"]),
        Case(name: "report: /evaluation examples = 0", setup: editAttribute("evaluated.h5", as: "bad.h5", "examples", ["--integer", "0"], at: "/evaluation"),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "examples", "/evaluation"]),
        // training attributes
        Case(name: "report: training_seconds = 1e300", setup: editAttribute("evaluated.h5", as: "bad.h5", "training_seconds", ["--double", "1e300"]),
             arguments: report + ["bad.h5"], expected: ["bad.h5", "training_seconds"]),
        Case(name: "eval: training_seconds = NaN", setup: editAttribute("vae.h5", as: "bad.h5", "training_seconds", ["--double", "nan"]),
             arguments: ["eval", "bad.h5"], expected: ["bad.h5", "training_seconds", "nan"]),
        Case(name: "sample: negative training_seconds", setup: editAttribute("vae.h5", as: "bad.h5", "training_seconds", ["--double=-5"]),
             arguments: ["sample", "bad.h5", "--out", "s.h5"], expected: ["bad.h5", "training_seconds", "-5"]),
        Case(name: "eval: inf in test_elbo", setup: editAttribute("vae.h5", as: "bad.h5", "test_elbo", ["--doubles", "inf"]),
             arguments: ["eval", "bad.h5"], expected: ["bad.h5", "test_elbo"]),
        Case(name: "resume: negative pending_loss_count", setup: editAttribute("vae.h5", as: "vae.h5", "pending_loss_count", ["--integer=-1"]),
             arguments: ["train", "--model", "vae", "--dataset", "data.h5", "--steps", "4", "--batch-size", "16", "--hidden", "8", "--out", "vae.h5", "--resume"],
             expected: ["vae.h5", "pending_loss_count"]),
        Case(name: "eval: dataset_absolute not a path", setup: editAttribute("vae.h5", as: "bad.h5", "dataset_absolute", ["--integer", "3"]),
             arguments: ["eval", "bad.h5"], expected: ["bad.h5", "dataset_absolute"]),
        // dataset values and attributes
        Case(name: "datasets info: shape attribute overflows", setup: editAttribute("data.h5", as: "bad.h5", "shape", ["--integers", "4294967296,4294967296,2"]),
             arguments: ["datasets", "info", "bad.h5"], expected: ["bad.h5", "shape", "overflows"]),
        Case(name: "datasets info: discrete float data far outside levels",
             setup: then(editAttribute("data.h5", as: "d1.h5", "likelihood", ["--string", "discrete"]), editAttribute("d1.h5", as: "bad.h5", "levels", ["--integer", "16"])),
             arguments: ["datasets", "info", "bad.h5"], expected: ["bad.h5", "/train", "outside [-1, 1]", "levels = 16"]),
        Case(name: "train: discrete float data far outside levels is refused at read",
             setup: then(editAttribute("data.h5", as: "d1.h5", "likelihood", ["--string", "discrete"]), editAttribute("d1.h5", as: "bad.h5", "levels", ["--integer", "16"])),
             arguments: ["train", "--model", "vae", "--dataset", "bad.h5", "--steps", "2", "--batch-size", "16", "--hidden", "8", "--out", "new.h5"],
             expected: ["bad.h5", "/train", "outside [-1, 1]"]),
        Case(name: "datasets info: levels = 10^12",
             setup: then(editAttribute("data.h5", as: "d1.h5", "likelihood", ["--string", "discrete"]), editAttribute("d1.h5", as: "bad.h5", "levels", ["--integer", "1000000000000"])),
             arguments: ["datasets", "info", "bad.h5"], expected: ["bad.h5", "levels", "at most"]),
        Case(name: "datasets info: -inf in /test_log_density",
             setup: editArray("data.h5", "bad.h5", "/test_log_density", "-inf" + String(repeating: ",-2", count: 15)),
             arguments: ["datasets", "info", "bad.h5"], expected: ["bad.h5", "/test_log_density", "-inf"]),
        Case(name: "eval: NaN in the dataset's /train_log_density",
             setup: then(editArray("data.h5", "bad.h5", "/train_log_density", String(repeating: "-2,", count: 63) + "nan"), { try $0.copy("bad.h5", to: "data.h5") }),
             arguments: ["eval", "vae.h5"], expected: ["data.h5", "/train_log_density", "nan"]),
        // non-regular inputs: refused before opening, never a hang
        Case(name: "datasets info on a FIFO", setup: makeFIFO("fifo.h5"),
             arguments: ["datasets", "info", "fifo.h5"], expected: ["fifo.h5", "FIFO"]),
        Case(name: "eval of a FIFO", setup: makeFIFO("fifo.h5"),
             arguments: ["eval", "fifo.h5"], expected: ["fifo.h5", "FIFO"]),
        Case(name: "train on a FIFO dataset", setup: makeFIFO("fifo.h5"),
             arguments: ["train", "--model", "vae", "--dataset", "fifo.h5", "--steps", "2", "--out", "new.h5"], expected: ["fifo.h5", "FIFO"]),
        Case(name: "datasets info on a directory", setup: { try FileManager.default.createDirectory(atPath: $0.path("dir.h5"), withIntermediateDirectories: false) },
             arguments: ["datasets", "info", "dir.h5"], expected: ["dir.h5", "directory"]),
        Case(name: "datasets info on a character device",
             arguments: ["datasets", "info", "/dev/null"], expected: ["/dev/null", "character device"]),
        // reports: identity by content, one row per run
        Case(name: "report: two datasets with one name",
             setup: { folder in
                 for arguments in [["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--seed", "7", "--out", "other-data.h5"],
                                   ["train", "--model", "vae", "--dataset", "other-data.h5", "--steps", "2", "--batch-size", "16", "--hidden", "8", "--out", "other.h5"],
                                   ["eval", "other.h5", "--samples", "1,2", "--examples", "4", "--elbo-draws", "1"]] {
                     try runCompareSucceeding(arguments, in: folder)
                 }
             },
             arguments: report + ["evaluated.h5", "other.h5"], expected: ["evaluated.h5", "other.h5", "different contents"]),
        Case(name: "report: the same run twice", arguments: report + ["evaluated.h5", "evaluated.h5"], expected: ["evaluated.h5", "given twice"]),
        Case(name: "report: the same run under two names", setup: { try FileManager.default.createSymbolicLink(atPath: $0.path("link.h5"), withDestinationPath: "evaluated.h5") },
             arguments: report + ["evaluated.h5", "./link.h5"], expected: ["evaluated.h5", "./link.h5", "same checkpoint file"]),
        // a dataset that cannot be found: one line naming the checkpoint and every path tried
        Case(name: "eval from another folder when the dataset is gone",
             setup: then(localAbsolutePath("vae.h5"), { folder in
                 try FileManager.default.removeItem(atPath: folder.path("data.h5"))
                 try FileManager.default.createDirectory(atPath: folder.path("elsewhere"), withIntermediateDirectories: false)
             }),
             arguments: ["eval", "../vae.h5"], expected: ["../vae.h5", "'data.h5'", "not found", "tried ../data.h5, data.h5)"], cwd: "elsewhere"),
        Case(name: "eval when the checkpoint moved and the dataset is gone",
             setup: then(localAbsolutePath("vae.h5"), { folder in
                 try FileManager.default.createDirectory(atPath: folder.path("runs"), withIntermediateDirectories: false)
                 try FileManager.default.moveItem(atPath: folder.path("vae.h5"), toPath: folder.path("runs/vae.h5"))
                 try FileManager.default.removeItem(atPath: folder.path("data.h5"))
             }),
             arguments: ["eval", "runs/vae.h5"], expected: ["runs/vae.h5", "not found", "tried runs/data.h5, /", "/data.h5)"]),
    ]

    func testReaderCorpus_everyCaseFailsWithOneLineAndLeavesEverythingAsItWas() throws {
        XCTAssertGreaterThanOrEqual(Self.cases.count, 25)
        XCTAssertEqual(Set(Self.cases.map(\.name)).count, Self.cases.count, "case names must be unique")
        var failures: [String] = []
        for item in Self.cases {
            let folder = try caseFolder()
            defer { folder.remove() }
            do { try item.setup(folder) } catch {
                failures.append("[\(item.name)] setup failed: \(error)")
                continue
            }
            let before = folder.snapshot()
            let started = Date()
            let result = try runCompare(item.arguments, cwd: item.cwd.isEmpty ? folder.url : folder.url.appendingPathComponent(item.cwd), timeout: 20)
            var problems: [String] = []
            if Date().timeIntervalSince(started) >= 19 { problems.append("hung (killed after 20 s)") }
            if result.signaled { problems.append("died from signal \(result.status)") }
            if result.status != 1 { problems.append("exit status \(result.status), expected 1") }
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.count != 2 || !lines[1].isEmpty || lines[0].isEmpty { problems.append("stderr is not one line") }
            if !result.stderr.hasPrefix("Error: ") { problems.append("stderr does not start with 'Error: '") }
            if result.stderr.contains("signal") { problems.append("reports a signal") }
            for fragment in item.expected where !result.stderr.contains(fragment) { problems.append("lacks '\(fragment)'") }
            let after = folder.snapshot()
            let added = Set(after.keys).subtracting(before.keys).sorted()
            let removed = Set(before.keys).subtracting(after.keys).sorted()
            let changed = before.keys.filter { after[$0] != nil && after[$0] != before[$0] }.sorted()
            if !added.isEmpty { problems.append("left new files \(added)") }
            if !removed.isEmpty { problems.append("removed \(removed)") }
            if !changed.isEmpty { problems.append("changed \(changed)") }
            if ProcessInfo.processInfo.environment["CORPUS_PRINT"] != nil {
                print("\(item.name): compare \(item.arguments.joined(separator: " "))\n    \(result.stderr.trimmingCharacters(in: .newlines))")
            }
            if !problems.isEmpty {
                failures.append("[\(item.name)] compare \(item.arguments.joined(separator: " ")): \(problems.joined(separator: "; ")); stderr: \(result.stderr)")
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(Self.cases.count) cases failed:\n" + failures.joined(separator: "\n"))
    }

    // MARK: successes: n < 2 and datasets found from elsewhere

    /// Runs a command that must succeed; afterwards no temporary is left and every file but
    /// `updated` is byte-identical, and `updated` still reads as a checkpoint.
    private func assertSucceeds(_ arguments: [String], in folder: ScratchFolder, cwd: String = "", updating updated: [String] = [],
                                file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let before = folder.snapshot()
        let result = try runCompare(arguments, cwd: cwd.isEmpty ? folder.url : folder.url.appendingPathComponent(cwd), timeout: 60)
        XCTAssertEqual(result.status, 0, "compare \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        XCTAssertFalse(result.signaled, file: file, line: line)
        let after = folder.snapshot()
        XCTAssertEqual(folder.temporaryFiles(), [], file: file, line: line)
        for (name, bytes) in before where !updated.contains(name) {
            XCTAssertEqual(after[name], bytes, "\(name) changed", file: file, line: line)
        }
        for name in updated {
            XCTAssertNotEqual(after[name], before[name], "\(name) was not updated", file: file, line: line)
            _ = try checkpointDigests(name, in: folder, file: file, line: line)
        }
        return result.stdout
    }

    /// `eval --examples 1`: no standard error exists; the summary says "n/a", never "nan".
    func testEvalOfOneExample_printsNotAvailableNotNaN() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        let output = try assertSucceeds(["eval", "vae.h5", "--examples", "1", "--samples", "1,2"], in: folder, updating: ["vae.h5"])
        XCTAssertTrue(output.contains("± n/a"), output)
        XCTAssertFalse(output.lowercased().contains("nan"), output)
        // The report of that run shows "n/a" too.
        _ = try assertSucceeds(["report", "vae.h5", "--out", "one.md"], in: folder)
        let markdown = try String(contentsOfFile: folder.path("one.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("n/a"))
        XCTAssertFalse(markdown.contains("± nan") || markdown.contains("± -nan"), markdown)
    }

    /// `eval --sandwich N` through the binary: the test numbers are those of the same evaluation
    /// without it (the sandwich draws after them), the bounds are stored, and the report shows
    /// them in its sandwich section.
    func testEvalWithSandwich_storesTheBoundsAndKeepsTheTestNumbers() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        let plain = try assertSucceeds(["eval", "vae.h5", "--examples", "6", "--samples", "1,4"], in: folder, updating: ["vae.h5"])
        let sandwiched = try assertSucceeds(["eval", "vae.h5", "--examples", "6", "--samples", "1,4", "--sandwich", "8"], in: folder,
                                            updating: ["vae.h5"])
        let testLines = { (text: String) in text.split(separator: "\n").filter { $0.contains("ELBO") || $0.contains("IWAE_") } }
        XCTAssertEqual(testLines(plain), testLines(sandwiched).filter { !$0.contains("lower") })
        XCTAssertTrue(sandwiched.contains("sandwich on 8 model samples"), sandwiched)
        _ = try assertSucceeds(["report", "vae.h5", "--out", "s.md"], in: folder)
        let markdown = try String(contentsOfFile: folder.path("s.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("## Sandwich bounds on model samples"), markdown)
        XCTAssertTrue(markdown.contains("| VAE | 8 | 4 |"), markdown)
    }

    /// Trained with `--dataset data.h5` in one folder, evaluated from a subfolder: the stored
    /// relative path is resolved against the checkpoint's folder, not the working folder.
    func testEvalFromAnotherFolder_findsTheDatasetBesideTheCheckpoint() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder.path("sub"), withIntermediateDirectories: false)
        _ = try assertSucceeds(["eval", "../vae.h5", "--examples", "4"], in: folder, cwd: "sub", updating: ["vae.h5"])
    }

    /// A run and its data moved together to a new folder (the absolute path now names nothing):
    /// found beside the checkpoint.
    func testRunMovedWithItsData_isFoundBesideTheCheckpoint() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        try Self.localAbsolutePath("vae.h5")(folder)
        try FileManager.default.createDirectory(atPath: folder.path("moved"), withIntermediateDirectories: false)
        for name in ["vae.h5", "data.h5"] { try FileManager.default.moveItem(atPath: folder.path(name), toPath: folder.path("moved/\(name)")) }
        _ = try assertSucceeds(["eval", "moved/vae.h5", "--examples", "4"], in: folder, updating: ["moved/vae.h5"])
    }

    /// A checkpoint from before `dataset_absolute` existed still loads.
    func testCheckpointWithoutAbsoluteDatasetPath_stillLoads() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        try Self.editAttribute("vae.h5", as: "old.h5", "dataset_absolute", ["--delete"])(folder)
        _ = try assertSucceeds(["eval", "old.h5", "--examples", "4"], in: folder, updating: ["old.h5"])
        _ = try assertSucceeds(["sample", "old.h5", "--count", "3", "--out", "s.h5"], in: folder)
    }

    /// The absolute path is tried when the checkpoint was moved away from its data.
    func testCheckpointMovedAwayFromItsData_usesTheAbsolutePath() throws {
        let folder = try caseFolder()
        defer { folder.remove() }
        try Self.localAbsolutePath("vae.h5")(folder)
        try FileManager.default.createDirectory(atPath: folder.path("runs"), withIntermediateDirectories: false)
        try FileManager.default.moveItem(atPath: folder.path("vae.h5"), toPath: folder.path("runs/vae.h5"))
        let before = folder.snapshot()
        let other = try ScratchFolder("reader-elsewhere")
        defer { other.remove() }
        let result = try runCompare(["eval", folder.path("runs/vae.h5"), "--examples", "4"], cwd: other.url, timeout: 60)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(folder.temporaryFiles(), [])
        XCTAssertEqual(folder.snapshot()["data.h5"], before["data.h5"])
        XCTAssertNotEqual(folder.snapshot()["runs/vae.h5"], before["runs/vae.h5"], "the evaluation was not stored")
    }
}
