import Core

extension Checkpoint {
    /// Writes the checkpoint to `path` atomically: `path.tmp` is written, closed and renamed
    /// over `path`; on failure the temporary file is removed and the old checkpoint survives.
    ///
    /// - Throws: ``StoreError`` for invalid keys (empty parts, `/`), a key that is a prefix
    ///   of another (`a.b` and `a.b.c`), duplicate keys, values that do not fill their shape,
    ///   optimizer moments whose keys or shapes differ from the parameters', history columns
    ///   of unequal length, or any HDF5 failure.
    public func write(to path: String) throws {
        try validate(path: path)
        try HDF5File.writeAtomically(to: path) { file in
            try file.createGroup("/parameters")
            for tensor in parameters {
                try file.write(tensor.values, shape: tensor.shape, to: ParameterKey.path(tensor.key, under: "/parameters"))
            }
            if let optimizer {
                try file.createGroup("/optimizer/first_moment")
                try file.createGroup("/optimizer/second_moment")
                for tensor in optimizer.firstMoment {
                    try file.write(tensor.values, shape: tensor.shape,
                                   to: ParameterKey.path(tensor.key, under: "/optimizer/first_moment"))
                }
                for tensor in optimizer.secondMoment {
                    try file.write(tensor.values, shape: tensor.shape,
                                   to: ParameterKey.path(tensor.key, under: "/optimizer/second_moment"))
                }
                try file.setAttribute("step", to: .integer(Int64(optimizer.step)), at: "/optimizer")
                try file.setAttribute("algorithm", to: .string("adam"), at: "/optimizer")
            }
            if let generatorState {
                try file.write(generatorState, shape: [generatorState.count], to: "/generator")
                try file.setAttribute("algorithm", to: .string("xoshiro256** (state words s0..s3)"), at: "/generator")
            }
            try file.createGroup("/history")
            for column in history {
                try file.write(column.values, shape: [column.values.count], to: "/history/\(column.name)")
            }
            if let evaluation { try Self.writeEvaluation(evaluation, into: file) }

            var rootAttributes = attributes
            rootAttributes["format"] = .string(Self.format)
            rootAttributes["format_version"] = .integer(Int64(Self.formatVersion))
            rootAttributes["model"] = .string(model)
            rootAttributes["config"] = .string(config)
            rootAttributes["dataset"] = .string(datasetPath)
            if let datasetAbsolutePath { rootAttributes["dataset_absolute"] = .string(datasetAbsolutePath) }
            rootAttributes["dataset_hash"] = .string(datasetHash)
            rootAttributes["seed"] = .unsignedInteger(seed)
            rootAttributes["step"] = .integer(Int64(step))
            for name in rootAttributes.keys.sorted() {
                try file.setAttribute(name, to: rootAttributes[name]!)
            }
        }
    }

    static func writeEvaluation(_ evaluation: EvaluationRecord, into file: HDF5File) throws {
        try file.createGroup("/evaluation")
        for array in evaluation.arrays {
            guard !array.name.isEmpty, !array.name.split(separator: "/").isEmpty else {
                throw file.error("/evaluation", "an evaluation array has an empty name")
            }
            try file.write(array.values, shape: array.shape, to: "/evaluation/\(array.name)")
        }
        for name in evaluation.attributes.keys.sorted() {
            try file.setAttribute(name, to: evaluation.attributes[name]!, at: "/evaluation")
        }
    }

    /// Replaces the `/evaluation` group of the checkpoint at `path` (atomically: the file is
    /// read, changed and rewritten through `path.tmp`).
    public static func updateEvaluation(at path: String, with evaluation: EvaluationRecord) throws {
        var checkpoint = try read(from: path)
        checkpoint.evaluation = evaluation
        try checkpoint.write(to: path)
    }

    private func validate(path: String) throws {
        func fail(_ object: String?, _ cause: String) -> StoreError {
            StoreError(file: path, object: object, cause: cause)
        }
        try Self.validateTensors(parameters, group: "/parameters", path: path)
        if let optimizer {
            let expected = parameters.map(\.specification)
            for (group, moments) in [("/optimizer/first_moment", optimizer.firstMoment),
                                     ("/optimizer/second_moment", optimizer.secondMoment)] {
                try Self.validateTensors(moments, group: group, path: path)
                guard moments.map(\.specification) == expected else {
                    throw fail(group, "keys or shapes differ from /parameters")
                }
            }
        }
        if let generatorState, generatorState.count != 4 || generatorState.allSatisfy({ $0 == 0 }) {
            throw fail("/generator", "expected four state words, not all zero")
        }
        if let first = history.first {
            for column in history {
                guard !column.name.isEmpty, !column.name.contains("/") else {
                    throw fail("/history", "invalid column name '\(column.name)'")
                }
                guard column.values.count == first.values.count else {
                    throw fail("/history/\(column.name)", "has \(column.values.count) rows, /history/\(first.name) has \(first.values.count)")
                }
            }
            guard Set(history.map(\.name)).count == history.count else { throw fail("/history", "duplicate column names") }
        }
    }

    static func validateTensors(_ tensors: [NamedTensor], group: String, path: String) throws {
        var seen = Set<String>()
        for tensor in tensors {
            try ParameterKey.validate(tensor.key, file: path)
            let object = ParameterKey.path(tensor.key, under: group)
            guard tensor.shape.allSatisfy({ $0 >= 0 }), tensor.values.count == tensor.shape.reduce(1, *) else {
                throw StoreError(file: path, object: object, cause: "\(tensor.values.count) values do not fill shape \(tensor.shape)")
            }
            guard seen.insert(tensor.key).inserted else {
                throw StoreError(file: path, object: object, cause: "duplicate key '\(tensor.key)'")
            }
        }
        // `a.b` and `a.b.c` cannot both exist: `a/b` would be a dataset and a group.
        for key in seen {
            var prefix = ""
            for component in key.split(separator: ".").dropLast() {
                prefix += prefix.isEmpty ? String(component) : "." + component
                if seen.contains(prefix) {
                    throw StoreError(file: path, object: ParameterKey.path(key, under: group),
                                     cause: "key '\(prefix)' is a prefix of '\(key)'; one cannot be both a tensor and a group")
                }
            }
        }
    }
}
