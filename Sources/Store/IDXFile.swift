/// The IDX format of (Fashion-)MNIST: a big-endian header, then unsigned bytes.
///
/// | file | magic | header | body |
/// |---|---|---|---|
/// | images | 2051 (0x00000803) | count, rows, columns (uint32 each) | count · rows · columns bytes |
/// | labels | 2049 (0x00000801) | count (uint32) | count bytes |
public enum IDXFile {
    /// Magic number of an IDX file of unsigned-byte images (rank 3).
    public static let imagesMagic: UInt32 = 2051
    /// Magic number of an IDX file of unsigned-byte labels (rank 1).
    public static let labelsMagic: UInt32 = 2049

    /// Images from IDX bytes: `pixels` is [count, rows · columns], row-major.
    public struct Images: Sendable {
        public var count: Int
        public var rows: Int
        public var columns: Int
        public var pixels: [UInt8]
    }

    /// Parses an images file (magic 2051), already decompressed.
    ///
    /// - Parameter path: used in error messages only.
    public static func parseImages(_ bytes: [UInt8], path: String) throws -> Images {
        try checkMagic(bytes, expected: imagesMagic, kind: "images", path: path)
        guard bytes.count >= 16 else {
            throw StoreError(file: path, cause: "IDX images header is cut short (\(bytes.count) of 16 bytes)")
        }
        let count = Int(word(bytes, at: 4)), rows = Int(word(bytes, at: 8)), columns = Int(word(bytes, at: 12))
        // Three 32-bit extents can overflow Int when multiplied: such a header promises too much.
        let (area, overflow1) = rows.multipliedReportingOverflow(by: columns)
        let (pixels, overflow2) = count.multipliedReportingOverflow(by: area)
        let tooMany = overflow1 || overflow2 || pixels > Int.max - 16
        let expected = tooMany ? Int.max : 16 + pixels
        guard bytes.count == expected else {
            throw StoreError(file: path, cause: "IDX images body has \(bytes.count - 16) bytes; header promises \(count) × \(rows) × \(columns) = \(tooMany ? "too many" : String(expected - 16))")
        }
        return Images(count: count, rows: rows, columns: columns, pixels: Array(bytes[16...]))
    }

    /// Parses a labels file (magic 2049), already decompressed.
    public static func parseLabels(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        try checkMagic(bytes, expected: labelsMagic, kind: "labels", path: path)
        guard bytes.count >= 8 else {
            throw StoreError(file: path, cause: "IDX labels header is cut short (\(bytes.count) of 8 bytes)")
        }
        let count = Int(word(bytes, at: 4))
        guard bytes.count == 8 + count else {
            throw StoreError(file: path, cause: "IDX labels body has \(bytes.count - 8) bytes; header promises \(count)")
        }
        return Array(bytes[8...])
    }

    private static func checkMagic(_ bytes: [UInt8], expected: UInt32, kind: String, path: String) throws {
        guard bytes.count >= 4 else {
            throw StoreError(file: path, cause: "too short for an IDX \(kind) file (\(bytes.count) bytes)")
        }
        let magic = word(bytes, at: 0)
        guard magic == expected else {
            throw StoreError(file: path, cause: "bad IDX magic number \(magic); expected \(expected) for \(kind)")
        }
    }

    private static func word(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
