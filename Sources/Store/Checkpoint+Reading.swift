import Core

extension Checkpoint {
    /// Reads a checkpoint and checks it against what the caller expects.
    ///
    /// Checks, each failure a one-line ``StoreError`` naming file and object: the file opens
    /// as HDF5; `format` is `compare-checkpoint`; `format_version` is ``formatVersion``; the
    /// required root attributes exist with the right types; `model` matches; the parameter keys
    /// are exactly the expected ones (reporting the first missing and the first unexpected key)
    /// with the expected shapes; every tensor is float32 and finite; the optimizer moments
    /// mirror the parameters; `/generator` holds four words; history columns have equal lengths
    /// and finite values; the training attributes a command reads are in range (see
    /// ``checkTrainingAttributes(_:file:)``); `dataset_absolute`, when present, is a string.
    /// Anything but a regular file is refused before it is opened.
    ///
    /// Parameters come back in the expectation's order, else in the order they were written.
    public static func read(from path: String, expecting expectation: CheckpointExpectation = CheckpointExpectation()) throws -> Checkpoint {
        try requireRegularFile(path)
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        func root(_ name: String) -> String { attributeObjectName(name, of: "/") }
        func requiredString(_ name: String) throws -> String {
            guard let value = try file.attribute(name) else { throw file.error(root(name), "missing") }
            guard let text = value.stringValue else { throw file.error(root(name), "is '\(value)'; expected a string") }
            return text
        }
        func requiredInteger(_ name: String) throws -> AttributeValue {
            guard let value = try file.attribute(name) else { throw file.error(root(name), "missing") }
            guard value.unsignedIntegerValue != nil || value.integerValue != nil else {
                throw file.error(root(name), "is '\(value)'; expected an integer")
            }
            return value
        }

        guard let formatValue = try file.attribute("format") else {
            throw file.error(root("format"), "missing; not a compare checkpoint")
        }
        guard formatValue.stringValue == format else {
            throw file.error(root("format"), "is '\(formatValue)'; expected '\(format)'")
        }
        let version = try requiredInteger("format_version")
        guard version.integerValue == formatVersion else {
            throw file.error(root("format_version"), "is \(version); this program reads version \(formatVersion)")
        }
        let model = try requiredString("model")
        if let expected = expectation.model, expected != model {
            throw file.error(root("model"), "is '\(model)'; expected '\(expected)'")
        }
        let seedValue = try requiredInteger("seed")
        guard let seed = seedValue.unsignedIntegerValue else {
            throw file.error(root("seed"), "is \(seedValue); expected a non-negative integer")
        }
        guard let step = try requiredInteger("step").integerValue, step >= 0 else {
            throw file.error(root("step"), "expected a non-negative integer")
        }

        let parameters = try readTensors(file, group: "/parameters", expected: expectation.parameters)
        var optimizer: OptimizerState?
        if try file.kind(of: "/optimizer") == .group {
            let specifications = parameters.map(\.specification)
            let first = try readTensors(file, group: "/optimizer/first_moment", expected: specifications)
            let second = try readTensors(file, group: "/optimizer/second_moment", expected: specifications)
            guard let stepValue = try file.attribute("step", at: "/optimizer") else {
                throw file.error(attributeObjectName("step", of: "/optimizer"), "missing")
            }
            guard let optimizerStep = stepValue.integerValue, optimizerStep >= 0 else {
                throw file.error(attributeObjectName("step", of: "/optimizer"), "is '\(stepValue)'; expected a non-negative integer")
            }
            optimizer = OptimizerState(step: optimizerStep, firstMoment: first, secondMoment: second)
        } else if expectation.requiresOptimizer {
            throw file.error("/optimizer", "missing; cannot resume without the optimizer state")
        }

        var generatorState: [UInt64]?
        if file.exists("/generator") {
            let words = try file.read(UInt64.self, from: "/generator")
            guard words.shape == [4], words.values.contains(where: { $0 != 0 }) else {
                throw file.error("/generator", "has shape \(words.shape); expected four state words, not all zero")
            }
            generatorState = words.values
        } else if expectation.requiresGenerator {
            throw file.error("/generator", "missing; cannot resume the random stream")
        }

        var history: [HistoryColumn] = []
        if try file.kind(of: "/history") == .group {
            for name in try file.children(of: "/history") {
                let array = try file.read(Double.self, from: "/history/\(name)", converting: true)
                guard array.shape.count == 1 else {
                    throw file.error("/history/\(name)", "has shape \(array.shape); expected one axis")
                }
                if let first = history.first, first.values.count != array.values.count {
                    throw file.error("/history/\(name)", "has \(array.values.count) rows, /history/\(first.name) has \(first.values.count)")
                }
                if let bad = array.values.firstIndex(where: { !$0.isFinite }) {
                    throw file.error("/history/\(name)", "contains \(array.values[bad]) at row \(bad); expected finite values")
                }
                history.append(HistoryColumn(name: name, values: array.values))
            }
        }

        var attributes: [String: AttributeValue] = [:]
        let known: Set<String> = ["format", "format_version", "model", "config", "dataset", "dataset_absolute", "dataset_hash", "seed", "step"]
        for name in try file.attributeNames() where !known.contains(name) {
            if let value = try? file.attribute(name) { attributes[name] = value }
        }
        try checkTrainingAttributes(attributes, file: file)
        var datasetAbsolutePath: String?
        if let value = try file.attribute("dataset_absolute") {
            guard let text = value.stringValue, text.hasPrefix("/") else {
                throw file.error(root("dataset_absolute"), "is '\(value)'; expected an absolute path")
            }
            datasetAbsolutePath = text
        }
        return Checkpoint(
            model: model, config: try requiredString("config"), datasetPath: try requiredString("dataset"),
            datasetHash: try requiredString("dataset_hash"), seed: seed, step: step,
            parameters: parameters, optimizer: optimizer, generatorState: generatorState,
            history: history, evaluation: try readEvaluation(file), attributes: attributes,
            datasetAbsolutePath: datasetAbsolutePath)
    }

    /// The longest training time a checkpoint may claim: 10⁹ s, about 32 years. More is damage
    /// (and would overflow an integer count of seconds when printed).
    public static let maximumTrainingSeconds = 1e9

    /// The root attributes that measure time (seconds; they differ between a resumed run and a
    /// straight one, unlike everything else a checkpoint holds).
    public static let timingAttributes = ["training_seconds", "training_cpu_seconds", "monitoring_seconds", "time_budget_seconds"]

    /// Range checks of the root attributes `train`, `eval` and `report` read as numbers, each
    /// failure one line naming the file and the attribute: the ``timingAttributes`` finite, in
    /// 0 … ``maximumTrainingSeconds``; `training_multiply_adds` and `guarded_outputs` finite and ≥ 0; `pending_loss_sum` finite; `total_steps` ≥ 1;
    /// `pending_loss_count`, `skipped_steps`, `encoder_parameters`, `decoder_parameters`, `latent_layers` ≥ 0
    /// (integers); `test_elbo` and `test_elbo_steps` finite and of equal length. Absent
    /// attributes pass (older checkpoints).
    static func checkTrainingAttributes(_ attributes: [String: AttributeValue], file: HDF5File) throws {
        func root(_ name: String) -> String { attributeObjectName(name, of: "/") }
        for name in timingAttributes {
            guard let value = attributes[name] else { continue }
            guard let seconds = value.doubleValue, seconds.isFinite, seconds >= 0, seconds <= maximumTrainingSeconds else {
                throw file.error(root(name), "is '\(value)'; expected a number of seconds from 0 to \(Int(maximumTrainingSeconds))")
            }
        }
        for name in ["training_multiply_adds", "guarded_outputs"] {
            guard let value = attributes[name] else { continue }
            guard let count = value.doubleValue, count.isFinite, count >= 0 else {
                throw file.error(root(name), "is '\(value)'; expected a count ≥ 0")
            }
        }
        if let value = attributes["pending_loss_sum"] {
            guard let sum = value.doubleValue, sum.isFinite else {
                throw file.error(root("pending_loss_sum"), "is '\(value)'; expected a finite number")
            }
        }
        for (name, minimum) in [("total_steps", 1), ("pending_loss_count", 0), ("skipped_steps", 0), ("encoder_parameters", 0),
                                ("decoder_parameters", 0), ("latent_layers", 0)] {
            guard let value = attributes[name] else { continue }
            guard let number = value.integerValue, number >= minimum else {
                throw file.error(root(name), "is '\(value)'; expected an integer ≥ \(minimum)")
            }
        }
        var lengths: [String: Int] = [:]
        for name in ["test_elbo_steps", "test_elbo"] {
            guard let value = attributes[name] else { continue }
            guard let values = value.doubleArray else {
                throw file.error(root(name), "is '\(value)'; expected numbers")
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw file.error(root(name), "holds \(values[bad]) at index \(bad); expected finite numbers")
            }
            lengths[name] = values.count
        }
        if let steps = lengths["test_elbo_steps"], let values = lengths["test_elbo"], steps != values {
            throw file.error(root("test_elbo"), "has \(values) values for \(steps) test_elbo_steps")
        }
    }

    /// The `/evaluation` group of the checkpoint at `path`, or `nil` if it has none.
    public static func readEvaluation(from path: String) throws -> EvaluationRecord? {
        try requireRegularFile(path)
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        return try readEvaluation(file)
    }

    static func readEvaluation(_ file: HDF5File) throws -> EvaluationRecord? {
        guard let kind = try file.kind(of: "/evaluation") else { return nil }
        guard kind == .group else { throw file.error("/evaluation", "is not a group") }
        var record = EvaluationRecord()
        for name in try file.datasetPaths(under: "/evaluation") {
            let array = try file.read(Double.self, from: "/evaluation/\(name)", converting: true)
            record.arrays.append(NamedArray(name: name, shape: array.shape, values: array.values))
        }
        for name in try file.attributeNames(at: "/evaluation") {
            if let value = try file.attribute(name, at: "/evaluation") { record.attributes[name] = value }
        }
        return record
    }

    /// Reads every tensor under `group`; with `expected`, checks keys and shapes and
    /// returns the tensors in that order.
    static func readTensors(_ file: HDF5File, group: String, expected: [TensorSpecification]?) throws -> [NamedTensor] {
        switch try file.kind(of: group) {
        case .group: break
        case nil: throw file.error(group, "missing")
        default: throw file.error(group, "is not a group")
        }
        let keys = try file.datasetPaths(under: group).map(ParameterKey.key(fromRelativePath:))
        var order = keys
        if let expected {
            let expectedKeys = expected.map(\.key)
            let present = Set(keys)
            if let missing = expectedKeys.first(where: { !present.contains($0) }) {
                throw file.error(ParameterKey.path(missing, under: group), "missing (expected \(expected.count) tensors, found \(keys.count))")
            }
            let wanted = Set(expectedKeys)
            if let extra = keys.first(where: { !wanted.contains($0) }) {
                throw file.error(ParameterKey.path(extra, under: group), "unexpected key '\(extra)' (not part of this model)")
            }
            order = expectedKeys
        }
        let shapes = Dictionary(uniqueKeysWithValues: (expected ?? []).map { ($0.key, $0.shape) })
        return try order.map { key in
            let object = ParameterKey.path(key, under: group)
            let description = try file.describeDataset(object)
            if let shape = shapes[key], shape != description.shape {
                throw file.error(object, "has shape \(description.shape); expected \(shape)")
            }
            let array = try file.read(Float.self, from: object)
            if let bad = array.values.firstIndex(where: { !$0.isFinite }) {
                throw file.error(object, "contains \(array.values[bad]) at flat index \(bad)")
            }
            return NamedTensor(key: key, shape: array.shape, values: array.values)
        }
    }
}
