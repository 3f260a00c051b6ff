import DatasetMakers
import Foundation
import Store

/// `compare datasets info FILE`: every part of a dataset file, validated, as (label, value) lines:
/// splits, shapes, dtype, likelihood, levels, the known density's mean log q(x0), source, license.
public func datasetInfo(_ file: String) throws -> [(label: String, value: String)] {
    let dataset = try readInIsolation(file) { try DatasetFile.read(file) }
    let metadata = dataset.metadata
    let dimension = metadata.dimension
    var lines: [(label: String, value: String)] = [
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
        // One test example has no standard error: "n/a", not a made-up 0.
        lines.append(("test E[log q(x0)]", count < 2 ? String(format: "%.6f ± n/a nats", mean)
                        : String(format: "%.6f ± %.6f nats", mean, (variance / count).squareRoot())))
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
    return lines
}

/// `compare datasets list`: the dataset files in `folder` (each described in one line, or why it
/// cannot be read) and the datasets that can be made or imported.
public func datasetListing(folder: String) -> [String] {
    var lines = ["Dataset files in \(folder)/:"]
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".h5") }.sorted()
    if names.isEmpty { lines.append("  (none)") }
    for name in names {
        let path = (folder as NSString).appendingPathComponent(name)
        do {
            let metadata = try readInIsolation(path) { try DatasetFile.readMetadata(path) }
            lines.append("  \(pad(name, 26)) \(describe(metadata))")
        } catch {
            let message = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: "; ")
            lines.append("  \(pad(name, 26)) unreadable: \(message)")
        }
    }
    lines += ["", "Can be made (compare datasets make NAME [--train N] [--test N] [--seed S] [--out FILE]):"]
    for maker in DatasetMaker.allCases { lines.append("  \(pad(maker.rawValue, 14)) \(maker.summary)") }
    lines += ["", "Can be imported (compare datasets import NAME [--binarize] [--out FILE]):"]
    for importer in DatasetImporter.allCases {
        lines.append("  \(pad(importer.rawValue, 14)) \(importer.summary)")
        lines.append("  \(pad("", 14)) \(importer.availability)")
    }
    return lines
}

private func describe(_ metadata: DatasetMetadata) -> String {
    var text = "\(metadata.likelihood.rawValue)"
    if metadata.likelihood == .discrete, let levels = metadata.levels { text += " (\(levels) levels)" }
    text += ", \(metadata.storedElementType.rawValue), train \(metadata.trainCount) × \(metadata.dimension)"
    text += ", test \(metadata.testCount) × \(metadata.dimension)"
    text += metadata.hasKnownDensity ? ", known density" : ""
    return text
}

/// `text` left-aligned in a column of `width` characters.
public func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
