import ArgumentParser
import Pipeline

/// `compare report`: one comparison table (same data, same likelihood) with plots, as Markdown.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a Markdown comparison report (table, plots) of evaluated checkpoints of the same dataset.")

    @Argument(help: "Evaluated checkpoint files (see `compare eval`); baseline checkpoints (`compare baseline`) become rows above the models.")
    var runs: [String]

    @Option(help: "The Markdown file to write (it may replace a report compare wrote, nothing else); plots go beside it.")
    var out: String

    @Option(help: "The report's title.")
    var title: String?

    @Option(name: .customLong("sample-seed"), help: "Seed of the samples drawn for the plots.")
    var sampleSeed: UInt64 = 0

    @Option(help: "A Markdown file of your observations (what the samples look like, why a target was missed), included as the section \"Observations\".")
    var notes: String?

    var request: ReportRequest { ReportRequest(runs: runs, out: out, title: title, sampleSeed: sampleSeed, notes: notes) }

    func validate() throws {
        do { try request.validate() } catch { throw ValidationError(error) }
    }

    func run() throws {
        try failOnError { print(try request.run()) }
    }
}
