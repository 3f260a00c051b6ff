import Foundation

/// SHA-256 (FIPS 180-4) in pure Swift, for content hashes of dataset files.
///
/// The digest of the bytes m is the 256-bit value H⁽ᴺ⁾ after processing the padded message
/// m ‖ 1 ‖ 0…0 ‖ len(m) in 512-bit blocks; ``hexDigest`` prints it as 64 lowercase hex digits,
/// the same string as `sha256sum` and Python's `hashlib.sha256(data).hexdigest()`.
public struct SHA256: Sendable {
    private static let roundConstants: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    private var hash: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    private var pending: [UInt8] = []
    private var totalBytes: UInt64 = 0

    public init() {}

    /// Feeds more message bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds more message bytes from a contiguous buffer.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        var index = 0
        totalBytes &+= UInt64(buffer.count)
        if !pending.isEmpty {
            while index < buffer.count, pending.count < 64 {
                pending.append(buffer[index])
                index += 1
            }
            if pending.count == 64 {
                let block = pending  // a copy: processBlock mutates self
                block.withUnsafeBytes { processBlock($0.baseAddress!) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while buffer.count - index >= 64 {
            processBlock(buffer.baseAddress! + index)
            index += 64
        }
        while index < buffer.count {
            pending.append(buffer[index])
            index += 1
        }
    }

    /// Finishes the hash and returns the 32 digest bytes.
    public mutating func finalize() -> [UInt8] {
        let messageBits = totalBytes &* 8
        var padding: [UInt8] = [0x80]
        let remainder = (pending.count + 1) % 64
        padding += [UInt8](repeating: 0, count: remainder <= 56 ? 56 - remainder : 120 - remainder)
        for shift in stride(from: 56, through: 0, by: -8) { padding.append(UInt8(truncatingIfNeeded: messageBits >> UInt64(shift))) }
        let saved = totalBytes
        padding.withUnsafeBytes { update($0) }
        totalBytes = saved
        precondition(pending.isEmpty)
        var digest: [UInt8] = []
        for word in [hash.0, hash.1, hash.2, hash.3, hash.4, hash.5, hash.6, hash.7] {
            for shift in stride(from: 24, through: 0, by: -8) { digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
        }
        return digest
    }

    /// The SHA-256 of `bytes` as 64 lowercase hex digits.
    public static func hexDigest(of bytes: [UInt8]) -> String {
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update($0) }
        return hex(hasher.finalize())
    }

    /// The SHA-256 of the file at `path`, streamed in 1 MiB blocks, as 64 lowercase hex digits.
    public static func hexDigest(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError(file: path, cause: "cannot open the file to hash it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let block: Data
            do {
                block = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw StoreError(file: path, cause: "cannot read the file to hash it: \(error.localizedDescription)")
            }
            if block.isEmpty { break }
            block.withUnsafeBytes { hasher.update($0) }
        }
        return hex(hasher.finalize())
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var characters: [UInt8] = []
        characters.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    @inline(__always)
    private static func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    /// One compression round over the 64 bytes at `block` (FIPS 180-4 §6.2.2).
    private mutating func processBlock(_ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            Self.roundConstants.withUnsafeBufferPointer { constants in
                for t in 0..<16 {
                    let offset = 4 * t
                    schedule[t] = UInt32(block.load(fromByteOffset: offset, as: UInt8.self)) << 24
                        | UInt32(block.load(fromByteOffset: offset + 1, as: UInt8.self)) << 16
                        | UInt32(block.load(fromByteOffset: offset + 2, as: UInt8.self)) << 8
                        | UInt32(block.load(fromByteOffset: offset + 3, as: UInt8.self))
                }
                for t in 16..<64 {
                    let s0 = Self.rotateRight(schedule[t - 15], 7) ^ Self.rotateRight(schedule[t - 15], 18) ^ (schedule[t - 15] >> 3)
                    let s1 = Self.rotateRight(schedule[t - 2], 17) ^ Self.rotateRight(schedule[t - 2], 19) ^ (schedule[t - 2] >> 10)
                    schedule[t] = schedule[t - 16] &+ s0 &+ schedule[t - 7] &+ s1
                }
                var a = hash.0, b = hash.1, c = hash.2, d = hash.3
                var e = hash.4, f = hash.5, g = hash.6, h = hash.7
                for t in 0..<64 {
                    let sum1 = Self.rotateRight(e, 6) ^ Self.rotateRight(e, 11) ^ Self.rotateRight(e, 25)
                    let choice = (e & f) ^ (~e & g)
                    let temporary1 = h &+ sum1 &+ choice &+ constants[t] &+ schedule[t]
                    let sum0 = Self.rotateRight(a, 2) ^ Self.rotateRight(a, 13) ^ Self.rotateRight(a, 22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    let temporary2 = sum0 &+ majority
                    h = g; g = f; f = e; e = d &+ temporary1
                    d = c; c = b; b = a; a = temporary1 &+ temporary2
                }
                hash = (hash.0 &+ a, hash.1 &+ b, hash.2 &+ c, hash.3 &+ d,
                        hash.4 &+ e, hash.5 &+ f, hash.6 &+ g, hash.7 &+ h)
            }
        }
    }
}
