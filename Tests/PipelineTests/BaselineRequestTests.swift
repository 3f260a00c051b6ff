import Core
import Evaluation
import Foundation
import Pipeline
import Store
import Training
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `compare baseline` as a request, through real files: the checkpoint it writes (counts and an
/// exact evaluation equal to the hand-computed closed form), `compare eval` of it (the stored
/// evaluation again, bit for bit), the readers that trust nothing in it, the commands that
/// refuse it, and `compare report` with its rows above a trained model.
final class BaselineRequestTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// L = 3, D = 2, stored as uint8 levels. Training (N = 4): dimension 0 sees 0, 0, 1, 0
    /// (counts 3, 1, 0), dimension 1 sees 1, 2, 2, 2 (counts 0, 1, 3). Test: (0, 2), (2, 0), (1, 1).
    @discardableResult
    func writeTinyDataset(_ name: String = "tiny.h5", test: [UInt8] = [0, 2, 2, 0, 1, 1]) throws -> String {
        try DatasetFile.write(DatasetContents(name: "tiny", likelihood: .discrete, levels: 3, exampleShape: [2], source: "test", license: "CC0",
                                              train: .uint8([0, 1, 0, 2, 1, 2, 0, 2]), test: .uint8(test)), to: path(name))
        return path(name)
    }

    /// With add-one smoothing p_d(l) = (c + 1)/7: (4/7)², (1/7)², (2/7)².
    let handComputed = [2 * log(4.0 / 7), 2 * log(1.0 / 7), 2 * log(2.0 / 7)]

    /// The description of `body`'s error; fails the test when it does not throw or its message
    /// is not one line naming `file`.
    func oneLineError(naming file: String, _ body: () throws -> Any, line: UInt = #line) -> String {
        do {
            _ = try body()
            XCTFail("no error", line: line)
            return ""
        } catch {
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), "not one line: \(text)", line: line)
            XCTAssertTrue(text.contains(file), "'\(text)' does not name \(file)", line: line)
            return text
        }
    }

    func testBaseline_writesTheTrainingCountsAndTheHandComputedExactEvaluation() throws {
        let dataset = try writeTinyDataset()
        let request = BaselineRequest(dataset: dataset, out: path("pixel.h5"))
        let line = try request.run()
        XCTAssertTrue(line.hasPrefix("wrote \(path("pixel.h5")): per-pixel categorical (add-1): exact log p(x) = "), line)

        let checkpoint = try Checkpoint.read(from: path("pixel.h5"))
        XCTAssertEqual(checkpoint.model, "baseline")
        XCTAssertEqual(checkpoint.seed, 0)
        XCTAssertEqual(checkpoint.step, 0)
        XCTAssertEqual(checkpoint.datasetHash, try SHA256.hexDigest(ofFileAt: dataset))
        XCTAssertEqual(checkpoint.attributes["command"]?.stringValue, request.commandLine)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(checkpoint.config.utf8)) as? [String: Any])
        XCTAssertEqual(config["kind"] as? String, "pixel")
        XCTAssertEqual(config["levels"] as? Int, 3)
        XCTAssertEqual(config["dimension"] as? Int, 2)
        XCTAssertEqual(config["smoothing"] as? Double, 1)
        XCTAssertEqual(config["training_examples"] as? Int, 4)
        XCTAssertEqual(checkpoint.parameters, [NamedTensor(key: "counts", shape: [2, 3], values: [3, 1, 0, 0, 1, 3])])

        let evaluation = try XCTUnwrap(checkpoint.evaluation)
        let elbo = try XCTUnwrap(evaluation.array(named: "elbo"))
        XCTAssertEqual(elbo.shape, [3])
        for (value, hand) in zip(elbo.values, handComputed) { XCTAssertEqual(value, hand, accuracy: 1e-13) }
        XCTAssertEqual(evaluation.array(named: "reconstruction")?.values, elbo.values)
        XCTAssertEqual(evaluation.array(named: "iwae"), NamedArray(name: "iwae", shape: [1, 3], values: elbo.values))
        XCTAssertEqual(evaluation.array(named: "sample_counts")?.values, [1])
        XCTAssertEqual(evaluation.array(named: "layer_kl")?.shape, [0, 3])
        XCTAssertEqual(evaluation.attributes["exact"]?.integerValue, 1)
        XCTAssertEqual(evaluation.attributes["layer_names"]?.stringValue, "[]")
        // The record reads back as any evaluation does: the report's estimators see K = 1, no layers, gap 0.
        let model = try evaluation.modelEvaluation(path: path("pixel.h5"))
        XCTAssertEqual(model.gapEstimate.mean, 0)
        XCTAssertEqual(model.layerNames, [])
    }

    func testUniformAndSmoothing_followTheirFormulas() throws {
        let dataset = try writeTinyDataset()
        try BaselineRequest(dataset: dataset, kind: .uniform, out: path("uniform.h5")).run()
        let uniform = try XCTUnwrap(Checkpoint.read(from: path("uniform.h5")).evaluation?.array(named: "elbo"))
        XCTAssertEqual(uniform.values, [Double](repeating: -2 * log(3.0), count: 3))
        XCTAssertEqual(try Checkpoint.read(from: path("uniform.h5")).parameters, [])

        try BaselineRequest(dataset: dataset, smoothing: 0.5, out: path("half.h5")).run()
        let half = try XCTUnwrap(Checkpoint.read(from: path("half.h5")).evaluation?.array(named: "elbo"))
        // p_d(l) = (c + 0.5)/(4 + 1.5).
        let expected = [2 * log(3.5 / 5.5), 2 * log(0.5 / 5.5), 2 * log(1.5 / 5.5)]
        for (value, hand) in zip(half.values, expected) { XCTAssertEqual(value, hand, accuracy: 1e-13) }
    }

    func testRequest_printsItselfAndRefusesImpossibleOptions() {
        XCTAssertEqual(BaselineRequest(dataset: "d.h5").commandLine, "compare baseline --dataset d.h5")
        XCTAssertEqual(BaselineRequest(dataset: "d.h5", smoothing: 1).commandLine, "compare baseline --dataset d.h5", "the default is left out")
        XCTAssertEqual(BaselineRequest(dataset: "d.h5", kind: .uniform, examples: 10, out: "b.h5", overwrite: true).commandLine,
                       "compare baseline --dataset d.h5 --kind uniform --examples 10 --out b.h5 --overwrite")
        XCTAssertEqual(BaselineRequest(dataset: "d.h5", smoothing: 0.5).commandLine, "compare baseline --dataset d.h5 --smoothing 0.5")
        XCTAssertEqual(BaselineRequest(dataset: "d.h5").outputPath(datasetName: "digits"), "Runs/baseline-pixel-digits.h5")
        XCTAssertEqual(BaselineRequest(dataset: "d.h5", kind: .uniform).outputPath(datasetName: "digits"), "Runs/baseline-uniform-digits.h5")
        for request in [BaselineRequest(dataset: "d.h5", smoothing: 0), BaselineRequest(dataset: "d.h5", smoothing: -1),
                        BaselineRequest(dataset: "d.h5", smoothing: .nan), BaselineRequest(dataset: "d.h5", smoothing: .infinity),
                        BaselineRequest(dataset: "d.h5", kind: .uniform, smoothing: 2), BaselineRequest(dataset: "d.h5", examples: 0)] {
            XCTAssertThrowsError(try request.validate(), request.commandLine)
        }
    }

    func testEvalOfABaseline_reproducesTheStoredEvaluationBitForBit() throws {
        let dataset = try writeTinyDataset()
        let out = path("pixel.h5")
        try BaselineRequest(dataset: dataset, out: out).run()
        let stored = try XCTUnwrap(Checkpoint.readEvaluation(from: out))
        // Sampling options change nothing: the value is exact.
        let line = try EvaluationRequest(checkpoint: out, sampleCounts: [1, 10, 100], seed: 9, elboDraws: 3).run(quiet: true)
        XCTAssertTrue(line.contains("exact"), line)
        let again = try XCTUnwrap(Checkpoint.readEvaluation(from: out))
        XCTAssertEqual(again.arrays, stored.arrays, "the arrays, bit for bit")
        var attributes = again.attributes
        XCTAssertEqual(attributes.removeValue(forKey: "command")?.stringValue, "compare eval \(out)")
        var storedAttributes = stored.attributes
        storedAttributes["command"] = nil
        XCTAssertEqual(attributes, storedAttributes)

        // --examples: the first n, the same values.
        try EvaluationRequest(checkpoint: out, examples: 2).run(quiet: true)
        let prefix = try XCTUnwrap(Checkpoint.readEvaluation(from: out)?.array(named: "elbo"))
        XCTAssertEqual(prefix.values, Array(try XCTUnwrap(stored.array(named: "elbo")).values.prefix(2)))
        XCTAssertEqual(try Checkpoint.readEvaluation(from: out)?.attributes["command"]?.stringValue, "compare eval \(out) --examples 2")
    }

    func testOutput_isClaimedLikeEveryCheckpoint() throws {
        let dataset = try writeTinyDataset()
        try BaselineRequest(dataset: dataset, out: path("pixel.h5")).run()
        let before = try Data(contentsOf: URL(fileURLWithPath: path("pixel.h5")))
        let refusal = oneLineError(naming: path("pixel.h5")) { try BaselineRequest(dataset: dataset, kind: .uniform, out: self.path("pixel.h5")).run() }
        XCTAssertTrue(refusal.contains("--overwrite"), refusal)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("pixel.h5"))), before, "the refused run left the file as it was")
        try BaselineRequest(dataset: dataset, kind: .uniform, out: path("pixel.h5"), overwrite: true).run()
        XCTAssertEqual(try Checkpoint.read(from: path("pixel.h5")).parameters, [])
        // Never over a dataset, even with --overwrite.
        _ = oneLineError(naming: dataset) { try BaselineRequest(dataset: dataset, out: dataset, overwrite: true).run() }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }, [])
    }

    func testDataWithoutLevels_isRefusedInOneLine() throws {
        try DatasetFile.write(DatasetContents(name: "points", likelihood: .continuous, exampleShape: [2], source: "test", license: "CC0",
                                              train: .float32([0.5, 1, 2, 3]), test: .float32([1, 2])), to: path("points.h5"))
        let message = oneLineError(naming: path("points.h5")) { try BaselineRequest(dataset: self.path("points.h5"), out: self.path("b.h5")).run() }
        XCTAssertTrue(message.contains("continuous"), message)
        // float32 discrete data off the level grid belong to no level.
        try DatasetFile.write(DatasetContents(name: "off", likelihood: .discrete, levels: 3, exampleShape: [2], source: "test", license: "CC0",
                                              train: .float32([-1, 0, 0.25, 1]), test: .float32([1, 0])), to: path("off.h5"))
        let off = oneLineError(naming: path("off.h5")) { try BaselineRequest(dataset: self.path("off.h5"), out: self.path("b.h5")).run() }
        XCTAssertTrue(off.contains("/train") && off.contains("row 1, column 0"), off)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("b.h5")))
    }

    /// Each edit of a baseline checkpoint is refused by the readers with one line naming it.
    func testReaders_trustNothingInABaselineCheckpoint() throws {
        let dataset = try writeTinyDataset()
        let good = path("pixel.h5")
        try BaselineRequest(dataset: dataset, out: good).run()
        let original = try Checkpoint.read(from: good)
        func edited(_ name: String, _ edit: (inout Checkpoint) -> Void) throws -> String {
            var checkpoint = original
            edit(&checkpoint)
            try checkpoint.write(to: path(name))
            return path(name)
        }
        func counts(_ values: [Float], shape: [Int] = [2, 3]) -> (inout Checkpoint) -> Void {
            { $0.parameters = [NamedTensor(key: "counts", shape: shape, values: values)] }
        }
        func config(_ json: String) -> (inout Checkpoint) -> Void { { $0.config = json } }
        let cases: [(String, (inout Checkpoint) -> Void, String)] = [
            ("negative.h5", counts([4, 1, -1, 0, 1, 3]), "expected whole numbers"),
            ("fraction.h5", counts([2.5, 1.5, 0, 0, 1, 3]), "expected whole numbers"),
            ("nan.h5", counts([.nan, 1, 0, 0, 1, 3]), "contains nan"),
            ("shape.h5", counts([3, 1, 0, 0, 1, 3], shape: [3, 2]), "has shape [3, 2]"),
            ("sum.h5", counts([3, 1, 1, 0, 1, 3]), "sum to 5"),
            ("swapped.h5", counts([1, 3, 0, 0, 1, 3]), "differ from the counts of the training split"),
            ("no-counts.h5", { $0.parameters = [] }, "exactly /parameters/counts"),
            ("huge-levels.h5", config(#"{"dimension":2,"kind":"pixel","levels":1000000000000,"smoothing":1,"training_examples":4}"#), "has shape [2, 3]"),
            ("huge-levels-uniform.h5", { $0.parameters = []; $0.config = #"{"dimension":2,"kind":"uniform","levels":1000000000000,"smoothing":0,"training_examples":4}"# }, "levels is 1000000000000"),
            ("huge-n.h5", config(#"{"dimension":2,"kind":"pixel","levels":3,"smoothing":1,"training_examples":9223372036854775807}"#), "training_examples is"),
            ("overflow.h5", config(#"{"dimension":2,"kind":"pixel","levels":3,"smoothing":1,"training_examples":1e400}"#), "config"),
            ("kind.h5", config(#"{"dimension":2,"kind":"gaussian","levels":3,"smoothing":1,"training_examples":4}"#), "config"),
            ("alpha.h5", config(#"{"dimension":2,"kind":"pixel","levels":3,"smoothing":-1,"training_examples":4}"#), "smoothing is -1"),
            ("other-n.h5", { $0.parameters = [NamedTensor(key: "counts", shape: [2, 3], values: [4, 1, 0, 0, 1, 4])]
                              $0.config = #"{"dimension":2,"kind":"pixel","levels":3,"smoothing":1,"training_examples":5}"# }, "N = 5"),
            ("not-json.h5", config("{"), "config"),
        ]
        for (name, edit, fragment) in cases {
            let file = try edited(name, edit)
            let message = oneLineError(naming: file) { try LoadedBaseline(path: file) }
            XCTAssertTrue(message.contains(fragment), "\(name): '\(message)' lacks '\(fragment)'")
            // eval refuses it too, and leaves the file as it was.
            let before = try Data(contentsOf: URL(fileURLWithPath: file))
            _ = oneLineError(naming: file) { try EvaluationRequest(checkpoint: file).run(quiet: true) }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), before, name)
        }

        // The stored evaluation: the report (which reads each baseline before it looks for models)
        // recomputes it and refuses one that was changed.
        let evaluationCases: [(String, [Double], String)] = [
            ("changed.h5", [handComputed[0], handComputed[1] + 1e-6, handComputed[2]], "exact log p(x) is"),
            ("positive.h5", [0.5, handComputed[1], handComputed[2]], "above 0"),
        ]
        for (name, elbo, fragment) in evaluationCases {
            let file = try edited(name) { checkpoint in
                checkpoint.evaluation = BaselineCheckpoint.evaluationRecord(elbo, dimension: 2, command: "edited")
            }
            let message = oneLineError(naming: file) { try ReportRequest(runs: [file], out: self.path("r.md")).run() }
            XCTAssertTrue(message.contains(fragment), "\(name): '\(message)' lacks '\(fragment)'")
        }
        let notExact = try edited("not-exact.h5") { $0.evaluation?.attributes["exact"] = nil }
        XCTAssertTrue(oneLineError(naming: notExact) { try ReportRequest(runs: [notExact], out: self.path("r.md")).run() }.contains("exact = 1"))
        // The dataset changed since the fit: refused, as for a model run.
        try writeTinyDataset(test: [0, 2, 2, 0, 1, 0])
        XCTAssertTrue(oneLineError(naming: good) { try LoadedBaseline(path: good) }.contains("changed"))
    }

    func testSampleAndResume_refuseABaselineInOneLine() throws {
        let dataset = try writeTinyDataset()
        let out = path("pixel.h5")
        try BaselineRequest(dataset: dataset, out: out).run()
        let sample = oneLineError(naming: out) { try SampleRequest(checkpoint: out, count: 4, out: self.path("s.h5")).run() }
        XCTAssertTrue(sample.contains("exact baseline") && sample.contains("cannot be sampled"), sample)
        let resume = oneLineError(naming: out) {
            try TrainRequest(model: .vae, dataset: dataset, training: TrainingOptions(steps: 4, batchSize: 2), out: out, resume: true).run(quiet: true)
        }
        XCTAssertTrue(resume.hasPrefix("--resume: ") && resume.contains("exact baseline"), resume)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("s.h5")))
    }

    /// Binary 4 × 4 images where pixels go together (whole rows on or off): a small VAE trained
    /// briefly, the per-pixel and uniform baselines, and `compare report` with all three.
    func testReport_showsTheBaselinesAboveTheModelsAndChecksThem() throws {
        var generator = RandomGenerator(seed: 4)
        func images(_ count: Int) -> [Float] {
            (0..<count).flatMap { _ -> [Float] in
                let rows = (0..<4).map { _ in generator.nextUniform() < 0.3 }
                return (0..<16).map { rows[$0 / 4] ? 1 : 0 }
            }
        }
        let dataset = path("rows.h5")
        try DatasetFile.write(DatasetContents(name: "rows", likelihood: .binary, exampleShape: [4, 4], source: "test", license: "CC0",
                                              train: .float32(images(400)), test: .float32(images(60))), to: dataset)
        try TrainRequest(model: .vae, dataset: dataset,
                         training: TrainingOptions(steps: 600, batchSize: 32, learningRate: 3e-3, checkpointEvery: 0, evaluateEvery: 0, evaluationExamples: 8),
                         settings: ModelSettings(hiddenSizes: [32], latentDimension: 2), out: path("vae.h5")).run(quiet: true)
        try EvaluationRequest(checkpoint: path("vae.h5"), sampleCounts: [1, 8], examples: 40, elboDraws: 2).run(quiet: true)
        try BaselineRequest(dataset: dataset, out: path("pixel.h5")).run()
        try BaselineRequest(dataset: dataset, kind: .uniform, out: path("uniform.h5")).run()

        let report = path("report.md")
        try ReportRequest(runs: [path("vae.h5"), path("uniform.h5"), path("pixel.h5")], out: report).run()
        let markdown = try String(contentsOfFile: report, encoding: .utf8)
        let lines = markdown.components(separatedBy: "\n")
        if ProcessInfo.processInfo.environment["BASELINE_PRINT"] != nil { print(markdown) }
        let uniformRow = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("| baseline: uniform | 0 | 0 | 0 | -11.09 ± 0 | -11.09 ± 0 | 0 (exact) | 1.000 ± 0 | 1.000 ± 0 | — | — |") },
                                       "uniform: -16 log 2 = -11.09 nats, 1 bit/dim exactly")
        let pixelRow = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("| baseline: per-pixel Bernoulli (add-1) | 0 | 16 | 0 | ") })
        let modelRow = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("| VAE |") })
        XCTAssertLessThan(uniformRow, modelRow)
        XCTAssertLessThan(pixelRow, modelRow)
        XCTAssertTrue(markdown.contains("same first n = 40 test examples"), "the baselines (60 examples) are shown on the VAE's 40")
        XCTAssertTrue(markdown.contains("| beats the per-pixel baseline |"))
        // Rows of four pixels: a VAE with one latent per row pattern beats independent pixels clearly.
        let checkRow = try XCTUnwrap(lines.first { $0.hasPrefix("| VAE | pass") })
        XCTAssertTrue(checkRow.contains("| pass (log p̂ - log p_pixel = "), checkRow)
        XCTAssertTrue(markdown.contains("# baselines\ncompare baseline --dataset \(dataset) --out \(path("pixel.h5"))") ||
                      markdown.contains("# baselines\ncompare baseline --dataset \(dataset) --kind uniform --out \(path("uniform.h5"))"), markdown)

        // The author's notes become the section "Observations", above the generated ones; a notes
        // file that cannot be read is one line naming it, and no report is written.
        let notes = path("notes.md")
        try "The samples show **whole rows** lit, as the data do.\n".write(toFile: notes, atomically: true, encoding: .utf8)
        let noted = path("noted.md")
        try ReportRequest(runs: [path("vae.h5"), path("pixel.h5")], out: noted, notes: notes).run()
        let notedText = try String(contentsOfFile: noted, encoding: .utf8)
        let observations = try XCTUnwrap(notedText.range(of: "## Observations\n"))
        let runsSection = try XCTUnwrap(notedText.range(of: "## Runs\n"))
        XCTAssertLessThan(observations.lowerBound, runsSection.lowerBound)
        XCTAssertTrue(notedText.contains("The samples show **whole rows** lit, as the data do."))
        XCTAssertTrue(notedText.contains("--notes \(notes)"), "the Reproduce line names the notes file")
        XCTAssertFalse(markdown.contains("## Observations"), "no notes, no section")
        try Data([0x66, 0xFF, 0xFE]).write(to: URL(fileURLWithPath: path("latin.md")))
        for (bad, words) in [(path("absent.md"), "no such file"), (path("latin.md"), "not UTF-8"), (folder.path, "not a regular file")] {
            let refused = path("refused.md")
            XCTAssertTrue(oneLineError(naming: bad) { try ReportRequest(runs: [self.path("vae.h5")], out: refused, notes: bad).run() }.contains(words))
            XCTAssertFalse(FileManager.default.fileExists(atPath: refused))
        }

        // Baselines alone make no comparison; a baseline of other data is refused like a run of it.
        XCTAssertTrue(oneLineError(naming: path("pixel.h5")) { try ReportRequest(runs: [self.path("pixel.h5")], out: self.path("alone.md")).run() }
            .contains("at least one evaluated model"))
        try writeTinyDataset()
        try BaselineRequest(dataset: path("tiny.h5"), out: path("tiny-pixel.h5")).run()
        XCTAssertTrue(oneLineError(naming: path("tiny-pixel.h5")) {
            try ReportRequest(runs: [self.path("vae.h5"), self.path("tiny-pixel.h5")], out: self.path("mixed.md")).run()
        }.contains("cannot put a baseline"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("mixed.md")))
    }
}
