import ArgumentParser
import Pipeline

/// `compare demo`: the main job (see ``Pipeline/DemoRequest``).
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

    @Option(help: "The K values of IWAE_K, comma-separated.", transform: IntList.parser("--samples"))
    var samples = IntList([1, 10, 100])

    @Option(name: .customLong("sandwich"), help: "Model samples of each model's sandwich bounds (docs/math.md#sandwich-bounds).")
    var sandwichSamples: Int = 300

    var request: DemoRequest {
        DemoRequest(out: out, steps: steps, examples: examples, sampleCounts: samples.values, sandwichSamples: sandwichSamples)
    }

    func validate() throws {
        do { try request.validate() } catch { throw ValidationError(error) }
    }

    func run() throws {
        try failOnError { try request.run() }
    }
}
