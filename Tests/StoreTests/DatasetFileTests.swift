import Foundation
import Store
import XCTest

final class DatasetFileTests: TemporaryFolderTestCase {
    func testDatasetFile_roundTripsValuesAttributesAndDensity() throws {
        var contents = DatasetContents.small()
        contents.trainLogDensity = [-1, -2, -3, -4]
        contents.testLogDensity = [-5, -6]
        contents.trainLabels = [0, 1, 0, 1]
        contents.testLabels = [1, 0]
        contents.densityFamily = "gaussian"
        contents.densityParameters = [NamedArray(name: "mean", shape: [2], values: [0.5, -0.5])]
        contents.attributes = ["seed": .unsignedInteger(3)]
        let filePath = path("small.h5")
        try DatasetFile.write(contents, to: filePath)

        let dataset = try DatasetFile.read(filePath)
        XCTAssertEqual(dataset.train, [0, 1, 1, 0, 0, 0, 1, 1])
        XCTAssertEqual(dataset.test, [1, 1, 0, 1])
        XCTAssertEqual(dataset.trainCount, 4)
        XCTAssertEqual(dataset.testCount, 2)
        XCTAssertEqual(dataset.dimension, 2)
        XCTAssertEqual(dataset.trainLogDensity, [-1, -2, -3, -4])
        XCTAssertEqual(dataset.testLogDensity, [-5, -6])
        XCTAssertEqual(dataset.trainLabels, [0, 1, 0, 1])
        XCTAssertEqual(dataset.densityParameters, [NamedArray(name: "mean", shape: [2], values: [0.5, -0.5])])
        let metadata = dataset.metadata
        XCTAssertEqual(metadata.name, "small")
        XCTAssertEqual(metadata.likelihood, .continuous)
        XCTAssertNil(metadata.levels)
        XCTAssertTrue(metadata.hasKnownDensity)
        XCTAssertTrue(metadata.hasLabels)
        XCTAssertEqual(metadata.storedElementType, .float32)
        XCTAssertEqual(metadata.densityFamily, "gaussian")
        XCTAssertEqual(metadata.attributes["seed"], .unsignedInteger(3))
        XCTAssertEqual(metadata.attributes["format"], .string("compare-dataset"))
        XCTAssertEqual(metadata.attributes["shape"], .integers([2]))
        XCTAssertEqual(metadata.attributes["known_density"], .integer(1))
        XCTAssertEqual(folderContents(), ["small.h5"])
    }

    func testDatasetFile_discreteUInt8IsScaledToMinusOneOne() throws {
        let contents = DatasetContents(
            name: "levels", likelihood: .discrete, levels: 5, exampleShape: [2, 2], source: "test", license: "MIT",
            train: .uint8([0, 1, 2, 3, 4, 4, 2, 0]), test: .uint8([4, 3, 2, 1]))
        try DatasetFile.write(contents, to: path("discrete.h5"))
        let dataset = try DatasetFile.read(path("discrete.h5"))
        XCTAssertEqual(dataset.train, [-1, -0.5, 0, 0.5, 1, 1, 0, -1])
        XCTAssertEqual(dataset.test, [1, 0.5, 0, -0.5])
        XCTAssertEqual(dataset.metadata.levels, 5)
        XCTAssertEqual(dataset.metadata.exampleShape, [2, 2])
        XCTAssertEqual(dataset.metadata.storedElementType, .uint8)
    }

    func testDatasetFile_binaryStaysZeroOne() throws {
        let contents = DatasetContents(
            name: "bits", likelihood: .binary, levels: 2, exampleShape: [3], source: "test", license: "MIT",
            train: .uint8([0, 1, 1, 1, 0, 0]), test: .uint8([1, 0, 1]))
        try DatasetFile.write(contents, to: path("binary.h5"))
        let dataset = try DatasetFile.read(path("binary.h5"))
        XCTAssertEqual(dataset.train, [0, 1, 1, 1, 0, 0])
        XCTAssertEqual(dataset.metadata.levels, 2)
    }

    /// Writes a file with the low-level API, then expects `DatasetFile.read` to fail naming `fragments`.
    private func assertReadFails(
        _ fragments: [String], line: UInt = #line, _ build: (HDF5File) throws -> Void
    ) throws {
        let filePath = path("bad-\(line).h5")
        let file = try HDF5File.create(filePath)
        try build(file)
        try file.close()
        assertStoreError([filePath] + fragments, line: line) { _ = try DatasetFile.read(filePath) }
        assertStoreError([filePath] + fragments, line: line) { _ = try DatasetFile.readMetadata(filePath) }
    }

    private func writeValid(_ file: HDF5File, train: [Float] = [0, 1, 2, 3], likelihood: String = "continuous") throws {
        try file.write(train, shape: [train.count / 2, 2], to: "/train")
        try file.write([Float(4), 5], shape: [1, 2], to: "/test")
        try file.setAttribute("likelihood", to: .string(likelihood))
    }

    func testDatasetFile_rejectsMissingTrainWithClearMessage() throws {
        try assertReadFails(["/train", "missing"]) { file in
            try file.write([Float(4), 5], shape: [1, 2], to: "/test")
            try file.setAttribute("likelihood", to: .string("continuous"))
        }
    }

    func testDatasetFile_rejectsWrongRank() throws {
        try assertReadFails(["/train", "rank 1", "expected 2"]) { file in
            try file.write([Float(0), 1, 2, 3], shape: [4], to: "/train")
            try file.write([Float(4), 5], shape: [1, 2], to: "/test")
            try file.setAttribute("likelihood", to: .string("continuous"))
        }
        try assertReadFails(["/test", "rank 3"]) { file in
            try file.write([Float(0), 1, 2, 3], shape: [2, 2], to: "/train")
            try file.write([Float(4), 5], shape: [1, 1, 2], to: "/test")
            try file.setAttribute("likelihood", to: .string("continuous"))
        }
    }

    func testDatasetFile_rejectsWrongElementType() throws {
        try assertReadFails(["/train", "stored as float64", "expected float32 or uint8"]) { file in
            try file.write([0.0, 1, 2, 3], shape: [2, 2], to: "/train")
            try file.write([Float(4), 5], shape: [1, 2], to: "/test")
            try file.setAttribute("likelihood", to: .string("continuous"))
        }
        try assertReadFails(["/test", "stored as uint8 but /train as float32"]) { file in
            try file.write([Float(0), 1, 2, 3], shape: [2, 2], to: "/train")
            try file.write([UInt8(4), 5], shape: [1, 2], to: "/test")
            try file.setAttribute("likelihood", to: .string("continuous"))
        }
        try assertReadFails(["/train", "uint8 with likelihood continuous"]) { file in
            try file.write([UInt8(0), 1, 2, 3], shape: [2, 2], to: "/train")
            try file.write([UInt8(4), 5], shape: [1, 2], to: "/test")
            try file.setAttribute("likelihood", to: .string("continuous"))
        }
    }

    func testDatasetFile_rejectsNaNAndInfinityNamingRowAndColumn() throws {
        let filePath = path("nan.h5")
        let file = try HDF5File.create(filePath)
        try writeValid(file, train: [0, 1, 2, .nan])
        try file.close()
        assertStoreError([filePath, "/train", "NaN", "row 1, column 1"]) { _ = try DatasetFile.read(filePath) }

        let infinityPath = path("inf.h5")
        let other = try HDF5File.create(infinityPath)
        try writeValid(other, train: [0, -.infinity, 2, 3])
        try other.close()
        assertStoreError([infinityPath, "/train", "-Inf", "row 0, column 1"]) { _ = try DatasetFile.read(infinityPath) }
    }

    func testDatasetFile_rejectsEmptySplit() throws {
        try assertReadFails(["/test", "empty split"]) { file in
            try file.write([Float(0), 1, 2, 3], shape: [2, 2], to: "/train")
            try file.write([Float](), shape: [0, 2], to: "/test")
            try file.setAttribute("likelihood", to: .string("continuous"))
        }
        assertStoreError([path("w.h5"), "/train", "empty split"]) {
            var contents = DatasetContents.small()
            contents.train = .float32([])
            try DatasetFile.write(contents, to: self.path("w.h5"))
        }
        XCTAssertEqual(folderContents().filter { $0.hasPrefix("w.h5") }, [], "no half-written output")
    }

    func testDatasetFile_rejectsUnknownOrMissingLikelihood() throws {
        try assertReadFails(["attribute 'likelihood' of /", "unknown value 'gaussian'"]) { file in
            try self.writeValid(file, likelihood: "gaussian")
        }
        try assertReadFails(["attribute 'likelihood' of /", "missing"]) { file in
            try file.write([Float(0), 1, 2, 3], shape: [2, 2], to: "/train")
            try file.write([Float(4), 5], shape: [1, 2], to: "/test")
        }
        try assertReadFails(["attribute 'levels' of /", "missing"]) { file in
            try self.writeValid(file, likelihood: "discrete")
        }
    }

    func testDatasetFile_rejectsShapeAttributeInconsistentWithDimension() throws {
        try assertReadFails(["attribute 'shape' of /", "[28, 28]", "D = 2"]) { file in
            try self.writeValid(file)
            try file.setAttribute("shape", to: .integers([28, 28]))
        }
    }

    func testDatasetFile_rejectsLogDensityLengthMismatch() throws {
        let filePath = path("density.h5")
        let file = try HDF5File.create(filePath)
        try writeValid(file)
        try file.write([-1.0, -2.0, -3.0], shape: [3], to: "/train_log_density")
        try file.write([-1.0], shape: [1], to: "/test_log_density")
        try file.close()
        assertStoreError([filePath, "/train_log_density", "3 entries for 2 examples"]) { _ = try DatasetFile.read(filePath) }

        try assertReadFails(["/test_log_density", "missing"]) { file in
            try self.writeValid(file)
            try file.write([-1.0, -2.0], shape: [2], to: "/train_log_density")
        }
    }

    func testDatasetFile_rejectsDiscreteValuesAboveLevels() throws {
        let filePath = path("levels.h5")
        let file = try HDF5File.create(filePath)
        try file.write([UInt8(0), 1, 2, 9], shape: [2, 2], to: "/train")
        try file.write([UInt8(0), 1], shape: [1, 2], to: "/test")
        try file.setAttribute("likelihood", to: .string("discrete"))
        try file.setAttribute("levels", to: .integer(4))
        try file.close()
        assertStoreError([filePath, "/train", "value 9", "levels = 4"]) { _ = try DatasetFile.read(filePath) }
    }

    func testDatasetFile_writerRejectsInconsistentContentsWithoutLeavingFiles() {
        var contents = DatasetContents.small()
        contents.trainLogDensity = [-1, -2]
        contents.testLogDensity = [-1, -2]
        assertStoreError(["/train_log_density", "2 entries for 4 examples"]) {
            try DatasetFile.write(contents, to: self.path("bad.h5"))
        }
        var ragged = DatasetContents.small()
        ragged.train = .float32([1, 2, 3])
        assertStoreError(["/train", "not whole rows"]) { try DatasetFile.write(ragged, to: self.path("bad.h5")) }
        XCTAssertEqual(folderContents(), [])
    }
}
