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
import Foundation

/// The single line printed for `error` (without the `Error: ` prefix).
func oneLineMessage(for error: Error) -> String {
    let text = String(describing: error)
    let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
    let joined = lines.filter { !$0.isEmpty }.joined(separator: "; ")
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

extension ParsableCommand {
    /// Like `main()`, but parse and validation errors print one line `Error: …` on stderr
    /// (no usage screen); help and version requests behave as usual.
    static func mainWithOneLineErrors(_ arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let text = message(for: error)
            if !text.isEmpty { printErrorLine(oneLineMessage(for: ValidationError(text))) }
            Foundation.exit(code.rawValue)
        }
    }
}
