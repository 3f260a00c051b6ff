import Foundation
import Store

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// What a command writes, for the rule that a file is never replaced by a file of another kind.
public enum OutputKind: Sendable {
    case checkpoint, dataset, samples, report, plot

    var existingKind: ExistingFileKind {
        switch self {
        case .checkpoint: return .checkpoint
        case .dataset: return .dataset
        case .samples: return .samples
        case .report: return .report
        case .plot: return .plot
        }
    }
}

/// What may happen to a file already at the output path.
public enum ExistingOutputRule: Sendable {
    /// Refuse with this message (no `--overwrite` given).
    case refuse(String)
    /// Replace it (`--overwrite`): only by a file of its own kind, or one `compare` cannot identify.
    case replace
    /// Replace it freely if it is of its own kind (a report its previous report); refuse
    /// anything else with this message.
    case replaceOwnKind(String)
    /// It must exist and is updated in place (`--resume`, `eval`); the message when it is missing.
    case update(String)
}

/// A claimed output: the path checked, locked (``OutputLock``) and cleared of stale temporary
/// files. Hold it for the whole life of the writer; ``release()`` (or the end of its life)
/// gives the lock up.
public final class OutputClaim {
    /// The path as the user gave it (for messages).
    public let path: String
    /// The file that will be replaced: `path` with symbolic links followed.
    public let resolved: String
    /// Whether a file was there when the lock was taken.
    public let existed: Bool
    private let lock: OutputLock

    init(path: String, resolved: String, existed: Bool, lock: OutputLock) {
        self.path = path
        self.resolved = resolved
        self.existed = existed
        self.lock = lock
    }

    public func release() { lock.release() }
}

/// The one output-path check every command that writes makes before any work:
///
/// - an empty name, a name ending in `/`, or a folder is refused;
/// - symbolic links are followed (the write replaces the link's target, the link stays);
/// - the output may not be one of `inputs` (same device and inode, through links);
/// - the folder must exist (`Runs`, `Reports` and `Datasets` are created) and accept a new
///   file, the current folder included;
/// - the output's ``OutputLock`` is taken, so a second writer is refused at once;
/// - under the lock, an existing file is replaced only as `rule` allows, and never when it is
///   of another kind than `kind` (a checkpoint by samples, a dataset by a checkpoint, …), even
///   with `--overwrite`;
/// - stale temporary files of dead writers are removed.
public func claimOutput(_ path: String, option: String? = "--out", kind: OutputKind, rule: ExistingOutputRule,
                        inputs: [String] = []) throws -> OutputClaim {
    let named = option.map { "\($0) \(path)" } ?? path
    guard !path.isEmpty else { throw PipelineError("\(option ?? "output"): empty file name") }
    guard !path.hasSuffix("/") else { throw PipelineError("\(named): names a folder; give a file name") }
    let resolved = resolvingOutputSymlinks(path)
    var info = stat()
    if stat(resolved, &info) == 0 {
        if (info.st_mode & S_IFMT) == S_IFDIR { throw PipelineError("\(named): is a folder; give a file name") }
        for input in inputs {
            var other = stat()
            if stat(input, &other) == 0, other.st_dev == info.st_dev, other.st_ino == info.st_ino {
                throw PipelineError("\(named) is the input \(input) itself; write to another file")
            }
        }
    }
    try prepareOutputFolder(for: resolved, named: path)
    let lock: OutputLock
    do { lock = try OutputLock(for: resolved, displayName: path) } catch let error as StoreError {
        throw PipelineError(error.description)
    }
    let existing = ExistingFileKind.identify(resolved)
    do {
        if existing != .missing {
            if existing == .notAFile {
                let what = nonRegularFileDescription(resolved).map { "\($0), not a regular file" } ?? "not a regular file"
                throw PipelineError("\(named): \(what); give a file name")
            }
            let foreign = existing != kind.existingKind && existing != .unknown
            switch rule {
            case .refuse(let message):
                throw PipelineError(message)
            case .replace:
                if foreign {
                    throw PipelineError("\(named) is \(existing.phrase), not \(kind.existingKind.phrase); refusing to replace it "
                                        + "(even with --overwrite): choose another file")
                }
            case .replaceOwnKind(let message):
                if existing != kind.existingKind { throw PipelineError(message + " (it is \(existing.phrase))") }
            case .update:
                break  // its reader says what is wrong with it
            }
        } else if case .update(let message) = rule {
            throw PipelineError(message)
        }
    } catch {
        lock.release()
        throw error
    }
    removeStaleTemporaries(for: resolved)
    return OutputClaim(path: path, resolved: resolved, existed: existing != .missing, lock: lock)
}

/// Checks, before any work starts, that a file can be written at `path`: its folder exists (the
/// default folders `Runs`, `Reports` and `Datasets` are created) and accepts a new file (the
/// current folder too, for a bare name). Messages name `named` (the path as given).
public func prepareOutputFolder(for path: String, named: String? = nil) throws {
    let shown = named ?? path
    let folder = (path as NSString).deletingLastPathComponent
    var isDirectory: ObjCBool = false
    if folder.isEmpty || FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
        if !folder.isEmpty { guard isDirectory.boolValue else { throw PipelineError("\(shown): \(folder) is not a folder") } }
        // Try it: permission bits do not stop root, yet /proc or a read-only mount still refuse.
        let probe = (folder.isEmpty ? "." : folder) + "/.compare-write-probe-\(getpid())"
        let descriptor = open(probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw PipelineError("\(shown): the folder \(folder.isEmpty ? "." : folder) cannot be written (\(String(cString: strerror(errno))))")
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
    throw PipelineError("\(shown): the folder \(folder) does not exist")
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
