import ArgumentParser
import Pipeline

/// `compare datasets list`: the files under Datasets/ and what can be made or imported.
struct DatasetsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Show dataset files present, and the datasets that can be made or imported.")

    @Option(name: .long, help: "Folder to look in.")
    var folder: String = defaultDatasetFolder

    func run() throws {
        try failOnError { for line in datasetListing(folder: folder) { print(line) } }
    }
}
