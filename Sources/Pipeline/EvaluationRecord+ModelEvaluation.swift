import Evaluation
import Foundation
import Store

// The `/evaluation` group of a checkpoint: what `compare eval` writes and `compare report` reads.

extension EvaluationRecord {
    /// The layout of `/evaluation`: per-example float64 arrays `elbo`, `reconstruction`,
    /// `layer_kl` [layers, n], `iwae` [len(K), n], `sample_counts` [len(K)], `log_density` (known
    /// densities), `effective_sample_size` [n] (Kish's ESS of the K_max weights; absent in
    /// evaluations written before it existed), and with `compare eval --sandwich N`
    /// `sandwich_sample_counts` [len(K)], `sandwich_lower` and `sandwich_upper` [len(K), N]
    /// (IWAE_K and U_K on N model samples, docs/math.md#sandwich-bounds); attributes `examples`, `seed`, `command`, `layer_names` (JSON list).
    public init(evaluation e: ModelEvaluation, seed: UInt64, command: String) {
        var arrays = [
            NamedArray(name: "elbo", shape: [e.exampleCount], values: e.elbo),
            NamedArray(name: "reconstruction", shape: [e.exampleCount], values: e.reconstruction),
            NamedArray(name: "layer_kl", shape: [e.layerKL.count, e.exampleCount], values: e.layerKL.flatMap { $0 }),
            NamedArray(name: "iwae", shape: [e.sampleCounts.count, e.exampleCount], values: e.iwae.flatMap { $0 }),
            NamedArray(name: "sample_counts", shape: [e.sampleCounts.count], values: e.sampleCounts.map(Double.init)),
        ]
        if let logDensity = e.logDensity { arrays.append(NamedArray(name: "log_density", shape: [e.exampleCount], values: logDensity)) }
        if let sizes = e.effectiveSampleSize {
            arrays.append(NamedArray(name: "effective_sample_size", shape: [e.exampleCount], values: sizes))
        }
        if let sandwich = e.sandwich {
            let counts = sandwich.sampleCounts.count, n = sandwich.sampleSize
            arrays.append(NamedArray(name: "sandwich_sample_counts", shape: [counts], values: sandwich.sampleCounts.map(Double.init)))
            arrays.append(NamedArray(name: "sandwich_lower", shape: [counts, n], values: sandwich.lower.flatMap { $0 }))
            arrays.append(NamedArray(name: "sandwich_upper", shape: [counts, n], values: sandwich.upper.flatMap { $0 }))
        }
        let names = String(decoding: (try? JSONEncoder().encode(e.layerNames)) ?? Data("[]".utf8), as: UTF8.self)
        self.init(arrays: arrays, attributes: [
            "examples": .integer(Int64(e.exampleCount)),
            "dimension": .integer(Int64(e.dataDimension)),
            "seed": .unsignedInteger(seed),
            "command": .string(command),
            "layer_names": .string(names),
        ])
    }

    /// The largest K a stored `sample_counts` may hold; more is damage.
    public static let maximumSampleCount = 100_000_000

    /// The evaluation stored by ``init(evaluation:seed:command:)``, trusting nothing: every
    /// array present and finite, `sample_counts` whole numbers in 1 … ``maximumSampleCount``,
    /// at least one example, shapes consistent, `examples` and `dimension` (when stored) ≥ 1
    /// and `examples` equal to the number of ELBO values. Each failure is one line naming the
    /// checkpoint and the object.
    public func modelEvaluation(path: String) throws -> ModelEvaluation {
        let again = "run `compare eval \(path)` again"
        func array(_ name: String) throws -> NamedArray {
            guard let a = self.array(named: name) else { throw PipelineError("\(path): /evaluation/\(name) is missing; \(again)") }
            if let bad = a.values.firstIndex(where: { !$0.isFinite }) {
                throw PipelineError("\(path): /evaluation/\(name) holds \(a.values[bad]) at flat index \(bad); expected finite values; \(again)")
            }
            return a
        }
        let elbo = try array("elbo").values
        let n = elbo.count
        let reconstruction = try array("reconstruction").values
        let layerKL = try array("layer_kl")
        let iwae = try array("iwae")
        func sampleCounts(_ name: String) throws -> [Int] {
            var counts: [Int] = []
            for (index, value) in try array(name).values.enumerated() {
                // A checked conversion: NaN, a fraction or 1e300 must not reach Int(_:), which traps.
                guard value.rounded() == value, value >= 1, value <= Double(Self.maximumSampleCount), let k = Int(exactly: value) else {
                    throw PipelineError("\(path): /evaluation/\(name) holds \(value) at index \(index); expected whole numbers K from 1 to \(Self.maximumSampleCount); \(again)")
                }
                counts.append(k)
            }
            return counts
        }
        let counts = try sampleCounts("sample_counts")
        guard n > 0, reconstruction.count == n, layerKL.shape.count == 2, layerKL.shape[1] == n,
              iwae.shape == [counts.count, n], !counts.isEmpty else {
            throw PipelineError("\(path): /evaluation arrays have inconsistent shapes; \(again)")
        }
        for name in ["examples", "dimension"] {
            guard let value = attributes[name] else { continue }
            guard let number = value.integerValue, number >= 1 else {
                throw PipelineError("\(path): attribute '\(name)' of /evaluation is '\(value)'; expected an integer ≥ 1; \(again)")
            }
            if name == "examples", number != n {
                throw PipelineError("\(path): attribute 'examples' of /evaluation is \(number) but /evaluation/elbo has \(n) values; \(again)")
            }
        }
        let logDensity = try self.array(named: "log_density").map { _ in try array("log_density").values }
        let effectiveSampleSize = try self.array(named: "effective_sample_size").map { _ -> [Double] in
            let sizes = try array("effective_sample_size")
            let largest = Double(counts.last ?? 1)
            guard sizes.shape == [n] else { throw PipelineError("\(path): /evaluation arrays have inconsistent shapes; \(again)") }
            // 0 is kept for an example whose weights were all 0; otherwise Kish's ESS lies in [1, K_max].
            if let bad = sizes.values.firstIndex(where: { $0 != 0 && ($0 < 1 - 1e-9 || $0 > largest * (1 + 1e-9)) }) {
                throw PipelineError("\(path): /evaluation/effective_sample_size holds \(sizes.values[bad]) at index \(bad); "
                    + "expected values from 1 to K_max = \(Int(largest)); \(again)")
            }
            return sizes.values
        }
        var sandwich: SandwichBounds? = nil
        if self.array(named: "sandwich_sample_counts") != nil {
            let sandwichCounts = try sampleCounts("sandwich_sample_counts")
            let lower = try array("sandwich_lower"), upper = try array("sandwich_upper")
            guard !sandwichCounts.isEmpty, lower.shape.count == 2, lower.shape[0] == sandwichCounts.count, lower.shape[1] >= 1,
                  upper.shape == lower.shape else {
                throw PipelineError("\(path): /evaluation sandwich arrays have inconsistent shapes; \(again)")
            }
            let m = lower.shape[1]
            func rows(_ a: NamedArray) -> [[Double]] { (0..<sandwichCounts.count).map { Array(a.values[($0 * m)..<(($0 + 1) * m)]) } }
            sandwich = SandwichBounds(sampleCounts: sandwichCounts, lower: rows(lower), upper: rows(upper))
        }
        let layers = layerKL.shape[0]
        let names: [String]
        if case .string(let json)? = attributes["layer_names"], let decoded = try? JSONDecoder().decode([String].self, from: Data(json.utf8)),
           decoded.count == layers {
            names = decoded
        } else {
            names = (1...Swift.max(layers, 1)).map { "z\($0)" }.prefix(layers).map { $0 }
        }
        let dimension = attributes["dimension"]?.integerValue ?? 1
        return ModelEvaluation(
            exampleCount: n, dataDimension: dimension, sampleCounts: counts, elbo: elbo, reconstruction: reconstruction,
            layerNames: names, layerKL: (0..<layers).map { Array(layerKL.values[($0 * n)..<(($0 + 1) * n)]) },
            iwae: (0..<counts.count).map { Array(iwae.values[($0 * n)..<(($0 + 1) * n)]) },
            logDensity: logDensity, effectiveSampleSize: effectiveSampleSize, sandwich: sandwich)
    }
}
