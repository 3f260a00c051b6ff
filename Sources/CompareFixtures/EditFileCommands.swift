import ArgumentParser
import Foundation
import Store

/// `compare-fixtures edit-attribute FILE --out COPY --name NAME [--at OBJECT] (--integer V | …)`:
/// writes a copy of an HDF5 file (a checkpoint or a dataset) with one attribute set, replaced or
/// deleted, everything else as it was, so command-line tests can hand `compare` edited files.
struct EditAttributeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit-attribute",
        abstract: "Copy an HDF5 file with one attribute set, replaced or deleted (for tests).")

    @Argument(help: "The file to copy.")
    var file: String

    @Option(help: "The copy to write.")
    var out: String

    @Option(help: "The attribute's name.")
    var name: String

    @Option(help: "The object that carries it (default: the root).")
    var at: String = "/"

    @Option(help: "A signed 64-bit integer value.")
    var integer: Int64?

    @Option(help: "An unsigned 64-bit integer value.")
    var unsigned: UInt64?

    @Option(help: "A float64 value (nan, inf and -inf allowed).")
    var double: String?

    @Option(help: "A string value.")
    var string: String?

    @Option(help: "A 1-D int64 array, comma-separated.")
    var integers: String?

    @Option(help: "A 1-D float64 array, comma-separated.")
    var doubles: String?

    @Flag(help: "Delete the attribute instead.")
    var delete = false

    func run() throws {
        try failOnError {
            var values: [AttributeValue] = []
            if let integer { values.append(.integer(integer)) }
            if let unsigned { values.append(.unsignedInteger(unsigned)) }
            if let double { values.append(.double(try parseDouble(double))) }
            if let string { values.append(.string(string)) }
            if let integers {
                values.append(.integers(try integers.split(separator: ",").map { word in
                    guard let number = Int64(word.trimmingCharacters(in: .whitespaces)) else { throw FixtureError("--integers: '\(word)' is not an integer") }
                    return number
                }))
            }
            if let doubles { values.append(.doubles(try doubles.split(separator: ",").map { try parseDouble(String($0)) })) }
            guard values.count + (delete ? 1 : 0) == 1 else {
                throw FixtureError("give exactly one of --integer, --unsigned, --double, --string, --integers, --doubles, --delete")
            }
            try copyHDF5(from: file, to: out, attribute: (object: normalized(at), name: name, value: values.first))
            print("wrote \(out)")
        }
    }
}

/// `compare-fixtures edit-array FILE --out COPY --object PATH --values V,… [--shape N,…]`: writes
/// a copy of an HDF5 file with the dataset at PATH replaced (same element type; its shape kept
/// when the count fits, else `--shape` or one axis), e.g. `/evaluation/sample_counts`,
/// `/evaluation/elbo`, `/test_log_density` or `/train`.
struct EditArrayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit-array",
        abstract: "Copy an HDF5 file with one array's values replaced (for tests).")

    @Argument(help: "The file to copy.")
    var file: String

    @Option(help: "The copy to write.")
    var out: String

    @Option(help: "The array to replace, e.g. /evaluation/sample_counts.")
    var object: String

    @Option(help: "The new values, comma-separated (nan, inf and -inf allowed).")
    var values: String

    @Option(help: "The new shape, comma-separated (default: the old one if the count fits).")
    var shape: String?

    func run() throws {
        try failOnError {
            let numbers = try values.split(separator: ",").map { try parseDouble(String($0)) }
            let newShape = try shape.map { text in
                try text.split(separator: ",").map { word -> Int in
                    guard let extent = Int(word), extent >= 0 else { throw FixtureError("--shape: '\(word)' is not an extent") }
                    return extent
                }
            }
            try copyHDF5(from: file, to: out, array: (object: normalized(object), values: numbers, shape: newShape))
            print("wrote \(out)")
        }
    }
}

private func parseDouble(_ text: String) throws -> Double {
    guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else { throw FixtureError("'\(text)' is not a number") }
    return value
}

private func normalized(_ object: String) -> String {
    let trimmed = object.split(separator: "/").joined(separator: "/")
    return "/" + trimmed
}

/// Copies every group, dataset and attribute of `source` into a new file `destination`,
/// replacing one attribute or one array on the way.
private func copyHDF5(
    from source: String, to destination: String,
    attribute edit: (object: String, name: String, value: AttributeValue?)? = nil,
    array replacement: (object: String, values: [Double], shape: [Int]?)? = nil
) throws {
    let input = try HDF5File.open(source)
    defer { try? input.close() }
    var replaced = false, attributeDone = false
    try HDF5File.writeAtomically(to: destination) { output in
        func copyAttributes(of object: String) throws {
            for name in try input.attributeNames(at: object) {
                if let edit, edit.object == object, edit.name == name { continue }
                if let value = try input.attribute(name, at: object) { try output.setAttribute(name, to: value, at: object) }
            }
            if let edit, edit.object == object {
                if let value = edit.value { try output.setAttribute(edit.name, to: value, at: object) }
                attributeDone = true
            }
        }
        func copyDataset(_ path: String) throws {
            let description = try input.describeDataset(path)
            guard let type = description.elementType else { throw FixtureError("\(path): cannot copy type \(description.typeName)") }
            if let replacement, replacement.object == path {
                replaced = true
                let values = replacement.values
                let shape = replacement.shape ?? (values.count == description.shape.reduce(1, *) ? description.shape : [values.count])
                switch type {
                case .float32: try output.write(values.map { Float($0) }, shape: shape, to: path)
                case .float64: try output.write(values, shape: shape, to: path)
                default:
                    let integers = try values.map { value -> Int64 in
                        guard let number = Int64(exactly: value) else { throw FixtureError("\(path): \(value) is not an integer") }
                        return number
                    }
                    switch type {
                    case .uint8: try output.write(try integers.map { n -> UInt8 in
                        guard let byte = UInt8(exactly: n) else { throw FixtureError("\(path): \(n) is not a byte") }
                        return byte }, shape: shape, to: path)
                    case .int32: try output.write(integers.map { Int32(clamping: $0) }, shape: shape, to: path)
                    case .uint64: try output.write(integers.map { UInt64(clamping: $0) }, shape: shape, to: path)
                    default: try output.write(integers, shape: shape, to: path)
                    }
                }
            } else {
                switch type {
                case .float32: try output.write(try input.read(Float.self, from: path), to: path)
                case .float64: try output.write(try input.read(Double.self, from: path), to: path)
                case .uint8: try output.write(try input.read(UInt8.self, from: path), to: path)
                case .int32: try output.write(try input.read(Int32.self, from: path), to: path)
                case .int64: try output.write(try input.read(Int64.self, from: path), to: path)
                case .uint64: try output.write(try input.read(UInt64.self, from: path), to: path)
                }
            }
            try copyAttributes(of: path)
        }
        func visit(_ group: String) throws {
            for child in try input.children(of: group) {
                let path = group == "/" ? "/" + child : group + "/" + child
                switch try input.kind(of: path) {
                case .group?:
                    try output.createGroup(path)
                    try copyAttributes(of: path)
                    try visit(path)
                case .dataset?: try copyDataset(path)
                default: break
                }
            }
        }
        try visit("/")
        try copyAttributes(of: "/")
        if replacement != nil, !replaced { throw FixtureError("\(source): no array \(replacement!.object)") }
        if edit != nil, !attributeDone { throw FixtureError("\(source): no object \(edit!.object)") }
    }
}
