import ArgumentParser
import Pipeline

/// `compare sample`: draw from a trained model into an HDF5 file, a scatter plot (2-D data)
/// or a PNG grid (image data).
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw samples from a checkpoint into FILE.h5, FILE.svg (2-D data) or FILE.png (images).")

    @Argument(help: "Checkpoint file.")
    var checkpoint: String

    @Option(help: "Number of samples.")
    var count: Int = 64

    @Option(help: "Output: .h5 (float32 [count, D]), .svg (2-D data) or .png (image data).")
    var out: String

    @Option(help: "Seed of the draws.")
    var seed: UInt64 = 0

    @Flag(help: "Replace an existing sample file or plot at --out (never a checkpoint or a dataset).")
    var overwrite = false

    @Option(help: "Continuous-time DDPM: the number of reverse steps T (default: the T stored with it).")
    var timesteps: Int?

    var request: SampleRequest {
        SampleRequest(checkpoint: checkpoint, count: count, out: out, seed: seed, overwrite: overwrite, timesteps: timesteps)
    }

    func validate() throws {
        do { try request.validate() } catch { throw ValidationError(error) }
    }

    func run() throws {
        try failOnError { print(try request.run()) }
    }
}
