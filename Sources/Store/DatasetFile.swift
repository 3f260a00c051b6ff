import Core

/// The values of one split (`/train` or `/test`), as stored: float32 for toy data,
/// uint8 for images and other integer-valued data.
public enum SplitValues: Sendable, Equatable {
    case float32([Float])
    case uint8([UInt8])

    /// Number of stored values (examples × dimension).
    public var count: Int {
        switch self {
        case .float32(let values): return values.count
        case .uint8(let values): return values.count
        }
    }

    /// The stored element type.
    public var elementType: HDF5ElementType {
        switch self {
        case .float32: return .float32
        case .uint8: return .uint8
        }
    }
}

/// A named float64 array, for the parameters of a known density (`/density/<name>`)
/// and for evaluation results.
public struct NamedArray: Sendable, Equatable {
    /// The dataset name (may contain `/` to nest it in groups).
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

/// Everything a dataset file holds (`Datasets/NAME.h5`), ready to be written by
/// ``DatasetFile/write(_:to:)``.
///
/// Layout (all paths from the file's root):
///
/// | object | type | shape | meaning |
/// |---|---|---|---|
/// | `/train`, `/test` | float32 or uint8 | [N, D] | examples, row-major |
/// | `/train_labels`, `/test_labels` | int64 | [N] | class labels (optional) |
/// | `/train_log_density`, `/test_log_density` | float64 | [N] | log q(x0) in nats (known densities only) |
/// | `/density/<parameter>` | float64 | any | parameters of q: means, covariances, scales, weights, bounds |
/// | `/<name>` from ``integerArrays`` | int64 | [n] | e.g. `train_source_rows` of an import |
///
/// Root attributes: `format = "compare-dataset"`, `format_version = 1`, `name`, `likelihood`,
/// `levels` (discrete and binary), `shape` (per-example shape, ∏ shape = D), `dimension` (D),
/// `source`, `license`, `known_density` (0 or 1), and every entry of ``attributes``.
/// `/density` carries the attributes `family` and `formula` (``densityFamily``, ``densityFormula``).
public struct DatasetContents: Sendable {
    public var name: String
    /// The decoder family the data are modelled with (attribute `likelihood`).
    public var likelihood: Likelihood.Family
    /// Number of distinct values per dimension: required for `discrete`, 2 for `binary`.
    public var levels: Int?
    /// The shape of one example (`[28, 28]` for images, `[2]` for 2-D points); ∏ = D.
    public var exampleShape: [Int]
    /// Where the data comes from (a URL, a Debian package and path, or the generating command).
    public var source: String
    public var license: String
    public var train: SplitValues
    public var test: SplitValues
    public var trainLabels: [Int64]?
    public var testLabels: [Int64]?
    /// log q(x0) of each training example in nats, for datasets whose density is known.
    public var trainLogDensity: [Double]?
    public var testLogDensity: [Double]?
    /// Name of the density family, e.g. `gaussian-mixture` (attribute `family` of `/density`).
    public var densityFamily: String?
    /// The density as a formula in words and symbols (attribute `formula` of `/density`).
    public var densityFormula: String?
    /// Parameters of the density, written to `/density/<name>`.
    public var densityParameters: [NamedArray]
    /// Extra int64 1-D arrays written at the root (`/<name>`).
    public var integerArrays: [String: [Int64]]
    /// Extra root attributes (`seed`, `noise`, `binarization`, `split`, …).
    public var attributes: [String: AttributeValue]

    /// D = ∏ ``exampleShape``.
    public var dimension: Int { exampleShape.reduce(1, *) }

    public init(
        name: String, likelihood: Likelihood.Family, levels: Int? = nil, exampleShape: [Int],
        source: String, license: String, train: SplitValues, test: SplitValues,
        trainLabels: [Int64]? = nil, testLabels: [Int64]? = nil,
        trainLogDensity: [Double]? = nil, testLogDensity: [Double]? = nil,
        densityFamily: String? = nil, densityFormula: String? = nil,
        densityParameters: [NamedArray] = [], integerArrays: [String: [Int64]] = [:],
        attributes: [String: AttributeValue] = [:]
    ) {
        self.name = name
        self.likelihood = likelihood
        self.levels = levels
        self.exampleShape = exampleShape
        self.source = source
        self.license = license
        self.train = train
        self.test = test
        self.trainLabels = trainLabels
        self.testLabels = testLabels
        self.trainLogDensity = trainLogDensity
        self.testLogDensity = testLogDensity
        self.densityFamily = densityFamily
        self.densityFormula = densityFormula
        self.densityParameters = densityParameters
        self.integerArrays = integerArrays
        self.attributes = attributes
    }
}

/// What a dataset file says about itself: its root attributes and the shapes of its splits.
public struct DatasetMetadata: Sendable {
    public var name: String
    /// The decoder family (attribute `likelihood`); with ``levels`` it makes ``modelLikelihood``.
    public var likelihood: Likelihood.Family
    /// Levels per dimension for `discrete` (and 2 for `binary`); `nil` for `continuous`.
    public var levels: Int?
    /// Per-example shape (attribute `shape`, or `[D]` when the file has none).
    public var exampleShape: [Int]
    /// D, the number of values per example (the second axis of `/train`).
    public var dimension: Int
    public var trainCount: Int
    public var testCount: Int
    /// How `/train` and `/test` are stored.
    public var storedElementType: HDF5ElementType
    /// Whether the file stores log q(x0) (`/train_log_density` and `/test_log_density`).
    public var hasKnownDensity: Bool
    /// Whether the file stores `/train_labels` and `/test_labels`.
    public var hasLabels: Bool
    public var source: String
    public var license: String
    /// Every root attribute, including the ones above.
    public var attributes: [String: AttributeValue]
    /// Name of the density family (`/density` attribute `family`), when stored.
    public var densityFamily: String?
    /// Names of the arrays under `/density`.
    public var densityParameterNames: [String]

    /// The likelihood models are trained and evaluated under: ``likelihood`` with its ``levels``
    /// (`nil` only for a discrete file without usable levels, which the reader refuses).
    public var modelLikelihood: Likelihood? { Likelihood(family: likelihood, levels: levels) }
}

/// A dataset file read for training or evaluation: values already on the model's scale.
///
/// - `discrete` uint8 data v ∈ {0, …, levels − 1} becomes (v / (levels − 1)) · 2 − 1 ∈ [−1, 1];
/// - `binary` data stays 0 or 1;
/// - float32 data is returned as stored.
public struct LoadedDataset: Sendable {
    /// The file it was read from.
    public var path: String
    public var metadata: DatasetMetadata
    /// Training examples, [trainCount, dimension] row-major.
    public var train: [Float]
    /// Test examples, [testCount, dimension] row-major.
    public var test: [Float]
    public var trainLabels: [Int64]?
    public var testLabels: [Int64]?
    /// log q(x0) per example in nats, when the density is known.
    public var trainLogDensity: [Double]?
    public var testLogDensity: [Double]?
    /// The density's parameters (`/density/*`), when stored.
    public var densityParameters: [NamedArray]

    public var dimension: Int { metadata.dimension }
    public var trainCount: Int { metadata.trainCount }
    public var testCount: Int { metadata.testCount }
    public var likelihood: Likelihood.Family { metadata.likelihood }
}

/// Reading and writing dataset files (see ``DatasetContents`` for the layout).
public enum DatasetFile {
    /// The value of the root attribute `format`.
    public static let format = "compare-dataset"
    /// The value of the root attribute `format_version`.
    public static let formatVersion = 1
}
