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

    /// The dataset, read back, and the SHA-256 of its file; `editTraining` may change the training
    /// points (as [x₀, y₀, x₁, …]) before they are written.
    func makeDataset(trainCount: Int = 300, testCount: Int = 50,
                     editTraining: (inout [Float]) -> Void = { _ in }) throws -> (LoadedDataset, String) {
        let generated = try DatasetMaker.gmm2d.make(trainCount: trainCount, testCount: testCount, seed: 3, dimension: nil)
        var train = generated.train
        editTraining(&train)
        let edited = train != generated.train
        let path = folder.appendingPathComponent("ring.h5").path
        try DatasetFile.write(DatasetContents(name: "ring", likelihood: .continuous, exampleShape: [2], source: "test", license: "CC0",
                                              train: .float32(train), test: .float32(generated.test),
                                              // An edited point has another density: then store none (both splits or neither).
                                              trainLogDensity: edited ? nil : generated.trainLogDensity,
                                              testLogDensity: edited ? nil : generated.testLogDensity), to: path)
        return (try DatasetFile.read(path), try SHA256.hexDigest(ofFileAt: path))
    }
}
