import Foundation
import Store
import XCTest

final class ImporterTests: TemporaryFolderTestCase {
    func testFashionMNIST_importsSixtyThousandAndTenThousandWithLabels() throws {
        guard FashionMNISTImporter.isAvailable() else {
            throw XCTSkip("Fashion-MNIST missing: apt-get install \(FashionMNISTImporter.debianPackage)")
        }
        let contents = try FashionMNISTImporter.load(binarize: false)
        XCTAssertEqual(contents.likelihood, .discrete)
        XCTAssertEqual(contents.levels, 256)
        XCTAssertEqual(contents.exampleShape, [28, 28])
        XCTAssertEqual(contents.train.count, 60_000 * 784)
        XCTAssertEqual(contents.test.count, 10_000 * 784)
        XCTAssertEqual(contents.trainLabels?.count, 60_000)
        XCTAssertEqual(contents.testLabels?.count, 10_000)
        XCTAssertEqual(Set(contents.trainLabels!), Set(0...9))
        guard case .uint8(let pixels) = contents.test else { return XCTFail("expected uint8 pixels") }
        // Whole-array scans are slow in debug builds: check the first 500 test images.
        let firstImages = Array(pixels.prefix(500 * 784))
        XCTAssertEqual(firstImages.min(), 0)
        XCTAssertEqual(firstImages.max(), 255)
        XCTAssertEqual(contents.license, "MIT")

        let binary = try FashionMNISTImporter.load(binarize: true)
        XCTAssertEqual(binary.likelihood, .binary)
        XCTAssertEqual(binary.levels, 2)
        XCTAssertEqual(binary.attributes["binarization"]?.stringValue, FashionMNISTImporter.binarizationRule)
        guard case .uint8(let bits) = binary.test else { return XCTFail("expected uint8 bits") }
        let firstBits = Array(bits.prefix(500 * 784))
        XCTAssertEqual(Set(firstBits), [0, 1])
        XCTAssertEqual(firstBits, firstImages.map { $0 >= 128 ? 1 : 0 })
        XCTAssertEqual(binary.trainLabels, contents.trainLabels)
    }

    func testDigits_importsAllRowsWithFixedSplitAndLabels() throws {
        guard DigitsImporter.isAvailable() else {
            throw XCTSkip("digits missing: apt-get install \(DigitsImporter.debianPackage)")
        }
        let contents = try DigitsImporter.load()
        let filePath = path("digits.h5")
        try DatasetFile.write(contents, to: filePath)
        let dataset = try DatasetFile.read(filePath)
        XCTAssertEqual(dataset.trainCount + dataset.testCount, 1797)
        XCTAssertEqual(dataset.testCount, 300)
        XCTAssertEqual(dataset.dimension, 64)
        XCTAssertEqual(dataset.metadata.levels, 17)
        XCTAssertEqual(dataset.metadata.exampleShape, [8, 8])
        XCTAssertEqual(dataset.trainLabels?.count, 1497)
        XCTAssertEqual(Set(dataset.testLabels!).isSubset(of: Set(0...9)), true)
        XCTAssertEqual(dataset.train.min(), -1)
        XCTAssertEqual(dataset.train.max(), 1)
        let file = try HDF5File.open(filePath)
        let trainRows = try file.read(Int64.self, from: "/train_source_rows").values
        let testRows = try file.read(Int64.self, from: "/test_source_rows").values
        XCTAssertEqual(Set(trainRows + testRows), Set((0..<1797).map { Int64($0) }), "the split is a partition")
        guard case .uint8(let stored) = contents.train else { return XCTFail("expected uint8") }
        XCTAssertEqual(stored.max(), 16)
        // Deterministic: importing twice gives the same split.
        XCTAssertEqual(try DigitsImporter.load().trainLabels, contents.trainLabels)
    }

    private func idxImages(count: Int, rows: Int = 28, columns: Int = 28, magic: UInt32 = 2051, body: Int? = nil) -> [UInt8] {
        func word(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        return word(magic) + word(UInt32(count)) + word(UInt32(rows)) + word(UInt32(columns))
            + [UInt8](repeating: 7, count: body ?? count * rows * columns)
    }

    func testIDX_rejectsBadMagicAndShortBody() {
        XCTAssertEqual(try IDXFile.parseImages(idxImages(count: 2), path: "x").count, 2)
        assertStoreError(["x-images", "bad IDX magic number 2049", "expected 2051"]) {
            _ = try IDXFile.parseImages(self.idxImages(count: 2, magic: 2049), path: "x-images")
        }
        assertStoreError(["x-images", "body has 100 bytes", "1568"]) {
            _ = try IDXFile.parseImages(self.idxImages(count: 2, body: 100), path: "x-images")
        }
        assertStoreError(["x-labels", "bad IDX magic number 2051"]) {
            _ = try IDXFile.parseLabels(self.idxImages(count: 1), path: "x-labels")
        }
        assertStoreError(["x-labels", "too short"]) { _ = try IDXFile.parseLabels([0, 0], path: "x-labels") }
    }

    func testFashionMNIST_missingOrBadSourceFilesNameTheFile() throws {
        assertStoreError([path("train-images-idx3-ubyte.gz"), "apt-get install dataset-fashion-mnist"]) {
            _ = try FashionMNISTImporter.load(from: self.folder.path, binarize: false)
        }
        // Plain (uncompressed) bytes pass through gzread unchanged.
        for name in ["train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"] {
            try Data(idxImages(count: 2, magic: 1234)).write(to: folder.appendingPathComponent(name))
        }
        for name in ["train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try Data([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]).write(to: folder.appendingPathComponent(name))
        }
        assertStoreError([path("train-images-idx3-ubyte.gz"), "bad IDX magic number 1234"]) {
            _ = try FashionMNISTImporter.load(from: self.folder.path, binarize: false)
        }
    }

    func testGzip_truncatedStreamIsAnError() throws {
        let original = path("data.txt")
        try Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 13) }).write(to: URL(fileURLWithPath: original))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -c '\(original)' > '\(original).gz'"]
        try gzip.run()
        gzip.waitUntilExit()
        guard gzip.terminationStatus == 0 else { throw XCTSkip("gzip not available") }
        XCTAssertEqual(try GzipFile.readAll(original + ".gz").count, 200_000)
        let compressed = try Data(contentsOf: URL(fileURLWithPath: original + ".gz"))
        try compressed.prefix(compressed.count / 2).write(to: URL(fileURLWithPath: original + ".cut.gz"))
        assertStoreError([original + ".cut.gz"]) { _ = try GzipFile.readAll(original + ".cut.gz") }
    }
}
