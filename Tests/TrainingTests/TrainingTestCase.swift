import DatasetMakers
import Foundation
import Store
import XCTest

/// The training tests' common ground: a scratch folder per test, removed afterwards, and a small
/// gmm2d dataset file (300 training and 50 test points, log-densities included) written in it.
class TrainingTestCase: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("compare-training-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// The dataset, read back, and the SHA-256 of its file.
    func makeDataset() throws -> (LoadedDataset, String) {
        let generated = try DatasetMaker.gmm2d.make(trainCount: 300, testCount: 50, seed: 3, dimension: nil)
        let path = folder.appendingPathComponent("ring.h5").path
        try DatasetFile.write(DatasetContents(name: "ring", likelihood: .continuous, exampleShape: [2], source: "test", license: "CC0",
                                              train: .float32(generated.train), test: .float32(generated.test),
                                              trainLogDensity: generated.trainLogDensity, testLogDensity: generated.testLogDensity), to: path)
        return (try DatasetFile.read(path), try SHA256.hexDigest(ofFileAt: path))
    }
}
