import Core
import Evaluation
import Foundation
import Pipeline
import Store
import Tensor
import Training
import XCTest

/// Convolutional runs of all three models end to end, at sizes a test trains in seconds: 8 × 8
/// binary images, 4 base channels at two resolutions. What the MLP runs promise must hold for
/// them too — a resumed run is the straight run bit for bit, and the independent estimators
/// agree (IWAE_1 = ELBO within 3 standard errors, IWAE_K non-decreasing in K), as the report
/// checks them.
final class ConvolutionalRunTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("conv-runs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Binary 8 × 8 images of one horizontal and one vertical bar at random places, each pixel
    /// flipped with probability 0.05: structure a small network can learn, noise that keeps
    /// every likelihood finite.
    func makeDataset() throws -> (LoadedDataset, String) {
        var generator = RandomGenerator(seed: 11)
        func images(_ count: Int) -> [Float] {
            var values = [Float](repeating: 0, count: count * 64)
            for n in 0..<count {
                let row = generator.nextInt(below: 8), column = generator.nextInt(below: 8)
                for i in 0..<8 {
                    for j in 0..<8 {
                        var on = i == row || j == column
                        if generator.nextUniform() < 0.05 { on.toggle() }
                        values[n * 64 + i * 8 + j] = on ? 1 : 0
                    }
                }
            }
            return values
        }
        let path = folder.appendingPathComponent("bars.h5").path
        try DatasetFile.write(DatasetContents(name: "bars", likelihood: .binary, exampleShape: [8, 8], source: "test", license: "CC0",
                                              train: .float32(images(96)), test: .float32(images(40))), to: path)
        return (try DatasetFile.read(path), try SHA256.hexDigest(ofFileAt: path))
    }

    /// The three models with conv networks, as `compare train --architecture conv` builds them.
    func configurations() throws -> [ModelConfiguration] {
        let image = ImageShape(height: 8, width: 8)
        func settings(_ extra: (inout ModelSettings) -> Void) -> ModelSettings {
            var s = ModelSettings(architecture: .conv, baseChannels: 4, channelMultipliers: [1, 2], residualBlocks: 1)
            extra(&s)
            return s
        }
        return try [
            settings { $0.latentDimension = 4 }.configuration(model: .vae, dimension: 64, likelihood: .binary, image: image),
            settings { $0.latentSizes = [2, 2] }.configuration(model: .hvae, dimension: 64, likelihood: .binary, image: image),
            settings { $0.timestepCount = 8 }.configuration(model: .ddpm, dimension: 64, likelihood: .binary, image: image),
        ]
    }

    func testConfigurations_areConvolutional() throws {
        for configuration in try configurations() {
            XCTAssertTrue(try configuration.json().contains("\"architecture\":\"conv\""), configuration.summary)
            XCTAssertTrue(configuration.summary.contains("channels 4×1,2"), configuration.summary)
        }
    }

    func testResume_ofAConvRun_isBitIdenticalToAStraightRun() throws {
        let (dataset, hash) = try makeDataset()
        let options = TrainingOptions(steps: 12, batchSize: 16, seed: 5, checkpointEvery: 0, logEvery: 3, evaluateEvery: 6, evaluationExamples: 8)
        for configuration in try configurations() {
            let straight = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
            try straight.train(checkpoint: { _ in })

            let part = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
            let path = folder.appendingPathComponent("\(configuration.kind).h5").path
            XCTAssertFalse(try part.train(checkpoint: { run in try run.checkpoint().write(to: path) }, shouldStop: { part.step >= 7 }))
            let saved = try Checkpoint.read(from: path, expecting: CheckpointExpectation(model: configuration.kind.rawValue, requiresOptimizer: true, requiresGenerator: true))
            let resumed = try TrainingRun(resuming: saved, configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
            try resumed.train(checkpoint: { _ in })

            var a = try straight.checkpoint(), b = try resumed.checkpoint()
            for name in Checkpoint.timingAttributes {
                a.attributes[name] = nil
                b.attributes[name] = nil
            }
            XCTAssertEqual(a.parameters, b.parameters, configuration.kind.rawValue)
            XCTAssertTrue(a == b, "\(configuration.kind): checkpoints differ")
        }
    }

    func testEvaluation_ofConvModels_passesTheReportsChecks() throws {
        let (dataset, hash) = try makeDataset()
        let options = TrainingOptions(steps: 30, batchSize: 16, seed: 2, checkpointEvery: 0, logEvery: 10, evaluateEvery: 0, evaluationExamples: 8)
        for configuration in try configurations() {
            let run = try TrainingRun(configuration: configuration, options: options, dataset: dataset, datasetHash: hash)
            try run.train(checkpoint: { _ in })
            let data = Tensor(shape: [dataset.testCount, dataset.dimension], storage: dataset.test)
            var generator = RandomGenerator(seed: 3)
            let evaluation = try GradientMode.withoutRecording {
                try evaluate(run.model, data: data, sampleCounts: [1, 4, 16], logDensity: nil, batchSize: 20, elboDraws: 10, using: &generator)
            }
            // Kish's ESS of each example's 16 weights is kept, lies in [1, 16], and survives the /evaluation record.
            let sizes = try XCTUnwrap(evaluation.effectiveSampleSize)
            XCTAssertEqual(sizes.count, dataset.testCount)
            XCTAssertTrue(sizes.allSatisfy { $0 >= 1 && $0 <= 16 }, "\(sizes)")
            let stored = try EvaluationRecord(evaluation: evaluation, seed: 3, command: "c").modelEvaluation(path: "run.h5")
            XCTAssertEqual(stored.effectiveSampleSize, sizes)
            let checks = boundInequalityChecks(evaluation)
            for check in checks where check.inequality == .iwaeOneMatchesELBO || check.inequality == .iwaeNonDecreasing || check.inequality == .gapNonNegative {
                XCTAssertEqual(check.holds, true, "\(configuration.kind): \(check.inequality) fails, tested \(String(describing: check.tested))")
            }
        }
    }
}
