import Core
import Evaluation

/// Everything the report shows about one evaluated run (one row of a table), gathered by the
/// command line from a checkpoint; the Report module itself does no I/O.
public struct RunSummary: Sendable {
    /// The checkpoint file, as given on the command line (used in links and captions).
    public var path: String
    public var model: ModelKind
    /// A short human description of the model's options (e.g. "T = 1000, linear, fixed-small").
    public var modelDescription: String
    /// Dataset name (e.g. `gmm2d`) and the path it was read from.
    public var datasetName: String
    public var datasetPath: String
    public var likelihood: Likelihood.Family
    /// Levels of discrete data (2 for binary), nil for continuous.
    public var levels: Int?
    /// The per-example shape of the data (`[2]`, `[28, 28]`, `[8, 8]`).
    public var exampleShape: [Int]
    public var encoderParameters: Int
    public var decoderParameters: Int
    /// Latent layers (T for the DDPM).
    public var latentLayers: Int
    public var trainingSteps: Int
    public var trainingSeconds: Double
    public var seed: UInt64
    /// The command that trained the run and the one that evaluated it.
    public var trainCommand: String
    public var evaluateCommand: String
    /// The evaluation seed.
    public var evaluationSeed: UInt64
    /// The estimates, per example (see ``ModelEvaluation``).
    public var evaluation: ModelEvaluation
    /// Training log: steps and mean loss; test ELBO at some steps.
    public var lossSteps: [Double]
    public var losses: [Double]
    public var testELBOSteps: [Double]
    public var testELBOs: [Double]
    /// Samples from the model, [count, D] row-major, on the dataset's scale (may be empty).
    public var samples: [Float]
    /// A few training examples [count, D] for the scatter backdrop of 2-D data (may be empty).
    public var dataPoints: [Float]

    public init(path: String, model: ModelKind, modelDescription: String, datasetName: String, datasetPath: String,
                likelihood: Likelihood.Family, levels: Int?, exampleShape: [Int], encoderParameters: Int, decoderParameters: Int,
                latentLayers: Int, trainingSteps: Int, trainingSeconds: Double, seed: UInt64, trainCommand: String,
                evaluateCommand: String, evaluationSeed: UInt64, evaluation: ModelEvaluation, lossSteps: [Double],
                losses: [Double], testELBOSteps: [Double], testELBOs: [Double], samples: [Float], dataPoints: [Float],
                datasetHash: String = "", runIdentity: String? = nil) {
        self.datasetHash = datasetHash
        self.runIdentity = runIdentity
        self.path = path
        self.model = model
        self.modelDescription = modelDescription
        self.datasetName = datasetName
        self.datasetPath = datasetPath
        self.likelihood = likelihood
        self.levels = levels
        self.exampleShape = exampleShape
        self.encoderParameters = encoderParameters
        self.decoderParameters = decoderParameters
        self.latentLayers = latentLayers
        self.trainingSteps = trainingSteps
        self.trainingSeconds = trainingSeconds
        self.seed = seed
        self.trainCommand = trainCommand
        self.evaluateCommand = evaluateCommand
        self.evaluationSeed = evaluationSeed
        self.evaluation = evaluation
        self.lossSteps = lossSteps
        self.losses = losses
        self.testELBOSteps = testELBOSteps
        self.testELBOs = testELBOs
        self.samples = samples
        self.dataPoints = dataPoints
    }

    /// SHA-256 of the dataset file's bytes (64 hex digits): the dataset's identity, whatever its
    /// name. Empty when unknown (runs made in memory).
    public var datasetHash: String
    /// Identifies the checkpoint file itself (device and inode for a file read from disk), so
    /// that one run given twice under two spellings is recognised; nil when unknown.
    public var runIdentity: String?

    /// `conv` or `mlp` (the networks), when known: shown in labels when runs of one model differ.
    public var architecture: String?
    /// What training and evaluation cost (the "Training budget" section).
    public var cost = TrainingCost()
    /// A continuous-time DDPM's ELBO_∞ on the same examples (per example, nats), stored beside
    /// the evaluation at ``evaluationTimesteps``; `nil` for every other model.
    public var continuousELBO: MeanEstimate?
    /// ELBO_∞ − ELBO_T paired over the same examples (nats), when the evaluation stored it.
    public var continuousELBOExcess: MeanEstimate?
    /// A learned log-SNR schedule's end points γ(0), γ(1) after training, beside the ones it
    /// started from (the options give those); `nil` for fixed schedules and other models.
    public var learnedScheduleEnds: (start: Double, end: Double)?
    /// The T a continuous-time DDPM's row was read at (its latent layers are T + 1).
    public var evaluationTimesteps: Int?
    /// Nearest training examples (L2) of the first few samples: each sample and its neighbour,
    /// [D] each on the dataset's scale, with the distance (image data; may be empty).
    public var nearestNeighbours: [NearestNeighbour] = []
    /// The distances from the first few test examples to their nearest training examples: what
    /// the samples' distances are read against (a sample far closer than these is a near-copy).
    public var testNeighbourDistances: [Double] = []

    /// D.
    public var dimension: Int { exampleShape.reduce(1, *) }
}

/// A sample and the training example closest to it in Euclidean distance (on the dataset's
/// scale): evidence that a model generates rather than copies.
public struct NearestNeighbour: Sendable, Equatable {
    public var sample: [Float]
    public var neighbour: [Float]
    /// ‖sample − neighbour‖₂.
    public var distance: Double
    /// The neighbour's row in the training split (0-based).
    public var trainingRow: Int

    public init(sample: [Float], neighbour: [Float], distance: Double, trainingRow: Int) {
        self.sample = sample
        self.neighbour = neighbour
        self.distance = distance
        self.trainingRow = trainingRow
    }
}
