import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension HDF5File {
    /// Writes an HDF5 file atomically and durably: readers see either the old file or the
    /// complete new one, and a file reported written survives a power loss.
    ///
    /// 1. builds the file in memory (``createInMemory(name:)``) and runs `body` on it,
    /// 2. writes its bytes to `NAME.<pid>.tmp` in the target's folder (symbolic links followed,
    ///    so a link is written through and keeps pointing at the new file), `fsync`s and closes it,
    /// 3. renames it over the target and `fsync`s the folder.
    ///
    /// Any failure (ENOSPC, EFBIG, EIO, …) throws one ``StoreError`` naming `path`, removes the
    /// temporary file and leaves the old file, if any, byte-identical. Nothing is closed twice.
    ///
    /// - Returns: whatever `body` returns.
    @discardableResult
    public static func writeAtomically<Result>(
        to path: String, _ body: (HDF5File) throws -> Result
    ) throws -> Result {
        let target = resolvingOutputSymlinks(path)
        try checkFolder(of: target, for: path)
        let file = try createInMemory(name: temporaryPath(for: target))
        let result: Result
        let image: [UInt8]
        do {
            result = try body(file)
            image = try file.fileImage()
            try file.close()
        } catch let error as StoreError {
            try? file.close()
            // Errors about the temporary file are reported against the file the caller asked for.
            throw error.file == file.path ? StoreError(file: path, object: error.object, cause: error.cause) : error
        } catch {
            try? file.close()
            throw error
        }
        try writeDurably([(path: path, target: target, contents: image)])
        return result
    }
}

/// Writes several plain files (a report and its plots) as one: every file goes to
/// `NAME.<pid>.tmp` beside its final name (symbolic links followed) and is `fsync`ed, then each
/// is renamed into place and the folders are `fsync`ed; a failure before the renames removes
/// every temporary file and leaves the old files as they were.
public func writeFilesAtomically(_ files: [(path: String, contents: [UInt8])]) throws {
    var targets: [(path: String, target: String, contents: [UInt8])] = []
    for file in files {
        let target = resolvingOutputSymlinks(file.path)
        try checkFolder(of: target, for: file.path)
        targets.append((file.path, target, file.contents))
    }
    try writeDurably(targets)
}

/// The target's folder must exist and be a folder.
private func checkFolder(of target: String, for path: String) throws {
    let folder = (target as NSString).deletingLastPathComponent
    var isDirectory: ObjCBool = false
    if !folder.isEmpty,
       !(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue) {
        throw StoreError(file: path, cause: FileManager.default.fileExists(atPath: folder)
            ? "\(folder) is not a folder" : "folder \(folder) does not exist")
    }
}

/// Temporary, write, fsync, close (once), then rename every file and fsync their folders.
private func writeDurably(_ files: [(path: String, target: String, contents: [UInt8])]) throws {
    var written: [String] = []
    func fail(_ path: String, _ what: String, _ code: Int32) -> StoreError {
        StoreError(file: path, cause: "\(what): \(String(cString: strerror(code))); the old file, if any, is left as it was")
    }
    do {
        for file in files {
            let temporary = temporaryPath(for: file.target)
            unlink(temporary)  // our own pid's: a leftover of a process that had our pid
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            guard fd >= 0 else { throw fail(file.path, "cannot write \(temporary)", errno) }
            written.append(temporary)
            var offset = 0
            var failure: Int32 = 0
            file.contents.withUnsafeBytes { buffer in
                while offset < buffer.count {
                    let count = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if count < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return
                    }
                    offset += count
                }
            }
            if failure == 0 && fsync(fd) != 0 { failure = errno }
            // close(2) is called exactly once, whatever happened: retrying a failed close could
            // close a descriptor another thread has been given since.
            let closed = close(fd)
            if failure == 0 && closed != 0 { failure = errno }
            if failure != 0 { throw fail(file.path, "cannot be written", failure) }
        }
        for file in files {
            guard rename(temporaryPath(for: file.target), file.target) == 0 else {
                throw fail(file.path, "cannot rename \(temporaryPath(for: file.target)) over it", errno)
            }
        }
    } catch {
        for temporary in written { unlink(temporary) }
        throw error
    }
    // The renames are durable once their folders are flushed.
    for folder in Set(files.map { ($0.target as NSString).deletingLastPathComponent }) {
        let descriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor >= 0 {
            _ = fsync(descriptor)
            close(descriptor)
        }
    }
}
