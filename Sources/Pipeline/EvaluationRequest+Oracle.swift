import Core
import DDPMModel
import Store
import Training

extension EvaluationRequest {
    /// `compare eval CHECKPOINT --denoiser oracle`: the checkpoint's DDPM configuration (T,
    /// schedule, …) with its network replaced by the ``OracleDenoiser`` of the dataset's
    /// Gaussian-mixture density and its reverse variance set to fixed-small, evaluated on the
    /// test split exactly as the network would be (docs/math.md#oracle-denoiser).
    ///
    /// The result is printed only: the checkpoint's `/evaluation` belongs to its trained
    /// network, so no file is written, locked or changed. Refused with one line naming
    /// `--denoiser oracle` unless the checkpoint is a DDPM of continuous data whose dataset stores
    /// a `gaussian-mixture` or `gaussian` density.
    func runOracle(quiet: Bool) throws -> String {
        func refuse(_ problem: String) -> PipelineError { PipelineError("--denoiser oracle: \(checkpoint): \(problem)") }
        if BaselineCheckpoint.isBaseline(at: checkpoint) {
            throw refuse("a baseline checkpoint has no denoiser; the oracle replaces the network of a DDPM")
        }
        let run = try LoadedRun(path: checkpoint)
        guard case .ddpm(let configuration) = run.configuration else {
            throw refuse("holds a \(run.checkpoint.model) model; the oracle replaces the network of a DDPM")
        }
        guard configuration.continuousTime == nil else {
            throw refuse("holds a continuous-time DDPM; the oracle is built for the β schedule of a DDPM of T steps")
        }
        guard run.dataset.likelihood == .continuous else {
            throw refuse("its dataset \(run.datasetPath) has \(run.dataset.likelihood.rawValue) data; the oracle needs continuous data with a Gaussian-mixture density")
        }
        let mixture: GaussianMixture
        do {
            mixture = try GaussianMixture(densityFamily: run.dataset.metadata.densityFamily, parameters: run.dataset.densityParameters)
        } catch let error as PipelineError {
            throw refuse("its dataset \(run.datasetPath): \(error.message)")
        }
        let model: DDPM
        do {
            model = try DDPM.withOracleDenoiser(configuration: configuration, mixture: mixture)
        } catch {
            throw refuse("\(error)")
        }
        let evaluation = try evaluateTestSplit(of: run, model: model, quiet: quiet)
        return evaluationSummary(evaluation, model: "ddpm with the oracle denoiser", path: checkpoint)
            + "\nnote: the oracle denoiser E[ε | x_t] of the dataset's \(run.dataset.metadata.densityFamily ?? "") density replaced the network"
            + " (T = \(configuration.timestepCount), \(configuration.schedule.rawValue) schedule, fixed-small variance; docs/math.md#oracle-denoiser);"
            + " printed only, /evaluation of \(checkpoint) is left to its network"
    }
}
