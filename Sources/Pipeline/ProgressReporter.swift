import Foundation

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Progress of long work on stderr: a redrawn bar with rate and ETA on a terminal, plain log
/// lines (about every 10 % or 30 s) when stderr is a file or a pipe.
public final class ProgressReporter {
    let label: String
    let total: Int
    let unit: String
    private let started = Date()
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var lastLoggedFraction = -1.0
    private var lastLogTime = Date()
    private let initial: Int

    public init(_ label: String, total: Int, unit: String = "steps", startingAt initial: Int = 0) {
        self.label = label
        self.total = Swift.max(total, 1)
        self.unit = unit
        self.initial = initial
    }

    /// Reports `done` of `total`, with an optional note (the current loss).
    public func update(_ done: Int, note: String = "") {
        let now = Date()
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done - initial) / elapsed : 0
        // No rate yet (the first report, or the first after a resume): the ETA is unknown, not 0:00.
        let remaining = rate > 0 ? Double(total - done) / rate : (done >= total ? 0 : Double.infinity)
        let fraction = Double(done) / Double(total)
        if isTerminal {
            guard now.timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
            lastDraw = now
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = String(format: "\r%@ %@ %d/%d %@  %.1f %@/s  ETA %@  %@", label, bar, done, total, "", rate, unit, Self.clock(remaining), note)
            FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            guard fraction - lastLoggedFraction >= 0.1 || now.timeIntervalSince(lastLogTime) > 30 || done == total else { return }
            lastLoggedFraction = fraction
            lastLogTime = now
            let line = String(format: "%@: %d/%d %@ (%.0f%%), %.1f %@/s, ETA %@ %@\n", label, done, total, unit, 100 * fraction, rate, unit, Self.clock(remaining), note)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// The signal that asked a long command to stop (SIGINT, SIGTERM or SIGHUP), 0 while none has;
/// long commands poll it, write a checkpoint and exit with 128 + the signal.
nonisolated(unsafe) public var interruptRequested: sig_atomic_t = 0

/// Routes Ctrl-C (SIGINT), SIGTERM and SIGHUP to ``interruptRequested`` instead of killing the
/// process, so that each one writes a checkpoint before `compare` exits.
public func catchInterrupts() {
    for number in [SIGINT, SIGTERM, SIGHUP] {
        signal(number) { received in interruptRequested = received }
    }
}
