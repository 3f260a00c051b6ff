#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A limit on a run's training time: `compare train --time-budget` (with `--budget-clock`).
///
/// The run stops after the first optimizer step at which the time it has spent on optimizer
/// steps — over all of its sessions, as stored in its checkpoint — reaches ``seconds``, and
/// writes its checkpoint there as the run's end (the loss logged, the test ELBO recorded), so
/// that the checkpoint is that of a run trained with `--steps` equal to that step. The budget
/// is no part of the run's identity: `--resume` with a larger budget continues the run.
/// Time spent on the test-ELBO evaluations of `--evaluate-every` and on writing checkpoints is
/// not counted (it is recorded separately), so runs whose monitoring costs differ — a U-Net
/// DDPM's exact ELBO costs T network passes per example — get the same time for learning.
public struct TrainingBudget: Equatable, Sendable {
    /// Which clock the budget is counted on.
    public enum Clock: String, CaseIterable, Codable, Sendable {
        /// Elapsed (wall-clock) seconds of the optimizer steps.
        case wall
        /// The process's CPU seconds during the optimizer steps divided by its thread count.
        /// With one thread this is the time the run had a core to itself, whatever else ran on
        /// the machine: the fair clock for runs that share a machine. With several threads, a
        /// run whose threads often wait (small products run on one thread, idle workers sleep)
        /// accrues CPU time more slowly than wall-clock time and so gets more wall-clock time
        /// than a run that keeps all its cores busy; waiting workers also spin briefly, which
        /// counts. Use it with `--threads 1` to compare models fairly.
        case cpu
    }

    /// The limit in seconds (> 0).
    public var seconds: Double
    public var clock: Clock
    /// The engine's thread count (`--threads`), which the CPU clock divides by.
    public var threads: Int

    public init(seconds: Double, clock: Clock = .wall, threads: Int = 1) {
        self.seconds = seconds
        self.clock = clock
        self.threads = threads
    }

    /// One clear line for an impossible value.
    public func validate() throws {
        guard seconds > 0, seconds.isFinite else {
            throw TrainingError.invalidOption("--time-budget must be a positive duration, got \(seconds) s")
        }
        guard threads >= 1 else { throw TrainingError.invalidOption("--threads must be at least 1, got \(threads)") }
    }

    /// The seconds of this budget a run has spent.
    public func spent(wallSeconds: Double, cpuSeconds: Double) -> Double {
        switch clock {
        case .wall: return wallSeconds
        case .cpu: return cpuSeconds / Double(threads)
        }
    }

    /// CPU seconds of this process so far, all threads together.
    public static func processCPUSeconds() -> Double {
        var time = timespec()
        guard clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time) == 0 else { return 0 }
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
