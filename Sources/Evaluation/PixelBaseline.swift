import Core

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// An exact baseline of discrete data (docs/math.md#exact-baselines): a model whose test
/// log-likelihood is computed exactly, in Double, from integer training counts.
///
/// With D dimensions, L levels per dimension, N training examples and a test example
/// x = (l_1, …, l_D) of levels l_d ∈ {0, …, L − 1}:
///
/// - ``BaselineKind/uniform``: p(l) = 1/L in every dimension, log p(x) = −D log L;
/// - ``BaselineKind/pixel``: independent per-dimension categoricals with add-α (Laplace, α = 1 by
///   default) smoothing of the training counts c_{d,l} (how many of the N training examples
///   have level l in dimension d):
///
///       p_d(l) = (c_{d,l} + α) / (N + α L),     log p(x) = Σ_d [log(c_{d,l_d} + α) − log(N + α L)].
///
///   For binary data (L = 2) this is the independent Bernoulli with the same smoothing.
///
/// Data arrive as ``Store``'s reader hands them to the models (see `LoadedDataset`): binary
/// values 0 and 1; discrete values on the model's scale −1 + 2l/(L − 1), from which the level l
/// is recovered exactly by rounding (L − 1)(x + 1)/2 (a value more than 0.01 of a level from
/// the grid is refused: it belongs to no level). Continuous data have no exact discrete
/// baseline and are refused.
///
/// Shapes: data are [n, D] row-major; ``counts`` is [D, L] row-major (empty for `uniform`).
public struct PixelBaseline: Sendable, Equatable {
    public let kind: BaselineKind
    /// L, the levels per dimension (2 for binary data).
    public let levels: Int
    /// D, the values per example.
    public let dimension: Int
    /// α of the add-α smoothing; 0 for ``BaselineKind/uniform``, which has no counts.
    public let smoothing: Double
    /// N, the training examples counted (for `uniform`, the training examples of its dataset).
    public let trainingExamples: Int
    /// c_{d,l}, [D, L] row-major, for ``BaselineKind/pixel``; empty for ``BaselineKind/uniform``.
    public let counts: [Int]

    /// The default α: add-one (Laplace) smoothing.
    public static let defaultSmoothing = 1.0
    /// The largest α accepted: beyond it N + αL loses the counts to rounding and the model is
    /// the uniform one in all but name.
    public static let maximumSmoothing = 1e9
    /// The most training examples a baseline counts: float32, the checkpoint's type for counts,
    /// holds every integer up to 2^24 exactly.
    public static let maximumTrainingExamples = 1 << 24
    /// The most levels a baseline takes (a dataset's own limit, 16-bit data).
    public static let maximumLevels = 65_536
    /// How far from a level (in levels) a discrete float32 value may lie and still be that level.
    public static let levelTolerance = 0.01

    /// Fits a baseline of `kind` on training data [N, D] under `likelihood` (binary or discrete).
    ///
    /// - Parameter smoothing: α (> 0, at most ``maximumSmoothing``) for ``BaselineKind/pixel``,
    ///   `nil` for ``defaultSmoothing``; must be `nil` for ``BaselineKind/uniform``.
    /// - Throws: ``BaselineError`` for continuous data, a value that is no level (naming its row
    ///   and column), an unusable α, no examples or more than ``maximumTrainingExamples``.
    public init(kind: BaselineKind, likelihood: Likelihood, dimension: Int, training: [Float], smoothing: Double? = nil) throws {
        let levels = try Self.levelCount(of: likelihood)
        guard dimension >= 1, training.count % dimension == 0, !training.isEmpty else {
            throw BaselineError("the training data hold \(training.count) values, not a whole number of examples of D = \(dimension)")
        }
        let n = training.count / dimension
        var counts: [Int] = []
        if kind == .pixel {
            counts = [Int](repeating: 0, count: dimension * levels)
            try counts.withUnsafeMutableBufferPointer { table in
                try training.withUnsafeBufferPointer { values in
                    for index in 0..<values.count {
                        guard let level = Self.level(of: values[index], likelihood: likelihood) else {
                            throw Self.notALevel(values[index], at: index, dimension: dimension, likelihood: likelihood)
                        }
                        table[(index % dimension) * levels + level] += 1
                    }
                }
            }
        } else if smoothing != nil {
            throw BaselineError("smoothing applies to the per-pixel baseline only; the uniform baseline has no counts to smooth")
        }
        try self.init(kind: kind, levels: levels, dimension: dimension, smoothing: kind == .pixel ? smoothing ?? Self.defaultSmoothing : 0,
                      trainingExamples: n, counts: counts)
    }

    /// A baseline from stored values, trusting none of them: L in 2 … ``maximumLevels``, D ≥ 1,
    /// N in 1 … ``maximumTrainingExamples``; for `pixel` α finite in (0, ``maximumSmoothing``] and
    /// D·L counts, each in 0 … N, every dimension's L counts summing to N; for `uniform` α = 0 and
    /// no counts. Each failure is one ``BaselineError`` line naming the value.
    public init(kind: BaselineKind, levels: Int, dimension: Int, smoothing: Double, trainingExamples: Int, counts: [Int]) throws {
        guard levels >= 2, levels <= Self.maximumLevels else {
            throw BaselineError("levels is \(levels); expected 2 to \(Self.maximumLevels)")
        }
        guard dimension >= 1 else { throw BaselineError("dimension is \(dimension); expected at least 1") }
        guard trainingExamples >= 1, trainingExamples <= Self.maximumTrainingExamples else {
            throw BaselineError("training_examples is \(trainingExamples); expected 1 to \(Self.maximumTrainingExamples) (float32 counts are exact up to 2^24)")
        }
        switch kind {
        case .uniform:
            guard smoothing == 0 else { throw BaselineError("smoothing is \(smoothing); the uniform baseline has none (0)") }
            guard counts.isEmpty else { throw BaselineError("the uniform baseline has no counts, but \(counts.count) are given") }
        case .pixel:
            guard smoothing.isFinite, smoothing > 0, smoothing <= Self.maximumSmoothing else {
                throw BaselineError("smoothing is \(smoothing); expected a number α with 0 < α ≤ \(Int(Self.maximumSmoothing)) "
                                    + "(α = 0 would give levels unseen in training probability 0, and a test example −∞ nats)")
            }
            let (cells, overflow) = dimension.multipliedReportingOverflow(by: levels)
            guard !overflow, counts.count == cells else {
                throw BaselineError("\(counts.count) counts for D = \(dimension) dimensions of L = \(levels) levels; expected D × L = \(overflow ? "more than Int.max" : String(cells))")
            }
            for d in 0..<dimension {
                var total = 0
                for l in 0..<levels {
                    let c = counts[d * levels + l]
                    guard c >= 0, c <= trainingExamples else {
                        throw BaselineError("the count of level \(l) in dimension \(d) is \(c); expected 0 to N = \(trainingExamples)")
                    }
                    total += c
                }
                guard total == trainingExamples else {
                    throw BaselineError("the counts of dimension \(d) sum to \(total), not to the N = \(trainingExamples) training examples")
                }
            }
        }
        self.kind = kind
        self.levels = levels
        self.dimension = dimension
        self.smoothing = smoothing
        self.trainingExamples = trainingExamples
        self.counts = counts
    }

    /// L of binary (2) or discrete data; continuous data are refused.
    public static func levelCount(of likelihood: Likelihood) throws -> Int {
        switch likelihood {
        case .binary: return 2
        case .discrete(let levels):
            guard levels >= 2, levels <= maximumLevels else { throw BaselineError("\(levels) levels; expected 2 to \(maximumLevels)") }
            return levels
        case .continuous:
            throw BaselineError("the data are continuous (a density, not probabilities of levels): no exact discrete baseline exists; "
                                + "baselines need discrete or binary data")
        }
    }

    /// The level of one value as the reader stores it: 0 or 1 for binary data, the nearest
    /// level of −1 + 2l/(L − 1) for discrete data (when within ``levelTolerance`` of it); `nil`
    /// for a value that is no level (or continuous data).
    @inline(__always)
    public static func level(of value: Float, likelihood: Likelihood) -> Int? {
        switch likelihood {
        case .binary:
            return value == 0 ? 0 : (value == 1 ? 1 : nil)
        case .discrete(let levels):
            let position = (Double(value) + 1) * Double(levels - 1) / 2
            let nearest = position.rounded()
            guard abs(position - nearest) <= levelTolerance, nearest >= 0, nearest <= Double(levels - 1) else { return nil }
            return Int(nearest)
        case .continuous:
            return nil
        }
    }

    /// The parameters of the model: D·(L − 1) free probabilities for `pixel`, none for `uniform`.
    public var parameterCount: Int { kind == .pixel ? dimension * (levels - 1) : 0 }

    /// log p_d(l) = log(c_{d,l} + α) − log(N + αL), [D, L] row-major, in Double from the integer
    /// counts; for `uniform`, −log L everywhere.
    public var logProbabilities: [Double] {
        guard kind == .pixel else { return [Double](repeating: -log(Double(levels)), count: dimension * levels) }
        let normalizer = log(Double(trainingExamples) + smoothing * Double(levels))
        return counts.map { log(Double($0) + smoothing) - normalizer }
    }

    /// The exact log p(x) of every example of `data` [n, D] (in nats): −D log L for `uniform`;
    /// Σ_d log p_d(l_d), summed in dimension order, for `pixel`. Throws ``BaselineError`` naming
    /// the row and column of a value that is no level of `likelihood`, or for data whose levels
    /// differ from the baseline's.
    public func logLikelihoods(of data: [Float], likelihood: Likelihood) throws -> [Double] {
        let dataLevels = try Self.levelCount(of: likelihood)
        guard dataLevels == levels else { throw BaselineError("the data have \(dataLevels) levels but the baseline has \(levels)") }
        guard data.count % dimension == 0 else {
            throw BaselineError("the data hold \(data.count) values, not a whole number of examples of D = \(dimension)")
        }
        let n = data.count / dimension
        let table = logProbabilities
        let uniform = -Double(dimension) * log(Double(levels))
        var result = [Double](repeating: 0, count: n)
        try data.withUnsafeBufferPointer { values in
            for i in 0..<n {
                var total = 0.0
                for d in 0..<dimension {
                    let index = i * dimension + d
                    guard let level = Self.level(of: values[index], likelihood: likelihood) else {
                        throw Self.notALevel(values[index], at: index, dimension: dimension, likelihood: likelihood)
                    }
                    total += table[d * levels + level]
                }
                result[i] = kind == .pixel ? total : uniform
            }
        }
        return result
    }

    /// "per-pixel categorical, add-1 smoothing of the training counts", "uniform over 17 levels".
    public var summary: String {
        switch kind {
        case .uniform:
            return levels == 2 ? "uniform: every pixel 0 or 1 with probability 1/2" : "uniform over \(levels) levels"
        case .pixel:
            return "\(kind.displayName(levels: levels)), add-\(Self.formatSmoothing(smoothing)) smoothing of the training counts"
        }
    }

    /// α as written in a label: "1", "0.5".
    public static func formatSmoothing(_ alpha: Double) -> String {
        alpha == alpha.rounded() && abs(alpha) < 1e15 ? String(Int64(alpha)) : "\(alpha)"
    }

    private static func notALevel(_ value: Float, at index: Int, dimension: Int, likelihood: Likelihood) -> BaselineError {
        let place = "row \(index / dimension), column \(index % dimension)"
        switch likelihood {
        case .discrete(let levels):
            return BaselineError("value \(value) at \(place) is not one of the \(levels) levels −1 + 2k/\(levels - 1) of discrete data")
        default:
            return BaselineError("value \(value) at \(place) is not 0 or 1 (binary data)")
        }
    }
}

/// Why a baseline cannot be fitted, read or evaluated: one line, without the file (the caller
/// names it).
public struct BaselineError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
