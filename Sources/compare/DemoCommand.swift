import ArgumentParser
import Foundation

/// `compare demo`: the main job. Makes `Datasets/gmm2d.h5` if it is missing, trains the VAE,
/// the hierarchical VAE and the DDPM on it, evaluates all three with the same test examples
/// and K, and writes `Reports/demo.md` with its plots. Every step is an ordinary `compare`
/// command line, run in-process and printed, so the report's "Reproduce" section is exact.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train VAE, HVAE and DDPM on gmm2d, evaluate them and write Reports/demo.md (about 3–5 minutes on 2 cores).")

    @Option(help: "Where to write the report.")
    var out: String = "Reports/demo.md"

    @Option(help: "Training steps of each model.")
    var steps: Int = 6000

    @Option(help: "Test examples evaluated per model.")
    var examples: Int = 300

    @Option(help: "The K values of IWAE_K.")
    var samples: String = "1,10,100"

    /// The training command lines of the three models (model options from their papers'
    /// defaults; KL warm-up for the learned encoders, which otherwise settle on one Gaussian).
    func trainArguments(dataset: String) -> [(name: String, arguments: [String])] {
        let common = ["--dataset", dataset, "--steps", String(steps), "--batch-size", "256", "--seed", "0",
                      "--checkpoint-every", "2000", "--evaluate-every", "2000", "--overwrite"]
        return [
            ("vae", ["--model", "vae"] + common + ["--warmup", "1000", "--out", "Runs/demo-vae.h5"]),
            ("hvae", ["--model", "hvae"] + common + ["--warmup", "1000", "--out", "Runs/demo-hvae.h5"]),
            ("ddpm", ["--model", "ddpm"] + common + ["--out", "Runs/demo-ddpm.h5"]),
        ]
    }

    func run() throws {
        try failOnError {
            guard steps >= 1 else { throw CLIFailure("--steps must be at least 1, got \(steps)") }
            guard examples >= 1 else { throw CLIFailure("--examples must be at least 1, got \(examples)") }
            _ = try parseSampleCounts(samples)
            let started = Date()
            func say(_ text: String) { print(String(format: "[%5.1fs] ", Date().timeIntervalSince(started)) + text) }
            let dataset = "Datasets/gmm2d.h5"
            if !FileManager.default.fileExists(atPath: dataset) {
                say("making \(dataset): \(commandLine(["datasets", "make"], ["gmm2d"]))")
                let make = try DatasetsMakeCommand.parse(["gmm2d"])
                try make.run()
            }
            var runs: [String] = []
            for (name, arguments) in trainArguments(dataset: dataset) {
                say("training the \(name.uppercased()): \(commandLine(["train"], arguments))")
                var train = try TrainCommand.parse(arguments)
                train.arguments = arguments
                try train.run()
                runs.append("Runs/demo-\(name).h5")
            }
            for run in runs {
                let arguments = [run, "--examples", String(examples), "--samples", samples, "--seed", "1"]
                say("evaluating: \(commandLine(["eval"], arguments))")
                var evaluate = try EvalCommand.parse(arguments)
                evaluate.arguments = arguments
                try evaluate.run()
            }
            let arguments = runs + ["--out", out, "--title", "Demo: VAE, hierarchical VAE and DDPM on gmm2d"]
            say("writing the report: \(commandLine(["report"], arguments))")
            var report = try ReportCommand.parse(arguments)
            report.arguments = arguments
            try report.run()
            say("done: open \(out)")
        }
    }
}
