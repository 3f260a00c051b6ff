import ArgumentParser
import Pipeline

/// `compare datasets info FILE`: splits, shapes, dtype, likelihood, levels, known density,
/// source and license of one dataset file, after validating all of it.
struct DatasetsInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Validate a dataset file and describe it.")

    @Argument(help: "The dataset file (HDF5).")
    var file: String

    func run() throws {
        try failOnError {
            let lines = try datasetInfo(file)
            let width = lines.map(\.label.count).max()! + 2
            for (label, value) in lines { print(pad(label + ":", width) + value) }
        }
    }
}
