import ArgumentParser
import Foundation
import Store

/// The real datasets `compare datasets import NAME` can convert.
enum DatasetImporter: String, CaseIterable {
    case fashionMNIST = "fashion-mnist"
    case digits

    var summary: String {
        switch self {
        case .fashionMNIST:
            return "Fashion-MNIST 28x28, 60000/10000: 8-bit (discrete, 256 levels) or --binarize (pixel >= 128 -> 1)"
        case .digits:
            return "scikit-learn digits 8x8, values 0..16 (discrete, 17 levels), fixed split 1497/300"
        }
    }

    var defaultSource: String {
        switch self {
        case .fashionMNIST: return FashionMNISTImporter.defaultFolder
        case .digits: return DigitsImporter.defaultPath
        }
    }

    /// Whether the source files are installed, or which Debian package provides them.
    var availability: String {
        switch self {
        case .fashionMNIST:
            return FashionMNISTImporter.isAvailable()
                ? "source present: \(defaultSource)"
                : "source missing: apt-get install \(FashionMNISTImporter.debianPackage)"
        case .digits:
            return DigitsImporter.isAvailable()
                ? "source present: \(defaultSource)"
                : "source missing: apt-get install \(DigitsImporter.debianPackage)"
        }
    }
}

/// `compare datasets import NAME`: convert Fashion-MNIST or sklearn's digits to a dataset file.
struct DatasetsImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a real dataset: fashion-mnist, digits.")

    @Argument(help: "Which dataset: fashion-mnist, digits.")
    var name: String

    @Flag(help: "Binarize (fashion-mnist): pixel >= 128 -> 1, else 0.")
    var binarize = false

    @Option(help: "Source folder (fashion-mnist) or file (digits); defaults to the Debian package's path.")
    var source: String?

    @Option(help: "Output file (default Datasets/fashion-mnist.h5, Datasets/fashion-mnist-binary.h5 or Datasets/digits.h5).")
    var out: String?

    func run() throws {
        try failOnError {
            guard let importer = DatasetImporter(rawValue: name) else {
                throw CLIFailure("unknown dataset '\(name)'; importable: \(DatasetImporter.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let contents: DatasetContents
            switch importer {
            case .fashionMNIST:
                contents = try FashionMNISTImporter.load(from: source ?? importer.defaultSource, binarize: binarize)
            case .digits:
                guard !binarize else { throw CLIFailure("--binarize applies to fashion-mnist only") }
                contents = try DigitsImporter.load(from: source ?? importer.defaultSource)
            }
            let path = try outputPath(out, defaultName: contents.name)
            try DatasetFile.write(contents, to: path)
            let dimension = contents.dimension
            print("wrote \(path): \(contents.name), \(contents.likelihood.rawValue)"
                + (contents.levels.map { " (\($0) levels)" } ?? "")
                + ", train \(contents.train.count / dimension) × \(dimension), test \(contents.test.count / dimension) × \(dimension)")
        }
    }
}
