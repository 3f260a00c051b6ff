import ArgumentParser
import Foundation

/// `compare-fixtures`: test fixtures that must not ship in `compare` itself. The shell and
/// Python tests (`scripts/`) and the command-line tests (`Tests/CLITests`) run it beside the
/// `compare` binary to write files with known contents or known damage, and to read a
/// checkpoint back as `eval` and `--resume` do.
@main
struct CompareFixtures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-fixtures",
        abstract: "Write and read test fixtures for compare's tests.",
        subcommands: [ExampleCheckpointCommand.self, InvalidDatasetCommand.self, ReadCheckpointCommand.self,
                      EditAttributeCommand.self, EditArrayCommand.self, EditCheckpointCommand.self, CommunicatorSelfTestCommand.self])
}

/// A fixture command's failure, printed as one line.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`; an error becomes one line `Error: …` on stderr and exit status 1, as in `compare`.
func failOnError<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let text = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: "; ")
        FileHandle.standardError.write(Data("Error: \(text)\n".utf8))
        throw ExitCode.failure
    }
}
