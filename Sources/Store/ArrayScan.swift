/// Whole-array checks and conversions written as plain loops over unsafe buffers.
///
/// Dataset files hold tens of millions of values (Fashion-MNIST: 47 million pixels); these
/// loops keep validation and conversion fast even in unoptimized (debug/test) builds, where
/// closure-based `map` and `firstIndex(where:)` are an order of magnitude slower.
enum ArrayScan {
    /// The index of the first NaN or ±∞, if any.
    static func firstNonFinite(_ values: [Float]) -> Int? {
        values.withUnsafeBufferPointer { buffer in
            var index = 0
            let count = buffer.count
            while index < count {
                if !buffer[index].isFinite { return index }
                index += 1
            }
            return nil
        }
    }

    /// The index of the first value that is not 0 or 1, if any.
    static func firstNonBinary(_ values: [Float]) -> Int? {
        values.withUnsafeBufferPointer { buffer in
            var index = 0
            let count = buffer.count
            while index < count {
                let value = buffer[index]
                if value != 0 && value != 1 { return index }
                index += 1
            }
            return nil
        }
    }

    /// The index of the first value ≥ `bound`, if any.
    static func firstIndex(_ values: [UInt8], atLeast bound: Int) -> Int? {
        guard bound <= 255 else { return nil }
        let limit = UInt8(max(0, bound))
        return values.withUnsafeBufferPointer { buffer in
            var index = 0
            let count = buffer.count
            while index < count {
                if buffer[index] >= limit { return index }
                index += 1
            }
            return nil
        }
    }

    /// `table[v]` for every value v (the table has 256 entries).
    static func lookUp(_ values: [UInt8], in table: [Float]) -> [Float] {
        precondition(table.count == 256)
        let count = values.count
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            values.withUnsafeBufferPointer { input in
                table.withUnsafeBufferPointer { entries in
                    var index = 0
                    while index < count {
                        output[index] = entries[Int(input[index])]
                        index += 1
                    }
                }
            }
            initialized = count
        }
    }

    /// 1 where v ≥ `threshold`, else 0.
    static func threshold(_ values: [UInt8], at threshold: UInt8) -> [UInt8] {
        let count = values.count
        return [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
            values.withUnsafeBufferPointer { input in
                var index = 0
                while index < count {
                    output[index] = input[index] >= threshold ? 1 : 0
                    index += 1
                }
            }
            initialized = count
        }
    }
}
