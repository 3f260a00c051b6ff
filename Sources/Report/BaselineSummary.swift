import Core
import Evaluation

/// Everything the report shows about one exact baseline (docs/math.md#exact-baselines): a row
/// above the learned models, the reference of the check "beats the per-pixel baseline", and its
/// command under Reproduce. Gathered by the command line from a baseline checkpoint; the Report
/// module does no I/O.
public struct BaselineSummary: Sendable {
    /// The checkpoint file, as given on the command line.
    public var path: String
    public var kind: BaselineKind
    /// The row's name: "uniform", "per-pixel categorical (add-1)", "per-pixel Bernoulli (add-1)".
    public var label: String
    /// What the model is, in words (for the Baselines table).
    public var description: String
    public var datasetName: String
    public var datasetPath: String
    /// SHA-256 of the dataset file's bytes, as for ``RunSummary/datasetHash``.
    public var datasetHash: String
    public var likelihood: Likelihood.Family
    /// L (2 for binary data).
    public var levels: Int?
    public var exampleShape: [Int]
    /// The exact log p(x) of the first n test examples, nats.
    public var logLikelihoods: [Double]
    /// D·(L − 1) for the per-pixel baseline, 0 for the uniform one.
    public var parameterCount: Int
    /// N, the training examples counted.
    public var trainingExamples: Int
    /// The `compare baseline` command that wrote it, and the command of its stored evaluation
    /// (the same line, or a later `compare eval`).
    public var command: String
    public var evaluateCommand: String
    /// The checkpoint file's identity (see ``RunSummary/runIdentity``).
    public var runIdentity: String?

    public init(path: String, kind: BaselineKind, label: String, description: String, datasetName: String, datasetPath: String,
                datasetHash: String, likelihood: Likelihood.Family, levels: Int?, exampleShape: [Int], logLikelihoods: [Double],
                parameterCount: Int, trainingExamples: Int, command: String, evaluateCommand: String, runIdentity: String? = nil) {
        self.path = path
        self.kind = kind
        self.label = label
        self.description = description
        self.datasetName = datasetName
        self.datasetPath = datasetPath
        self.datasetHash = datasetHash
        self.likelihood = likelihood
        self.levels = levels
        self.exampleShape = exampleShape
        self.logLikelihoods = logLikelihoods
        self.parameterCount = parameterCount
        self.trainingExamples = trainingExamples
        self.command = command
        self.evaluateCommand = evaluateCommand
        self.runIdentity = runIdentity
    }

    /// n, the test examples evaluated.
    public var exampleCount: Int { logLikelihoods.count }
    /// D.
    public var dimension: Int { exampleShape.reduce(1, *) }
}
