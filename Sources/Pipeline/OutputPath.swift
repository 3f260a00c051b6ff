import Foundation

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Checks, before any work starts, that a file can be written at `path`: its folder exists (the
/// default folders `Runs`, `Reports` and `Datasets` are created) and accepts a new file.
public func prepareOutputFolder(for path: String) throws {
    let folder = (path as NSString).deletingLastPathComponent
    if folder.isEmpty { return }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw PipelineError("\(path): \(folder) is not a folder") }
        // Try it: permission bits do not stop root, yet /proc or a read-only mount still refuse.
        let probe = folder + "/.compare-write-probe-\(getpid())"
        let descriptor = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard descriptor >= 0 else {
            throw PipelineError("\(path): the folder \(folder) cannot be written (\(String(cString: strerror(errno))))")
        }
        close(descriptor)
        unlink(probe)
        return
    }
    if ["Runs", "Reports", "Datasets"].contains(folder) {
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw PipelineError("\(folder): cannot create the folder")
        }
        return
    }
    throw PipelineError("\(path): the folder \(folder) does not exist")
}

/// Removes the temporary file a killed write may have left beside `path` (`path.tmp`).
public func removeStaleTemporary(for path: String) {
    let temporary = path + ".tmp"
    if FileManager.default.fileExists(atPath: temporary) { try? FileManager.default.removeItem(atPath: temporary) }
}

/// Creates `path` and its parents when missing.
func createFolder(_ path: String) throws {
    do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
        throw PipelineError("\(path): cannot create the folder")
    }
}

/// `path` joined to the folder of `file` (a report's plots live beside it).
func besideFile(_ file: String, _ name: String) -> String {
    let folder = (file as NSString).deletingLastPathComponent
    return folder.isEmpty ? name : folder + "/" + name
}
