import Core

extension NamedTensor {
    /// The key and shape, without the values.
    public var specification: TensorSpecification { TensorSpecification(key: key, shape: shape) }
}

/// The key and shape a loader expects for one tensor.
public struct TensorSpecification: Sendable, Equatable, Hashable {
    public var key: String
    public var shape: [Int]

    public init(key: String, shape: [Int]) {
        self.key = key
        self.shape = shape
    }
}

/// Adam's state: the step count t and the moment estimates m_t and v_t under the
/// parameters' keys (`/optimizer/first_moment/<key groups>`, `/optimizer/second_moment/<key groups>`,
/// and the attribute `step` of `/optimizer`).
public struct OptimizerState: Sendable, Equatable {
    /// Number of updates taken, t.
    public var step: Int
    /// m_t = β₁ m_{t−1} + (1 − β₁) g_t, one tensor per parameter.
    public var firstMoment: [NamedTensor]
    /// v_t = β₂ v_{t−1} + (1 − β₂) g_t², one tensor per parameter.
    public var secondMoment: [NamedTensor]

    public init(step: Int, firstMoment: [NamedTensor], secondMoment: [NamedTensor]) {
        self.step = step
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
    }
}

/// One column of the training log (`/history/<name>`, float64 [rows]): `step`, `loss`,
/// `test_elbo`, `elapsed_seconds`, …; all columns of a checkpoint have the same length.
public struct HistoryColumn: Sendable, Equatable {
    public var name: String
    public var values: [Double]

    public init(name: String, values: [Double]) {
        self.name = name
        self.values = values
    }
}

/// Results written by `compare eval` into `/evaluation`: named float64 arrays (names may
/// contain `/` to nest groups, e.g. `iwae/k1000`) and attributes on the `/evaluation` group.
public struct EvaluationRecord: Sendable, Equatable {
    public var arrays: [NamedArray]
    public var attributes: [String: AttributeValue]

    public init(arrays: [NamedArray] = [], attributes: [String: AttributeValue] = [:]) {
        self.arrays = arrays
        self.attributes = attributes
    }

    /// The array called `name`, if present.
    public func array(named name: String) -> NamedArray? {
        arrays.first { $0.name == name }
    }
}

/// A training run's state, saved to and restored from `Runs/NAME.h5`.
///
/// Layout (readable with h5py; see `Datasets/README.md`):
///
/// | object | type | meaning |
/// |---|---|---|
/// | `/parameters/<key as groups>` | float32, parameter's shape | model parameters |
/// | `/optimizer/first_moment/<key as groups>` | float32 | Adam m_t |
/// | `/optimizer/second_moment/<key as groups>` | float32 | Adam v_t |
/// | `/optimizer` attribute `step` | int64 | Adam's t |
/// | `/generator` | uint64 [4] | xoshiro256** state words (attribute `algorithm`) |
/// | `/history/<column>` | float64 [rows] | training log |
/// | `/evaluation/<name>` | float64 | evaluation results, attributes on `/evaluation` |
///
/// Root attributes: `format = "compare-checkpoint"`, `format_version = 1` (int64), `model`,
/// `config` (JSON string), `dataset` (path as given to `train`), `dataset_absolute` (the same
/// path made absolute when the checkpoint was written; absent in older files), `dataset_hash`
/// (SHA-256 of the dataset file's bytes, 64 hex digits), `seed` (uint64), `step` (int64), plus
/// ``attributes``.
///
/// Exact baselines (`compare baseline`) use this schema with `model = "baseline"`, their counts as
/// `/parameters/counts` and an exact `/evaluation` (Pipeline's `BaselineCheckpoint` has the layout).
public struct Checkpoint: Sendable, Equatable {
    /// The value of the root attribute `format`.
    public static let format = "compare-checkpoint"
    /// The value of the root attribute `format_version` this code writes and reads.
    public static let formatVersion = 1

    /// Which model this is (`vae`, `hvae`, `ddpm`, …).
    public var model: String
    /// Every hyperparameter as a JSON object, enough to rebuild the network.
    public var config: String
    /// Path of the dataset file trained on, as given (relative to the folder training ran in).
    public var datasetPath: String
    /// The same path made absolute when the run was written (root attribute `dataset_absolute`);
    /// `nil` for checkpoints written before it existed.
    public var datasetAbsolutePath: String?
    /// SHA-256 of the dataset file's bytes (``SHA256/hexDigest(ofFileAt:)``).
    public var datasetHash: String
    /// The run's seed.
    public var seed: UInt64
    /// Number of training steps taken.
    public var step: Int
    /// The model's parameters, in the model's order.
    public var parameters: [NamedTensor]
    /// Adam's state, if the run has one.
    public var optimizer: OptimizerState?
    /// ``RandomGenerator/stateWords`` of the run's generator, so that a resumed run
    /// continues the same stream.
    public var generatorState: [UInt64]?
    /// The training log.
    public var history: [HistoryColumn]
    /// Results of `compare eval`, if any.
    public var evaluation: EvaluationRecord?
    /// Extra root attributes.
    public var attributes: [String: AttributeValue]

    public init(
        model: String, config: String, datasetPath: String, datasetHash: String, seed: UInt64,
        step: Int, parameters: [NamedTensor], optimizer: OptimizerState? = nil,
        generatorState: [UInt64]? = nil, history: [HistoryColumn] = [],
        evaluation: EvaluationRecord? = nil, attributes: [String: AttributeValue] = [:],
        datasetAbsolutePath: String? = nil
    ) {
        self.model = model
        self.config = config
        self.datasetPath = datasetPath
        self.datasetAbsolutePath = datasetAbsolutePath
        self.datasetHash = datasetHash
        self.seed = seed
        self.step = step
        self.parameters = parameters
        self.optimizer = optimizer
        self.generatorState = generatorState
        self.history = history
        self.evaluation = evaluation
        self.attributes = attributes
    }

    /// The history column called `name`, if present.
    public func historyColumn(named name: String) -> HistoryColumn? {
        history.first { $0.name == name }
    }
}

/// What a caller expects of a checkpoint before using it; ``Checkpoint/read(from:expecting:)``
/// checks each non-nil field and reports the first mismatch.
public struct CheckpointExpectation: Sendable {
    /// The `model` attribute must equal this.
    public var model: String?
    /// The parameters must have exactly these keys and shapes; the loaded parameters
    /// come back in this order.
    public var parameters: [TensorSpecification]?
    /// The file must hold Adam's state (for `--resume`).
    public var requiresOptimizer: Bool
    /// The file must hold the generator state (for `--resume`).
    public var requiresGenerator: Bool

    public init(
        model: String? = nil, parameters: [TensorSpecification]? = nil,
        requiresOptimizer: Bool = false, requiresGenerator: Bool = false
    ) {
        self.model = model
        self.parameters = parameters
        self.requiresOptimizer = requiresOptimizer
        self.requiresGenerator = requiresGenerator
    }
}

/// Dotted parameter keys ↔ HDF5 group paths.
enum ParameterKey {
    /// Checks a dotted key: non-empty components without `/`, not `.` or `..`.
    static func validate(_ key: String, file: String) throws {
        let components = key.split(separator: ".", omittingEmptySubsequences: false)
        guard !key.isEmpty, components.allSatisfy({ !$0.isEmpty && !$0.contains("/") }) else {
            throw StoreError(file: file, cause: "invalid parameter key '\(key)': expected dot-separated names without '/' or empty parts")
        }
    }

    /// `encoder.layers.0.weight` under `/parameters` → `/parameters/encoder/layers/0/weight`.
    static func path(_ key: String, under group: String) -> String {
        group + "/" + key.split(separator: ".").joined(separator: "/")
    }

    /// `encoder/layers/0/weight` (relative to the group) → `encoder.layers.0.weight`.
    static func key(fromRelativePath path: String) -> String {
        path.split(separator: "/").joined(separator: ".")
    }
}
