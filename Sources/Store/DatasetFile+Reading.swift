import Core
import Foundation

extension DatasetFile {
    /// The most levels a discrete dataset may declare (16-bit data); more is damage, and would
    /// make every per-level loop (the discretized KL) unbounded.
    public static let maximumLevels = 65_536

    /// Reads and validates a dataset file, converting the splits to the model's scale
    /// (see ``LoadedDataset``).
    ///
    /// Each of these is a ``StoreError`` with one line naming the file and the object:
    /// missing file, not HDF5, damaged file; missing `/train` or `/test`; rank ≠ 2; element
    /// type other than float32 or uint8, or different between the splits; different D in the
    /// splits; an empty split; NaN or ±∞; a missing or unknown `likelihood`; `discrete` without
    /// `levels` ≥ 2 (or above ``maximumLevels``) or with a value ≥ levels (uint8) or outside
    /// [−1, 1] by more than half a level (float32: the model's scale); `binary` values other
    /// than 0 and 1; a `shape` attribute whose product is not D (or overflows); labels or
    /// log-densities whose length is not N; a log-density or density parameter that is NaN or
    /// ±∞; anything but a regular file (a FIFO, a directory, a device), refused before opening.
    public static func read(_ path: String) throws -> LoadedDataset {
        try requireRegularFile(path)
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        let metadata = try readMetadata(file)
        let train = try readSplit(file, "train", metadata)
        let test = try readSplit(file, "test", metadata)

        func perExample<Element: HDF5Element>(_ type: Element.Type, _ object: String, rows: Int) throws -> [Element]? {
            guard file.exists(object) else { return nil }
            let array = try file.read(type, from: object, converting: true)
            guard array.shape.count == 1 else {
                throw file.error(object, "has rank \(array.shape.count) (shape \(array.shape)); expected 1")
            }
            guard array.values.count == rows else {
                throw file.error(object, "has \(array.values.count) entries for \(rows) examples")
            }
            return array.values
        }
        let trainLogDensity = try perExample(Double.self, "/train_log_density", rows: metadata.trainCount)
        let testLogDensity = try perExample(Double.self, "/test_log_density", rows: metadata.testCount)
        for (object, values) in [("/train_log_density", trainLogDensity), ("/test_log_density", testLogDensity)] {
            // log q(x0) of data drawn from q is finite: −∞ (a point q cannot produce) or NaN would
            // make H = −E log q and every KL built on it meaningless.
            if let values, let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw file.error(object, "contains \(values[bad]) at row \(bad); a stored log-density must be finite")
            }
        }
        let densityParameters = try metadata.densityParameterNames.map { name -> NamedArray in
            let array = try file.read(Double.self, from: "/density/\(name)", converting: true)
            if let bad = array.values.firstIndex(where: { !$0.isFinite }) {
                throw file.error("/density/\(name)", "contains \(array.values[bad]) at flat index \(bad); expected finite values")
            }
            return NamedArray(name: name, shape: array.shape, values: array.values)
        }
        return LoadedDataset(
            path: path, metadata: metadata, train: train, test: test,
            trainLabels: try perExample(Int64.self, "/train_labels", rows: metadata.trainCount),
            testLabels: try perExample(Int64.self, "/test_labels", rows: metadata.testCount),
            trainLogDensity: trainLogDensity, testLogDensity: testLogDensity,
            densityParameters: densityParameters)
    }

    /// Reads and checks a dataset file's structure and attributes without its values.
    public static func readMetadata(_ path: String) throws -> DatasetMetadata {
        try requireRegularFile(path)
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        return try readMetadata(file)
    }

    static func readMetadata(_ file: HDF5File) throws -> DatasetMetadata {
        var descriptions: [String: DatasetDescription] = [:]
        for split in ["train", "test"] {
            let object = "/\(split)"
            switch try file.kind(of: object) {
            case nil: throw file.error(object, "missing; a dataset file needs /train and /test")
            case .group: throw file.error(object, "is a group; expected a float32 or uint8 [N, D] dataset")
            case .other: throw file.error(object, "is not a dataset")
            case .dataset: break
            }
            let description = try file.describeDataset(object)
            guard description.shape.count == 2 else {
                throw file.error(object, "has rank \(description.shape.count) (shape \(description.shape)); expected 2: [N, D]")
            }
            guard description.elementType == .float32 || description.elementType == .uint8 else {
                throw file.error(object, "stored as \(description.typeName); expected float32 or uint8")
            }
            guard description.shape[0] > 0 else { throw file.error(object, "empty split (0 examples)") }
            guard description.shape[1] > 0 else { throw file.error(object, "empty examples (D = 0)") }
            descriptions[split] = description
        }
        let train = descriptions["train"]!, test = descriptions["test"]!
        guard train.shape[1] == test.shape[1] else {
            throw file.error("/test", "has D = \(test.shape[1]) but /train has D = \(train.shape[1])")
        }
        guard train.elementType == test.elementType else {
            throw file.error("/test", "stored as \(test.typeName) but /train as \(train.typeName)")
        }
        let dimension = train.shape[1]

        var attributes: [String: AttributeValue] = [:]
        for name in try file.attributeNames() {
            // Attributes of types this module does not read are skipped, not fatal.
            if let value = try? file.attribute(name) { attributes[name] = value }
        }
        func root(_ name: String) -> String { attributeObjectName(name, of: "/") }

        guard let likelihoodValue = attributes["likelihood"] else {
            throw file.error(root("likelihood"), "missing; expected one of continuous, binary, discrete")
        }
        guard let likelihoodName = likelihoodValue.stringValue, let likelihood = Likelihood.Family(rawValue: likelihoodName) else {
            throw file.error(root("likelihood"), "unknown value '\(likelihoodValue)'; expected one of continuous, binary, discrete")
        }
        var levels: Int?
        if let value = attributes["levels"] {
            guard let number = value.integerValue else {
                throw file.error(root("levels"), "is '\(value)'; expected an integer")
            }
            levels = number
        }
        switch likelihood {
        case .discrete:
            guard let count = levels else { throw file.error(root("levels"), "missing; discrete data needs levels") }
            guard count >= 2 else { throw file.error(root("levels"), "is \(count); expected at least 2") }
            guard count <= maximumLevels else {
                throw file.error(root("levels"), "is \(count); expected at most \(maximumLevels)")
            }
            if train.elementType == .uint8, count > 256 {
                throw file.error(root("levels"), "is \(count); uint8 data has at most 256 levels")
            }
        case .binary:
            levels = 2
        case .continuous:
            if train.elementType == .uint8 {
                throw file.error("/train", "stored as uint8 with likelihood continuous; expected float32, or likelihood discrete or binary")
            }
            levels = nil
        }
        var exampleShape = [dimension]
        if let value = attributes["shape"] {
            guard let shape = value.integerArray, !shape.isEmpty, shape.count <= 32, shape.allSatisfy({ $0 > 0 }) else {
                throw file.error(root("shape"), "is '\(value)'; expected 1 to 32 positive integers")
            }
            // The product of stored extents can overflow Int: check it, never trap.
            var product = 1
            for extent in shape {
                let (next, overflow) = product.multipliedReportingOverflow(by: extent)
                guard !overflow else {
                    throw file.error(root("shape"), "is \(shape), whose product overflows, but /train has D = \(dimension)")
                }
                product = next
            }
            guard product == dimension else {
                throw file.error(root("shape"), "is \(shape) (\(product) values) but /train has D = \(dimension)")
            }
            exampleShape = shape
        }
        let name = attributes["name"]?.stringValue
            ?? ((file.path as NSString).lastPathComponent as NSString).deletingPathExtension
        var densityFamily: String?
        var densityNames: [String] = []
        if try file.kind(of: "/density") == .group {
            densityFamily = (try? file.attribute("family", at: "/density"))??.stringValue
            densityNames = try file.datasetPaths(under: "/density")
        }
        let hasTrainDensity = file.exists("/train_log_density")
        let hasTestDensity = file.exists("/test_log_density")
        if hasTrainDensity != hasTestDensity {
            throw file.error(hasTrainDensity ? "/test_log_density" : "/train_log_density",
                             "missing, but the other split has a log-density")
        }
        return DatasetMetadata(
            name: name, likelihood: likelihood, levels: levels, exampleShape: exampleShape,
            dimension: dimension, trainCount: train.shape[0], testCount: test.shape[0],
            storedElementType: train.elementType!, hasKnownDensity: hasTrainDensity,
            hasLabels: file.exists("/train_labels") && file.exists("/test_labels"),
            source: attributes["source"]?.stringValue ?? "unknown",
            license: attributes["license"]?.stringValue ?? "unknown",
            attributes: attributes, densityFamily: densityFamily, densityParameterNames: densityNames)
    }

    /// Reads one split and brings it to the model's scale, checking every value.
    private static func readSplit(_ file: HDF5File, _ split: String, _ metadata: DatasetMetadata) throws -> [Float] {
        let object = "/\(split)"
        let dimension = metadata.dimension
        switch metadata.storedElementType {
        case .uint8:
            let stored = try file.read(UInt8.self, from: object).values
            let levels = metadata.levels ?? 2
            if let bad = ArrayScan.firstIndex(stored, atLeast: levels) {
                throw file.error(object, "value \(stored[bad]) at row \(bad / dimension), column \(bad % dimension) is not below levels = \(levels)")
            }
            var table = [Float](repeating: 0, count: 256)
            for value in 0..<levels {
                table[value] = metadata.likelihood == .discrete
                    ? Float(value) / Float(levels - 1) * 2 - 1
                    : Float(value)
            }
            return ArrayScan.lookUp(stored, in: table)
        default:
            let values = try file.read(Float.self, from: object).values
            if let bad = ArrayScan.firstNonFinite(values) {
                let kind = values[bad].isNaN ? "NaN" : (values[bad] > 0 ? "+Inf" : "-Inf")
                throw file.error(object, "contains \(kind) at row \(bad / dimension), column \(bad % dimension)")
            }
            if metadata.likelihood == .binary, let bad = ArrayScan.firstNonBinary(values) {
                throw file.error(object, "value \(values[bad]) at row \(bad / dimension) is not 0 or 1 (likelihood binary)")
            }
            if metadata.likelihood == .discrete, let levels = metadata.levels {
                // float32 discrete data are stored on the model's scale, levels −1 + 2k/(levels − 1):
                // a value beyond [−1, 1] by more than half a level belongs to no level.
                let bound = Float(1 + 1 / Double(levels - 1))
                if let bad = firstOutside(values, magnitude: bound) {
                    throw file.error(object, "value \(values[bad]) at row \(bad / dimension), column \(bad % dimension) is outside [-1, 1], the scale of discrete float32 data with levels = \(levels) (store levels 0…\(levels - 1) as uint8)")
                }
            }
            return values
        }
    }

    /// The index of the first value whose magnitude exceeds `magnitude` (or NaN), if any; a
    /// plain loop, fast in debug builds too (see ``ArrayScan``).
    private static func firstOutside(_ values: [Float], magnitude: Float) -> Int? {
        values.withUnsafeBufferPointer { buffer in
            var index = 0
            let count = buffer.count
            while index < count {
                if !(abs(buffer[index]) <= magnitude) { return index }
                index += 1
            }
            return nil
        }
    }
}
