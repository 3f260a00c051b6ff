import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A scratch folder for command-line tests, removed by `remove()`.
struct ScratchFolder {
    let url: URL

    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Every regular file under the folder (relative path → contents), to check that a
    /// failing command added, changed or removed nothing.
    func snapshot() -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: url.path)
        while let name = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path(name), isDirectory: &isDirectory)
            if !isDirectory.boolValue { result[name] = (try? Data(contentsOf: url.appendingPathComponent(name))) ?? Data() }
        }
        return result
    }

    /// Names of leftover temporary files (`*.tmp`) under the folder.
    func temporaryFiles() -> [String] { snapshot().keys.filter { $0.hasSuffix(".tmp") }.sorted() }

    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url.appendingPathComponent(name))) }

    func write(_ bytes: [UInt8], to name: String) throws { try Data(bytes).write(to: url.appendingPathComponent(name)) }

    func write(_ text: String, to name: String) throws { try write(Array(text.utf8), to: name) }

    func copy(_ name: String, to other: String) throws {
        try? FileManager.default.removeItem(atPath: path(other))
        try FileManager.default.copyItem(atPath: path(name), toPath: path(other))
    }
}

/// Runs `compare` and fails the test (with its stderr) unless it exits 0.
@discardableResult
func runCompareSucceeding(
    _ arguments: [String], in folder: ScratchFolder, file: StaticString = #filePath, line: UInt = #line
) throws -> (status: Int32, stdout: String, stderr: String, signaled: Bool) {
    let result = try runCompare(arguments, cwd: folder.url)
    XCTAssertEqual(result.status, 0, "compare \(arguments.joined(separator: " ")) failed: \(result.stderr)", file: file, line: line)
    XCTAssertFalse(result.signaled, file: file, line: line)
    return result
}

/// The lines of `compare-fixtures read-checkpoint FILE` (`part: sha256`), keyed by part.
func checkpointDigests(_ name: String, in folder: ScratchFolder, file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
    let result = try runCompareSucceeding(["compare-fixtures", "read-checkpoint", name], in: folder, file: file, line: line)
    var parts: [String: String] = [:]
    for row in result.stdout.split(separator: "\n") {
        guard let colon = row.firstIndex(of: ":") else { continue }
        parts[String(row[..<colon])] = row[row.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return parts
}

/// A `compare` process running in the background, for tests that interrupt or kill it.
final class RunningCompare {
    let process = Process()
    private let scratch: URL
    private let finished = DispatchSemaphore(value: 0)

    init(_ arguments: [String], cwd: URL) throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("compare-bg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        for name in ["stdout", "stderr"] { _ = FileManager.default.createFile(atPath: scratch.appendingPathComponent(name).path, contents: nil) }
        process.executableURL = try CompareBinary.locate()
        process.arguments = arguments
        process.currentDirectoryURL = cwd
        process.standardOutput = try FileHandle(forWritingTo: scratch.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: scratch.appendingPathComponent("stderr"))
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [finished] _ in finished.signal() }
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: scratch)
    }

    var isRunning: Bool { process.isRunning }

    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to end (killing it after `timeout` seconds).
    func wait(timeout: TimeInterval = 120) -> (status: Int32, stdout: String, stderr: String, signaled: Bool) {
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            finished.wait()
        }
        func read(_ name: String) -> String {
            String(decoding: (try? Data(contentsOf: scratch.appendingPathComponent(name))) ?? Data(), as: UTF8.self)
        }
        return (process.terminationStatus, read("stdout"), read("stderr"), process.terminationReason == .uncaughtSignal)
    }
}

/// Polls `condition` every 5 ms for up to `timeout` seconds.
func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}

/// Byte-level damage to files, without any HDF5 library: the command-line tests link nothing.
enum ByteSurgery {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Replaces the single occurrence of `old` by `new` (same length).
    static func replaceUnique(_ bytes: [UInt8], _ old: String, _ new: String) throws -> [UInt8] {
        let needle = Array(old.utf8), replacement = Array(new.utf8)
        precondition(needle.count == replacement.count)
        let hits = occurrences(of: needle, in: bytes)
        guard hits.count == 1 else { throw Failure(description: "'\(old)' occurs \(hits.count) times, expected once") }
        var result = bytes
        result.replaceSubrange(hits[0]..<(hits[0] + needle.count), with: replacement)
        return result
    }

    static func occurrences(of needle: [UInt8], in bytes: [UInt8]) -> [Int] {
        guard !needle.isEmpty, bytes.count >= needle.count else { return [] }
        return (0...(bytes.count - needle.count)).filter { start in
            bytes[start] == needle[0] && Array(bytes[start..<(start + needle.count)]) == needle
        }
    }

    /// Overwrites the value of the scalar 8-byte integer attribute `name` in a version-1
    /// attribute message (the layout HDF5 writes by default: version, reserved, name size,
    /// datatype size, dataspace size, then name, datatype and dataspace each padded to 8
    /// bytes, then the value).
    static func setIntegerAttribute(_ bytes: [UInt8], _ name: String, to value: Int64) throws -> [UInt8] {
        let needle = Array(name.utf8) + [0]
        let hits = occurrences(of: needle, in: bytes)
        guard hits.count == 1, hits[0] >= 8 else { throw Failure(description: "attribute name '\(name)' occurs \(hits.count) times") }
        let header = hits[0] - 8
        guard bytes[header] == 1 else { throw Failure(description: "attribute message of '\(name)' has version \(bytes[header]), expected 1") }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func padded(_ n: Int) -> Int { (n + 7) / 8 * 8 }
        let nameSize = u16(header + 2), typeSize = u16(header + 4), spaceSize = u16(header + 6)
        guard nameSize == needle.count else { throw Failure(description: "attribute '\(name)': name size \(nameSize)") }
        let at = hits[0] + padded(nameSize) + padded(typeSize) + padded(spaceSize)
        var result = bytes
        for i in 0..<8 { result[at + i] = UInt8(truncatingIfNeeded: UInt64(bitPattern: value) >> (8 * UInt64(i))) }
        return result
    }

    /// Replaces the first run of `old` float32 values (little-endian) by `new`.
    static func replaceFloats(_ bytes: [UInt8], _ old: [Float], _ new: [Float]) throws -> [UInt8] {
        func encode(_ values: [Float]) -> [UInt8] { values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } } }
        let needle = encode(old)
        guard let start = occurrences(of: needle, in: bytes).first else { throw Failure(description: "float values \(old) not found") }
        var result = bytes
        result.replaceSubrange(start..<(start + needle.count), with: encode(new))
        return result
    }

    /// Deterministic pseudo-random bytes (SplitMix64).
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
    }

    /// A valid gzip member holding `data` in stored (uncompressed) deflate blocks.
    static func gzip(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        var offset = 0
        repeat {
            let length = min(65535, data.count - offset)
            let last: UInt8 = offset + length == data.count ? 1 : 0
            out += [last, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        out += littleEndian32(crc32(data)) + littleEndian32(UInt32(truncatingIfNeeded: data.count))
        return out
    }

    static func littleEndian32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) } }

    static func bigEndian32(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> UInt32($0)) } }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
