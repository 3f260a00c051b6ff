import Foundation
import Report
import Store

/// One `compare report`: a comparison table of evaluated checkpoints of one dataset under one
/// likelihood, with its plots, written as Markdown (plots beside it).
public struct ReportRequest: Equatable, Sendable {
    /// Evaluated checkpoint files: model runs, and exact baselines (`compare baseline`) shown above them.
    public var runs: [String]
    /// The Markdown file.
    public var out: String
    public var title: String?
    /// Seed of the samples drawn for the plots.
    public var sampleSeed: UInt64
    /// A Markdown file of the author's observations, included as the section "Observations".
    public var notes: String?

    /// The largest notes file read (bytes): observations are prose, not data.
    public static let maximumNotesBytes = 1 << 20

    public init(runs: [String], out: String, title: String? = nil, sampleSeed: UInt64 = 0, notes: String? = nil) {
        self.notes = notes
        self.runs = runs
        self.out = out
        self.title = title
        self.sampleSeed = sampleSeed
    }

    public var arguments: [String] {
        var words = ["report"] + runs + ["--out", out]
        if let title { words += ["--title", title] }
        if sampleSeed != 0 { words += ["--sample-seed", String(sampleSeed)] }
        if let notes { words += ["--notes", notes] }
        return words
    }

    public var commandLine: String { shellCommand(arguments) }

    public func validate() throws {
        guard !runs.isEmpty else { throw PipelineError("report: give at least one checkpoint file") }
        guard out.hasSuffix(".md") else { throw PipelineError("--out \(out): the report must be a .md file") }
    }

    /// Writes the report and its plots (all or none); returns the line to print.
    @discardableResult
    public func run() throws -> String {
        try validate()
        // A report is derived from its runs: it replaces its own previous report without
        // --overwrite, but nothing else (another Markdown file, a checkpoint named *.md).
        let claim = try claimOutput(out, kind: .report,
                                    rule: .replaceOwnKind("--out \(out) exists and is not a report written by compare; choose another file"),
                                    inputs: runs + (notes.map { [$0] } ?? []))
        defer { claim.release() }
        let observations = try notes.map(Self.readNotes)
        // Baseline checkpoints (`compare baseline`) become rows above the models; the rest are runs.
        var summaries: [RunSummary] = []
        var baselines: [BaselineSummary] = []
        for path in runs {
            if BaselineCheckpoint.isBaseline(at: path) {
                baselines.append(try BaselineSummary(baseline: LoadedBaseline(path: path)))
            } else {
                // The test images' neighbours are the dataset's: found once, for the first run
                // of a dataset (runs of different datasets are refused by the report anyway).
                let loaded = try LoadedRun(path: path)
                let known = summaries.first { $0.datasetHash == loaded.checkpoint.datasetHash }?.testNeighbourDistances
                summaries.append(try RunSummary(run: loaded, sampleSeed: sampleSeed, testNeighbourDistances: known))
            }
        }
        guard !summaries.isEmpty else {
            throw PipelineError("report: \(runs.joined(separator: ", ")) \(runs.count == 1 ? "is a baseline" : "are baselines"); give at least one evaluated model checkpoint to compare with \(runs.count == 1 ? "it" : "them")")
        }
        let heading = title ?? "\(summaries[0].datasetName): VAE, hierarchical VAE and DDPM under one likelihood"
        let files = try makeComparisonReport(title: heading, runs: summaries, baselines: baselines, notes: observations,
                                             reportName: out, command: commandLine)
        try writeFilesAtomically(files.map { (path: besideFile(out, $0.name), contents: $0.contents) })
        return "wrote \(out) and \(files.count - 1) plots beside it"
    }

    /// The text of the notes file at `path`: a regular file of at most ``maximumNotesBytes``
    /// bytes of UTF-8, else one line naming it.
    static func readNotes(_ path: String) throws -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw PipelineError("--notes \(path): no such file")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw PipelineError("--notes \(path): not a regular file; give a Markdown file")
        }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > maximumNotesBytes {
            throw PipelineError("--notes \(path): \(size) bytes, more than the \(maximumNotesBytes) a notes file may have")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw PipelineError("--notes \(path): cannot read it") }
        guard let text = String(data: data, encoding: .utf8) else { throw PipelineError("--notes \(path): not UTF-8 text") }
        return text
    }
}
