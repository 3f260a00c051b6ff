import ArgumentParser
import Benchmarks

/// `compare bench`: the workloads of `scripts/peers.py`, timed the same way (see
/// ``Benchmarks/BenchmarkRequest``).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the workloads of scripts/peers.py (steps/s, points/s, GFLOP/s) and the peak memory.")

    @Option(help: "ddpm2d, vae784, ddpm784, iwae, gemm, unet28, convvae28, ddpm-elbo-mlp, ddpm-elbo-unet, unet28-small, convvae28-small, or the groups all (the first five) and conv (unet28 … ddpm-elbo-unet); comma-separated or repeated. The -small ones (base 8 channels, batch 8) are for --steps-memory-check.")
    var workload: [String] = ["all"]

    @Option(name: .customLong("elbo-timesteps"), help: "T of the ddpm-elbo workloads: network passes per call (smaller for quick runs; the rate is per example at this T).")
    var elboTimesteps: Int = 1000

    @Option(help: "Threads of the engine (products, element-wise loops, the optimizer); the process is also pinned to the first N cores, as peers.py pins its workers.")
    var threads: Int = 1

    @Flag(help: "Print the results as JSON in the layout of peers.py's --out file ({machine, args, runs}).")
    var json = false

    @Option(help: "Timed repetitions; the median is reported.")
    var reps: Int = 5

    @Option(name: .customLong("target-s"), help: "Seconds per repetition.")
    var targetSeconds: Double = 1

    @Option(name: .customLong("warmup-s"), help: "Warm-up seconds.")
    var warmupSeconds: Double = 1

    @Option(name: .customLong("idle-threshold"), help: "Most cores other processes may use during a clean repetition.")
    var idleThreshold: Double = 0.1

    @Option(name: .customLong("idle-timeout"), help: "Most seconds to wait for a quiet machine before a repetition.")
    var idleTimeout: Double = 120

    @Option(name: .customLong("max-attempts"), help: "Give up after reps × this many repetitions.")
    var maxAttempts: Int = 4

    @Option(name: .customLong("steps-memory-check"),
            help: "Instead of timing, run each chosen training workload for N steps and report the resident memory at step N/10 and N (growth = leak).")
    var memoryCheckSteps: Int?

    var request: BenchmarkRequest {
        var request = BenchmarkRequest()
        request.workload = workload
        request.elboTimesteps = elboTimesteps
        request.threads = threads
        request.json = json
        request.reps = reps
        request.targetSeconds = targetSeconds
        request.warmupSeconds = warmupSeconds
        request.idleThreshold = idleThreshold
        request.idleTimeout = idleTimeout
        request.maxAttempts = maxAttempts
        request.memoryCheckSteps = memoryCheckSteps
        return request
    }

    func validate() throws {
        do { try request.validate() } catch { throw ValidationError(error) }
    }

    func run() throws {
        try failOnError { try request.run() }
    }
}
