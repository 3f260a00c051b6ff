import ArgumentParser
import DatasetMakers
import Pipeline

/// `compare datasets make NAME`: generate a synthetic dataset file, seeded and deterministic.
struct DatasetsMakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make",
        abstract: "Generate a synthetic dataset: \(DatasetMaker.allCases.map(\.rawValue).joined(separator: ", ")).")

    @Argument(help: "Which dataset.")
    var name: DatasetMaker

    @Option(name: .customLong("train"), help: "Number of training examples.")
    var trainCount: Int = DatasetMaker.defaultTrainCount

    @Option(name: .customLong("test"), help: "Number of test examples.")
    var testCount: Int = DatasetMaker.defaultTestCount

    @Option(help: "Seed of the random generator.")
    var seed: UInt64 = DatasetMaker.defaultSeed

    @Option(help: "Dimension D (gaussian only; default 2).")
    var dimension: Int?

    @Option(help: "Output file (default Datasets/NAME.h5).")
    var out: String?

    @Flag(help: "Replace an existing dataset file at --out (never a checkpoint or a sample file).")
    var overwrite = false

    var request: DatasetMakeRequest {
        DatasetMakeRequest(maker: name, trainCount: trainCount, testCount: testCount, seed: seed, dimension: dimension, out: out,
                           overwrite: overwrite)
    }

    func run() throws {
        try failOnError { print(try request.run()) }
    }
}
