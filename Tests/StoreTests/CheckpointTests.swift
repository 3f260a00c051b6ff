import Core
import Foundation
import CompareTestSupport
import Store
import XCTest

final class CheckpointTests: TemporaryFolderTestCase {
    func testCheckpoint_roundTripsEveryPart() throws {
        let filePath = path("run.h5")
        let checkpoint = Checkpoint.example()
        try checkpoint.write(to: filePath)
        let loaded = try Checkpoint.read(from: filePath)
        XCTAssertEqual(loaded, checkpoint)
        XCTAssertEqual(loaded.parameters.map(\.key), ["encoder.layers.0.weight", "encoder.layers.0.bias", "decoder.scale"])
        XCTAssertEqual(folderContents(), ["run.h5"])
    }

    func testCheckpoint_dottedKeysBecomeGroupsAndRootAttributesFollowTheSchema() throws {
        let filePath = path("run.h5")
        try Checkpoint.example().write(to: filePath)
        let file = try HDF5File.open(filePath)
        XCTAssertEqual(try file.kind(of: "/parameters/encoder/layers/0"), .group)
        XCTAssertEqual(try file.read(Float.self, from: "/parameters/encoder/layers/0/weight").shape, [3, 2])
        XCTAssertEqual(try file.read(Float.self, from: "/optimizer/second_moment/decoder/scale").values[0], 0.0625, accuracy: 1e-7)
        XCTAssertEqual(try file.attribute("step", at: "/optimizer"), .integer(7))
        XCTAssertEqual(try file.read(UInt64.self, from: "/generator").values, [1, 2, 3, 4])
        XCTAssertEqual(try file.read(Double.self, from: "/history/loss").values, [3, 2, 1.5])
        XCTAssertEqual(try file.read(Double.self, from: "/evaluation/elbo").values, [-1, -2, -3, -4])
        XCTAssertEqual(try file.attribute("format"), .string("compare-checkpoint"))
        XCTAssertEqual(try file.attribute("format_version"), .integer(1))
        XCTAssertEqual(try file.attribute("model"), .string("example"))
        XCTAssertEqual(try file.attribute("seed"), .unsignedInteger(7))
        XCTAssertEqual(try file.attribute("step"), .integer(3))
        XCTAssertNotNil(try file.attribute("config")?.stringValue)
        XCTAssertNotNil(try file.attribute("dataset_hash")?.stringValue)
    }

    func testCheckpoint_loadingChecksModelKeysAndShapesAgainstExpectation() throws {
        let filePath = path("run.h5")
        try Checkpoint.example().write(to: filePath)
        let specifications = Checkpoint.example().parameters.map(\.specification)

        let reordered = try Checkpoint.read(from: filePath, expecting: CheckpointExpectation(
            model: "example", parameters: specifications.reversed(), requiresOptimizer: true, requiresGenerator: true))
        XCTAssertEqual(reordered.parameters.map(\.key), specifications.reversed().map(\.key))

        assertStoreError([filePath, "attribute 'model' of /", "'example'", "expected 'vae'"]) {
            _ = try Checkpoint.read(from: filePath, expecting: CheckpointExpectation(model: "vae"))
        }
        var missing = specifications
        missing.append(TensorSpecification(key: "decoder.bias", shape: [2]))
        assertStoreError([filePath, "/parameters/decoder/bias", "missing"]) {
            _ = try Checkpoint.read(from: filePath, expecting: CheckpointExpectation(parameters: missing))
        }
        assertStoreError([filePath, "/parameters/decoder/scale", "unexpected key 'decoder.scale'"]) {
            _ = try Checkpoint.read(from: filePath, expecting: CheckpointExpectation(parameters: Array(specifications.prefix(2))))
        }
        var reshaped = specifications
        reshaped[0].shape = [2, 3]
        assertStoreError([filePath, "/parameters/encoder/layers/0/weight", "shape [3, 2]", "expected [2, 3]"]) {
            _ = try Checkpoint.read(from: filePath, expecting: CheckpointExpectation(parameters: reshaped))
        }
    }

    func testCheckpoint_rejectsOtherFormatsVersionsAndMissingResumeState() throws {
        let datasetPath = path("dataset.h5")
        try DatasetFile.write(.small(), to: datasetPath)
        assertStoreError([datasetPath, "attribute 'format' of /", "expected 'compare-checkpoint'"]) {
            _ = try Checkpoint.read(from: datasetPath)
        }
        let filePath = path("run.h5")
        try Checkpoint.example().write(to: filePath)
        let file = try HDF5File.open(filePath, mode: .readWrite)
        try file.setAttribute("format_version", to: .integer(99))
        try file.close()
        assertStoreError([filePath, "format_version", "99", "version 1"]) { _ = try Checkpoint.read(from: filePath) }

        var bare = Checkpoint.example()
        bare.optimizer = nil
        bare.generatorState = nil
        try bare.write(to: filePath)
        XCTAssertNil(try Checkpoint.read(from: filePath).optimizer)
        assertStoreError([filePath, "/optimizer", "missing"]) {
            _ = try Checkpoint.read(from: filePath, expecting: CheckpointExpectation(requiresOptimizer: true))
        }
        assertStoreError([filePath, "/generator", "missing"]) {
            _ = try Checkpoint.read(from: filePath, expecting: CheckpointExpectation(requiresGenerator: true))
        }
    }

    func testCheckpoint_invalidContentsFailBeforeTouchingTheOldFile() throws {
        let filePath = path("run.h5")
        try Checkpoint.example().write(to: filePath)
        var clash = Checkpoint.example()
        clash.parameters.append(NamedTensor(key: "decoder.scale.extra", shape: [1], values: [1]))
        clash.optimizer = nil
        assertStoreError([filePath, "prefix"]) { try clash.write(to: filePath) }
        var badKey = Checkpoint.example()
        badKey.parameters[0].key = "encoder..weight"
        badKey.optimizer = nil
        assertStoreError([filePath, "invalid parameter key"]) { try badKey.write(to: filePath) }
        var mismatched = Checkpoint.example()
        mismatched.optimizer!.firstMoment.removeLast()
        assertStoreError([filePath, "/optimizer/first_moment", "differ from /parameters"]) { try mismatched.write(to: filePath) }
        var ragged = Checkpoint.example()
        ragged.history[1].values.append(0)
        assertStoreError([filePath, "/history/loss", "4 rows"]) { try ragged.write(to: filePath) }
        XCTAssertEqual(folderContents(), ["run.h5"])
        XCTAssertEqual(try Checkpoint.read(from: filePath), Checkpoint.example())
    }

    func testCheckpoint_evaluationGroupIsReplacedAtomically() throws {
        let filePath = path("run.h5")
        try Checkpoint.example().write(to: filePath)
        let record = EvaluationRecord(
            arrays: [
                NamedArray(name: "elbo", shape: [3], values: [-1, -2, -3]),
                NamedArray(name: "iwae/k10", shape: [3], values: [-0.5, -1.5, -2.5]),
                NamedArray(name: "per_layer_kl", shape: [3, 2], values: [1, 2, 3, 4, 5, 6]),
            ],
            attributes: ["samples": .integers([1, 10]), "dataset": .string("x.h5"), "seed": .integer(0)])
        try Checkpoint.updateEvaluation(at: filePath, with: record)
        XCTAssertEqual(try Checkpoint.readEvaluation(from: filePath), record)
        var expected = Checkpoint.example()
        expected.evaluation = record
        XCTAssertEqual(try Checkpoint.read(from: filePath), expected)
        XCTAssertEqual(folderContents(), ["run.h5"])
    }

    func testCheckpoint_datasetHashIsTheSHA256OfTheFileBytes() throws {
        let datasetPath = path("dataset.h5")
        try DatasetFile.write(.small(), to: datasetPath)
        let hash = try SHA256.hexDigest(ofFileAt: datasetPath)
        XCTAssertEqual(hash.count, 64)
        XCTAssertEqual(hash, SHA256.hexDigest(of: [UInt8](try Data(contentsOf: URL(fileURLWithPath: datasetPath)))))
        try Checkpoint.writeExample(to: path("run.h5"), datasetPath: datasetPath, datasetHash: hash)
        XCTAssertEqual(try Checkpoint.read(from: path("run.h5")).datasetHash, hash)
    }
}
