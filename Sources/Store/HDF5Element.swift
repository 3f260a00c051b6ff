import _CHDF5

/// The numeric element types this module reads and writes, named like NumPy dtypes.
public enum HDF5ElementType: String, CaseIterable, Sendable {
    case float32, float64, uint8, int32, int64, uint64

    /// The in-memory HDF5 type (`H5T_NATIVE_*`).
    var memoryType: hid_t {
        switch self {
        case .float32: return compare_h5_native_float()
        case .float64: return compare_h5_native_double()
        case .uint8: return compare_h5_native_uint8()
        case .int32: return compare_h5_native_int32()
        case .int64: return compare_h5_native_int64()
        case .uint64: return compare_h5_native_uint64()
        }
    }

    /// The little-endian type written to files (what NumPy calls `<f4`, `|u1`, `<i8`, …).
    var fileType: hid_t {
        switch self {
        case .float32: return compare_h5_ieee_f32le()
        case .float64: return compare_h5_ieee_f64le()
        case .uint8: return compare_h5_std_u8le()
        case .int32: return compare_h5_std_i32le()
        case .int64: return compare_h5_std_i64le()
        case .uint64: return compare_h5_std_u64le()
        }
    }

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .uint8: return 1
        case .float32, .int32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// Classifies a stored HDF5 datatype: the matching case, or `nil` with a NumPy-like
    /// description (`int16`, `float16`, `string`, `compound`, …) for anything else.
    static func classify(_ type: hid_t) -> (HDF5ElementType?, String) {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_FLOAT:
            if size == 4 { return (.float32, "float32") }
            if size == 8 { return (.float64, "float64") }
            return (nil, "float\(size * 8)")
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            switch (signed, size) {
            case (false, 1): return (.uint8, "uint8")
            case (true, 4): return (.int32, "int32")
            case (true, 8): return (.int64, "int64")
            case (false, 8): return (.uint64, "uint64")
            default: return (nil, "\(signed ? "int" : "uint")\(size * 8)")
            }
        case H5T_STRING: return (nil, "string")
        case H5T_COMPOUND: return (nil, "compound")
        case H5T_ENUM: return (nil, "enum (boolean?)")
        case H5T_ARRAY: return (nil, "array")
        case H5T_VLEN: return (nil, "variable-length sequence")
        case H5T_OPAQUE: return (nil, "opaque")
        case H5T_REFERENCE: return (nil, "reference")
        case H5T_BITFIELD: return (nil, "bitfield")
        case H5T_TIME: return (nil, "time")
        default: return (nil, "unknown type")
        }
    }
}

/// A Swift scalar type that maps one-to-one onto an HDF5 element type.
public protocol HDF5Element: Sendable {
    static var elementType: HDF5ElementType { get }
}

extension Float: HDF5Element { public static var elementType: HDF5ElementType { .float32 } }
extension Double: HDF5Element { public static var elementType: HDF5ElementType { .float64 } }
extension UInt8: HDF5Element { public static var elementType: HDF5ElementType { .uint8 } }
extension Int32: HDF5Element { public static var elementType: HDF5ElementType { .int32 } }
extension Int64: HDF5Element { public static var elementType: HDF5ElementType { .int64 } }
extension UInt64: HDF5Element { public static var elementType: HDF5ElementType { .uint64 } }

/// A row-major array read from or written to an HDF5 dataset.
///
/// `values.count == shape.reduce(1, *)`; the empty shape `[]` is a scalar (one value).
public struct StoredArray<Element: HDF5Element>: Sendable {
    public var shape: [Int]
    public var values: [Element]

    public init(shape: [Int], values: [Element]) {
        self.shape = shape
        self.values = values
    }
}

/// The shape and stored element type of a dataset, read without its values.
public struct DatasetDescription: Sendable, Equatable {
    /// Extent per axis; `[]` for a scalar dataset.
    public var shape: [Int]
    /// The element type, or `nil` when it is none of ``HDF5ElementType``.
    public var elementType: HDF5ElementType?
    /// A NumPy-like name of the stored type (`float32`, `int16`, `string`, …).
    public var typeName: String

    /// Number of elements, ∏ shape.
    public var elementCount: Int { shape.reduce(1, *) }
}
