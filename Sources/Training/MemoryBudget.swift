import Core
import DDPMModel
import Foundation
import HVAEModel
import NN
import VAEModel

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The memory a command may use, and the refusal of what cannot fit — decided from sizes
/// alone, before anything is allocated (docs: README "Resource bounds").
///
/// The limit is 75 % of the machine's memory: the smaller of the physical memory
/// (`sysconf(_SC_PHYS_PAGES) · _SC_PAGESIZE`) and a cgroup v2 limit (`/sys/fs/cgroup/memory.max`),
/// so that a refused run leaves the rest of the machine usable. `COMPARE_MEMORY_LIMIT`
/// (bytes, or with a suffix K, M, G, T — powers of 1024 — e.g. `2G`, `512M`, `1.5G`) replaces it;
/// the tests use it to be independent of the machine.
///
/// All arithmetic is in `Double`: a product of sizes cannot overflow (a 64-bit `Int` product of
/// edited sizes could trap), and 53 bits are plenty for a decision at the scale of GiB.
public enum MemoryBudget {
    public static let environmentVariable = "COMPARE_MEMORY_LIMIT"
    /// The share of the machine's memory a command may plan to use.
    public static let physicalFraction = 0.75
    static let gibibyte = 1_073_741_824.0

    /// The memory limit in bytes and how it was found (for the refusal's wording).
    public struct Limit: Equatable, Sendable {
        public var bytes: Double
        public var origin: String
    }

    /// Physical memory in bytes, lowered to the cgroup's limit when one is set.
    public static func machineMemory() -> Double {
        let pages = Double(sysconf(Int32(_SC_PHYS_PAGES))), pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        var bytes = pages > 0 && pageSize > 0 ? pages * pageSize : 8 * gibibyte
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let cgroup = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), cgroup > 0 {
            bytes = Swift.min(bytes, cgroup)
        }
        return bytes
    }

    /// `2G`, `512M`, `1.5G`, `100000` (bytes) → bytes; nil for anything else (zero, negative,
    /// not finite, unknown suffix).
    public static func parseSize(_ text: String) -> Double? {
        var body = text.trimmingCharacters(in: .whitespaces).uppercased()
        if body.hasSuffix("IB") { body.removeLast(2) } else if body.hasSuffix("B") { body.removeLast() }
        let suffixes: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": gibibyte, "T": 1024 * gibibyte]
        var scale = 1.0
        if let last = body.last, let factor = suffixes[last] {
            scale = factor
            body.removeLast()
        }
        guard let value = Double(body), value.isFinite, value > 0 else { return nil }
        return value * scale
    }

    /// The limit now in force: `COMPARE_MEMORY_LIMIT` when set, else 75 % of the machine's memory.
    /// - Throws: ``ModelError/invalidConfiguration(_:)`` when the variable is set but unreadable.
    public static func limit(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Limit {
        if let text = environment[environmentVariable] {
            guard let bytes = parseSize(text) else {
                throw ModelError.invalidConfiguration("\(environmentVariable)='\(text)': expected a size such as 8G, 512M or a number of bytes")
            }
            return Limit(bytes: bytes, origin: "\(environmentVariable)=\(text)")
        }
        let machine = machineMemory()
        return Limit(bytes: machine * physicalFraction,
                     origin: "75 % of the \(gib(machine)) GiB of this machine; set \(environmentVariable) to change it")
    }

    /// `bytes` in GiB for a message: one decimal, or scientific notation when huge.
    public static func gib(_ bytes: Double) -> String {
        let value = bytes / gibibyte
        return value < 1e6 ? String(format: "%.1f", value) : String(format: "%.2e", value)
    }

    /// The one-line refusal for `subject` needing `bytes` (for `what`), or nil when it fits.
    public static func refusal(_ bytes: Double, subject: String, what: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        let limit = try limit(environment: environment)
        guard !(bytes <= limit.bytes) else { return nil }
        return "\(subject) needs about \(gib(bytes)) GiB of memory (\(what)), more than the limit of \(gib(limit.bytes)) GiB (\(limit.origin))"
    }
}

/// Memory estimates of a configuration's model and of each command on it, in bytes.
///
/// The model of memory (Float32 = 4 bytes, Double = 8), with P the parameter count, W the sum of
/// every layer width of every network per row (inputs included; ``activationWidth``), D the data
/// dimension, L the latent layers (DDPM: T):
/// - model: 4 P, and for a DDPM its tables: 16 Double arrays of T diffusion constants and the
///   timestep-embedding table of max(T + 1, 1001) rows of E floats;
/// - training: 16 P (parameters, gradients, Adam's m and v) + the tables + per batch row
///   3 · 4 W (each layer output, its gradient and one temporary) + 8 · 4 D (the batch, the
///   likelihood's per-element terms and their gradients), + the test-ELBO pass on the fixed subset;
/// - an ELBO pass on n rows without gradients: n (2 · 4 W + 4 · 4 D + 8 L) for VAE and HVAE; for a
///   DDPM 8 T n (its per-timestep terms) + 16 T (their names) + r (3 · 8 D + 4 D + 2 · 4 W) for the
///   r = min(T n, max(16384, n)) rows of one network call;
/// - evaluation of n examples in batches of b with R ELBO draws and K = K_max importance samples:
///   the model + 4 n D (the data) + 8 n (L + 1) (all examples' terms) + 8 n · |K values| + R ELBO
///   passes on b rows (each draw is kept until averaged) + 8 K b (the log-weights) + c (2 · 4 W +
///   4 · 4 D) for the c = min(K b, 65536; 256 images for conv networks) rows of one chunk (DDPM: c = min(K b, 16384) chains, and
///   4 · 8 D for their states);
/// - sampling `count`: the model + count (2 · 4 W + 3 · 4 D), and for a DDPM count (4 · 8 D + 8)
///   more for its Double chains and timesteps (one network call per step over all chains).
///
/// The factors are rounded up from the code paths named; the estimate is meant to be within a
/// small factor of the real peak (TrainingTests check it against a hand computation and the
/// resident size of one run), which is all a refusal at the scale of GiB needs.
extension ModelConfiguration {
    /// P, the number of parameters (in Double: edited sizes cannot overflow it).
    public var parameterCount: Double {
        parameterShapes.reduce(0.0) { total, entry in total + entry.shape.reduce(1.0) { $0 * Double($1) } }
    }

    /// W: the sum of the layer widths (inputs included) of every network, per row of a pass.
    public var activationWidth: Double {
        Double(convolutionalActivationsPerExample)
            + networks.reduce(0.0) { total, network in total + network.sizes.reduce(0.0) { $0 + Double($1) } }
    }

    /// Rows of one DDPM network call in evaluation (``DDPM/evaluationRowsPerCall``).
    var ddpmRowsPerCall: Double {
        guard case .ddpm(let c) = self else { return 16384 }
        return Double(DDPM.defaultEvaluationRowsPerCall(c.architecture))
    }

    /// Rows of one chunk of VAE and HVAE importance weights (``VAE/maximumRowsPerChunk(_:)``).
    var latentModelRowsPerChunk: Int {
        switch self {
        case .vae(let c): return VAE.maximumRowsPerChunk(c.architecture)
        case .hvae(let c): return HVAE.maximumRowsPerChunk(c.architecture)
        case .ddpm: return 0
        }
    }

    var dimensionValue: Double {
        switch self {
        case .vae(let c): return Double(c.dataDimension)
        case .hvae(let c): return Double(c.dataDimension)
        case .ddpm(let c): return Double(c.dataDimension)
        }
    }

    /// L: latent layers (DDPM: T).
    var latentLayers: Double {
        switch self {
        case .vae: return 1
        case .hvae(let c): return Double(c.latentSizes.count)
        // A continuous-time DDPM read at T has T + 1 latent layers (z_0 … z_1).
        case .ddpm(let c): return Double(c.timestepCount + (c.continuousTime == nil ? 0 : 1))
        }
    }

    /// The fixed tables of a DDPM (diffusion constants and the embedding table); 0 otherwise.
    var tableBytes: Double {
        guard case .ddpm(let c) = self else { return 0 }
        let t = Double(c.timestepCount)
        return 16 * 8 * t + Swift.max(t + 1, 1001) * Double(c.embeddingDimension) * 4
    }

    /// Bytes of the built model: its parameters and tables.
    public var modelBytes: Double { 4 * parameterCount + tableBytes }

    /// Bytes of one ELBO pass on `rows` rows, without gradients.
    public func elboPassBytes(rows: Int) -> Double {
        let n = Double(rows), w = activationWidth, d = dimensionValue
        switch self {
        case .vae, .hvae:
            return n * (2 * 4 * w + 4 * 4 * d + 8 * latentLayers)
        case .ddpm:
            let t = latentLayers
            let callRows = Swift.min(t * n, Swift.max(ddpmRowsPerCall, n))
            return 8 * t * n + 16 * t + callRows * (3 * 8 * d + 4 * d + 2 * 4 * w)
        }
    }

    /// Bytes of training with batches of `batchSize` and a test ELBO on `evaluationExamples` rows.
    public func trainingBytes(batchSize: Int, evaluationExamples: Int) -> Double {
        16 * parameterCount + tableBytes
            + Double(batchSize) * (3 * 4 * activationWidth + 8 * 4 * dimensionValue)
            + learnedScheduleBytes(batchSize: batchSize)
            + elboPassBytes(rows: evaluationExamples)
    }

    /// A learned log-SNR schedule's training pass: about eight [batch + 2, features] Float
    /// arrays (the affine output, the sigmoid, s − s² and their gradients); 0 otherwise.
    func learnedScheduleBytes(batchSize: Int) -> Double {
        guard case .ddpm(let c) = self, let settings = c.continuousTime, settings.schedule == .learned else { return 0 }
        return 8 * 4 * Double(batchSize + 2) * Double(settings.learnedScheduleFeatures)
    }

    /// Bytes of evaluating `examples` examples in batches of `batchSize`, with `elboDraws` ELBO
    /// draws and the sample counts `sampleCounts` (K_max = the largest).
    public func evaluationBytes(examples: Int, batchSize: Int, sampleCounts: [Int], elboDraws: Int) -> Double {
        let n = Double(examples), b = Double(Swift.min(batchSize, Swift.max(examples, 1)))
        let k = Double(sampleCounts.max() ?? 1), d = dimensionValue, w = activationWidth
        let stored = 4 * n * d + 8 * n * (latentLayers + 1) + 8 * n * Double(sampleCounts.count)
        let draws = Double(elboDraws) * elboPassBytes(rows: Int(b))
        let chunkRows: Double, perRow: Double
        if case .ddpm = self {
            chunkRows = Swift.min(k * b, ddpmRowsPerCall)
            perRow = 4 * 8 * d + 2 * 4 * w + 4 * 4 * d
        } else {
            chunkRows = Swift.min(k * b, Double(latentModelRowsPerChunk))
            perRow = 2 * 4 * w + 4 * 4 * d
        }
        return modelBytes + stored + draws + 8 * k * b + chunkRows * perRow
    }

    /// Bytes of drawing `count` samples.
    public func samplingBytes(count: Int) -> Double {
        let c = Double(count), d = dimensionValue
        var bytes = modelBytes + c * (2 * 4 * activationWidth + 3 * 4 * d)
        if case .ddpm = self { bytes += c * (4 * 8 * d + 8) }
        return bytes
    }
}
