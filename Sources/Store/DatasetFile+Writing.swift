extension DatasetFile {
    /// Writes `contents` to `path` atomically (see ``HDF5File/writeAtomically(to:_:)``).
    ///
    /// Checks before writing that both splits fill whole rows of D = ∏ exampleShape values
    /// and are not empty, that labels and log-densities have one entry per example, that all
    /// values are finite, and that `discrete` data has `levels` ≥ 2 with every value below it.
    public static func write(_ contents: DatasetContents, to path: String) throws {
        try validate(contents, path: path)
        try HDF5File.writeAtomically(to: path) { file in
            let dimension = contents.dimension
            for (split, values) in [("train", contents.train), ("test", contents.test)] {
                let rows = values.count / dimension
                switch values {
                case .float32(let numbers): try file.write(numbers, shape: [rows, dimension], to: "/\(split)")
                case .uint8(let numbers): try file.write(numbers, shape: [rows, dimension], to: "/\(split)")
                }
            }
            if let labels = contents.trainLabels { try file.write(labels, shape: [labels.count], to: "/train_labels") }
            if let labels = contents.testLabels { try file.write(labels, shape: [labels.count], to: "/test_labels") }
            if let density = contents.trainLogDensity {
                try file.write(density, shape: [density.count], to: "/train_log_density")
            }
            if let density = contents.testLogDensity {
                try file.write(density, shape: [density.count], to: "/test_log_density")
            }
            if !contents.densityParameters.isEmpty || contents.densityFamily != nil {
                try file.createGroup("/density")
                for parameter in contents.densityParameters {
                    try file.write(parameter.values, shape: parameter.shape, to: "/density/\(parameter.name)")
                }
                if let family = contents.densityFamily {
                    try file.setAttribute("family", to: .string(family), at: "/density")
                }
                if let formula = contents.densityFormula {
                    try file.setAttribute("formula", to: .string(formula), at: "/density")
                }
            }
            for name in contents.integerArrays.keys.sorted() {
                let values = contents.integerArrays[name]!
                try file.write(values, shape: [values.count], to: "/\(name)")
            }

            var attributes = contents.attributes
            attributes["format"] = .string(format)
            attributes["format_version"] = .integer(Int64(formatVersion))
            attributes["name"] = .string(contents.name)
            attributes["likelihood"] = .string(contents.likelihood.rawValue)
            if let levels = contents.levels ?? (contents.likelihood == .binary ? 2 : nil) {
                attributes["levels"] = .integer(Int64(levels))
            }
            attributes["shape"] = .integers(contents.exampleShape.map { Int64($0) })
            attributes["dimension"] = .integer(Int64(dimension))
            attributes["source"] = .string(contents.source)
            attributes["license"] = .string(contents.license)
            attributes["known_density"] = .integer(contents.trainLogDensity == nil ? 0 : 1)
            for name in attributes.keys.sorted() {
                try file.setAttribute(name, to: attributes[name]!)
            }
        }
    }

    private static func validate(_ contents: DatasetContents, path: String) throws {
        func fail(_ object: String?, _ cause: String) -> StoreError {
            StoreError(file: path, object: object, cause: cause)
        }
        let dimension = contents.dimension
        guard !contents.exampleShape.isEmpty, dimension > 0 else {
            throw fail(nil, "example shape \(contents.exampleShape) has no values")
        }
        var counts: [String: Int] = [:]
        for (split, values) in [("train", contents.train), ("test", contents.test)] {
            guard values.count > 0 else { throw fail("/\(split)", "empty split") }
            guard values.count % dimension == 0 else {
                throw fail("/\(split)", "\(values.count) values are not whole rows of D = \(dimension)")
            }
            counts[split] = values.count / dimension
            if case .float32(let numbers) = values, let bad = ArrayScan.firstNonFinite(numbers) {
                throw fail("/\(split)", "non-finite value \(numbers[bad]) at row \(bad / dimension)")
            }
            if contents.likelihood != .continuous, case .uint8(let numbers) = values,
               let levels = contents.levels ?? (contents.likelihood == .binary ? 2 : nil),
               let bad = ArrayScan.firstIndex(numbers, atLeast: levels) {
                throw fail("/\(split)", "value \(numbers[bad]) at row \(bad / dimension) is not below levels = \(levels)")
            }
        }
        if contents.likelihood == .continuous, contents.train.elementType == .uint8 {
            throw fail("/train", "uint8 data needs likelihood discrete or binary")
        }
        if contents.likelihood == .binary {
            for (split, values) in [("train", contents.train), ("test", contents.test)] {
                if case .float32(let numbers) = values, let bad = ArrayScan.firstNonBinary(numbers) {
                    throw fail("/\(split)", "value \(numbers[bad]) at row \(bad / dimension) is not 0 or 1 (likelihood binary)")
                }
            }
        }
        if contents.likelihood == .discrete {
            guard let levels = contents.levels, levels >= 2 else {
                throw fail(nil, "discrete data needs levels ≥ 2")
            }
        }
        if contents.train.elementType != contents.test.elementType {
            throw fail("/test", "stored as \(contents.test.elementType), but /train as \(contents.train.elementType)")
        }
        let perExample: [(String, Int?, String)] = [
            ("/train_labels", contents.trainLabels?.count, "train"),
            ("/test_labels", contents.testLabels?.count, "test"),
            ("/train_log_density", contents.trainLogDensity?.count, "train"),
            ("/test_log_density", contents.testLogDensity?.count, "test"),
        ]
        for (object, count, split) in perExample {
            if let count, count != counts[split] {
                throw fail(object, "\(count) entries for \(counts[split]!) examples in /\(split)")
            }
        }
        if (contents.trainLogDensity == nil) != (contents.testLogDensity == nil) {
            throw fail(nil, "log-density given for one split only")
        }
        for (object, density) in [("/train_log_density", contents.trainLogDensity), ("/test_log_density", contents.testLogDensity)] {
            if let density, let bad = density.firstIndex(where: { !$0.isFinite }) {
                throw fail(object, "non-finite log-density \(density[bad]) at row \(bad)")
            }
        }
        for parameter in contents.densityParameters where parameter.values.count != parameter.shape.reduce(1, *) {
            throw fail("/density/\(parameter.name)", "\(parameter.values.count) values do not fill shape \(parameter.shape)")
        }
    }
}
