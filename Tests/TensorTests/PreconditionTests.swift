import Foundation
import Tensor
import XCTest

/// Misuse (a shape that does not fit) must stop the program with the engine's message rather
/// than produce an inconsistent tensor or read out of bounds.
///
/// A trap cannot be observed inside the test process, so each check re-runs this test binary
/// on one "child" test with an environment variable that makes the child perform the misuse,
/// and inspects how the child ended. The child tests do nothing in a normal run.
///
/// ENGINE BUG (these tests are expected to fail while `Package.swift` builds the `Tensor` target
/// with `-Ounchecked`): under `-Ounchecked` the compiler does not evaluate `precondition` and
/// assumes `preconditionFailure` is unreachable, so every shape check in Sources/Tensor is
/// gone — `reshaped` to a wrong size returns a tensor whose storage does not fit its shape,
/// `Tensor(shape:storage:)` accepts a wrong element count, and `+` on incompatible shapes
/// segfaults instead of reporting "shapes … do not broadcast".
final class PreconditionTests: XCTestCase {
    private static let childVariable = "TENSOR_TESTS_PRECONDITION_CHILD"

    private var childCase: String? { ProcessInfo.processInfo.environment[Self.childVariable] }

    // MARK: Children (no-ops unless spawned by a parent test below)

    func testChild_reshapeToWrongSize() {
        guard childCase == "reshape" else { return }
        let y = Tensor(shape: [3], storage: [1, 2, 3]).reshaped([2, 2])
        print("CHILD SURVIVED: shape \(y.shape) with \(y.count) elements")
    }

    func testChild_storageThatDoesNotFitShape() {
        guard childCase == "init" else { return }
        let y = Tensor(shape: [2, 2], storage: [1, 2, 3])
        print("CHILD SURVIVED: shape \(y.shape) with \(y.count) elements")
    }

    func testChild_sliceOutOfBounds() {
        guard childCase == "slice" else { return }
        let y = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6]).slice(axis: 1, 1..<3).slice(axis: 0, 1..<3)
        print("CHILD SURVIVED: shape \(y.shape) with \(y.count) elements")
    }

    // MARK: Parents

    private struct ChildResult {
        var status: Int32
        var reason: Process.TerminationReason
        var output: String
    }

    private func runChild(_ childCase: String, test: String) throws -> ChildResult {
        #if os(Linux)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["TensorTests.PreconditionTests/\(test)"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = childCase
        environment["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ChildResult(status: process.terminationStatus, reason: process.terminationReason,
                           output: String(decoding: data, as: UTF8.self))
        #else
        throw XCTSkip("re-running the test bundle as a child process is only wired up for Linux")
        #endif
    }

    private func assertTraps(_ childCase: String, test: String, message: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try runChild(childCase, test: test)
        XCTAssertFalse(result.output.contains("CHILD SURVIVED"),
                       "the misuse was not caught: \(result.output.components(separatedBy: "\n").first { $0.contains("CHILD SURVIVED") } ?? "")",
                       file: file, line: line)
        // Optimized builds trap without printing the precondition's message (only -Onone
        // prints it), so the check is that the child stopped on a signal, not what it said.
        XCTAssertEqual(result.reason, .uncaughtSignal,
                       "the child should stop on a trap (the engine's precondition \"\(message)\")", file: file, line: line)
    }

    func testReshaped_wrongSizeStopsWithMessage() throws {
        try assertTraps("reshape", test: "testChild_reshapeToWrongSize", message: "cannot reshape")
    }

    func testInit_storageThatDoesNotFitShapeStopsWithMessage() throws {
        try assertTraps("init", test: "testChild_storageThatDoesNotFitShape", message: "does not fit shape")
    }

    func testSlice_outOfBoundsRangeStopsWithMessage() throws {
        try assertTraps("slice", test: "testChild_sliceOutOfBounds", message: "out of bounds")
    }
}
