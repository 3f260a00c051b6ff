import Core

/// The decoder family p(x | ·) of a dataset, shared by all three models trained on it and by the
/// dataset file that names it (design: "Likelihood kinds"; docs/math.md#gaussian-formulas and
/// docs/math.md#discretized-gaussian).
///
/// - ``continuous``: a Gaussian density N(μ, diag σ²), in nats (toy data; values above 0 are normal);
/// - ``binary``: Bernoulli with logits, data in {0, 1};
/// - ``discrete(levels:)``: a discretized Gaussian on [−1, 1] with one bin of width 2/(levels − 1)
///   per level, the end bins open.
///
/// Stored as two keys of the enclosing JSON object or HDF5 attribute set: `likelihood` (the
/// ``Family`` name) and `levels` (discrete data only), the layout checkpoints have always used.
public enum Likelihood: Hashable, Sendable, CustomStringConvertible {
    case continuous
    case binary
    case discrete(levels: Int)

    /// The family without its levels: what a dataset file's `likelihood` attribute spells.
    public enum Family: String, CaseIterable, Codable, Sendable {
        case continuous
        case binary
        case discrete
    }

    /// The likelihood of `family`; discrete data need `levels` ≥ 2, the others ignore it.
    /// `nil` when discrete data come without a usable number of levels.
    public init?(family: Family, levels: Int?) {
        switch family {
        case .continuous: self = .continuous
        case .binary: self = .binary
        case .discrete:
            guard let levels, levels >= 2 else { return nil }
            self = .discrete(levels: levels)
        }
    }

    /// Parses the stored spelling: `continuous`, `binary`, or `discrete` with its levels.
    public init?(name: String, levels: Int?) {
        guard let family = Family(rawValue: name) else { return nil }
        self.init(family: family, levels: levels)
    }

    public var family: Family {
        switch self {
        case .continuous: return .continuous
        case .binary: return .binary
        case .discrete: return .discrete
        }
    }

    /// The stored spelling of the family.
    public var name: String { family.rawValue }

    /// The number of levels of discrete data (2 for binary), `nil` for densities.
    public var levels: Int? {
        switch self {
        case .continuous: return nil
        case .binary: return 2
        case .discrete(let levels): return levels
        }
    }

    /// `continuous`, `binary` or `discrete (256 levels)`.
    public var description: String {
        if case .discrete(let levels) = self { return "discrete (\(levels) levels)" }
        return name
    }
}

extension Likelihood: Codable {
    /// The two keys, in the object that holds the likelihood (not nested under a key of its own).
    private enum StoredKeys: String, CodingKey {
        case likelihood, levels
    }

    /// Reads `likelihood` (default `continuous` when absent, as in the first checkpoints) and `levels`.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: StoredKeys.self)
        let name = try container.decodeIfPresent(String.self, forKey: .likelihood) ?? Family.continuous.rawValue
        let levels = try container.decodeIfPresent(Int.self, forKey: .levels)
        guard let likelihood = Likelihood(name: name, levels: levels) else {
            throw DecodingError.dataCorruptedError(
                forKey: .likelihood, in: container,
                debugDescription: "unknown likelihood '\(name)' (levels \(levels.map(String.init) ?? "none"))")
        }
        self = likelihood
    }

    /// Writes `likelihood` and, for discrete data, `levels`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: StoredKeys.self)
        try container.encode(name, forKey: .likelihood)
        if case .discrete(let levels) = self { try container.encode(levels, forKey: .levels) }
    }
}
