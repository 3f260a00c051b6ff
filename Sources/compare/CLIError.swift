// The command-line error convention of `compare`.
//
// Bad input (a missing or corrupt file, wrong shapes, NaN in data, an impossible option)
// must end a command with exactly ONE line on stderr and a non-zero exit status, never a
// crash, a stack trace, a usage screen or a half-written output file:
//
//     Error: Datasets/x.h5: /train: contains NaN at row 3, column 1
//
// How commands follow it:
//   * Wrap the body of `run()` in `try failOnError { … }`. Any error thrown inside (a
//     `StoreError`, a `DatasetMakerError`, a `PipelineError`, anything) is printed as one line
//     `Error: <description>` to stderr (newlines folded into "; ") and the command exits
//     with status 1 through `ExitCode.failure`, which swift-argument-parser prints nothing for.
//   * Option checks that need no file live in the request's `validate()` (Pipeline) and are
//     called from the command's `validate()`; `Compare.main` runs `mainWithOneLineErrors`
//     (below), which prints validation and parse errors as one line, without a usage screen.
//   * Problems found while running (files, data) are thrown by the pipeline as errors whose
//     description names the file or the option.
//   * Outputs are written atomically (Store's `HDF5File.writeAtomically`, `writeFilesAtomically`):
//     nothing is left behind on failure.

import ArgumentParser
import Distributed
import Foundation

/// The single line printed for `error` (without the `Error: ` prefix).
///
/// Newlines are folded into "; ". swift-argument-parser lists the values of an enum with more
/// than a few cases one per line ("Please provide one of the following:" then "- a", "- b", …);
/// that list is folded into its short form, "Please provide one of 'a', 'b' or 'c'.", as the
/// parser writes it for short lists, so every bad value reads alike however many values exist.
func oneLineMessage(for error: Error) -> String {
    let text = String(describing: error)
    var lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    if let header = lines.firstIndex(where: { $0.hasSuffix("one of the following:") }) {
        let items = lines[(header + 1)...].prefix { $0.hasPrefix("- ") }.map { "'\($0.dropFirst(2))'" }
        if !items.isEmpty {
            let list = items.count == 1 ? items[0] : items.dropLast().joined(separator: ", ") + " or " + items.last!
            let sentence = lines[header].replacingOccurrences(of: "one of the following:", with: "one of \(list).")
            lines.replaceSubrange(header...(header + items.count), with: [sentence])
        }
    }
    let joined = lines.joined(separator: "; ")
    return joined.isEmpty ? "\(type(of: error))" : joined
}

/// Writes `Error: <message>` as one line to stderr.
func printErrorLine(_ message: String) {
    FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
}

/// Runs `body`; any error is reported as one stderr line and turned into exit status 1.
///
/// `ExitCode` and argument-parser's clean exits (help, version) pass through untouched.
func failOnError<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch let exit as CleanExit {
        throw exit
    } catch {
        printErrorLine(oneLineMessage(for: error))
        throw ExitCode.failure
    }
}

/// Runs `body` with this job's communicator: one process, or every rank of `mpirun -np N`
/// (``JobEnvironment``). With one process an error is reported as by ``failOnError(_:)``.
/// With several, an error on any rank ends the whole job through
/// ``Communicator/abort(_:status:)``: one line `Error: rank R of N: …` and a non-zero exit of
/// `mpirun`, where returning would leave the other ranks waiting in their next collective.
func failOnErrorInJob<T>(_ body: (any Communicator) throws -> T) throws -> T {
    let communicator: any Communicator
    do {
        communicator = try JobEnvironment.communicator()
    } catch {
        // MPI could not be loaded or started: every process meets this, before any abort exists.
        printLaunchedErrorLine(oneLineMessage(for: error))
        throw ExitCode.failure
    }
    defer { try? JobEnvironment.finish(communicator) }
    guard communicator.size > 1 else { return try failOnError { try body(communicator) } }
    do {
        return try body(communicator)
    } catch let exit as ExitCode {
        throw exit  // a clean stop every rank agreed on (an interrupt after the same step)
    } catch {
        // An error that every rank meets at once (a bad option, a non-finite loss, which every
        // rank sees in the gathered losses) should be told once: rank 0 aborts at once, and the
        // others give its abort time to end them before telling their own.
        if !communicator.isRoot { Thread.sleep(forTimeInterval: sharedErrorGraceSeconds) }
        communicator.abort(oneLineMessage(for: error), status: 1)
    }
}

/// How long a rank other than 0 waits before telling an error, so that an error every rank meets
/// is told once, by rank 0, whose exit or abort makes `mpirun` end the others meanwhile. Open MPI
/// took over a second to kill the other rank of a 2-process job on a loaded 2-core machine
/// (scripts/mpi-runs-test.sh, the non-finite case); an error of one other rank alone ends the
/// job this much later.
let sharedErrorGraceSeconds: TimeInterval = 5

/// Prints `Error: message` for an error met before a communicator exists. Under a launcher with
/// N > 1 processes every process meets it: rank 0 prints `Error: rank 0 of N: message` at once;
/// the others wait ``sharedErrorGraceSeconds`` first, in which `mpirun` normally ends them after
/// rank 0's non-zero exit, so that an error all processes share is told once, and one that only
/// another rank meets (mpirun's MPMD form) is still told.
func printLaunchedErrorLine(_ message: String) {
    let size = JobEnvironment.launchedSize()
    guard size > 1 else { return printErrorLine(message) }
    let rank = JobEnvironment.launchedRank() ?? 0
    if rank != 0 { Thread.sleep(forTimeInterval: sharedErrorGraceSeconds) }
    printErrorLine("rank \(rank) of \(size): " + message)
}

/// A command whose work `mpirun -np N` can share (``failOnErrorInJob(_:)``): `train` and `eval`.
/// Every other command does the whole of its work in each process it runs in, so under a launcher
/// with more than one process it is refused before it starts, instead of N copies racing for one
/// output.
protocol RunsAsJob {}

extension ParsableCommand {
    /// Like `main()`, but parse and validation errors print one line `Error: …` on stderr
    /// (no usage screen); help and version requests behave as usual.
    ///
    /// Under `mpirun -np N` (N > 1) every process parses the same command line and meets the same
    /// parse error: rank 0 tells it, as `Error: rank 0 of N: …`, and the others wait for `mpirun`
    /// to end them before telling theirs (an error only one rank meets, with mpirun's MPMD form,
    /// is still told, five seconds later). No MPI is loaded for this: the launcher's environment
    /// says the rank.
    static func mainWithOneLineErrors(_ arguments: [String]? = nil) -> Never {
        let launchedSize = JobEnvironment.launchedSize()
        do {
            var command = try parseAsRoot(arguments)
            if launchedSize > 1 && !(command is RunsAsJob) && !(command is Self) {
                let name = type(of: command).configuration.commandName ?? "this command"
                throw ValidationError("compare \(name) runs on one process; start it without mpirun (only train and eval share their work "
                    + "over mpirun -np N)")
            }
            try command.run()
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let text = message(for: error)
            if !text.isEmpty { printLaunchedErrorLine(oneLineMessage(for: ValidationError(text))) }
            Foundation.exit(code.rawValue)
        }
    }
}
