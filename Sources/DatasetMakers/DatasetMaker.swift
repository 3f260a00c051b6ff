import Core

/// The synthetic datasets `compare datasets make NAME` can generate.
///
/// ``make(trainCount:testCount:seed:dimension:)`` is deterministic: the same arguments give
/// the same arrays on every machine. From `RandomGenerator(seed: seed)` two words are drawn,
/// `trainSeed` then `testSeed`; the training examples are drawn in order from
/// `RandomGenerator(seed: trainSeed)` and the test examples from `RandomGenerator(seed: testSeed)`,
/// so the test set does not depend on the number of training examples.
///
/// Samples are rounded to float32 before log q(x0) is evaluated (in Double), so the stored
/// log-density is exact for the stored values.
public enum DatasetMaker: String, CaseIterable, Sendable {
    case gmm2d
    case checkerboard
    case gaussian
    case twoMoons = "two-moons"
    case swissRoll = "swiss-roll"

    public static let defaultTrainCount = 10_000
    public static let defaultTestCount = 2_000
    public static let defaultSeed: UInt64 = 0
    /// The largest `--dimension` accepted for `gaussian`.
    public static let maximumDimension = 4096

    /// One line describing the distribution.
    public var summary: String {
        switch self {
        case .gmm2d: return "8 Gaussians (std 0.1) on a circle of radius 2, equal weights; known density"
        case .checkerboard: return "uniform on the 8 dark squares of a 4x4 board on [-2, 2]^2; known density (log q = -log 8)"
        case .gaussian: return "N(mean, covariance) in --dimension D (default 2), non-diagonal covariance; known density"
        case .twoMoons: return "two interleaved half circles with noise 0.1 (scaled by 2); density unknown"
        case .swissRoll: return "2-D swiss roll spiral with noise 0.1; density unknown"
        }
    }

    /// Whether made files store log q(x0).
    public var hasKnownDensity: Bool {
        switch self {
        case .gmm2d, .checkerboard, .gaussian: return true
        case .twoMoons, .swissRoll: return false
        }
    }

    /// Looks a maker up by its command-line name, with a one-line error listing the names.
    public static func named(_ name: String) throws -> DatasetMaker {
        guard let maker = DatasetMaker(rawValue: name) else {
            throw DatasetMakerError(
                "unknown dataset '\(name)'; makeable: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return maker
    }

    /// The distribution, with `dimension` for `gaussian` (default 2).
    public func distribution(dimension: Int? = nil) throws -> any ToyDistribution {
        if let dimension, self != .gaussian {
            throw DatasetMakerError("--dimension \(dimension): only 'gaussian' has a selectable dimension; '\(rawValue)' is 2-D")
        }
        switch self {
        case .gmm2d: return RingOfGaussians()
        case .checkerboard: return Checkerboard()
        case .twoMoons: return TwoMoons()
        case .swissRoll: return SwissRoll()
        case .gaussian:
            let size = dimension ?? 2
            guard (1...Self.maximumDimension).contains(size) else {
                throw DatasetMakerError("--dimension \(size): expected 1…\(Self.maximumDimension)")
            }
            return CorrelatedGaussian(dimension: size)
        }
    }

    /// Draws the training and test sets (see the type's documentation for the exact stream).
    ///
    /// - Throws: ``DatasetMakerError`` for a count below 1 or an invalid dimension.
    public func make(
        trainCount: Int = defaultTrainCount, testCount: Int = defaultTestCount,
        seed: UInt64 = defaultSeed, dimension: Int? = nil
    ) throws -> GeneratedDataset {
        guard trainCount >= 1 else { throw DatasetMakerError("--train \(trainCount): expected at least 1 example") }
        guard testCount >= 1 else { throw DatasetMakerError("--test \(testCount): expected at least 1 example") }
        let distribution = try self.distribution(dimension: dimension)
        var root = RandomGenerator(seed: seed)
        let trainSeed = root.next(), testSeed = root.next()

        func draw(_ count: Int, _ splitSeed: UInt64) -> ([Float], [Double]?) {
            var generator = RandomGenerator(seed: splitSeed)
            var values: [Float] = []
            values.reserveCapacity(count * distribution.dimension)
            var logDensities: [Double]? = hasKnownDensity ? [] : nil
            for _ in 0..<count {
                let stored = distribution.sample(using: &generator).map { Float($0) }
                values += stored
                if hasKnownDensity {
                    logDensities!.append(distribution.logDensity(stored.map { Double($0) })!)
                }
            }
            return (values, logDensities)
        }
        let (train, trainLogDensity) = draw(trainCount, trainSeed)
        let (test, testLogDensity) = draw(testCount, testSeed)
        var command = "compare datasets make \(rawValue) --train \(trainCount) --test \(testCount) --seed \(seed)"
        if self == .gaussian { command += " --dimension \(distribution.dimension)" }
        return GeneratedDataset(
            name: rawValue, dimension: distribution.dimension, train: train, test: test,
            trainLogDensity: trainLogDensity, testLogDensity: testLogDensity,
            density: distribution.density, seed: seed, settings: distribution.settings,
            summary: summary, command: command)
    }
}
