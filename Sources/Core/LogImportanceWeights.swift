/// log w_k = log p(x, z_k) − log q(z_k | x) for K draws z_k ~ q(· | x) per example, in Double
/// (docs/math.md#importance-weighted-bound).
public struct LogImportanceWeights: Equatable, Sendable {
    public let samples: Int
    public let batch: Int
    /// Row-major [samples, batch]: `values[k * batch + i]`.
    public var values: [Double]

    public init(samples: Int, batch: Int, values: [Double]) {
        precondition(values.count == samples * batch, "\(values.count) weights for [\(samples), \(batch)]")
        self.samples = samples
        self.batch = batch
        self.values = values
    }

    public subscript(sample k: Int, example i: Int) -> Double { values[k * batch + i] }
}
