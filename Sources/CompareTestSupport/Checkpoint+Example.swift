import Core
import Store

extension Checkpoint {
    /// A small, fully populated checkpoint with known values, for interoperability checks
    /// (`compare-fixtures example-checkpoint`, `scripts/interop_check.py`).
    ///
    /// - `/parameters/encoder/layers/0/weight`: [3, 2], values 0.5 · i for i = 0…5
    /// - `/parameters/encoder/layers/0/bias`: [3], values −1, 0, 1
    /// - `/parameters/decoder/scale`: [] (scalar) 2.5
    /// - Adam moments: first = 0.1 · parameter, second = 0.01 · parameter², `step` 7
    /// - `/generator`: uint64 [4] = [1, 2, 3, 4]
    /// - `/history`: `step` [0, 1, 2], `loss` [3, 2, 1.5], `test_elbo` [−3, −2.5, −2.25]
    /// - `/evaluation`: `elbo` [4] = [−1, −2, −3, −4], attribute `samples` = 10
    /// - root: model `example`, config `{"hidden":[3],"latent":2}`, seed 7, step 3
    public static func example(datasetPath: String = "Datasets/gmm2d.h5", datasetHash: String = String(repeating: "0", count: 64)) -> Checkpoint {
        let parameters = [
            NamedTensor(key: "encoder.layers.0.weight", shape: [3, 2], values: (0..<6).map { Float($0) * 0.5 }),
            NamedTensor(key: "encoder.layers.0.bias", shape: [3], values: [-1, 0, 1]),
            NamedTensor(key: "decoder.scale", shape: [], values: [2.5]),
        ]
        let first = parameters.map { NamedTensor(key: $0.key, shape: $0.shape, values: $0.values.map { 0.1 * $0 }) }
        let second = parameters.map { NamedTensor(key: $0.key, shape: $0.shape, values: $0.values.map { 0.01 * $0 * $0 }) }
        return Checkpoint(
            model: "example", config: #"{"hidden":[3],"latent":2}"#, datasetPath: datasetPath,
            datasetHash: datasetHash, seed: 7, step: 3, parameters: parameters,
            optimizer: OptimizerState(step: 7, firstMoment: first, secondMoment: second),
            generatorState: [1, 2, 3, 4],
            history: [
                HistoryColumn(name: "step", values: [0, 1, 2]),
                HistoryColumn(name: "loss", values: [3, 2, 1.5]),
                HistoryColumn(name: "test_elbo", values: [-3, -2.5, -2.25]),
            ],
            evaluation: EvaluationRecord(
                arrays: [NamedArray(name: "elbo", shape: [4], values: [-1, -2, -3, -4])],
                attributes: ["samples": .integer(10)]),
            attributes: ["created_by": .string("compare-fixtures example-checkpoint")])
    }

    /// Writes ``example(datasetPath:datasetHash:)`` to `path` atomically.
    public static func writeExample(to path: String, datasetPath: String = "Datasets/gmm2d.h5", datasetHash: String = String(repeating: "0", count: 64)) throws {
        try example(datasetPath: datasetPath, datasetHash: datasetHash).write(to: path)
    }
}
