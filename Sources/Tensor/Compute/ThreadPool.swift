import Synchronization
import _TensorKernels

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Worker threads that stay alive between parallel loops, so that starting one costs about a
/// microsecond instead of the tens of microseconds of waking threads through the kernel.
///
/// A training step runs dozens of parallel loops of 20–500 µs each (products, activations,
/// the optimizer). With `DispatchQueue.concurrentPerform` every loop paid a futex wake-up and
/// a sleep per worker, which cost a tenth of a two-core step. Here a worker that has finished
/// a loop spins (with the CPU's `pause`) for ``spinSeconds`` waiting for the next one, and only
/// then sleeps on a condition variable.
///
/// One loop runs at a time: ``forEach(_:threads:_:)`` called while another loop is running —
/// from inside a loop's body, or from a second thread — runs its items on the calling thread.
/// Items are claimed one at a time by whichever participant is free (the caller always takes
/// part), so a worker that the operating system pauses holds up the others for one item at
/// most; a worker that wakes after the caller has claimed every item never joins the loop.
final class ThreadPool: @unchecked Sendable {
    static let shared = ThreadPool()

    /// How long an idle worker spins before it sleeps: longer than the serial gaps between the
    /// parallel loops of one training step, short enough not to hold a core between steps.
    static let spinSeconds = 1e-3

    /// The running loop: its number in bits 8 and up, the places still open to workers in bits 0–7.
    private let state = Atomic<Int>(0)
    /// Workers that joined the running loop and are done with it.
    private let finished = Atomic<Int>(0)
    /// The next unclaimed item of the running loop.
    private let nextItem = Atomic<Int>(0)
    /// Workers asleep on `condition` (read by the caller to decide whether to wake them).
    private let sleepers = Atomic<Int>(0)
    /// Whether a loop is running (later loops then run serially on their own thread).
    private let busy = Atomic<Bool>(false)

    // Written by the caller before a loop is published through `state`, read by the workers
    // after they joined it (acquire/release on `state` orders the two).
    private var body: ((_ item: Int, _ participant: Int) -> Void)?
    private var itemCount = 0
    private var loopNumber = 0

    private var workerCount = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    private static let placeBits = 8
    private static let placeMask = (1 << placeBits) - 1
    /// At most this many threads take part in one loop (the places fit in `placeBits` bits).
    static let maximumThreads = placeMask + 1

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        // A forked child (compare reads untrusted files in one) has none of the workers, and
        // may have copied the mutex in a locked state: it starts over with an empty pool.
        pthread_atfork(nil, nil) { ThreadPool.shared.resetAfterFork() }
    }

    /// In the child of `fork()`: no workers, no sleepers, a fresh mutex and condition.
    private func resetAfterFork() {
        workerCount = 0
        sleepers.store(0, ordering: .relaxed)
        busy.store(false, ordering: .relaxed)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    /// Runs `body(item, participant)` once for every item in `0..<count`, on the calling thread
    /// and up to `threads − 1` workers. `participant` is 0 on the calling thread and 1…threads − 1
    /// on the workers, distinct among the threads of one loop (for per-thread scratch space).
    /// `body(i, _)` must only write what item i owns.
    func forEach(_ count: Int, threads: Int, _ body: (_ item: Int, _ participant: Int) -> Void) {
        let threads = Swift.min(threads, count, Self.maximumThreads)
        guard threads > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for item in 0..<count { body(item, 0) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        startWorkers(upTo: threads - 1)
        withoutActuallyEscaping(body) { body in
            self.body = body
            itemCount = count
            nextItem.store(0, ordering: .relaxed)
            finished.store(0, ordering: .relaxed)
            loopNumber += 1
            state.store(loopNumber << Self.placeBits | (threads - 1), ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(mutex)
            }
            runItems(participant: 0)
            // Close the loop to late workers, then wait for those that joined.
            let open = state.exchange(loopNumber << Self.placeBits, ordering: .acquiringAndReleasing) & Self.placeMask
            let joined = threads - 1 - open
            var spins = 0
            while finished.load(ordering: .acquiring) < joined {
                spins += 1
                // A joined worker that lost its core: let it have this one.
                if spins > 4096 { sched_yield() } else { tk_cpu_relax() }
            }
            self.body = nil
        }
    }

    private func runItems(participant: Int) {
        let body = self.body!
        let count = itemCount
        while true {
            let item = nextItem.wrappingAdd(1, ordering: .relaxed).oldValue
            guard item < count else { return }
            body(item, participant)
        }
    }

    // MARK: - Workers

    private final class WorkerStart {
        let pool: ThreadPool
        init(pool: ThreadPool) { self.pool = pool }
    }

    private func startWorkers(upTo count: Int) {
        while workerCount < count {
            var thread = pthread_t()
            let start = Unmanaged.passRetained(WorkerStart(pool: self)).toOpaque()
            let created = pthread_create(&thread, nil, { argument in
                let start = Unmanaged<WorkerStart>.fromOpaque(argument!).takeRetainedValue()
                start.pool.workerLoop()
                return nil
            }, start)
            precondition(created == 0, "could not start a worker thread (error \(created))")
            pthread_detach(thread)
            workerCount += 1
        }
    }

    /// Waits for each new loop, takes an open place if one is left, and runs items.
    private func workerLoop() {
        var seenLoop = 0
        while true {
            var current = waitForLoop(after: seenLoop)
            seenLoop = current >> Self.placeBits
            while current & Self.placeMask > 0 {
                let (taken, actual) = state.compareExchange(expected: current, desired: current - 1, ordering: .acquiringAndReleasing)
                if taken {
                    runItems(participant: current & Self.placeMask)
                    finished.add(1, ordering: .releasing)
                    break
                }
                // Another worker took a place, or the loop closed (then no place is open).
                guard actual >> Self.placeBits == seenLoop else { break }
                current = actual
            }
        }
    }

    /// The state once it shows a loop other than `seenLoop`: spinning first, then asleep.
    private func waitForLoop(after seenLoop: Int) -> Int {
        var deadline = 0.0
        var spins = 0
        while true {
            let current = state.load(ordering: .acquiring)
            if current >> Self.placeBits != seenLoop { return current }
            spins += 1
            tk_cpu_relax()
            guard spins & 255 == 0 else { continue }
            let now = Self.now()
            if deadline == 0 { deadline = now + Self.spinSeconds; continue }
            if now < deadline { continue }
            pthread_mutex_lock(mutex)
            sleepers.add(1, ordering: .sequentiallyConsistent)
            while state.load(ordering: .sequentiallyConsistent) >> Self.placeBits == seenLoop {
                pthread_cond_wait(condition, mutex)
            }
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
            pthread_mutex_unlock(mutex)
            deadline = 0
        }
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
