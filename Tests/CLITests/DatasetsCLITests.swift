import Foundation
import XCTest

/// `compare datasets …` as a user runs it: successes produce files, bad input gives one
/// stderr line, a non-zero exit, no crash and no file left behind.
final class DatasetsCLITests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("DatasetsCLITests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String, signaled: Bool) {
        try runCompare(arguments, cwd: folder)
    }

    /// Every file under the test folder, relative to it.
    private func files() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        var result: [String] = []
        while let name = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path(name), isDirectory: &isDirectory)
            if !isDirectory.boolValue { result.append(name) }
        }
        return result.sorted()
    }

    func testMake_writesDefaultPathAndInfoDescribesIt() throws {
        let made = try run(["datasets", "make", "gmm2d", "--train", "200", "--test", "50", "--seed", "3"])
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertEqual(made.stderr, "")
        XCTAssertEqual(files(), ["Datasets/gmm2d.h5"])
        let info = try run(["datasets", "info", "Datasets/gmm2d.h5"])
        XCTAssertEqual(info.status, 0, info.stderr)
        for fragment in ["likelihood:", "continuous", "200 × 2", "50 × 2", "known density:", "yes", "float32", "license:"] {
            XCTAssertTrue(info.stdout.contains(fragment), "info lacks '\(fragment)':\n\(info.stdout)")
        }
        let list = try run(["datasets", "list"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("gmm2d.h5"))
        XCTAssertTrue(list.stdout.contains("fashion-mnist"))
        XCTAssertTrue(list.stdout.contains("swiss-roll"))
    }

    func testMake_sameSeedGivesByteIdenticalFiles() throws {
        for name in ["a.h5", "b.h5"] {
            let result = try run(["datasets", "make", "gaussian", "--dimension", "3", "--train", "100", "--test", "20", "--out", name])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("a.h5")),
                       try Data(contentsOf: folder.appendingPathComponent("b.h5")))
        let other = try run(["datasets", "make", "gaussian", "--dimension", "3", "--train", "100", "--test", "20", "--seed", "1", "--out", "c.h5"])
        XCTAssertEqual(other.status, 0, other.stderr)
        XCTAssertNotEqual(try Data(contentsOf: folder.appendingPathComponent("a.h5")),
                          try Data(contentsOf: folder.appendingPathComponent("c.h5")))
    }

    func testMake_unknownNameOrBadOptionFailsWithOneLine() throws {
        assertOneLineFailure(try run(["datasets", "make", "spiral"]), mentioning: ["'spiral'", "gmm2d", "swiss-roll"])
        assertOneLineFailure(try run(["datasets", "make", "gmm2d", "--train", "0"]), mentioning: ["--train 0"])
        assertOneLineFailure(try run(["datasets", "make", "checkerboard", "--dimension", "3"]), mentioning: ["--dimension"])
        assertOneLineFailure(try run(["datasets", "make", "gmm2d", "--out", "missing/folder/x.h5"]), mentioning: ["missing/folder"])
        XCTAssertEqual(files(), [], "nothing half-written")
    }

    func testImport_unknownNameMissingSourceAndBadIDXFailWithOneLine() throws {
        assertOneLineFailure(try run(["datasets", "import", "cifar10"]), mentioning: ["'cifar10'", "fashion-mnist", "digits"])
        assertOneLineFailure(try run(["datasets", "import", "digits", "--binarize"]), mentioning: ["--binarize"])

        let source = folder.appendingPathComponent("idx")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        assertOneLineFailure(
            try run(["datasets", "import", "fashion-mnist", "--source", source.path, "--out", "f.h5"]),
            mentioning: ["train-images-idx3-ubyte.gz", "apt-get install dataset-fashion-mnist"])

        func word(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        let labels = word(2049) + word(2) + [1, 2]
        for prefix in ["train", "t10k"] {
            try Data(labels).write(to: source.appendingPathComponent("\(prefix)-labels-idx1-ubyte.gz"))
            try Data(word(2049) + word(2) + word(28) + word(28) + [UInt8](repeating: 0, count: 2 * 784))
                .write(to: source.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz"))
        }
        assertOneLineFailure(
            try run(["datasets", "import", "fashion-mnist", "--source", source.path, "--out", "f.h5"]),
            mentioning: ["train-images-idx3-ubyte.gz", "bad IDX magic number 2049"])

        for prefix in ["train", "t10k"] {
            try Data(word(2051) + word(2) + word(28) + word(28) + [UInt8](repeating: 0, count: 100))
                .write(to: source.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz"))
        }
        assertOneLineFailure(
            try run(["datasets", "import", "fashion-mnist", "--source", source.path, "--out", "f.h5"]),
            mentioning: ["train-images-idx3-ubyte.gz", "body has 100 bytes"])

        assertOneLineFailure(
            try run(["datasets", "import", "digits", "--source", path("nowhere.csv.gz"), "--out", "d.h5"]),
            mentioning: ["nowhere.csv.gz", "apt-get install python3-sklearn"])
        XCTAssertEqual(files().filter { !$0.hasPrefix("idx/") }, [], "nothing half-written")
    }

    func testImport_digitsWritesTheFixedSplit() throws {
        guard FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz") else {
            throw XCTSkip("digits missing: apt-get install python3-sklearn")
        }
        let result = try run(["datasets", "import", "digits", "--out", "digits.h5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let info = try run(["datasets", "info", "digits.h5"])
        for fragment in ["discrete", "17", "1497 × 64", "300 × 64", "labels:", "BSD-3-Clause"] {
            XCTAssertTrue(info.stdout.contains(fragment), "info lacks '\(fragment)':\n\(info.stdout)")
        }
    }

    func testInfo_missingNonHDF5AndTruncatedFilesFailWithOneLine() throws {
        assertOneLineFailure(try run(["datasets", "info", "absent.h5"]), mentioning: ["absent.h5", "no such file"])

        try "not hdf5 at all\n".write(toFile: path("text.h5"), atomically: true, encoding: .utf8)
        assertOneLineFailure(try run(["datasets", "info", "text.h5"]), mentioning: ["text.h5", "not an HDF5 file"])

        XCTAssertEqual(try run(["datasets", "make", "two-moons", "--train", "3000", "--test", "10", "--out", "moons.h5"]).status, 0)
        let bytes = try Data(contentsOf: folder.appendingPathComponent("moons.h5"))
        try bytes.prefix(bytes.count / 2).write(to: folder.appendingPathComponent("cut.h5"))
        assertOneLineFailure(try run(["datasets", "info", "cut.h5"]), mentioning: ["cut.h5"])
        try bytes.prefix(600).write(to: folder.appendingPathComponent("stub.h5"))
        assertOneLineFailure(try run(["datasets", "info", "stub.h5"]), mentioning: ["stub.h5"])
    }

    func testInfo_schemaViolationsFailWithOneLineNamingTheObject() throws {
        let expectations: [(String, [String])] = [
            ("missing-train", ["/train", "missing"]),
            ("wrong-rank", ["/train", "rank 1"]),
            ("wrong-dtype", ["/train", "float64"]),
            ("nan", ["/train", "NaN", "row 1"]),
            ("inf", ["/train", "+Inf", "row 2"]),
            ("empty-split", ["/train", "empty split"]),
            ("unknown-likelihood", ["likelihood", "poisson"]),
            ("bad-shape", ["shape", "D = 2"]),
            ("log-density-length", ["/train_log_density", "2 entries for 3 examples"]),
        ]
        for (kind, fragments) in expectations {
            let file = "\(kind).h5"
            let written = try run(["compare-fixtures", "write-invalid-dataset", kind, "--out", file])
            XCTAssertEqual(written.status, 0, "\(kind): \(written.stderr)")
            assertOneLineFailure(try run(["datasets", "info", file]), mentioning: [file] + fragments)
        }
    }

    func testExampleCheckpoint_recordsTheDatasetHash() throws {
        XCTAssertEqual(try run(["datasets", "make", "checkerboard", "--train", "10", "--test", "10", "--out", "c.h5"]).status, 0)
        let result = try run(["compare-fixtures", "example-checkpoint", "--out", "run.h5", "--dataset", "c.h5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(files(), ["c.h5", "run.h5"])
        assertOneLineFailure(try run(["compare-fixtures", "example-checkpoint", "--out", "x.h5", "--dataset", "absent.h5"]),
                             mentioning: ["absent.h5"])
        XCTAssertEqual(files(), ["c.h5", "run.h5"])
    }
}
