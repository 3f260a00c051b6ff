import Core
import DDPMModel
import Evaluation
import Foundation
import NN
import Tensor
import VAEModel
#if canImport(Glibc)
import Glibc
#endif

/// `compare bench`: the workloads of `scripts/peers.py` (PyTorch / JAX / numpy), run
/// through this toolkit with the same shapes, batch sizes, activations, losses, optimizer and
/// timing procedure, so the two can be run back to back and compared
/// (`scripts/bench-vs-peers.sh` does that and prints the ratios).
///
/// | workload | what one call is |
/// |---|---|
/// | ddpm2d  | DDPM training step: 2-D ring data, batch 512, [x_t, e(t)] (2 + 32) → 128 → 128 → 128 (SiLU) → 2, ε-MSE, T = 1000 linear, Adam 1e-3 |
/// | vae784  | VAE training step: 784-dim data uniform on [0, 1], batch 128, 784-512-512 → (μ, log σ²) of 32, 32-512-512-784 Bernoulli logits, ReLU, −ELBO, Adam 1e-3 |
/// | ddpm784 | as ddpm2d with 784-dim data uniform on [−1, 1], hidden 512, batch 128 |
/// | iwae    | the vae784 model's IWAE_K log p̂(x), K = 1000, 10 points per call, no gradients |
/// | gemm    | square C = A·B at 256, 512, 1024 (and 512×128×128) through `Tensor.matmul` and straight `cblas_sgemm` |
/// | unet28  | DDPM training step of the U-Net ε-network (`.conv`, 28×28×1, base 32, multipliers 1-2-2, 2 ResBlocks per level, GroupNorm 8, 128-wide time embedding; 1,522,561 parameters): batch 64 uniform on [−1, 1], T = 1000 linear, ε-MSE, Adam 1e-4 |
/// | convvae28 | ResNet-VAE training step (`.conv`, latent 32, Bernoulli logits; 749,569 parameters): batch 128 uniform on [0, 1], −ELBO, Adam 1e-3 |
/// | ddpm-elbo-mlp | `DDPM.elbo` (exact, T network passes, no tape) of 16 images on the 256 levels of [−1, 1]: T = `--elbo-timesteps` (1000), fixed-small variance, `.discrete(levels: 256)`, x̂₀ clipped; ε-network the ddpm784 MLP (1,345,808 parameters); passes of several t batched per call (`DDPM.evaluationRowsPerCall`, as `compare eval`); examples/s |
/// | ddpm-elbo-unet | the same with the unet28 U-Net (C_out = 1) |
/// | unet28-small, convvae28-small | the two conv training steps at base 8 channels and batch 8: for `--steps-memory-check` (10,000 steps in minutes); not in peers.py |
///
/// `--workload all` (the default) is the first five, as before; `conv` is unet28, convvae28,
/// ddpm-elbo-mlp and ddpm-elbo-unet (peers.py's group of the same name). The conv workloads
/// check their models' parameter counts against peers.py's and refuse to run on a mismatch.
///
/// A training step = draw noise and timesteps + forward + backward + Adam update. Rates are
/// steady state, measured like peers.py's `measure()`: one first call, a warm-up (≥ 3 calls
/// and ≥ `--warmup-s`), calls per repetition calibrated to `--target-s`, the median over
/// `--reps` repetitions; repetitions during which other processes used more than
/// `--idle-threshold` cores are discarded and retried.
public struct BenchmarkRequest: Sendable {
    /// The group `all`: the five workloads of the first peers.py, as before the conv workloads.
    public static let allWorkloads = ["ddpm2d", "vae784", "ddpm784", "iwae", "gemm"]
    /// The group `conv`: peers.py's convolutional workloads (issue 16's spec).
    public static let convWorkloads = ["unet28", "convvae28", "ddpm-elbo-mlp", "ddpm-elbo-unet"]
    /// The conv training steps at a small size, for `--steps-memory-check`; in no group.
    public static let smallWorkloads = ["unet28-small", "convvae28-small"]
    /// Every workload name, in the canonical order.
    public static let knownWorkloads = allWorkloads + convWorkloads + smallWorkloads
    /// Group names and their members.
    public static let groups = ["all": allWorkloads, "conv": convWorkloads]

    /// ddpm2d, vae784, ddpm784, iwae, gemm, unet28, convvae28, ddpm-elbo-mlp, ddpm-elbo-unet, unet28-small, convvae28-small, or the groups all (the first five) and conv (the next four); comma-separated or repeated.
    public var workload: [String] = ["all"]

    /// T of the ddpm-elbo workloads: network passes per call (the rate is per example at this T).
    public var elboTimesteps: Int = 1000

    /// Threads of the engine (products, element-wise loops, the optimizer); the process is also pinned to the first N cores, as peers.py pins its workers.
    public var threads: Int = 1

    /// Print the results as JSON in the layout of peers.py's --out file ({machine, args, runs}).
    public var json = false

    /// Timed repetitions; the median is reported.
    public var reps: Int = 5

    /// Seconds per repetition.
    public var targetSeconds: Double = 1

    /// Warm-up seconds.
    public var warmupSeconds: Double = 1

    /// Most cores other processes may use during a clean repetition.
    public var idleThreshold: Double = 0.1

    /// Most seconds to wait for a quiet machine before a repetition.
    public var idleTimeout: Double = 120

    /// Give up after reps × this many repetitions.
    public var maxAttempts: Int = 4

    /// Instead of timing, run each chosen training workload for N steps and report the resident memory at step N/10 and N (growth = leak).
    public var memoryCheckSteps: Int?

    public init() {}

    /// The chosen workloads in their canonical order, `all` expanded.
    public func workloadNames() throws -> [String] {
        var names: [String] = []
        for item in workload.flatMap({ $0.split(separator: ",").map(String.init) }) {
            if let members = Self.groups[item] { names += members; continue }
            guard Self.knownWorkloads.contains(item) else {
                throw BenchmarkError("--workload: unknown workload '\(item)' (choose from \(Self.knownWorkloads.joined(separator: ", ")), or the groups all and conv)")
            }
            names.append(item)
        }
        return Self.knownWorkloads.filter(names.contains)
    }

    /// Checks the options on their own.
    public func validate() throws {
        _ = try workloadNames()
        guard threads >= 1 else { throw BenchmarkError("--threads must be at least 1, got \(threads)") }
        guard reps >= 1, maxAttempts >= 1 else { throw BenchmarkError("--reps and --max-attempts must be at least 1") }
        guard targetSeconds > 0, warmupSeconds >= 0 else { throw BenchmarkError("--target-s must be positive and --warmup-s not negative") }
        guard elboTimesteps >= 2 else { throw BenchmarkError("--elbo-timesteps must be at least 2, got \(elboTimesteps)") }
        if let steps = memoryCheckSteps {
            guard steps >= 10 else { throw BenchmarkError("--steps-memory-check needs at least 10 steps, got \(steps)") }
            guard try workloadNames().contains(where: BenchWorkloads.isTraining) else {
                throw BenchmarkError("--steps-memory-check needs a training workload (ddpm2d, vae784, ddpm784, unet28, convvae28, unet28-small, convvae28-small)")
            }
        }
    }

    /// Runs the timings (or the memory check) and prints the table or the JSON document.
    public func run() throws {
        try validate()
        do {
            let names = try workloadNames()
            pinToFirstCores(threads)
            LinearAlgebra.setThreadCount(threads)
            let timing = Timing(reps: reps, targetSeconds: targetSeconds, warmupSeconds: warmupSeconds,
                                idleThreshold: idleThreshold, idleTimeout: idleTimeout, maxAttempts: maxAttempts)
            if let steps = memoryCheckSteps {
                try memoryCheck(names.filter(BenchWorkloads.isTraining), steps: steps)
            } else {
                try runTimings(names, timing: timing)
            }
        }
    }

    // MARK: - Timing

    private func runTimings(_ names: [String], timing: Timing) throws {
        var workloads: [String: [String: Any]] = [:]
        var gemm: [String: [String: Any]] = [:]
        var gemmCBLAS: [String: [String: Any]] = [:]
        var peakAfter: [String: Double] = [:]
        for name in names {
            if name == "gemm" {
                for shape in BenchWorkloads.gemmShapes {
                    let flop = 2 * Double(shape.m * shape.n * shape.k) / 1e9
                    gemm[shape.key] = timing.measure(BenchWorkloads.tensorMatmul(shape), unitsPerCall: flop).dictionary
                    log("gemm \(shape.key) Tensor.matmul: \(format(gemm[shape.key]!["median"])) GFLOP/s")
                    gemmCBLAS[shape.key] = timing.measure(BenchWorkloads.directSgemm(shape), unitsPerCall: flop).dictionary
                    log("gemm \(shape.key) cblas_sgemm:   \(format(gemmCBLAS[shape.key]!["median"])) GFLOP/s")
                }
            } else {
                let workload = try BenchWorkloads.make(name, seed: 0, elboTimesteps: elboTimesteps, log: log)
                workloads[name] = timing.measure(workload.call, unitsPerCall: workload.unitsPerCall).dictionary
                    .merging(workload.fields) { $1 }
                log("\(name): \(format(workloads[name]!["median"])) \(BenchWorkloads.unit(name))")
            }
            peakAfter[name] = peakResidentMegabytes()
        }
        let run: [String: Any] = [
            "framework": "compare", "threads": threads, "round": 0,
            "version": "compare (Swift), \(kernelDescription())",
            "workloads": workloads, "gemm": gemm, "gemm_cblas": gemmCBLAS,
            "peak_rss_mb": peakResidentMegabytes(), "peak_rss_mb_after": peakAfter,
        ]
        if json {
            let document: [String: Any] = [
                "machine": machineInfo(),
                "args": ["workloads": names, "threads": [threads], "rounds": 1, "reps": reps, "target_s": targetSeconds,
                         "warmup_s": warmupSeconds, "idle_threshold": idleThreshold, "idle_timeout": idleTimeout,
                         "max_attempts": maxAttempts, "frameworks": ["compare"], "elbo_timesteps": elboTimesteps],
                "runs": [run],
            ]
            let data = try! JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            printTable(names: names, workloads: workloads, gemm: gemm, gemmCBLAS: gemmCBLAS)
        }
    }

    private func printTable(names: [String], workloads: [String: [String: Any]], gemm: [String: [String: Any]], gemmCBLAS: [String: [String: Any]]) {
        print("compare bench, \(threads) thread(s), \(kernelDescription())")
        print("median of \(reps) repetitions of ~\(targetSeconds) s after \(warmupSeconds) s warm-up (* = no quiet repetition)")
        print("")
        let training = names.filter { $0 != "gemm" }
        if !training.isEmpty {
            print("| workload | unit | median | min–max | calls/rep |")
            print("|---|---|---:|---:|---:|")
            for name in training {
                let r = workloads[name]!
                print("| \(name) | \(BenchWorkloads.unit(name)) | \(format(r["median"]))\((r["clean"] as? Bool) == false ? "*" : "") | \(format(r["min"]))–\(format(r["max"])) | \(r["calls_per_rep"]!) |")
            }
            if training.contains(where: { $0.hasPrefix("ddpm-elbo") }) {
                print("ddpm-elbo: T = \(elboTimesteps) network passes per call, \(BenchWorkloads.elboExamples) examples per call.")
            }
            print("")
        }
        if names.contains("gemm") {
            print("| m×n×k | Tensor.matmul GFLOP/s | cblas_sgemm GFLOP/s | ratio |")
            print("|---|---:|---:|---:|")
            for shape in BenchWorkloads.gemmShapes {
                let t = gemm[shape.key]!["median"] as! Double, c = gemmCBLAS[shape.key]!["median"] as! Double
                print("| \(shape.key) | \(format(t)) | \(format(c)) | \(String(format: "%.0f %%", 100 * t / c)) |")
            }
            print("")
        }
        print("peak RSS: \(format(peakResidentMegabytes())) MB")
    }

    // MARK: - Memory

    /// Runs each training workload for `steps` steps in this process and reports the resident
    /// set at step steps/10 and at the end: a steady-state training loop must not grow.
    private func memoryCheck(_ names: [String], steps: Int) throws {
        var results: [String: Any] = [:]
        for name in names {
            let call = try BenchWorkloads.make(name, seed: 0, elboTimesteps: elboTimesteps, log: log).call
            let early = steps / 10
            var rssEarly = 0.0
            let start = Date()
            for step in 1...steps {
                call()
                if step == early { rssEarly = currentResidentMegabytes() }
            }
            let rssEnd = currentResidentMegabytes()
            let peak = peakResidentMegabytes()
            let entry: [String: Any] = ["steps": steps, "rss_mb_early_step": early, "rss_mb_early": rssEarly, "rss_mb_end": rssEnd,
                                        "growth_mb": rssEnd - rssEarly, "peak_rss_mb": peak,
                                        "seconds": Date().timeIntervalSince(start)]
            results[name] = entry
            log("\(name): RSS \(format(rssEarly)) MB at step \(early), \(format(rssEnd)) MB at step \(steps) (growth \(format(rssEnd - rssEarly)) MB), peak \(format(peak)) MB")
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["memory": results, "threads": threads], options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("| workload | steps | RSS at step N/10 (MB) | RSS at step N (MB) | growth (MB) | peak RSS (MB) |")
            print("|---|---:|---:|---:|---:|---:|")
            for name in names {
                let r = results[name] as! [String: Any]
                print("| \(name) | \(steps) | \(format(r["rss_mb_early"])) | \(format(r["rss_mb_end"])) | \(format(r["growth_mb"])) | \(format(r["peak_rss_mb"])) |")
            }
        }
    }

    // MARK: - Machine

    private func log(_ line: String) {
        FileHandle.standardError.write(Data("  [compare \(threads)T] \(line)\n".utf8))
    }

    private func machineInfo() -> [String: Any] {
        var model = "?", flags: Set<Substring> = [], mhz: [Double] = []
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                switch parts[0] {
                case "model name": model = parts[1]
                case "cpu MHz": if let v = Double(parts[1]) { mhz.append(v) }
                case "flags": flags = Set(parts[1].split(separator: " "))
                default: break
                }
            }
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let perCore = 2 * 8 * 2 * (mhz.max() ?? 0) / 1000
        let environment = ProcessInfo.processInfo.environment
        return ["model": model, "cores": cores, "mhz": mhz.max() ?? 0, "avx2": flags.contains("avx2"), "fma": flags.contains("fma"),
                "avx512f": flags.contains("avx512f"), "peak_gflops_per_core": perCore, "peak_gflops_total": perCore * Double(cores),
                "OPENBLAS_CORETYPE": environment["OPENBLAS_CORETYPE"] ?? "<unset>",
                "OPENBLAS_L2_SIZE": environment["OPENBLAS_L2_SIZE"] ?? "<unset>", "platform": "Swift, Linux"]
    }
}

// MARK: - Workloads

/// The workloads themselves: each builds its model and data once and returns one call.
enum BenchWorkloads {
    static let batchPool = 16  // pre-generated data batches, cycled through (peers.py's POOL_BATCHES)

    struct GEMMShape {
        let m: Int, n: Int, k: Int
        var key: String { m == n && n == k ? "\(m)" : "\(m)x\(n)x\(k)" }
    }

    /// peers.py's square sizes, plus the ddpm2d layer product [512, 128] · [128, 128].
    static let gemmShapes = [GEMMShape(m: 256, n: 256, k: 256), GEMMShape(m: 512, n: 512, k: 512),
                             GEMMShape(m: 1024, n: 1024, k: 1024), GEMMShape(m: 512, n: 128, k: 128)]

    /// One workload, built: its call, the units (steps, points or examples) per call, and the
    /// descriptive fields its JSON rate carries besides the timing (peers.py's `memory_format`,
    /// `timesteps`, `examples_per_call`, `loop`; here also `parameters`).
    struct Workload {
        let call: () -> Void
        let unitsPerCall: Double
        var fields: [String: Any] = [:]
    }

    /// Whether a workload is a training step (what `--steps-memory-check` runs).
    static func isTraining(_ name: String) -> Bool {
        !["gemm", "iwae", "ddpm-elbo-mlp", "ddpm-elbo-unet"].contains(name)
    }

    /// The unit of a workload's rate, as peers.py's summary names it.
    static func unit(_ name: String) -> String {
        name == "iwae" ? "points/s" : name.hasPrefix("ddpm-elbo") ? "examples/s" : "steps/s"
    }

    /// peers.py's parameter counts of the conv models (`unet_cost(1)`, `conv_vae_cost()`, the
    /// ddpm784 MLP), which the built models must have.
    static let expectedParameters = ["unet28": 1_522_561, "convvae28": 749_569, "ddpm-elbo-mlp": 1_345_808, "ddpm-elbo-unet": 1_522_561]
    /// The images of ddpm-elbo per call (peers.py's ELBO["examples"]).
    static let elboExamples = 16

    /// The call of a workload, built with its model and data (seeded by `seed`).
    static func make(_ name: String, seed: UInt64, elboTimesteps: Int = 1000, log: @escaping (String) -> Void = { _ in }) throws -> Workload {
        var generator = RandomGenerator(seed: seed)
        switch name {
        case "ddpm2d":
            return Workload(call: ddpmStep(dimension: 2, hidden: 128, pool: ringBatches(512, using: &generator), using: &generator), unitsPerCall: 1)
        case "ddpm784":
            return Workload(call: ddpmStep(dimension: 784, hidden: 512, pool: uniformBatches(128, 784, low: -1, high: 1, using: &generator), using: &generator),
                            unitsPerCall: 1)
        case "vae784":
            let model = vae784(using: &generator)
            return Workload(call: trainingStep(model, pool: uniformBatches(128, 784, low: 0, high: 1, using: &generator), seed: generator.next()),
                            unitsPerCall: 1)
        case "iwae":
            return Workload(call: iwaeCall(using: &generator), unitsPerCall: 10)
        case "unet28", "unet28-small":
            let small = name == "unet28-small"
            let model = try unetDDPM(baseChannels: small ? 8 : 32, likelihood: .continuous, timesteps: 1000, using: &generator)
            let parameters = try checkParameters(name, model, log: log)
            let pool = uniformBatches(small ? 8 : 64, 784, low: -1, high: 1, using: &generator)
            return Workload(call: trainingStep(model, pool: pool, seed: generator.next(), learningRate: 1e-4), unitsPerCall: 1,
                            fields: ["parameters": parameters])
        case "convvae28", "convvae28-small":
            let small = name == "convvae28-small"
            var configuration = VAEConfiguration(dataDimension: 784, latentDimension: 32, likelihood: .binary)
            configuration.architecture = .conv
            configuration.convolution = ConvolutionalSettings(image: ImageShape(height: 28, width: 28), baseChannels: small ? 8 : 32)
            let model = try VAE(configuration: configuration, using: &generator)
            let parameters = try checkParameters(name, model, log: log)
            let pool = uniformBatches(small ? 8 : 128, 784, low: 0, high: 1, using: &generator)
            return Workload(call: trainingStep(model, pool: pool, seed: generator.next()), unitsPerCall: 1, fields: ["parameters": parameters])
        case "ddpm-elbo-mlp", "ddpm-elbo-unet":
            let model: DDPM
            if name == "ddpm-elbo-unet" {
                model = try unetDDPM(baseChannels: 32, likelihood: .discrete(levels: 256), timesteps: elboTimesteps, using: &generator)
            } else {
                var configuration = DDPMConfiguration(dataDimension: 784, likelihood: .discrete(levels: 256))
                configuration.timestepCount = elboTimesteps
                configuration.schedule = .linear
                configuration.variance = .fixedSmall
                configuration.hiddenSizes = [512, 512, 512]
                configuration.embeddingDimension = 32
                configuration.activation = .silu
                model = try DDPM(configuration: configuration, using: &generator)
            }
            let parameters = try checkParameters(name, model, log: log)
            // The evaluator as `compare eval` runs it: T network passes per image, batched over
            // several timesteps per call (DDPM.evaluationRowsPerCall, its default) — where
            // peers.py's calc_bpd_loop port makes one pass of the 16 images per t. The same
            // passes, the same terms; only the batching differs, and it is the evaluator's.
            let images = elboImages(using: &generator)
            var draws = RandomGenerator(seed: generator.next())
            var sink = 0.0
            var first = true
            let call = {
                let terms = model.elbo(images, using: &draws)
                // −ELBO / (D ln 2), averaged over the images: peers.py's total_bpd.
                let bitsPerDimension = -terms.elbo.reduce(0, +) / Double(terms.exampleCount * 784) / 0.693_147_180_559_945_3
                sink += bitsPerDimension
                if first {
                    first = false
                    log("\(name): T = \(elboTimesteps), first call's mean ELBO \(String(format: "%.4f", bitsPerDimension)) bits/dim")
                }
            }
            return Workload(call: call, unitsPerCall: Double(elboExamples),
                            fields: ["timesteps": elboTimesteps, "examples_per_call": elboExamples, "parameters": parameters,
                                     "loop": "DDPM.elbo, one network pass per t at batch \(elboExamples), no tape"])
        default:
            throw BenchmarkError("unknown workload \(name)")
        }
    }

    /// A DDPM whose ε-network is the U-Net on 28×28×1 images (the spec's: multipliers 1-2-2, two
    /// ResBlocks per level, GroupNorm 8, embedding 32 → 4·base), linear β, T steps, ε-MSE,
    /// fixed-small variance.
    static func unetDDPM(baseChannels: Int, likelihood: Likelihood, timesteps: Int, using generator: inout RandomGenerator) throws -> DDPM {
        var configuration = DDPMConfiguration(dataDimension: 784, likelihood: likelihood)
        configuration.timestepCount = timesteps
        configuration.schedule = .linear
        configuration.loss = .simple
        configuration.variance = .fixedSmall
        configuration.embeddingDimension = 32
        configuration.activation = .silu
        configuration.architecture = .conv
        configuration.convolution = ConvolutionalSettings(image: ImageShape(height: 28, width: 28), baseChannels: baseChannels)
        return try DDPM(configuration: configuration, using: &generator)
    }

    /// The model's parameter count, logged; for the full-size workloads it must equal
    /// peers.py's, else the comparison would time different networks (the error lists the
    /// model's parameter tensors, to find the layer that differs).
    static func checkParameters(_ name: String, _ model: some LatentVariableModel, log: (String) -> Void) throws -> Int {
        let count = model.namedParameters.reduce(0) { $0 + $1.tensor.count }
        guard let expected = expectedParameters[name] else {
            log("\(name): \(count) parameters (a memory-check size; not in peers.py)")
            return count
        }
        guard count == expected else {
            let layers = model.namedParameters.map { "\($0.key) \($0.tensor.shape)" }.joined(separator: ", ")
            throw BenchmarkError("\(name): the model has \(count) parameters, peers.py's \(expected): not the same network (\(layers))")
        }
        log("\(name): \(count) parameters = peers.py's")
        return count
    }

    /// The ELBO's 16 images, as peers.py's `elbo_images`: each pixel uniform on the 256 levels
    /// 2k/255 − 1 of [−1, 1] (discrete data enter the DDPM on this, their dataset's, scale).
    static func elboImages(using generator: inout RandomGenerator) -> Tensor {
        let values = (0..<(elboExamples * 784)).map { _ in Float(Double(generator.nextInt(below: 256)) * (2.0 / 255.0) - 1.0) }
        return Tensor(shape: [elboExamples, 784], storage: values)
    }

    /// 8 Gaussians (σ 0.1) on a circle of radius 2, as peers.py's `ring_of_gaussians`.
    static func ringBatches(_ batch: Int, using generator: inout RandomGenerator) -> [Tensor] {
        (0..<batchPool).map { _ in
            var values = [Float](repeating: 0, count: batch * 2)
            for i in 0..<batch {
                let angle = Double(generator.nextInt(below: 8)) * 2 * Double.pi / 8
                values[2 * i] = Float(2 * cos(angle) + 0.1 * generator.nextNormal())
                values[2 * i + 1] = Float(2 * sin(angle) + 0.1 * generator.nextNormal())
            }
            return Tensor(shape: [batch, 2], storage: values)
        }
    }

    static func uniformBatches(_ batch: Int, _ dimension: Int, low: Float, high: Float, using generator: inout RandomGenerator) -> [Tensor] {
        (0..<batchPool).map { _ in Tensor.randomUniform(shape: [batch, dimension], low: low, high: high, using: &generator) }
    }

    /// peers.py's DDPM: MLP on [x_t, sinusoidal e(t) of 32] → hidden ×3 (SiLU) → D, ε-MSE
    /// (the `simple` loss), T = 1000, linear β from 1e-4 to 0.02.
    static func ddpmStep(dimension: Int, hidden: Int, pool: [Tensor], using generator: inout RandomGenerator) -> () -> Void {
        var configuration = DDPMConfiguration(dataDimension: dimension, likelihood: .continuous)
        configuration.timestepCount = 1000
        configuration.schedule = .linear
        configuration.loss = .simple
        configuration.hiddenSizes = [hidden, hidden, hidden]
        configuration.embeddingDimension = 32
        configuration.activation = .silu
        let model = try! DDPM(configuration: configuration, using: &generator)
        return trainingStep(model, pool: pool, seed: generator.next())
    }

    /// peers.py's VAE: 784-512-512 → (μ, log σ²) of 32; 32-512-512-784 Bernoulli logits; ReLU.
    static func vae784(using generator: inout RandomGenerator) -> VAE {
        let configuration = VAEConfiguration(dataDimension: 784, latentDimension: 32, hiddenSizes: [512, 512],
                                             activation: .relu, likelihood: .binary)
        return try! VAE(configuration: configuration, using: &generator)
    }

    /// One step: the model's training loss on the next batch (noise and timesteps drawn
    /// inside), backward, Adam update (lr 1e-3 unless given: unet28's is 1e-4).
    static func trainingStep(_ model: some LatentVariableModel, pool: [Tensor], seed: UInt64, learningRate: Float = 1e-3) -> () -> Void {
        let optimizer = Adam(parameters: model.namedParameters, learningRate: learningRate)
        var generator = RandomGenerator(seed: seed)
        var step = 0
        return {
            step += 1
            let loss = model.trainingLoss(pool[step % pool.count], step: step, using: &generator)
            loss.backward()
            optimizer.update()
        }
    }

    /// log p̂(x) = log (1/K) Σ_k w_k with K = 1000 for 10 points per call (100 points cycled).
    static func iwaeCall(using generator: inout RandomGenerator) -> () -> Void {
        let model = vae784(using: &generator)
        let points = Tensor.randomUniform(shape: [100, 784], low: 0, high: 1, using: &generator)
        let chunks = (0..<10).map { points.rows(($0 * 10)..<($0 * 10 + 10)) }
        var draws = RandomGenerator(seed: generator.next())
        var index = 0
        var sink = 0.0
        return {
            index += 1
            let weights = model.logImportanceWeights(chunks[index % chunks.count], samples: 1000, using: &draws)
            for i in 0..<weights.batch {
                sink += logMeanExp((0..<weights.samples).map { weights[sample: $0, example: i] })
            }
        }
    }

    static func squareOperands(_ shape: GEMMShape) -> (Tensor, Tensor) {
        var generator = RandomGenerator(seed: 0)
        return (Tensor.randomNormal(shape: [shape.m, shape.k], using: &generator),
                Tensor.randomNormal(shape: [shape.k, shape.n], using: &generator))
    }

    /// C = A·B through the toolkit's `Tensor.matmul` (a new result tensor per call).
    static func tensorMatmul(_ shape: GEMMShape) -> () -> Void {
        let (a, b) = squareOperands(shape)
        var sink: Float = 0
        return {
            let c = Tensor.matmul(a, b)
            sink += c.storage[0]
        }
    }

    /// C = A·B by `cblas_sgemm` into a preallocated C: the baseline numpy's `matmul(out=)` is.
    static func directSgemm(_ shape: GEMMShape) -> () -> Void {
        let (a, b) = squareOperands(shape)
        var c = [Float](repeating: 0, count: shape.m * shape.n)
        return {
            a.storage.withUnsafeBufferPointer { a in
                b.storage.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        OpenBLAS.multiply(m: shape.m, n: shape.n, k: shape.k, a.baseAddress!, leading: shape.k, transpose: false,
                                          b.baseAddress!, leading: shape.n, transpose: false, into: c.baseAddress!)
                    }
                }
            }
        }
    }
}

// MARK: - Timing like peers.py's measure()

struct Measurement {
    var median: Double, minimum: Double, maximum: Double
    var callsPerRep: Int, reps: Int, clean: Bool, discarded: Int, othersLoad: Double, firstCallSeconds: Double

    var dictionary: [String: Any] {
        ["median": median, "min": minimum, "max": maximum, "calls_per_rep": callsPerRep, "reps": reps, "clean": clean,
         "discarded": discarded, "others_load": othersLoad, "first_call_s": firstCallSeconds]
    }
}

struct Timing {
    let reps: Int, targetSeconds: Double, warmupSeconds: Double, idleThreshold: Double, idleTimeout: Double, maxAttempts: Int

    /// (busy seconds of the whole system, CPU seconds of this process, wall seconds).
    struct Clocks { let busy: Double, own: Double, wall: Double }

    static func clocks() -> Clocks {
        var busy = 0.0
        if let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
           let line = text.split(separator: "\n").first {
            let v = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
            if v.count == 8 { busy = (v.reduce(0, +) - v[3] - v[4]) / Double(sysconf(Int32(_SC_CLK_TCK))) }
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let own = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return Clocks(busy: busy, own: own, wall: now())
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Cores used by other processes between two samples.
    static func othersLoad(_ c0: Clocks, _ c1: Clocks) -> Double {
        max(0, (c1.busy - c0.busy) - (c1.own - c0.own)) / max(1e-9, c1.wall - c0.wall)
    }

    func waitForIdle() {
        let deadline = Self.now() + idleTimeout
        while true {
            let c0 = Self.clocks()
            usleep(300_000)
            if Self.othersLoad(c0, Self.clocks()) <= idleThreshold || Self.now() > deadline { return }
        }
    }

    /// Steady-state rate (units per second) of `call`.
    func measure(_ call: () -> Void, unitsPerCall: Double) -> Measurement {
        var t0 = Self.now()
        call()
        let firstCall = Self.now() - t0

        waitForIdle()
        var calls = 0
        t0 = Self.now()
        while calls < 3 || Self.now() - t0 < warmupSeconds {
            call()
            calls += 1
        }
        let perCall = (Self.now() - t0) / Double(calls)
        let n = max(1, Int((targetSeconds / perCall).rounded()))

        var clean: [(Double, Double)] = [], noisy: [(Double, Double)] = []
        for _ in 0..<(reps * maxAttempts) {
            waitForIdle()
            let c0 = Self.clocks()
            for _ in 0..<n { call() }
            let c1 = Self.clocks()
            let rate = Double(n) * unitsPerCall / (c1.wall - c0.wall)
            let load = Self.othersLoad(c0, c1)
            if load <= idleThreshold { clean.append((rate, load)) } else { noisy.append((rate, load)) }
            if clean.count >= reps { break }
        }
        let used = clean.isEmpty ? noisy : clean
        let rates = used.map(\.0).sorted()
        let median = rates.count % 2 == 1 ? rates[rates.count / 2] : (rates[rates.count / 2 - 1] + rates[rates.count / 2]) / 2
        return Measurement(median: median, minimum: rates.first!, maximum: rates.last!, callsPerRep: n, reps: used.count,
                           clean: !clean.isEmpty, discarded: clean.isEmpty ? 0 : noisy.count,
                           othersLoad: (used.map(\.1).max()! * 1000).rounded() / 1000, firstCallSeconds: firstCall)
    }
}

// MARK: - Process helpers

/// The largest resident set of this process so far, in MB: getrusage's ru_maxrss (KiB on
/// Linux), or the current resident set of /proc if larger — the kernel's counters behind the
/// two are updated lazily, and ru_maxrss was seen a few pages below the current figure.
func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return max(Double(usage.ru_maxrss) / 1024, currentResidentMegabytes())
}

/// The current resident set (/proc/self/statm), in MB.
func currentResidentMegabytes() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / (1024 * 1024)
}

/// Restricts this process to the first `count` cores, as peers.py does for its workers
/// (`os.sched_setaffinity`), so a 1-thread run cannot spill onto a second core.
func pinToFirstCores(_ count: Int) {
    #if canImport(Glibc)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard count < cores else { return }
    var mask = [UInt8](repeating: 0, count: 128)  // a cpu_set_t: 1024 bits
    for core in 0..<count { mask[core / 8] |= UInt8(1 << (core % 8)) }
    _ = setAffinity(0, mask.count, mask)
    #endif
}

#if canImport(Glibc)
/// glibc's `sched_setaffinity` (declared only under _GNU_SOURCE, which Swift's Glibc module lacks).
@_silgen_name("sched_setaffinity")
private func setAffinity(_ pid: Int32, _ size: Int, _ mask: UnsafePointer<UInt8>) -> Int32
#endif

/// The kernels in use (the engine's own AVX2 code, its portable reference, or OpenBLAS and Swift
/// loops) and the OpenBLAS build either way (it is the `cblas_sgemm` column of the gemm workload).
func kernelDescription() -> String {
    "\(ComputeKernels.current.summary); \(OpenBLAS.description)"
}

private func format(_ value: Any?) -> String {
    guard let v = value as? Double else { return "–" }
    return v >= 100 ? String(format: "%.0f", v) : String(format: "%.1f", v)
}

/// An option the benchmark cannot run with, as one line naming it.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
