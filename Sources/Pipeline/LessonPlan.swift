import Core
import DDPMModel
import Foundation
import HVAEModel
import Report
import Training

/// The sizes of `compare lesson`: how long each model trains and how many test examples and
/// importance samples each evaluation uses, for the full run, `--quick` and the hidden `--smoke`.
public struct LessonPlan: Sendable {
    public enum Mode: String, Sendable { case full, quick, smoke }

    public let mode: Mode

    public init(mode: Mode) {
        self.mode = mode
    }

    /// Checkpoints of the lessons' runs (reused across invocations when their options match).
    var runsFolder: String {
        switch mode {
        case .full: return "Runs/lessons"
        case .quick: return "Runs/lessons-quick"
        case .smoke: return "Runs/lessons-smoke"
        }
    }

    /// Where the reports go: quick (and smoke) reports never overwrite the committed full ones.
    var reportsFolder: String {
        switch mode {
        case .full: return "Reports"
        case .quick: return "Reports/quick"
        case .smoke: return "Reports/quick/smoke"
        }
    }

    /// Training steps of every run (same budget for every model and every T).
    var steps: Int {
        switch mode {
        case .full: return 8000
        case .quick: return 2000
        case .smoke: return 40
        }
    }

    /// KL warm-up of the learned encoders (the demo's 1,000 steps, shortened with the run).
    var warmup: Int { min(1000, steps / 4) }

    /// Hidden widths for every network (nil: the models' defaults, 128-128 and 128-128-128).
    var hidden: [Int]? { mode == .smoke ? [16, 16] : nil }

    var checkpointEvery: Int { mode == .full ? 2000 : 0 }

    /// Test examples for the VAE and the HVAE (cheap: K samples cost K decoder rows).
    var latentExamples: Int {
        switch mode {
        case .full: return 1000
        case .quick: return 300
        case .smoke: return 16
        }
    }

    /// Test examples for every DDPM (IWAE_K costs n · K · T network rows), the same for every T so
    /// that runs of the sweep can be compared example by example.
    var diffusionExamples: Int {
        switch mode {
        case .full: return 200
        case .quick: return 100
        case .smoke: return 12
        }
    }

    /// ELBO draws averaged per example.
    var elboDraws: Int { mode == .smoke ? 2 : 10 }

    /// K up to 1000 (lessons 1–3: the VAE, the HVAE and the DDPM at T = ``lessonT``).
    var manySamples: [Int] { mode == .smoke ? [1, 10] : [1, 10, 100, 1000] }

    /// K up to 100 (lesson 4's sweep, where T reaches 1000: IWAE_K costs n · K · T network rows).
    var sweepSamples: [Int] { mode == .smoke ? [1, 10] : [1, 10, 100] }

    /// T of the DDPM in lessons 1–3 (small enough for K = 1000).
    var lessonT: Int { mode == .smoke ? 16 : 64 }

    /// Lesson 4's sweep over T.
    var sweepT: [Int] { mode == .smoke ? [1, 4, 16] : [1, 2, 4, 16, 64, 256, 1000] }

    /// Lesson 5's oracle DDPMs: T and schedules (the oracle has no training, so T = 1000 is cheap).
    var oracleSweepT: [Int] { mode == .smoke ? [1, 4, 16] : [1, 4, 16, 64, 256, 1000] }
    var oracleSchedules: [NoiseSchedule] { [.linear, .cosine] }

    /// Lesson 4's HVAE depths.
    var depths: [Int] { mode == .smoke ? [1, 2] : [1, 2, 4] }

    /// The sizes, for the reports' footers.
    var sizeLines: [String] {
        let hiddenText = hidden.map { "hidden \($0.map(String.init).joined(separator: "-"))" }
        var lines = [
            "Training: every run \(formatCount(steps)) steps of Adam (learning rate 1e-3, batch 256, gradient norm clipped at 10), "
                + "training seed 0; the same budget for every model and every T.",
            "VAE: latent size 2, \(hiddenText ?? "hidden 128-128"), SiLU, KL warm-up \(formatCount(warmup)) steps. "
                + "HVAE: bottom-up (Markov) inference, latent layers of size 2, \(hiddenText ?? "hidden 128-128"), KL warm-up "
                + "\(formatCount(warmup)) steps.",
            "DDPM: learned-range reverse variance, hybrid loss (L_simple + 0.001 L_vlb, Nichol & Dhariwal 2021), ε-network "
                + "\(hiddenText ?? "128-128-128") with a 32-wide timestep embedding. Lessons 1-3: T = \(lessonT) with the linear schedule "
                + "(Ho et al.'s β from 1e-4 to 0.02 at T = 1000, both ends scaled by 1000/T); T = \(lessonT) is small enough for "
                + "K = 1000, since IWAE_K costs n·K·T network rows. Lesson 4: T ∈ {\(sweepT.map(String.init).joined(separator: ", "))} "
                + "with the cosine schedule, so that every T, even 1, ends at pure noise. Lesson 4's continuous-time DDPM: the same "
                + "ε-network and budget, trained on the continuous-time ELBO with a learned log-SNR schedule (from γ = -13.3 to 5), "
                + "evaluated at T = \(sweepT.max() ?? 1000) and read at every T of the sweep and in the limit (seed 1, its own stream per T).",
            "Evaluation (seed 1): VAE and HVAE on the first n = \(formatCount(latentExamples)) test examples, every DDPM on the first "
                + "n = \(formatCount(diffusionExamples)); K = \(manySamples.map(String.init).joined(separator: ", ")) in lessons 1-3 and "
                + "K = \(sweepSamples.map(String.init).joined(separator: ", ")) for lesson 4's sweep; each example's ELBO is the mean of "
                + "\(elboDraws) draws.",
            "Lesson 5: the DDPM of lessons 1-3 against the oracle denoiser of gmm2d's mixture density on the same n = "
                + "\(formatCount(diffusionExamples)) test examples, one draw of ε per example and t (seed 3); oracle DDPMs "
                + "(no training; fixed-small and fixed-large variance) for T ∈ {\(oracleSweepT.map(String.init).joined(separator: ", "))} with the linear "
                + "and the cosine schedule, ELBO from \(elboDraws) draws per example (seed 1).",
        ]
        if mode != .full {
            lines.append("This is the \(mode.rawValue) variant (`compare lesson … --\(mode.rawValue)`): shorter training and fewer samples "
                + "than the committed reports, so expect larger standard errors and looser bounds.")
        }
        return lines
    }

    // MARK: - Runs

    /// One run of the lessons: a checkpoint trained by an ordinary training request.
    public struct Run: Hashable, Sendable {
        /// File stem under ``LessonPlan/runsFolder``.
        let name: String
        let model: ModelKind
        let dataset: String
        /// Latent layers: 1 for the VAE, L for the HVAE, T for the DDPM.
        let layers: Int
        let settings: ModelSettings
        /// The K values of its evaluation.
        let sampleCounts: [Int]

        public static func == (a: Run, b: Run) -> Bool { a.name == b.name }
        public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    }

    func path(of run: Run) -> String { "\(runsFolder)/\(run.name).h5" }

    func datasetPath(_ name: String) -> String { "Datasets/\(name).h5" }

    func vae(_ dataset: String) -> Run {
        Run(name: "vae-\(dataset)", model: .vae, dataset: dataset, layers: 1,
            settings: ModelSettings(hiddenSizes: hidden, warmupSteps: warmup), sampleCounts: manySamples)
    }

    func hvae(_ dataset: String, layers: Int) -> Run {
        Run(name: "hvae-L\(layers)-\(dataset)", model: .hvae, dataset: dataset, layers: layers,
            settings: ModelSettings(hiddenSizes: hidden, latentSizes: [Int](repeating: 2, count: layers), inference: .bottomUp,
                                    warmupSteps: warmup),
            sampleCounts: manySamples)
    }

    /// The DDPM of lessons 1–3: T = ``lessonT``, linear schedule, K up to 1000.
    func lessonDDPM(_ dataset: String) -> Run { ddpm(dataset, timesteps: lessonT, schedule: .linear, sampleCounts: manySamples) }

    /// A DDPM of lesson 4's sweep: cosine schedule, K up to 100.
    func sweepDDPM(timesteps: Int) -> Run { ddpm("gmm2d", timesteps: timesteps, schedule: .cosine, sampleCounts: sweepSamples) }

    func ddpm(_ dataset: String, timesteps: Int, schedule: NoiseSchedule, sampleCounts: [Int]) -> Run {
        Run(name: "ddpm-\(schedule.rawValue)-T\(timesteps)-\(dataset)", model: .ddpm, dataset: dataset, layers: timesteps,
            settings: ModelSettings(hiddenSizes: hidden, timestepCount: timesteps, schedule: schedule, variance: .learnedRange,
                                    loss: .hybrid),
            sampleCounts: sampleCounts)
    }

    /// Lesson 4's continuous-time DDPM: a learned log-SNR schedule, the sweep's network and
    /// budget, evaluated (IWAE up to K = 100) at the sweep's largest T.
    func continuousDDPM() -> Run {
        let evaluationT = sweepT.max() ?? 1000
        return Run(name: "ddpm-continuous-learned-gmm2d", model: .ddpm, dataset: "gmm2d", layers: evaluationT + 1,
                   settings: ModelSettings(hiddenSizes: hidden, timestepCount: evaluationT, continuousTime: true, logSNRSchedule: .learned),
                   sampleCounts: sweepSamples)
    }

    /// The training request of `run` (`resume` or `overwrite` set by the session).
    func trainRequest(_ run: Run) -> TrainRequest {
        TrainRequest(model: run.model, dataset: datasetPath(run.dataset),
                     training: TrainingOptions(steps: steps, batchSize: 256, seed: 0, checkpointEvery: checkpointEvery, evaluateEvery: 0),
                     settings: run.settings, out: path(of: run))
    }

    /// Test examples of `run`'s evaluation.
    func examples(_ run: Run) -> Int { run.model == .ddpm ? diffusionExamples : latentExamples }

    /// The evaluation request of `run`.
    func evaluationRequest(_ run: Run) -> EvaluationRequest {
        EvaluationRequest(checkpoint: path(of: run), sampleCounts: run.sampleCounts, examples: examples(run), seed: 1, elboDraws: elboDraws)
    }
}
