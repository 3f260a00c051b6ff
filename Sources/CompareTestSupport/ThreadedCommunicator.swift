import Distributed
import Foundation

/// The ranks of a job played by threads of one process: a test stand-in for MPI that exercises
/// the training loop's collectives — every rank calls them in the same order, or the test hangs
/// (and times out), as an MPI job would. A rank that throws breaks the group: the others, waiting
/// in a collective or arriving at one, throw too (where MPI would abort the job), so that the
/// test fails with the first rank's error instead of hanging.
public final class ThreadGroup: @unchecked Sendable {
    public let size: Int
    private let condition = NSCondition()
    private var contributions: [[Double]?]
    private var arrived = 0
    private var generation = 0
    private var result: [[Double]] = []
    private var broken = false

    public init(size: Int) {
        self.size = size
        contributions = Array(repeating: nil, count: size)
    }

    /// Every rank's `values`, in rank order, once every rank has called; throws when a rank has
    /// failed (``run(_:)``).
    public func exchange(rank: Int, _ values: [Double]) throws -> [[Double]] {
        condition.lock()
        defer { condition.unlock() }
        if broken { throw ThreadGroupError.anotherRankFailed }
        let mine = generation
        contributions[rank] = values
        arrived += 1
        if arrived == size {
            result = contributions.map { $0! }
            contributions = Array(repeating: nil, count: size)
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine && !broken { condition.wait() }
            if generation == mine { throw ThreadGroupError.anotherRankFailed }
        }
        return result
    }

    /// Marks the group broken and wakes every rank waiting in a collective.
    private func breakGroup() {
        condition.lock()
        broken = true
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `body(rank, communicator)` on `size` threads at once and returns the results in rank
    /// order, rethrowing the first error.
    public func run<R>(_ body: @escaping (Int, ThreadedCommunicator) throws -> R) throws -> [R] {
        let results = ResultSlots<R>(count: size)
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread {
                let outcome = Result { try body(rank, ThreadedCommunicator(group: self, rank: rank)) }
                if case .failure = outcome { self.breakGroup() }
                results.store(outcome, at: rank)
                done.leave()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        done.wait()
        // The first failure that is not a consequence of another's.
        let outcomes = results.values()
        for outcome in outcomes {
            if case .failure(let error) = outcome, !(error is ThreadGroupError) { throw error }
        }
        return try outcomes.map { try $0.get() }
    }
}

/// One slot per rank for the ranks' outcomes, written from the ranks' threads under a lock.
private final class ResultSlots<R>: @unchecked Sendable {  // every access holds `lock`
    private var slots: [Result<R, any Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ outcome: Result<R, any Error>, at index: Int) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = outcome
    }

    /// Every slot's outcome; called after every rank has stored its own.
    func values() -> [Result<R, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0 ?? .failure(ThreadGroupError.missingResult) }
    }
}

/// One rank of a ``ThreadGroup``.
public final class ThreadedCommunicator: Communicator {
    public let group: ThreadGroup
    public let rank: Int
    public var size: Int { group.size }

    public init(group: ThreadGroup, rank: Int) {
        self.group = group
        self.rank = rank
    }

    public func allGather(_ values: [Float]) throws -> [Float] {
        try group.exchange(rank: rank, values.map(Double.init)).flatMap { $0.map(Float.init) }
    }

    public func allGatherVariable(_ values: [Double]) throws -> [Double] { try group.exchange(rank: rank, values).flatMap { $0 } }

    public func maximum(_ value: Double) throws -> Double { try group.exchange(rank: rank, [value]).map { $0[0] }.max()! }

    public func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        try group.exchange(rank: rank, bytes.map(Double.init))[root].map { UInt8($0) }
    }

    public func barrier() throws { _ = try group.exchange(rank: rank, []) }

    public func abort(_ message: String, status: Int32) -> Never { fatalError("rank \(rank) aborted: \(message)") }
}

enum ThreadGroupError: Error {
    /// A rank's thread ended without storing an outcome (cannot happen unless a thread is lost).
    case missingResult
    /// Another rank threw; this one stopped in (or at) a collective.
    case anotherRankFailed
}
