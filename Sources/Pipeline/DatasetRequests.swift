import DatasetMakers
import Foundation
import Store

/// The folder default dataset outputs go to and `compare datasets list` looks in.
public let defaultDatasetFolder = "Datasets"

/// One `compare datasets make NAME`: a synthetic dataset, seeded and deterministic.
public struct DatasetMakeRequest: Equatable, Sendable {
    public var maker: DatasetMaker
    public var trainCount: Int
    public var testCount: Int
    public var seed: UInt64
    /// D (gaussian only; default 2).
    public var dimension: Int?
    /// The file; `nil` for `Datasets/NAME.h5`.
    public var out: String?
    /// Replace an existing dataset file (never a checkpoint or a sample file).
    public var overwrite: Bool

    public init(maker: DatasetMaker, trainCount: Int = DatasetMaker.defaultTrainCount, testCount: Int = DatasetMaker.defaultTestCount,
                seed: UInt64 = DatasetMaker.defaultSeed, dimension: Int? = nil, out: String? = nil, overwrite: Bool = false) {
        self.maker = maker
        self.trainCount = trainCount
        self.testCount = testCount
        self.seed = seed
        self.dimension = dimension
        self.out = out
        self.overwrite = overwrite
    }

    public var arguments: [String] {
        var words = ["datasets", "make", maker.rawValue]
        if trainCount != DatasetMaker.defaultTrainCount { words += ["--train", String(trainCount)] }
        if testCount != DatasetMaker.defaultTestCount { words += ["--test", String(testCount)] }
        if seed != DatasetMaker.defaultSeed { words += ["--seed", String(seed)] }
        if let dimension { words += ["--dimension", String(dimension)] }
        if let out { words += ["--out", out] }
        if overwrite { words.append("--overwrite") }
        return words
    }

    public var commandLine: String { shellCommand(arguments) }

    /// Generates the data and writes the file; returns the line to print.
    @discardableResult
    public func run() throws -> String {
        let path = try datasetOutputPath(out, defaultName: maker.rawValue)
        let claim = try claimDatasetOutput(path, overwrite: overwrite, inputs: [])
        defer { claim.release() }
        let generated = try maker.make(trainCount: trainCount, testCount: testCount, seed: seed, dimension: dimension)
        try DatasetFile.write(DatasetContents(generated), to: path)
        return "wrote \(path): \(generated.name), train \(generated.trainCount) × \(generated.dimension), "
            + "test \(generated.testCount) × \(generated.dimension), "
            + (maker.hasKnownDensity ? "known density" : "density unknown")
    }
}

/// The real datasets `compare datasets import NAME` can convert.
public enum DatasetImporter: String, CaseIterable, Sendable {
    case fashionMNIST = "fashion-mnist"
    case digits

    public var summary: String {
        switch self {
        case .fashionMNIST:
            return "Fashion-MNIST 28x28, 60000/10000: 8-bit (discrete, 256 levels) or --binarize (pixel >= 128 -> 1)"
        case .digits:
            return "scikit-learn digits 8x8, values 0..16 (discrete, 17 levels), fixed split 1497/300"
        }
    }

    public var defaultSource: String {
        switch self {
        case .fashionMNIST: return FashionMNISTImporter.defaultFolder
        case .digits: return DigitsImporter.defaultPath
        }
    }

    /// Whether the source files are installed, or which Debian package provides them.
    public var availability: String {
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

/// One `compare datasets import NAME`: Fashion-MNIST or scikit-learn's digits as a dataset file.
public struct DatasetImportRequest: Equatable, Sendable {
    public var importer: DatasetImporter
    /// Fashion-MNIST: pixel ≥ 128 → 1, else 0.
    public var binarize: Bool
    /// Source folder (fashion-mnist) or file (digits); `nil` for the Debian package's path.
    public var source: String?
    /// The file; `nil` for `Datasets/NAME.h5`.
    public var out: String?
    /// Replace an existing dataset file (never a checkpoint or a sample file).
    public var overwrite: Bool

    public init(importer: DatasetImporter, binarize: Bool = false, source: String? = nil, out: String? = nil, overwrite: Bool = false) {
        self.importer = importer
        self.binarize = binarize
        self.source = source
        self.out = out
        self.overwrite = overwrite
    }

    public var arguments: [String] {
        var words = ["datasets", "import", importer.rawValue]
        if binarize { words.append("--binarize") }
        if let source { words += ["--source", source] }
        if let out { words += ["--out", out] }
        if overwrite { words.append("--overwrite") }
        return words
    }

    public var commandLine: String { shellCommand(arguments) }

    public func validate() throws {
        if binarize && importer != .fashionMNIST { throw PipelineError("--binarize applies to fashion-mnist only") }
    }

    /// Converts the source and writes the file; returns the line to print.
    @discardableResult
    public func run() throws -> String {
        try validate()
        // The default name depends on the contents (binary or not) but not on the files read.
        let defaultName = importer == .fashionMNIST ? (binarize ? "fashion-mnist-binary" : "fashion-mnist") : importer.rawValue
        let path = try datasetOutputPath(out, defaultName: defaultName)
        let claim = try claimDatasetOutput(path, overwrite: overwrite, inputs: [source ?? importer.defaultSource])
        defer { claim.release() }
        let contents: DatasetContents
        switch importer {
        case .fashionMNIST: contents = try FashionMNISTImporter.load(from: source ?? importer.defaultSource, binarize: binarize)
        case .digits: contents = try DigitsImporter.load(from: source ?? importer.defaultSource)
        }
        try DatasetFile.write(contents, to: path)
        let dimension = contents.dimension
        return "wrote \(path): \(contents.name), \(contents.likelihood.rawValue)"
            + (contents.levels.map { " (\($0) levels)" } ?? "")
            + ", train \(contents.train.count / dimension) × \(dimension), test \(contents.test.count / dimension) × \(dimension)"
    }
}

/// The output check of `datasets make` and `import`: an existing dataset is replaced only with
/// `--overwrite`, a file of another kind never.
func claimDatasetOutput(_ path: String, overwrite: Bool, inputs: [String]) throws -> OutputClaim {
    try claimOutput(path, kind: .dataset,
                    rule: overwrite ? .replace : .refuse("\(path) exists: add --overwrite to replace it"), inputs: inputs)
}

/// `out`, or `Datasets/NAME.h5` (creating `Datasets/` when it is missing).
func datasetOutputPath(_ out: String?, defaultName: String) throws -> String {
    if let out {
        guard !out.isEmpty else { throw PipelineError("--out: empty file name") }
        return out
    }
    do {
        try FileManager.default.createDirectory(atPath: defaultDatasetFolder, withIntermediateDirectories: true)
    } catch {
        throw PipelineError("\(defaultDatasetFolder): cannot create the folder: \(error.localizedDescription)")
    }
    return "\(defaultDatasetFolder)/\(defaultName).h5"
}

extension DatasetContents {
    /// The file contents of a generated dataset: float32 splits, likelihood `continuous`,
    /// log-densities and `/density` parameters when known, the seed, the maker's settings
    /// and the command that regenerates it as root attributes.
    public init(_ generated: GeneratedDataset) {
        var attributes: [String: AttributeValue] = [
            "seed": .unsignedInteger(generated.seed),
            "command": .string(generated.command),
            "description": .string(generated.summary),
        ]
        for (key, value) in generated.settings { attributes[key] = .double(value) }
        self.init(
            name: generated.name, likelihood: .continuous, exampleShape: [generated.dimension],
            source: "synthetic, generated by: \(generated.command)",
            license: "CC0-1.0 (synthetic data)",
            train: .float32(generated.train), test: .float32(generated.test),
            trainLogDensity: generated.trainLogDensity, testLogDensity: generated.testLogDensity,
            densityFamily: generated.density?.family, densityFormula: generated.density?.formula,
            densityParameters: (generated.density?.parameters ?? []).map {
                NamedArray(name: $0.name, shape: $0.shape, values: $0.values)
            },
            attributes: attributes)
    }
}
