import ArgumentParser
import Core
import Pipeline

/// `compare baseline`: fit an exact baseline on a dataset's training split and write it, with its
/// exact test log-likelihood, as a checkpoint that `compare report` shows above the models.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Fit an exact baseline (uniform, or per-pixel categorical/Bernoulli) on discrete or binary data and store its exact test log-likelihood.",
        discussion: """
        uniform: every level 1/L, log p(x) = -D log L. pixel: each pixel an independent categorical \
        (binary data: Bernoulli) with p_d(l) = (c_dl + α)/(N + α L), c_dl the training counts and α \
        the smoothing. Both log-likelihoods are exact, so ELBO = log p = IWAE_K; give the checkpoint \
        to `compare report` beside evaluated models to see what they must beat.
        """)

    @Option(help: "Dataset file with discrete or binary data (see `compare datasets`).")
    var dataset: String

    @Option(help: "Which baseline.")
    var kind: BaselineKind = .pixel

    @Option(help: "α, added to every training count of --kind pixel (default 1: add-one, Laplace).")
    var smoothing: Double?

    @Option(help: "Number of test examples (the first N of the split; default all).")
    var examples: Int?

    @Option(help: "Checkpoint file (default Runs/baseline-KIND-DATASET.h5).")
    var out: String?

    @Flag(help: "Replace an existing checkpoint at --out (never a dataset or a sample file).")
    var overwrite = false

    var request: BaselineRequest {
        BaselineRequest(dataset: dataset, kind: kind, smoothing: smoothing, examples: examples, out: out, overwrite: overwrite)
    }

    func validate() throws {
        do { try request.validate() } catch { throw ValidationError(error) }
    }

    func run() throws {
        try failOnError { print(try request.run()) }
    }
}
