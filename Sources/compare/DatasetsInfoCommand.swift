import ArgumentParser
import Foundation
import Store

/// `compare datasets info FILE`: splits, shapes, dtype, likelihood, levels, known density,
/// source and license of one dataset file, after validating all of it.
struct DatasetsInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Validate a dataset file and describe it.")

    @Argument(help: "The dataset file (HDF5).")
    var file: String

    func run() throws {
        try failOnError {
            let dataset = try readInIsolation(file) { try DatasetFile.read(file) }
            let metadata = dataset.metadata
            let dimension = metadata.dimension
            var lines: [(String, String)] = [
                ("file", file),
                ("name", metadata.name),
                ("likelihood", metadata.likelihood.rawValue),
                ("levels", metadata.levels.map(String.init) ?? "-"),
                ("dtype", metadata.storedElementType.rawValue),
                ("example shape", "\(metadata.exampleShape) (D = \(dimension))"),
                ("train", "\(metadata.trainCount) × \(dimension)"),
                ("test", "\(metadata.testCount) × \(dimension)"),
                ("labels", metadata.hasLabels ? "yes" : "no"),
            ]
            if let testLogDensity = dataset.testLogDensity {
                let count = Double(testLogDensity.count)
                let mean = testLogDensity.reduce(0, +) / count
                let variance = testLogDensity.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / max(1, count - 1)
                let family = metadata.densityFamily.map { " (\($0))" } ?? ""
                lines.append(("known density", "yes\(family)"))
                lines.append(("test E[log q(x0)]", String(format: "%.6f ± %.6f nats", mean, (variance / count).squareRoot())))
                if !dataset.densityParameters.isEmpty {
                    let parameters = dataset.densityParameters.map { "\($0.name) \($0.shape)" }
                    lines.append(("density parameters", parameters.joined(separator: ", ")))
                }
            } else {
                lines.append(("known density", "no"))
            }
            lines.append(("source", metadata.source))
            lines.append(("license", metadata.license))
            if let rule = metadata.attributes["binarization"]?.stringValue { lines.append(("binarization", rule)) }
            if let split = metadata.attributes["split"]?.stringValue { lines.append(("split", split)) }
            if let command = metadata.attributes["command"]?.stringValue { lines.append(("regenerate", command)) }
            let width = lines.map(\.0.count).max()! + 2
            for (key, value) in lines { print(pad(key + ":", width) + value) }
        }
    }
}
