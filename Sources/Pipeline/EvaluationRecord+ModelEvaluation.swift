import Evaluation
import Foundation
import Store

// The `/evaluation` group of a checkpoint: what `compare eval` writes and `compare report` reads.

extension EvaluationRecord {
    /// The layout of `/evaluation`: per-example float64 arrays `elbo`, `reconstruction`,
    /// `layer_kl` [layers, n], `iwae` [len(K), n], `sample_counts` [len(K)], `log_density` (known
    /// densities); attributes `examples`, `seed`, `command`, `layer_names` (JSON list).
    public init(evaluation e: ModelEvaluation, seed: UInt64, command: String) {
        var arrays = [
            NamedArray(name: "elbo", shape: [e.exampleCount], values: e.elbo),
            NamedArray(name: "reconstruction", shape: [e.exampleCount], values: e.reconstruction),
            NamedArray(name: "layer_kl", shape: [e.layerKL.count, e.exampleCount], values: e.layerKL.flatMap { $0 }),
            NamedArray(name: "iwae", shape: [e.sampleCounts.count, e.exampleCount], values: e.iwae.flatMap { $0 }),
            NamedArray(name: "sample_counts", shape: [e.sampleCounts.count], values: e.sampleCounts.map(Double.init)),
        ]
        if let logDensity = e.logDensity { arrays.append(NamedArray(name: "log_density", shape: [e.exampleCount], values: logDensity)) }
        let names = String(decoding: (try? JSONEncoder().encode(e.layerNames)) ?? Data("[]".utf8), as: UTF8.self)
        self.init(arrays: arrays, attributes: [
            "examples": .integer(Int64(e.exampleCount)),
            "dimension": .integer(Int64(e.dataDimension)),
            "seed": .unsignedInteger(seed),
            "command": .string(command),
            "layer_names": .string(names),
        ])
    }

    /// The evaluation stored by ``init(evaluation:seed:command:)``.
    public func modelEvaluation(path: String) throws -> ModelEvaluation {
        func array(_ name: String) throws -> NamedArray {
            guard let a = self.array(named: name) else { throw PipelineError("\(path): /evaluation/\(name) is missing; run `compare eval \(path)` again") }
            return a
        }
        let elbo = try array("elbo").values
        let n = elbo.count
        let reconstruction = try array("reconstruction").values
        let layerKL = try array("layer_kl")
        let iwae = try array("iwae")
        let counts = try array("sample_counts").values.map { Int($0) }
        guard n > 0, reconstruction.count == n, layerKL.shape.count == 2, layerKL.shape[1] == n,
              iwae.shape == [counts.count, n], !counts.isEmpty else {
            throw PipelineError("\(path): /evaluation arrays have inconsistent shapes; run `compare eval \(path)` again")
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
            logDensity: self.array(named: "log_density")?.values)
    }
}

