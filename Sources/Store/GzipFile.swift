import Foundation
import _CHDF5

/// Reads gzip-compressed files with zlib (linked through the `_CHDF5` module map,
/// since libhdf5 already depends on libz).
///
/// zlib's `gzread` passes files that are not gzip-compressed through unchanged, so an
/// uncompressed file with a `.gz` name reads as its own bytes.
public enum GzipFile {
    /// The whole decompressed content of the file at `path`.
    ///
    /// - Throws: ``StoreError`` when the file is missing or unreadable, or the compressed
    ///   stream is corrupt or cut short.
    public static func readAll(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(file: path, cause: "no such file")
        }
        guard let handle = gzopen(path, "rb") else {
            throw StoreError(file: path, cause: "cannot open: \(String(cString: strerror(errno)))")
        }
        var closed = false
        defer { if !closed { gzclose(handle) } }
        _ = gzbuffer(handle, 1 << 18)
        var result: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = block.withUnsafeMutableBytes { buffer in
                gzread(handle, buffer.baseAddress, UInt32(buffer.count))
            }
            if count < 0 {
                var code: Int32 = 0
                let message = gzerror(handle, &code).map { String(cString: $0) } ?? "unknown zlib error"
                throw StoreError(file: path, cause: "corrupt gzip data: \(message)")
            }
            if count == 0 { break }
            result.append(contentsOf: block[0..<Int(count)])
        }
        // gzread returns 0 at a truncated stream's end too; gzclose_r reports it as Z_BUF_ERROR.
        closed = true
        let status = gzclose(handle)
        if status == Z_BUF_ERROR {
            throw StoreError(file: path, cause: "truncated gzip file (the compressed stream ends early)")
        }
        if status != Z_OK {
            throw StoreError(file: path, cause: "corrupt gzip data (zlib status \(status))")
        }
        return result
    }
}
