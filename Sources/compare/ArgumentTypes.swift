import ArgumentParser
import Core
import DDPMModel
import DatasetMakers
import HVAEModel
import NN
import Pipeline

// The command line's value types: each enum lists its values in `--help`, and a bad value is
// answered with the candidates (swift-argument-parser's `ExpressibleByArgument & CaseIterable`).

extension ModelKind: ExpressibleByArgument {}
extension Likelihood.Family: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {}
extension NoiseSchedule: ExpressibleByArgument {}
extension ReverseVariance: ExpressibleByArgument {}
extension DiffusionLoss: ExpressibleByArgument {}
extension DatasetMaker: ExpressibleByArgument {}
extension DatasetImporter: ExpressibleByArgument {}

extension HVAEInference: ExpressibleByArgument {
    /// `bottom-up` or `top-down` on the command line (the stored JSON keeps the case names).
    public init?(argument: String) {
        guard let match = Self.allCases.first(where: { $0.argument == argument }) else { return nil }
        self = match
    }

    public static var allValueStrings: [String] { allCases.map(\.argument) }
}

/// A comma-separated list of positive integers, such as `--hidden 128,128` or `--samples 1,10,100`.
struct IntList: ExpressibleByArgument, Equatable, CustomStringConvertible {
    var values: [Int]

    init(_ values: [Int]) {
        self.values = values
    }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Int] = []
        for part in parts {
            guard let value = Int(part), value >= 1 else { return nil }
            values.append(value)
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }

    var description: String { values.map(String.init).joined(separator: ",") }
    var defaultValueDescription: String { description }
}

extension ValidationError {
    /// Validation failures carry the library's one-line message unchanged.
    init(_ error: Error) { self.init(String(describing: error)) }
}
