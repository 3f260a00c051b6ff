import ArgumentParser
import Foundation
import CompareTestSupport
import Store

/// `compare-fixtures example-checkpoint --out FILE`: writes `Checkpoint.example()`, a small
/// checkpoint with known values, for `scripts/interop_check.py`. 
struct ExampleCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-checkpoint",
        abstract: "Write a small example checkpoint with known values (for interoperability checks).")

    @Option(help: "Output checkpoint file.")
    var out: String

    @Option(help: "Dataset file to record (path and SHA-256) in the checkpoint.")
    var dataset: String?

    func run() throws {
        try failOnError {
            if let dataset {
                let hash = try SHA256.hexDigest(ofFileAt: dataset)
                try Checkpoint.writeExample(to: out, datasetPath: dataset, datasetHash: hash)
            } else {
                try Checkpoint.writeExample(to: out)
            }
            print("wrote \(out)")
        }
    }
}
