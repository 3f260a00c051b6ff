import Core
import ArgumentParser
import Foundation
import Store
import Pipeline
import Training

/// `compare-fixtures read-checkpoint FILE`: reads a checkpoint as `eval` and `--resume` do
/// (every schema check, the model rebuilt from `config` with the stored parameters, the stored
/// evaluation parsed; for a baseline, its config, counts and exact evaluation) without touching
/// its dataset, and prints SHA-256 digests of its parts.
/// Used by the fuzz test of the readers and by the command-line resume tests, which cannot
/// link Store. 
struct ReadCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read-checkpoint",
        abstract: "Validate a checkpoint and print digests of its parts (for tests).")

    @Argument(help: "Checkpoint file.")
    var file: String

    func run() throws {
        try failOnError {
            guard FileManager.default.fileExists(atPath: file) else { throw FixtureError("\(file): no such file") }
            let checkpoint = try readInIsolation(file) { try Checkpoint.read(from: file) }
            if checkpoint.model == BaselineKind.checkpointModel {
                // An exact baseline: its config, counts and stored evaluation (not its dataset).
                let baseline = try BaselineCheckpoint.baseline(from: checkpoint, path: file)
                if let record = checkpoint.evaluation { _ = try BaselineCheckpoint.storedLogLikelihoods(record, of: baseline, path: file) }
                for line in checkpointDigests(checkpoint) { print(line) }
                return
            }
            let configuration: ModelConfiguration
            do { configuration = try ModelConfiguration(kind: checkpoint.model, json: checkpoint.config) } catch {
                throw FixtureError("\(file): \(error)")
            }
            do {
                _ = try configuration.restoreModel(parameters: checkpoint.parameters)
            } catch {
                throw FixtureError("\(file): \(error)")
            }
            if let record = checkpoint.evaluation { _ = try record.modelEvaluation(path: file) }
            for line in checkpointDigests(checkpoint) { print(line) }
        }
    }
}

/// `part: sha256` lines over the checkpoint's contents. `attributes` covers every root
/// attribute except the timings (``Checkpoint/timingAttributes``, which a resumed run may not
/// match); `evaluation` every evaluation array and attribute except its wall-clock `seconds`.
func checkpointDigests(_ c: Checkpoint) -> [String] {
    func digest(_ fill: (inout [UInt8]) -> Void) -> String {
        var bytes: [UInt8] = []
        fill(&bytes)
        return SHA256.hexDigest(of: bytes)
    }
    func add(_ text: String, _ bytes: inout [UInt8]) { bytes += Array(text.utf8) + [0] }
    func add(_ tensors: [NamedTensor], _ bytes: inout [UInt8]) {
        for t in tensors {
            add("\(t.key) \(t.shape)", &bytes)
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        }
    }
    var attributes = c.attributes
    for name in Checkpoint.timingAttributes { attributes[name] = nil }
    return [
        "model: \(c.model)",
        "step: \(c.step)",
        "header: " + digest { b in for s in [c.model, c.config, c.datasetPath, c.datasetHash, "\(c.seed)", "\(c.step)"] { add(s, &b) } },
        "parameters: " + digest { add(c.parameters, &$0) },
        "optimizer: " + digest { b in
            if let o = c.optimizer { add("\(o.step)", &b); add(o.firstMoment, &b); add(o.secondMoment, &b) } else { add("none", &b) }
        },
        "generator: " + digest { b in add(c.generatorState.map { "\($0)" } ?? "none", &b) },
        "history: " + digest { b in
            for column in c.history {
                add(column.name, &b)
                for v in column.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { b += $0 } }
            }
        },
        "attributes: " + digest { b in for key in attributes.keys.sorted() { add("\(key)=\(attributes[key]!)", &b) } },
        "evaluation: " + (c.evaluation == nil ? "none" : digest { b in
            for a in c.evaluation!.arrays { add("\(a.name) \(a.shape) \(a.values)", &b) }
            // `seconds` is the evaluation's wall-clock time, which no rerun reproduces.
            for key in c.evaluation!.attributes.keys.sorted() where key != "seconds" { add("\(key)=\(c.evaluation!.attributes[key]!)", &b) }
        }),
    ]
}
