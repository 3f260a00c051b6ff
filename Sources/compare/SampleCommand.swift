import ArgumentParser
import Foundation
import NN
import Report
import Store
import Tensor

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

    func run() throws {
        try failOnError {
            guard count >= 1 else { throw CLIFailure("--count must be at least 1, got \(count)") }
            let kind = (out as NSString).pathExtension.lowercased()
            guard ["h5", "svg", "png"].contains(kind) else { throw CLIFailure("--out \(out): expected a .h5, .svg or .png file") }
            try prepareOutputFolder(for: out)
            let run = try loadRun(checkpoint, verifyDataset: false)
            let shape = run.dataset.metadata.exampleShape
            if kind == "svg" && shape != [2] { throw CLIFailure("--out \(out): a scatter plot needs 2-D data; \(checkpoint) models data of shape \(shape)") }
            if kind == "png" && shape.count != 2 { throw CLIFailure("--out \(out): a PNG grid needs image data; \(checkpoint) models data of shape \(shape)") }
            var generator = RandomGenerator(seed: seed)
            let samples = GradientMode.withoutRecording { run.model.sample(count: count, using: &generator) }.storage
            switch kind {
            case "h5":
                try HDF5File.writeAtomically(to: out) { file in
                    try file.write(samples, shape: [count, run.dataset.dimension], to: "/samples")
                    try file.setAttribute("model", to: .string(run.checkpoint.model))
                    try file.setAttribute("checkpoint", to: .string(checkpoint))
                    try file.setAttribute("seed", to: .unsignedInteger(seed))
                    try file.setAttribute("shape", to: .integers(shape.map(Int64.init)))
                    try file.setAttribute("likelihood", to: .string(run.dataset.metadata.likelihood.rawValue))
                }
            case "svg":
                let data = Array(run.dataset.train.prefix(2000 * 2))
                try writeFilesAtomically([(out, Array(sampleScatterSVG(samples: samples, data: data, title: "\(run.checkpoint.model) samples (\(checkpoint))").utf8))])
            default:
                guard let image = sampleGridImage(samples: samples, shape: shape,
                                                  mapping: .forLikelihood(run.dataset.metadata.likelihood.rawValue, values: samples),
                                                  scale: 2) else {
                    throw CLIFailure("--out \(out): cannot lay out \(count) samples of shape \(shape)")
                }
                try writeFilesAtomically([(out, try encodePNG(image))])
            }
            print("wrote \(count) samples of \(checkpoint) to \(out)")
        }
    }
}
