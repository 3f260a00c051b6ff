import ArgumentParser
import DatasetMakers
import Foundation
import Pipeline
import Store

/// `compare datasets list`: the files under Datasets/ and what can be made or imported.
struct DatasetsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Show dataset files present, and the datasets that can be made or imported.")

    @Option(name: .long, help: "Folder to look in.")
    var folder: String = defaultDatasetFolder

    func run() throws {
        try failOnError {
            print("Dataset files in \(folder)/:")
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { $0.hasSuffix(".h5") }.sorted()
            if names.isEmpty { print("  (none)") }
            for name in names {
                let path = (folder as NSString).appendingPathComponent(name)
                do {
                    let metadata = try readInIsolation(path) { try DatasetFile.readMetadata(path) }
                    print("  \(pad(name, 26)) \(describe(metadata))")
                } catch {
                    print("  \(pad(name, 26)) unreadable: \(oneLineMessage(for: error))")
                }
            }
            print("")
            print("Can be made (compare datasets make NAME [--train N] [--test N] [--seed S] [--out FILE]):")
            for maker in DatasetMaker.allCases {
                print("  \(pad(maker.rawValue, 14)) \(maker.summary)")
            }
            print("")
            print("Can be imported (compare datasets import NAME [--binarize] [--out FILE]):")
            for importer in DatasetImporter.allCases {
                print("  \(pad(importer.rawValue, 14)) \(importer.summary)")
                print("  \(pad("", 14)) \(importer.availability)")
            }
        }
    }

    private func describe(_ metadata: DatasetMetadata) -> String {
        var text = "\(metadata.likelihood.rawValue)"
        if metadata.likelihood == .discrete, let levels = metadata.levels { text += " (\(levels) levels)" }
        text += ", \(metadata.storedElementType.rawValue), train \(metadata.trainCount) × \(metadata.dimension)"
        text += ", test \(metadata.testCount) × \(metadata.dimension)"
        text += metadata.hasKnownDensity ? ", known density" : ""
        return text
    }
}

/// `text` left-aligned in a column of `width` characters.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
