import Foundation
import CompareTestSupport
import Store
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Readers that trust nothing: every stored value a command reads is range-checked, and
/// anything but a regular file is refused before it is opened.
final class ReaderRangeTests: TemporaryFolderTestCase {
    private func writeDataset(_ name: String, train: [Float] = [0, 1, 1, 0], likelihood: String = "continuous",
                              _ extra: (HDF5File) throws -> Void = { _ in }) throws -> String {
        let filePath = path(name)
        let file = try HDF5File.create(filePath)
        try file.write(train, shape: [train.count / 2, 2], to: "/train")
        try file.write([Float(0), 1], shape: [1, 2], to: "/test")
        try file.setAttribute("likelihood", to: .string(likelihood))
        try extra(file)
        try file.close()
        return filePath
    }

    func testShapeAttributeWhoseProductOverflows_isAnErrorNotATrap() throws {
        let filePath = try writeDataset("overflow.h5") { try $0.setAttribute("shape", to: .integers([1 << 32, 1 << 32, 2])) }
        assertStoreError([filePath, "attribute 'shape' of /", "overflows"]) { _ = try DatasetFile.readMetadata(filePath) }
    }

    func testLogDensityMinusInfinity_isRefused() throws {
        let filePath = try writeDataset("density.h5") { file in
            try file.write([-1.0, -2.0], shape: [2], to: "/train_log_density")
            try file.write([-Double.infinity], shape: [1], to: "/test_log_density")
        }
        assertStoreError([filePath, "/test_log_density", "-inf", "finite"]) { _ = try DatasetFile.read(filePath) }
    }

    func testDensityParameterNaN_isRefused() throws {
        let filePath = try writeDataset("parameters.h5") { file in
            try file.write([0.0, .nan], shape: [2], to: "/density/mean")
        }
        assertStoreError([filePath, "/density/mean", "nan"]) { _ = try DatasetFile.read(filePath) }
    }

    func testDiscreteFloatDataOutsideMinusOneOne_isRefusedAtRead() throws {
        let good = try writeDataset("good.h5", train: [-1, 1, 1, -1], likelihood: "discrete") { try $0.setAttribute("levels", to: .integer(4)) }
        XCTAssertEqual(try DatasetFile.read(good).train, [-1, 1, 1, -1])
        let bad = try writeDataset("bad.h5", train: [-1, 1, 200, -1], likelihood: "discrete") { try $0.setAttribute("levels", to: .integer(4)) }
        assertStoreError([bad, "/train", "value 200.0", "row 1, column 0", "outside [-1, 1]", "levels = 4"]) { _ = try DatasetFile.read(bad) }
    }

    func testImplausibleLevels_areRefused() throws {
        let filePath = try writeDataset("levels.h5", likelihood: "discrete") { try $0.setAttribute("levels", to: .integer(1 << 40)) }
        assertStoreError([filePath, "levels", "at most 65536"]) { _ = try DatasetFile.readMetadata(filePath) }
    }

    func testNonRegularFiles_areRefusedBeforeOpening() throws {
        let fifo = path("fifo.h5")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        // Opening a FIFO for reading blocks until a writer comes: these must return at once.
        assertStoreError([fifo, "FIFO", "not a regular file"]) { _ = try DatasetFile.read(fifo) }
        assertStoreError([fifo, "FIFO"]) { _ = try DatasetFile.readMetadata(fifo) }
        assertStoreError([fifo, "FIFO"]) { _ = try Checkpoint.read(from: fifo) }
        assertStoreError([fifo, "FIFO"]) { _ = try readInIsolation(fifo) { try DatasetFile.read(fifo) } }
        let folder = path("folder.h5")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        assertStoreError([folder, "directory"]) { _ = try readInIsolation(folder) { try Checkpoint.read(from: folder) } }
        assertStoreError(["/dev/null", "character device"]) { try requireRegularFile("/dev/null") }
        assertStoreError([path("absent.h5"), "no such file"]) { try requireRegularFile(path("absent.h5")) }
    }

    func testDatasetAbsolutePath_roundTripsAndIsOptional() throws {
        var checkpoint = Checkpoint.example()
        checkpoint.datasetAbsolutePath = "/data/gmm2d.h5"
        try checkpoint.write(to: path("new.h5"))
        XCTAssertEqual(try Checkpoint.read(from: path("new.h5")), checkpoint)
        XCTAssertEqual(try Checkpoint.read(from: path("new.h5")).datasetAbsolutePath, "/data/gmm2d.h5")
        try Checkpoint.example().write(to: path("old.h5"))
        XCTAssertNil(try Checkpoint.read(from: path("old.h5")).datasetAbsolutePath)
    }

    func testTrainingAttributesOutOfRange_areRefused() throws {
        let cases: [(String, AttributeValue, [String])] = [
            ("training_seconds", .double(.nan), ["training_seconds", "nan"]),
            ("training_seconds", .double(1e300), ["training_seconds", "1e+300"]),
            ("training_seconds", .double(-1), ["training_seconds", "-1.0"]),
            ("pending_loss_sum", .double(.infinity), ["pending_loss_sum", "inf"]),
            ("pending_loss_count", .integer(-3), ["pending_loss_count", "-3"]),
            ("total_steps", .integer(0), ["total_steps", "≥ 1"]),
            ("test_elbo", .doubles([-1, .nan]), ["test_elbo", "nan"]),
        ]
        for (index, (name, value, fragments)) in cases.enumerated() {
            var checkpoint = Checkpoint.example()
            checkpoint.attributes[name] = value
            let filePath = path("bad-\(index).h5")
            try checkpoint.write(to: filePath)
            assertStoreError([filePath, "attribute '\(name)' of /"] + fragments) { _ = try Checkpoint.read(from: filePath) }
        }
    }
}
