import Core

/// A synthetic data distribution q(x0) on ℝ^D that can be sampled with a seeded generator,
/// and, where it is known, evaluated: log q(x0) in nats.
public protocol ToyDistribution: Sendable {
    /// D, the number of coordinates of one example.
    var dimension: Int { get }
    /// Draws one example x0 ~ q.
    func sample(using generator: inout RandomGenerator) -> [Double]
    /// log q(x0) in nats, or `nil` when the density has no closed form here.
    func logDensity(_ point: [Double]) -> Double?
    /// The density's family, formula and parameters, or `nil` when unknown.
    var density: DensityDescription? { get }
    /// Scalar settings of the maker (noise level, radius, …), stored as root attributes.
    var settings: [String: Double] { get }
}

/// A named float64 array parameter of a density (means [K, D], covariance [D, D], …).
public struct DensityParameter: Sendable, Equatable {
    public var name: String
    /// Extent per axis; `values.count == shape.reduce(1, *)`.
    public var shape: [Int]
    /// Row-major values.
    public var values: [Double]

    public init(name: String, shape: [Int], values: [Double]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Everything needed to recompute log q(x0) without this program.
public struct DensityDescription: Sendable, Equatable {
    /// A short family name: `gaussian-mixture`, `uniform-on-squares`, `gaussian`.
    public var family: String
    /// The density written out, with the names of ``parameters``.
    public var formula: String
    public var parameters: [DensityParameter]

    public init(family: String, formula: String, parameters: [DensityParameter]) {
        self.family = family
        self.formula = formula
        self.parameters = parameters
    }
}

/// A freshly made synthetic dataset: float32 samples and, for known densities, log q(x0).
public struct GeneratedDataset: Sendable {
    /// The maker's name (`gmm2d`, `checkerboard`, …).
    public var name: String
    /// D.
    public var dimension: Int
    /// Training examples, [trainCount, D] row-major.
    public var train: [Float]
    /// Test examples, [testCount, D] row-major.
    public var test: [Float]
    /// log q(x0) of each stored (float32-rounded) training example, in nats.
    public var trainLogDensity: [Double]?
    /// log q(x0) of each stored test example, in nats.
    public var testLogDensity: [Double]?
    public var density: DensityDescription?
    /// The seed the data was generated from.
    public var seed: UInt64
    /// The maker's scalar settings (see ``ToyDistribution/settings``).
    public var settings: [String: Double]
    /// A one-line description of the generating process.
    public var summary: String
    /// The `compare` command line that regenerates this data.
    public var command: String

    public var trainCount: Int { train.count / dimension }
    public var testCount: Int { test.count / dimension }
}

/// Why a dataset could not be made: one line, naming the option at fault.
public struct DatasetMakerError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension RandomGenerator {
    /// `count` standard normal deviates, drawn two per Box–Muller pair.
    mutating func normals(_ count: Int) -> [Double] {
        var result: [Double] = []
        result.reserveCapacity(count + 1)
        while result.count < count {
            let (first, second) = nextNormalPair()
            result.append(first)
            if result.count < count { result.append(second) }
        }
        return result
    }
}
