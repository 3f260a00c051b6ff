import Foundation

extension HDF5File {
    /// Writes an HDF5 file atomically: readers see either the old file or the complete new one.
    ///
    /// 1. creates `path + ".tmp"` in the same folder (so `rename(2)` stays on one filesystem),
    /// 2. runs `body` on it and closes it (which flushes every buffer to disk),
    /// 3. renames the temporary file over `path`.
    ///
    /// If any step fails the temporary file is removed and the old file, if any, is untouched.
    ///
    /// - Returns: whatever `body` returns.
    @discardableResult
    public static func writeAtomically<Result>(
        to path: String, _ body: (HDF5File) throws -> Result
    ) throws -> Result {
        let temporaryPath = path + ".tmp"
        let folder = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !folder.isEmpty,
           !(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw StoreError(file: path, cause: FileManager.default.fileExists(atPath: folder)
                ? "\(folder) is not a folder" : "folder \(folder) does not exist")
        }
        let file: HDF5File
        do { file = try HDF5File.create(temporaryPath) } catch let error as StoreError {
            throw StoreError(file: path, cause: "cannot write \(temporaryPath): \(error.cause)")
        }
        do {
            let result = try body(file)
            try file.close()
            guard rename(temporaryPath, path) == 0 else {
                let reason = String(cString: strerror(errno))
                throw StoreError(file: path, cause: "cannot rename \(temporaryPath) over it: \(reason)")
            }
            return result
        } catch let error as StoreError {
            try? file.close()
            unlink(temporaryPath)
            // Errors about the temporary file are reported against the file the caller asked for.
            throw error.file == temporaryPath
                ? StoreError(file: path, object: error.object, cause: error.cause) : error
        } catch {
            try? file.close()
            unlink(temporaryPath)
            throw error
        }
    }
}

/// Writes several plain files (a report and its plots) as one: every file goes to `NAME.tmp`
/// beside its final name first, then each is renamed into place; a failure before the renames
/// removes every temporary file and leaves the old files as they were.
public func writeFilesAtomically(_ files: [(path: String, contents: [UInt8])]) throws {
    var written: [String] = []
    do {
        for file in files {
            let temporary = file.path + ".tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(file.contents)) else {
                throw StoreError(file: file.path, cause: "cannot be written")
            }
            written.append(temporary)
        }
        for file in files {
            guard rename(file.path + ".tmp", file.path) == 0 else {
                throw StoreError(file: file.path, cause: "cannot be written (\(String(cString: strerror(errno))))")
            }
        }
    } catch {
        for temporary in written { unlink(temporary) }
        throw error
    }
}
