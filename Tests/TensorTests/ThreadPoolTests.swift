import Foundation
import Tensor
import XCTest

/// `Parallel.forEach` on the persistent workers: every item runs exactly once, participants
/// are distinct within a loop, loops nested in a loop's body or started from a second thread
/// run serially and completely, and workers that went to sleep between loops wake for the next.
final class ThreadPoolTests: XCTestCase {
    /// Counts per item and the set of participants of one loop.
    final class Record: @unchecked Sendable {
        let lock = NSLock()
        var counts: [Int]
        var participants = Set<Int>()
        var threadsOfParticipant: [Int: Set<String>] = [:]
        init(_ count: Int) { counts = [Int](repeating: 0, count: count) }
        func note(_ item: Int, _ participant: Int) {
            lock.lock()
            counts[item] += 1
            participants.insert(participant)
            threadsOfParticipant[participant, default: []].insert("\(pthread_self())")
            lock.unlock()
        }
    }

    func testForEach_everyItemOnceAndDistinctParticipants() {
        for threads in [1, 2, 3, 8] {
            withThreads(threads) {
                for count in [0, 1, 2, 7, 100, 1000] {
                    let record = Record(count)
                    Parallel.forEach(count) { item, participant in
                        XCTAssertTrue(participant >= 0 && participant < Swift.max(1, Swift.min(threads, count)))
                        record.note(item, participant)
                    }
                    XCTAssertEqual(record.counts, [Int](repeating: 1, count: count), "\(threads) threads, \(count) items")
                    // One participant index is one thread within a loop.
                    for (participant, threadSet) in record.threadsOfParticipant {
                        XCTAssertEqual(threadSet.count, 1, "participant \(participant) ran on \(threadSet.count) threads")
                    }
                }
            }
        }
    }

    /// Many short loops in a row, some after a pause long enough for the workers to sleep:
    /// none is lost (a lost wake-up would hang or skip items) and every result is complete.
    func testForEach_manyLoopsWithSleepingWorkers() {
        withThreads(2) {
            var total = 0
            for round in 0..<2000 {
                if round % 200 == 0 { usleep(3000) }  // > the workers' spin time: they sleep
                var sums = [Int](repeating: 0, count: 16)
                sums.withUnsafeMutableBufferPointer { sums in
                    let sums = sums.baseAddress!
                    Parallel.forEach(16) { item in sums[item] = item + round }
                }
                total += sums.reduce(0, +)
            }
            let expected = (0..<2000).reduce(0) { $0 + 16 * $1 + 120 }
            XCTAssertEqual(total, expected)
        }
    }

    /// A loop inside a loop's body runs on the thread of that body, completely.
    func testForEach_nestedLoopsRunSeriallyAndCompletely() {
        withThreads(2) {
            let outer = Record(8)
            let inner = Record(8 * 50)
            Parallel.forEach(8) { item, participant in
                outer.note(item, participant)
                Parallel.forEach(50) { j, innerParticipant in
                    XCTAssertEqual(innerParticipant, 0, "a nested loop has one participant")
                    inner.note(item * 50 + j, 0)
                }
            }
            XCTAssertEqual(outer.counts, [Int](repeating: 1, count: 8))
            XCTAssertEqual(inner.counts, [Int](repeating: 1, count: 400))
        }
    }

    /// Two threads starting loops at once: one gets the workers, the other runs alone; both finish.
    func testForEach_concurrentCallersBothComplete() {
        withThreads(2) {
            let records = [Record(5000), Record(5000)]
            let group = DispatchGroup()
            for record in records {
                group.enter()
                Thread.detachNewThread {
                    for round in 0..<20 {
                        Parallel.forEach(250) { item, participant in record.note(round * 250 + item, participant) }
                    }
                    group.leave()
                }
            }
            XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
            for record in records {
                XCTAssertEqual(record.counts, [Int](repeating: 1, count: 5000))
            }
        }
    }

    /// After `fork()` the child has no workers (compare forks to read untrusted files): its
    /// loops start workers of their own and finish, even if the parent's workers were asleep.
    func testForEach_completesInAForkedChild() {
        withThreads(2) {
            Parallel.forEach(64) { _ in }   // the parent has a worker …
            usleep(5000)                    // … asleep by now
            let child = fork()
            if child == 0 {
                var sums = [Int](repeating: 0, count: 64)
                sums.withUnsafeMutableBufferPointer { sums in
                    let sums = sums.baseAddress!
                    Parallel.forEach(64) { item in sums[item] = item }
                }
                _exit(sums.reduce(0, +) == 2016 ? 0 : 1)
            }
            XCTAssertGreaterThan(child, 0)
            var status: Int32 = 0
            var waited = 0
            while waitpid(child, &status, WNOHANG) == 0 && waited < 1000 {
                usleep(10_000)
                waited += 1
            }
            if waited >= 1000 { kill(child, SIGKILL); XCTFail("the child hung") }
            XCTAssertEqual(status, 0, "the child's loop completed")
        }
    }
}
