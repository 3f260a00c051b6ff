import Core
import DDPMModel
import Foundation

/// `--fourier-features`: which ``DDPMModel/FourierFeatures`` a DDPM's ε-network sees.
public enum FourierFeaturesChoice: Equatable, Sendable {
    /// Two exponents from the data's levels (``DDPMModel/FourierFeatures/exponents(forLevels:)``):
    /// 6,7 for 8-bit data, 2,3 for 17 levels.
    case auto
    /// The exponents n of the frequencies 2ⁿ·2π, as given.
    case exponents([Int])

    /// The command-line spelling: `auto` or the exponents separated by commas.
    public var argument: String {
        switch self {
        case .auto: return "auto"
        case .exponents(let values): return values.map(String.init).joined(separator: ",")
        }
    }

    /// Parses `auto` or comma-separated integers (negative allowed); `nil` for anything else.
    public init?(argument text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "auto" { self = .auto; return }
        let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        self = .exponents(parts.map { $0! })
    }

    /// The exponents for data under `likelihood`, or a one-line refusal.
    func exponents(for likelihood: Likelihood) throws -> [Int] {
        switch self {
        case .exponents(let values): return values
        case .auto:
            guard let levels = likelihood.levels, let values = FourierFeatures.exponents(forLevels: levels) else {
                throw PipelineError("--fourier-features auto picks the frequencies from the data's levels; \(likelihood.name) data have "
                    + "\(likelihood.levels.map { "\($0) levels" } ?? "none"): give the exponents, such as --fourier-features 0,1")
            }
            return values
        }
    }
}
