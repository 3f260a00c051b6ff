import ArgumentParser
import Core
import DDPMModel
import DatasetMakers
import HVAEModel
import NN
import Pipeline
import Training

// The command line's value types: each enum lists its values in `--help`, and a bad value is
// answered with the candidates (swift-argument-parser's `ExpressibleByArgument & CaseIterable`).

extension ModelKind: ExpressibleByArgument {}
extension BaselineKind: ExpressibleByArgument {}
extension Likelihood.Family: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {}
extension NetworkArchitecture: ExpressibleByArgument {}
extension NoiseSchedule: ExpressibleByArgument {}
extension ReverseVariance: ExpressibleByArgument {}
extension DiffusionLoss: ExpressibleByArgument {}
extension DatasetMaker: ExpressibleByArgument {}
extension DatasetImporter: ExpressibleByArgument {}
extension TrainingBudget.Clock: ExpressibleByArgument {}
extension EvaluationDenoiser: ExpressibleByArgument {}
extension EvaluationStreams: ExpressibleByArgument {}

extension HVAEInference: ExpressibleByArgument {
    /// `bottom-up` or `top-down` on the command line (the stored JSON keeps the case names).
    public init?(argument: String) {
        guard let match = Self.allCases.first(where: { $0.argument == argument }) else { return nil }
        self = match
    }

    public static var allValueStrings: [String] { allCases.map(\.argument) }
}

/// `--timesteps`: a number of diffusion steps T ≥ 1, or `continuous`.
enum TimestepsArgument: Equatable {
    case steps(Int)
    case continuous

    static func parser(_ option: String) -> @Sendable (String) throws -> TimestepsArgument {
        { text in
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed == "continuous" { return .continuous }
            guard let count = Int(trimmed) else {
                throw ValidationError("\(option) '\(text)': expected a number of steps such as 1000, or continuous")
            }
            guard count >= 1 else { throw ValidationError("\(option) must be at least 1, got \(count)") }
            return .steps(count)
        }
    }
}

/// `--schedule`: a β schedule of T steps (linear, cosine) or, in continuous time, a log-SNR
/// schedule (linear, cosine, learned).
enum ScheduleArgument: String, CaseIterable, ExpressibleByArgument {
    case linear, cosine, learned

    /// The β schedule of the same name (`nil` for learned, which needs continuous time).
    var noiseSchedule: NoiseSchedule? { NoiseSchedule(rawValue: rawValue) }

    var logSNRSchedule: LogSNRScheduleKind { LogSNRScheduleKind(rawValue: rawValue)! }
}

/// A comma-separated list of positive integers, such as `--hidden 128,128` or `--samples 1,10,100`.
///
/// Options of this type parse through ``parser(_:)``, so a bad list is answered with one line
/// that names the option and the offending item.
struct IntList: Equatable, CustomStringConvertible {
    var values: [Int]

    init(_ values: [Int]) {
        self.values = values
    }

    /// The parse of `--option`'s text: every item an integer ≥ 1, at least one item.
    static func parser(_ option: String) -> @Sendable (String) throws -> IntList {
        { text in
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("\(option): empty list; give positive integers separated by commas, such as 1,10,100")
            }
            var values: [Int] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let value = Int(part) else { throw ValidationError("\(option) '\(text)': '\(part)' is not an integer") }
                guard value >= 1 else { throw ValidationError("\(option) '\(text)': \(value) is not positive; every item must be at least 1") }
                values.append(value)
            }
            return IntList(values)
        }
    }

    var description: String { values.map(String.init).joined(separator: ",") }
}

/// A duration such as `--time-budget 1500`, `1500s`, `25m` or `1.5h`, in seconds.
struct DurationArgument: Equatable {
    var seconds: Double

    /// The parse of `--option`'s text: a positive finite number with an optional unit s, m or h.
    static func parser(_ option: String) -> @Sendable (String) throws -> DurationArgument {
        { text in
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            let units: [(suffix: String, seconds: Double)] = [("h", 3600), ("m", 60), ("s", 1)]
            let unit = units.first { trimmed.hasSuffix($0.suffix) }
            let number = unit.map { String(trimmed.dropLast($0.suffix.count)) } ?? trimmed
            guard let value = Double(number), value.isFinite, value > 0 else {
                throw ValidationError("\(option) '\(text)': expected a positive duration such as 1500 (seconds), 25m or 1.5h")
            }
            let seconds = value * (unit?.seconds ?? 1)
            guard seconds <= 1e9 else { throw ValidationError("\(option) '\(text)': longer than 10^9 seconds") }
            return DurationArgument(seconds: seconds)
        }
    }
}

extension ValidationError {
    /// Validation failures carry the library's one-line message unchanged.
    init(_ error: Error) { self.init(String(describing: error)) }
}
