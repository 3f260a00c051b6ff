import Core
import Foundation
import DDPMModel
import Evaluation
import Tensor
import Training

/// The continuous-time ELBO of a `compare eval` and its estimates.
struct ContinuousELBOEstimate {
    /// ELBO_∞ per example, and its mean and standard error.
    var perExample: [Double]
    var elbo: MeanEstimate
    /// Means over the examples of log p(x | z_0), ½ γ'(t) ‖ε − ε̂‖² and KL(q(z_1|x) ‖ N(0, I)).
    var reconstruction: Double
    var diffusion: Double
    var prior: Double
}

extension EvaluationRequest {
    /// Draws of t per example for ELBO_∞: `--continuous-draws`, else `--elbo-draws`.
    var continuousDrawCount: Int { continuousDraws ?? elboDraws }

    /// With `--timesteps`, the run's continuous-time model set to that T (a one-line refusal for
    /// any other model); without, the continuous-time model as stored, or `nil` for other models.
    func readAtRequestedTimesteps(_ run: LoadedRun) throws -> ContinuousTimeDDPM? {
        let continuous = run.model as? ContinuousTimeDDPM
        guard let timesteps else { return continuous }
        guard let continuous else {
            if case .ddpm(let c) = run.configuration {
                throw PipelineError("--timesteps: \(checkpoint) is a DDPM of T = \(c.timestepCount) steps, evaluated at its own T; "
                    + "only a continuous-time DDPM (trained with --timesteps continuous) can be read at another")
            }
            throw PipelineError("--timesteps is an option of continuous-time DDPMs; \(checkpoint) holds a \(run.checkpoint.model)")
        }
        continuous.timestepCount = timesteps
        return continuous
    }

    /// ELBO_∞ on the evaluated examples, ``continuousDrawCount`` times per example, from the stream
    /// (seed, 0xC0_7) of its own. docs/math.md#continuous-time-elbo
    func continuousELBO(of model: ContinuousTimeDDPM, run: LoadedRun) throws -> ContinuousELBOEstimate {
        let testCount = run.dataset.testCount
        let n = Swift.min(examples ?? testCount, testCount)
        let data = Tensor(shape: [testCount, run.dataset.dimension], storage: run.dataset.test).rows(0..<n)
        var generator = RandomGenerator(seed: seed, stream: [0xC0_7])
        var terms: ELBOTerms?
        GradientMode.withoutRecording {
            var first = 0
            while first < n {
                let last = Swift.min(n, first + batchSize)
                let batch = model.continuousELBO(data.rows(first..<last), draws: continuousDrawCount, using: &generator)
                if terms == nil { terms = batch } else { terms!.append(batch) }
                first = last
            }
        }
        guard let terms, terms.elbo.allSatisfy(\.isFinite) else {
            throw PipelineError("\(checkpoint): the continuous-time ELBO is not finite on these examples")
        }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        return ContinuousELBOEstimate(perExample: terms.elbo, elbo: MeanEstimate(terms.elbo), reconstruction: mean(terms.reconstruction),
                                      diffusion: mean(terms.layerKL[0]), prior: mean(terms.layerKL[1]))
    }

    /// "  ELBO_∞  … ± …  continuous time (…)" and "  ELBO_∞ − ELBO_T  … ± …  paired …".
    func continuousELBOLine(_ estimate: ContinuousELBOEstimate, excess: MeanEstimate, timesteps: Int) -> String {
        func nats(_ value: Double) -> String { String(format: "%.4f", value) }
        let verdict = excess.isNonNegative(withinStandardErrors: 3)
            ? "ELBO_T ≤ ELBO_∞ holds within 3 s.e."
            : "ELBO_T above ELBO_∞ by more than 3 s.e., which a continuous-time model cannot do (docs/math.md#discrete-time-elbo-of-a-continuous-model)"
        return "  ELBO_∞          \(nats(estimate.elbo.mean)) ± \(nats(estimate.elbo.standardError))  continuous time "
            + "(diffusion \(nats(estimate.diffusion)), prior \(nats(estimate.prior)), reconstruction \(nats(estimate.reconstruction))); "
            + "the rows above read the model at T = \(timesteps)\n"
            + "  ELBO_∞ − ELBO_T \(nats(excess.mean)) ± \(nats(excess.standardError))  paired over the examples: \(verdict)"
    }
}
