import Foundation
import XCTest

/// Runs the built `compare` executable for command-line tests.
///
/// The binary is found, in order, at
/// 1. `$COMPARE_BIN`, if set;
/// 2. next to the test bundle: SwiftPM puts `compare` in the same build-products folder as
///    `<package>PackageTests.xctest` (`.build/debug/`, or `<scratch>/debug/` with `--scratch-path`);
/// 3. the most recently built `.build*/{debug,release}/compare` under the package root
///    (found by walking up from this source file to `Package.swift`).
///
/// `swift test` builds every target, the executable included, before running tests.
enum CompareBinary {
    private final class BundleToken {}

    /// Why the binary could not be found.
    struct NotFound: Error, CustomStringConvertible {
        var description: String
    }

    static func locate(sourceFile: String = #filePath) throws -> URL {
        let manager = FileManager.default
        if let override = ProcessInfo.processInfo.environment["COMPARE_BIN"], !override.isEmpty {
            guard manager.isExecutableFile(atPath: override) else {
                throw NotFound(description: "COMPARE_BIN=\(override) is not an executable file")
            }
            return URL(fileURLWithPath: override)
        }
        var folders: [URL] = []
        for bundle in [Bundle.main, Bundle(for: BundleToken.self)] {
            folders.append(bundle.bundleURL)
            folders.append(bundle.bundleURL.deletingLastPathComponent())
            if let executable = bundle.executableURL { folders.append(executable.deletingLastPathComponent()) }
        }
        if let first = CommandLine.arguments.first {
            folders.append(URL(fileURLWithPath: first).deletingLastPathComponent())
        }
        for folder in folders {
            let candidate = folder.appendingPathComponent("compare")
            if manager.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        // Fallback: the newest build under the package root.
        var root = URL(fileURLWithPath: sourceFile).deletingLastPathComponent()
        while root.path != "/" && !manager.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        let builds = ((try? manager.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasPrefix(".build") }
        let candidates = builds.flatMap { build in
            ["debug", "release"].map { root.appendingPathComponent(build).appendingPathComponent($0).appendingPathComponent("compare") }
        }.filter { manager.isExecutableFile(atPath: $0.path) }
        func modified(_ url: URL) -> Date {
            ((try? manager.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
        }
        if let newest = candidates.max(by: { modified($0) < modified($1) }) { return newest }
        throw NotFound(description: "cannot find the compare executable (looked in \(folders.map(\.path)) and \(root.path)/.build*/); build it or set COMPARE_BIN")
    }
}

/// Runs `compare` with `arguments` in `cwd` (default: the current folder) and waits for it.
/// Arguments that start with `compare-fixtures` run that test-fixture executable instead (it is
/// built beside `compare` and never ships in it).
///
/// - Parameters:
///   - environment: extra environment variables, added to this process's environment.
///   - timeout: seconds before the process is killed (it then counts as `signaled`).
/// - Returns: the exit status (the signal number when `signaled`), everything written to
///   stdout and stderr, and whether the process died from a signal (a crash or the timeout).
func runCompare(
    _ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:], timeout: TimeInterval = 300
) throws -> (status: Int32, stdout: String, stderr: String, signaled: Bool) {
    var binary = try CompareBinary.locate()
    var arguments = arguments
    if arguments.first == "compare-fixtures" {
        binary = binary.deletingLastPathComponent().appendingPathComponent("compare-fixtures")
        arguments.removeFirst()
    }
    let manager = FileManager.default
    let scratch = manager.temporaryDirectory.appendingPathComponent("compare-run-\(UUID().uuidString)")
    try manager.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? manager.removeItem(at: scratch) }
    // Files instead of pipes: no deadlock however much the child writes.
    let outputURL = scratch.appendingPathComponent("stdout"), errorURL = scratch.appendingPathComponent("stderr")
    _ = manager.createFile(atPath: outputURL.path, contents: nil)
    _ = manager.createFile(atPath: errorURL.path, contents: nil)
    let output = try FileHandle(forWritingTo: outputURL), error = try FileHandle(forWritingTo: errorURL)

    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    if let cwd { process.currentDirectoryURL = cwd }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    let finished = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in finished.signal() }
    try process.run()
    if finished.wait(timeout: .now() + timeout) == .timedOut {
        process.terminate()
        finished.wait()
    }
    try output.close()
    try error.close()
    let standardOutput = String(decoding: (try? Data(contentsOf: outputURL)) ?? Data(), as: UTF8.self)
    let standardError = String(decoding: (try? Data(contentsOf: errorURL)) ?? Data(), as: UTF8.self)
    return (process.terminationStatus, standardOutput, standardError, process.terminationReason == .uncaughtSignal)
}

/// Asserts the project's failure convention (see Sources/compare/CLIError.swift): a non-zero
/// exit, no death by signal, and exactly one non-empty stderr line containing every fragment.
func assertOneLineFailure(
    _ result: (status: Int32, stdout: String, stderr: String, signaled: Bool), mentioning fragments: [String],
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertFalse(result.signaled, "died from signal \(result.status); stderr: \(result.stderr)", file: file, line: line)
    XCTAssertNotEqual(result.status, 0, "expected a failure; stdout: \(result.stdout)", file: file, line: line)
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    let nonEmpty = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    XCTAssertEqual(nonEmpty.count, 1, "stderr should be one line, got: \(result.stderr)", file: file, line: line)
    XCTAssertTrue(result.stderr.hasSuffix("\n") && lines.count == 2, "stderr should be exactly one line: \(result.stderr)", file: file, line: line)
    for fragment in fragments {
        XCTAssertTrue(result.stderr.contains(fragment), "stderr '\(result.stderr)' lacks '\(fragment)'", file: file, line: line)
    }
}
