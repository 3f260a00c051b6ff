/// The value of an HDF5 attribute, as this module writes and reads it.
///
/// | case | HDF5 type written | NumPy view in h5py |
/// |---|---|---|
/// | `string` | variable-length UTF-8 string, scalar | `str` |
/// | `integer` | 64-bit signed integer, scalar | `numpy.int64` |
/// | `unsignedInteger` | 64-bit unsigned integer, scalar | `numpy.uint64` |
/// | `double` | 64-bit float, scalar | `numpy.float64` |
/// | `integers` | 64-bit signed integers, 1-D | `numpy.ndarray` of int64 |
/// | `doubles` | 64-bit floats, 1-D | `numpy.ndarray` of float64 |
///
/// Reading is lenient: any integer width reads as `integer` (or `unsignedInteger` for
/// unsigned 64-bit), any float width as `double`, fixed- or variable-length strings as
/// `string`; a 1-D space (even of length one) reads as the array cases.
public enum AttributeValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case unsignedInteger(UInt64)
    case double(Double)
    case integers([Int64])
    case doubles([Double])

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value as an `Int`, if it is an integer (or a one-element integer array).
    public var integerValue: Int? {
        switch self {
        case .integer(let value): return Int(exactly: value)
        case .unsignedInteger(let value): return Int(exactly: value)
        case .integers(let values) where values.count == 1: return Int(exactly: values[0])
        default: return nil
        }
    }

    /// The value as a `UInt64`, if it is a non-negative integer.
    public var unsignedIntegerValue: UInt64? {
        switch self {
        case .integer(let value): return UInt64(exactly: value)
        case .unsignedInteger(let value): return value
        case .integers(let values) where values.count == 1: return UInt64(exactly: values[0])
        default: return nil
        }
    }

    /// The value as a `Double`, if it is numeric and scalar.
    public var doubleValue: Double? {
        switch self {
        case .double(let value): return value
        case .integer(let value): return Double(value)
        case .unsignedInteger(let value): return Double(value)
        case .doubles(let values) where values.count == 1: return values[0]
        case .integers(let values) where values.count == 1: return Double(values[0])
        default: return nil
        }
    }

    /// The value as `[Int]`, if it is an integer or integer array.
    public var integerArray: [Int]? {
        switch self {
        case .integers(let values):
            let converted = values.compactMap { Int(exactly: $0) }
            return converted.count == values.count ? converted : nil
        case .integer, .unsignedInteger: return integerValue.map { [$0] }
        default: return nil
        }
    }

    /// The value as `[Double]`, if it is numeric.
    public var doubleArray: [Double]? {
        switch self {
        case .doubles(let values): return values
        case .integers(let values): return values.map(Double.init)
        case .double, .integer, .unsignedInteger: return doubleValue.map { [$0] }
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .string(let value): return value
        case .integer(let value): return String(value)
        case .unsignedInteger(let value): return String(value)
        case .double(let value): return String(value)
        case .integers(let values): return "[" + values.map(String.init).joined(separator: ", ") + "]"
        case .doubles(let values): return "[" + values.map { String($0) }.joined(separator: ", ") + "]"
        }
    }
}
