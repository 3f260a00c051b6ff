import ArgumentParser
import Foundation
import Report

/// `compare report`: one comparison table (same data, same likelihood) with plots, as Markdown.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a Markdown comparison report (table, plots) of evaluated checkpoints of the same dataset.")

    @Argument(help: "Evaluated checkpoint files (see `compare eval`).")
    var runs: [String]

    @Option(help: "The Markdown file to write; plots go beside it.")
    var out: String

    @Option(help: "The report's title.")
    var title: String?

    @Option(name: .customLong("sample-seed"), help: "Seed of the samples drawn for the plots.")
    var sampleSeed: UInt64 = 0

    /// The arguments as given (set by `demo`, which runs this command in-process).
    var arguments: [String] = Array(CommandLine.arguments.dropFirst(2))

    enum CodingKeys: String, CodingKey {
        case runs, out, title, sampleSeed
    }

    func run() throws {
        try failOnError {
            guard !runs.isEmpty else { throw CLIFailure("report: give at least one checkpoint file") }
            guard out.hasSuffix(".md") else { throw CLIFailure("--out \(out): the report must be a .md file") }
            try prepareOutputFolder(for: out)
            let summaries = try runs.map { path in try RunSummary(run: loadRun(path), sampleSeed: sampleSeed) }
            let heading = title ?? "\(summaries[0].datasetName): VAE, hierarchical VAE and DDPM under one likelihood"
            let files = try makeComparisonReport(title: heading, runs: summaries, reportName: out, command: commandLine(["report"], arguments))
            let folder = (out as NSString).deletingLastPathComponent
            try writeFilesAtomically(files.map { (path: folder.isEmpty ? $0.name : folder + "/" + $0.name, contents: $0.contents) })
            print("wrote \(out) and \(files.count - 1) plots beside it")
        }
    }
}
