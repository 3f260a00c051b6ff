import Core
import DDPMModel
import Foundation
import Report
import Store
import Tensor
import Training

/// One `compare sample`: draws from a trained model into an HDF5 file (float32 [count, D]), a
/// scatter plot (2-D data, `.svg`) or an image grid (image data, `.png`).
public struct SampleRequest: Equatable, Sendable {
    public var checkpoint: String
    public var count: Int
    /// The output file; its extension picks the format.
    public var out: String
    public var seed: UInt64
    /// Replace an existing sample file or plot at ``out`` (never a checkpoint or a dataset).
    public var overwrite: Bool
    /// The T a continuous-time DDPM samples with (`--timesteps`); `nil` for its stored T.
    public var timesteps: Int?

    public init(checkpoint: String, count: Int = 64, out: String, seed: UInt64 = 0, overwrite: Bool = false, timesteps: Int? = nil) {
        self.timesteps = timesteps
        self.checkpoint = checkpoint
        self.count = count
        self.out = out
        self.seed = seed
        self.overwrite = overwrite
    }

    /// The output format, from the extension of ``out``.
    enum Format: String { case h5, svg, png }

    public var arguments: [String] {
        var words = ["sample", checkpoint]
        if count != 64 { words += ["--count", String(count)] }
        words += ["--out", out]
        if seed != 0 { words += ["--seed", String(seed)] }
        if overwrite { words.append("--overwrite") }
        if let timesteps { words += ["--timesteps", String(timesteps)] }
        return words
    }

    public var commandLine: String { shellCommand(arguments) }

    public func validate() throws {
        guard count >= 1 else { throw PipelineError("--count must be at least 1, got \(count)") }
        if let timesteps, timesteps < 1 || timesteps > ModelConfiguration.maximumSize {
            throw PipelineError("--timesteps must be between 1 and 2^40, got \(timesteps)")
        }
        guard Format(rawValue: (out as NSString).pathExtension.lowercased()) != nil else {
            throw PipelineError("--out \(out): expected a .h5, .svg or .png file")
        }
        try checkMemoryOfOptions()
    }

    /// Draws the samples and writes ``out``; returns the line to print.
    @discardableResult
    public func run() throws -> String {
        try validate()
        let format = Format(rawValue: (out as NSString).pathExtension.lowercased())!
        let claim = try claimOutput(out, kind: format == .h5 ? .samples : .plot,
                                    rule: overwrite ? .replace : .refuse("--out \(out) exists: add --overwrite to replace it"),
                                    inputs: [checkpoint])
        defer { claim.release() }
        let run = try LoadedRun(path: checkpoint, verifyDataset: false)
        try checkMemory(configuration: run.configuration)
        if let timesteps {
            guard let continuous = run.model as? ContinuousTimeDDPM else {
                throw PipelineError("--timesteps is an option of continuous-time DDPMs; \(checkpoint) holds a \(run.checkpoint.model) of fixed depth")
            }
            continuous.timestepCount = timesteps
        }
        let shape = run.dataset.metadata.exampleShape
        if format == .svg && shape != [2] {
            throw PipelineError("--out \(out): a scatter plot needs 2-D data; \(checkpoint) models data of shape \(shape)")
        }
        if format == .png && shape.count != 2 {
            throw PipelineError("--out \(out): a PNG grid needs image data; \(checkpoint) models data of shape \(shape)")
        }
        var generator = RandomGenerator(seed: seed)
        let samples = GradientMode.withoutRecording { run.model.sample(count: count, using: &generator) }.storage
        switch format {
        case .h5:
            try HDF5File.writeAtomically(to: out) { file in
                try file.write(samples, shape: [count, run.dataset.dimension], to: "/samples")
                try file.setAttribute("format", to: .string(sampleFileFormat))
                try file.setAttribute("model", to: .string(run.checkpoint.model))
                try file.setAttribute("checkpoint", to: .string(checkpoint))
                try file.setAttribute("seed", to: .unsignedInteger(seed))
                try file.setAttribute("shape", to: .integers(shape.map(Int64.init)))
                try file.setAttribute("likelihood", to: .string(run.dataset.metadata.likelihood.rawValue))
            }
        case .svg:
            let data = Array(run.dataset.train.prefix(2000 * 2))
            let svg = sampleScatterSVG(samples: samples, data: data, title: "\(run.checkpoint.model) samples (\(checkpoint))")
            try writeFilesAtomically([(out, Array(svg.utf8))])
        case .png:
            guard let image = sampleGridImage(samples: samples, shape: shape,
                                              mapping: .forLikelihood(run.dataset.metadata.likelihood.rawValue, values: samples),
                                              scale: 2) else {
                throw PipelineError("--out \(out): cannot lay out \(count) samples of shape \(shape)")
            }
            try writeFilesAtomically([(out, try encodePNG(image))])
        }
        return "wrote \(count) samples of \(checkpoint) to \(out)"
    }
}
