import ArgumentParser
import Foundation
import Store

/// `compare-fixtures write-invalid-dataset KIND --out FILE`: writes a deliberately broken
/// dataset file, so that command-line tests (which cannot link Store) can check that every
/// command rejects it with one clear line. 
struct InvalidDatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-invalid-dataset",
        abstract: "Write a deliberately invalid dataset file (for tests).")

    /// The kinds of damage, each violating one rule of the dataset schema.
    enum Kind: String, CaseIterable {
        case missingTrain = "missing-train"
        case wrongRank = "wrong-rank"
        case wrongDtype = "wrong-dtype"
        case nan
        case infinity = "inf"
        case emptySplit = "empty-split"
        case unknownLikelihood = "unknown-likelihood"
        case badShape = "bad-shape"
        case logDensityLength = "log-density-length"
    }

    @Argument(help: "One of: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: String

    @Option(help: "Output file.")
    var out: String

    func run() throws {
        try failOnError {
            guard let kind = Kind(rawValue: kind) else {
                throw FixtureError("unknown kind '\(self.kind)'; expected one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            try HDF5File.writeAtomically(to: out) { file in
                let train: [Float] = [0, 1, 2, 3, 4, 5]
                switch kind {
                case .missingTrain: break
                case .wrongRank: try file.write(train, shape: [6], to: "/train")
                case .wrongDtype: try file.write(train.map(Double.init), shape: [3, 2], to: "/train")
                case .nan: try file.write([0, 1, 2, .nan, 4, 5] as [Float], shape: [3, 2], to: "/train")
                case .infinity: try file.write([0, 1, 2, 3, .infinity, 5] as [Float], shape: [3, 2], to: "/train")
                case .emptySplit: try file.write([Float](), shape: [0, 2], to: "/train")
                default: try file.write(train, shape: [3, 2], to: "/train")
                }
                try file.write([Float(6), 7], shape: [1, 2], to: "/test")
                try file.setAttribute("name", to: .string("invalid-\(kind.rawValue)"))
                try file.setAttribute("likelihood", to: .string(kind == .unknownLikelihood ? "poisson" : "continuous"))
                try file.setAttribute("shape", to: .integers(kind == .badShape ? [3] : [2]))
                if kind == .logDensityLength {
                    try file.write([-1.0, -2.0], shape: [2], to: "/train_log_density")
                    try file.write([-1.0], shape: [1], to: "/test_log_density")
                }
            }
            print("wrote \(out)")
        }
    }
}
