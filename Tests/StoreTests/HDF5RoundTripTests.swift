import Foundation
import Store
import XCTest

final class HDF5RoundTripTests: TemporaryFolderTestCase {
    private let shapes: [[Int]] = [[], [5], [3, 4], [2, 3, 4], [2, 1, 3, 2]]

    private func roundTrip<Element: HDF5Element & Equatable>(
        _ type: Element.Type, _ make: (Int) -> Element, file name: String
    ) throws {
        let filePath = path(name)
        let file = try HDF5File.create(filePath)
        for (index, shape) in shapes.enumerated() {
            let values = (0..<shape.reduce(1, *)).map(make)
            try file.write(values, shape: shape, to: "/group\(index)/rank\(shape.count)")
        }
        try file.close()

        let reopened = try HDF5File.open(filePath)
        for (index, shape) in shapes.enumerated() {
            let array = try reopened.read(type, from: "group\(index)/rank\(shape.count)")
            XCTAssertEqual(array.shape, shape, "\(type) rank \(shape.count)")
            XCTAssertEqual(array.values, (0..<shape.reduce(1, *)).map(make), "\(type) rank \(shape.count)")
            let description = try reopened.describeDataset("/group\(index)/rank\(shape.count)")
            XCTAssertEqual(description.elementType, Element.elementType)
            XCTAssertEqual(description.shape, shape)
        }
        try reopened.close()
    }

    func testDatasets_roundTripEveryElementTypeAndRankZeroToFour() throws {
        try roundTrip(Float.self, { Float($0) * 0.25 - 1.5 }, file: "float32.h5")
        try roundTrip(Double.self, { Double($0) * 1e-3 + .pi }, file: "float64.h5")
        try roundTrip(UInt8.self, { UInt8(truncatingIfNeeded: $0 * 37) }, file: "uint8.h5")
        try roundTrip(Int32.self, { Int32($0) * -1_000_003 }, file: "int32.h5")
        try roundTrip(Int64.self, { Int64($0) << 40 - 7 }, file: "int64.h5")
        try roundTrip(UInt64.self, { UInt64.max - UInt64($0) }, file: "uint64.h5")
    }

    func testDatasets_largeArraysAreChunkedCompressedAndExact() throws {
        let filePath = path("large.h5")
        let count = 200 * 784
        let values = (0..<count).map { UInt8(($0 / 784) % 3) }  // very compressible
        let file = try HDF5File.create(filePath)
        try file.write(values, shape: [200, 784], to: "/images")
        try file.close()
        let size = try FileManager.default.attributesOfItem(atPath: filePath)[.size] as! Int
        XCTAssertLessThan(size, count / 4, "deflate should shrink a repetitive array")

        let otherPath = path("other.h5")
        let other = try HDF5File.create(otherPath)
        let noise = (0..<5000).map { Float(sin(Double($0))) }
        try other.write(noise, shape: [5000], to: "/noise", storage: .compressed(level: 9))
        try other.write(noise, shape: [50, 100], to: "/plain", storage: .contiguous)
        try other.close()
        XCTAssertEqual(try HDF5File.open(filePath).read(UInt8.self, from: "/images").values, values)
        let reopened = try HDF5File.open(otherPath)
        XCTAssertEqual(try reopened.read(Float.self, from: "/noise").values, noise)
        XCTAssertEqual(try reopened.read(Float.self, from: "/plain").values, noise)
        XCTAssertEqual(try reopened.read(Float.self, from: "/plain").shape, [50, 100])
    }

    func testDatasets_emptyArraysRoundTrip() throws {
        let filePath = path("empty.h5")
        let file = try HDF5File.create(filePath)
        try file.write([Float](), shape: [0, 3], to: "/empty")
        try file.close()
        let array = try HDF5File.open(filePath).read(Float.self, from: "/empty")
        XCTAssertEqual(array.shape, [0, 3])
        XCTAssertEqual(array.values, [])
    }

    func testAttributes_roundTripStringsIntegersDoublesAndArrays() throws {
        let filePath = path("attributes.h5")
        let file = try HDF5File.create(filePath)
        try file.write([1.0, 2.0] as [Double], shape: [2], to: "/values")
        let attributes: [String: AttributeValue] = [
            "text": .string("héllo, wörld ∑ — UTF-8"),
            "empty_text": .string(""),
            "json": .string(#"{"layers":[64,64],"beta":[0.0001,0.02]}"#),
            "count": .integer(-42),
            "big": .unsignedInteger(UInt64.max),
            "rate": .double(1e-3),
            "shape": .integers([28, 28]),
            "bounds": .doubles([-2.5, 2.5]),
            "single": .integers([7]),
        ]
        for (name, value) in attributes {
            try file.setAttribute(name, to: value)
            try file.setAttribute(name, to: value, at: "/values")
        }
        try file.setAttribute("count", to: .integer(43))  // replacing keeps one attribute
        try file.close()

        let reopened = try HDF5File.open(filePath)
        var expected = attributes
        expected["count"] = .integer(43)
        for (name, value) in expected {
            XCTAssertEqual(try reopened.attribute(name), value, name)
        }
        for (name, value) in attributes {
            XCTAssertEqual(try reopened.attribute(name, at: "/values"), value, name)
        }
        XCTAssertEqual(try reopened.attributeNames().sorted(), attributes.keys.sorted())
        XCTAssertNil(try reopened.attribute("absent"))
        XCTAssertEqual(try reopened.attribute("shape")?.integerArray, [28, 28])
        XCTAssertEqual(try reopened.attribute("single")?.integerValue, 7)
        XCTAssertEqual(try reopened.attribute("count")?.doubleValue, 43)
    }

    func testGroups_listChildrenInCreationOrderAndKinds() throws {
        let filePath = path("groups.h5")
        let file = try HDF5File.create(filePath)
        for name in ["zeta", "alpha", "mid"] {
            try file.write([Float(1)], shape: [1], to: "/a/b/\(name)")
        }
        try file.createGroup("/a/b/sub/deeper")
        try file.createGroup("/a/b/sub")  // existing groups are kept
        try file.close()
        let reopened = try HDF5File.open(filePath)
        XCTAssertEqual(try reopened.children(of: "/a/b"), ["zeta", "alpha", "mid", "sub"])
        XCTAssertEqual(try reopened.kind(of: "/a/b"), .group)
        XCTAssertEqual(try reopened.kind(of: "/a/b/zeta"), .dataset)
        XCTAssertNil(try reopened.kind(of: "/a/missing/x"))
        XCTAssertTrue(reopened.exists("a/b/alpha"))
        XCTAssertFalse(reopened.exists("/nothing/here"))
        XCTAssertEqual(try reopened.datasetPaths(under: "/a"), ["b/zeta", "b/alpha", "b/mid"])
    }

    func testDatasets_failuresNameFileObjectAndCause() throws {
        let filePath = path("errors.h5")
        let file = try HDF5File.create(filePath)
        try file.write([Float(1), 2], shape: [2], to: "/x")
        assertStoreError([filePath, "/y", "do not fill shape"]) {
            try file.write([Float(1), 2, 3], shape: [2, 2], to: "/y")
        }
        assertStoreError([filePath, "/x", "already exists"]) { try file.write([Float(1)], shape: [1], to: "/x") }
        assertStoreError([filePath, "/x", "dataset already has this name"]) {
            try file.write([Float(1)], shape: [1], to: "/x/z")
        }
        try file.close()
        let reopened = try HDF5File.open(filePath)
        assertStoreError([filePath, "/x", "stored as float32, expected float64"]) {
            _ = try reopened.read(Double.self, from: "/x")
        }
        XCTAssertEqual(try reopened.read(Double.self, from: "/x", converting: true).values, [1, 2])
        assertStoreError([filePath, "/missing", "no such dataset"]) { _ = try reopened.read(Float.self, from: "/missing") }
        assertStoreError([filePath, "/", "is a group"]) { _ = try reopened.read(Float.self, from: "/") }
    }

    func testOpen_missingNonHDF5AndTruncatedFilesGiveClearErrors() throws {
        assertStoreError([path("absent.h5"), "no such file"]) { _ = try HDF5File.open(path("absent.h5")) }
        let textPath = path("text.h5")
        try "just some text\n".write(toFile: textPath, atomically: true, encoding: .utf8)
        assertStoreError([textPath, "not an HDF5 file"]) { _ = try HDF5File.open(textPath) }
        assertStoreError([folder.path, "directory"]) { _ = try HDF5File.open(folder.path) }

        let truncatedPath = path("truncated.h5")
        try DatasetFile.write(.small(), to: truncatedPath)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: truncatedPath))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncatedPath))
        assertStoreError([truncatedPath]) { _ = try DatasetFile.read(truncatedPath) }
    }

    func testAtomicWrite_failureKeepsOldFileAndLeavesNoTemporary() throws {
        let filePath = path("atomic.h5")
        try HDF5File.writeAtomically(to: filePath) { file in
            try file.write([Float(1)], shape: [1], to: "/version")
        }
        XCTAssertThrowsError(try HDF5File.writeAtomically(to: filePath) { file in
            try file.write([Float(2)], shape: [1], to: "/version")
            try file.write([Float(2)], shape: [5], to: "/broken")  // count mismatch
        }) { error in
            XCTAssertEqual((error as? StoreError)?.file, filePath, "errors name the final path, not the .tmp")
        }
        XCTAssertEqual(folderContents(), ["atomic.h5"])
        XCTAssertEqual(try HDF5File.open(filePath).read(Float.self, from: "/version").values, [1])

        try HDF5File.writeAtomically(to: filePath) { file in
            try file.write([Float(3)], shape: [1], to: "/version")
        }
        XCTAssertEqual(try HDF5File.open(filePath).read(Float.self, from: "/version").values, [3])
        XCTAssertEqual(folderContents(), ["atomic.h5"])
        assertStoreError(["does not exist"]) {
            try HDF5File.writeAtomically(to: self.path("no/such/folder/x.h5")) { _ in }
        }
    }
}
