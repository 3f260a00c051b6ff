import ArgumentParser

struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "datasets", abstract: "List, inspect, make and import dataset files.")
}
