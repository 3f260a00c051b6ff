import Core
import DatasetMakers
import Foundation
import Training

/// `compare demo`, the main job: makes `Datasets/gmm2d.h5` if it is missing, trains the VAE,
/// the hierarchical VAE and the DDPM on it, evaluates all three on the same test examples with
/// the same K, and writes the report. Every step is a request printed as its command line
/// before it runs, so the report's "Reproduce" section is exact.
public struct DemoRequest: Equatable, Sendable {
    /// Where the report goes.
    public var out: String
    /// Training steps of each model.
    public var steps: Int
    /// Test examples evaluated per model.
    public var examples: Int
    /// The K values of IWAE_K.
    public var sampleCounts: [Int]
    /// Model samples of each evaluation's sandwich bounds (docs/math.md#sandwich-bounds).
    public var sandwichSamples: Int

    public init(out: String = "Reports/demo.md", steps: Int = 6000, examples: Int = 300, sampleCounts: [Int] = [1, 10, 100],
                sandwichSamples: Int = 300) {
        self.out = out
        self.steps = steps
        self.examples = examples
        self.sampleCounts = sampleCounts
        self.sandwichSamples = sandwichSamples
    }

    public static let dataset = "Datasets/gmm2d.h5"

    /// The three training requests (model options from their papers' defaults; KL warm-up for the
    /// learned encoders, which otherwise settle on one Gaussian).
    public var trainRequests: [TrainRequest] {
        let training = TrainingOptions(steps: steps, batchSize: 256, seed: 0, checkpointEvery: 2000, evaluateEvery: 2000)
        return ModelKind.allCases.map { kind in
            TrainRequest(model: kind, dataset: Self.dataset, training: training,
                         settings: kind.hasLearnedEncoder ? ModelSettings(warmupSteps: 1000) : ModelSettings(),
                         out: "Runs/demo-\(kind.rawValue).h5", overwrite: true)
        }
    }

    /// The evaluation of each trained run.
    public var evaluationRequests: [EvaluationRequest] {
        trainRequests.map {
            EvaluationRequest(checkpoint: $0.out!, sampleCounts: sampleCounts, examples: examples, seed: 1, sandwich: sandwichSamples)
        }
    }

    public var reportRequest: ReportRequest {
        ReportRequest(runs: trainRequests.map { $0.out! }, out: out, title: "Demo: VAE, hierarchical VAE and DDPM on gmm2d")
    }

    public func validate() throws {
        guard steps >= 1 else { throw PipelineError("--steps must be at least 1, got \(steps)") }
        guard examples >= 1 else { throw PipelineError("--examples must be at least 1, got \(examples)") }
        try EvaluationRequest(checkpoint: "", sampleCounts: sampleCounts, sandwich: sandwichSamples).validate()
    }

    /// Runs every step, announcing each with its command line through `log`.
    public func run(log: (String) -> Void = { print($0) }) throws {
        try validate()
        let started = Date()
        func say(_ text: String) { log(String(format: "[%5.1fs] ", Date().timeIntervalSince(started)) + text) }
        if !FileManager.default.fileExists(atPath: Self.dataset) {
            let make = DatasetMakeRequest(maker: .gmm2d)
            say("making \(Self.dataset): \(make.commandLine)")
            log(try make.run())
        }
        for request in trainRequests {
            say("training the \(request.model.displayName): \(request.commandLine)")
            try request.run()
        }
        for request in evaluationRequests {
            say("evaluating: \(request.commandLine)")
            log(try request.run())
        }
        let report = reportRequest
        say("writing the report: \(report.commandLine)")
        log(try report.run())
        say("done: open \(out)")
    }
}
