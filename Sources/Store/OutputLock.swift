import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Exclusive ownership of an output file for the whole life of one writer.
///
/// The lock is an advisory `flock(2)` on a lock file beside the target, `NAME.lock` (for
/// `Runs/vae.h5`, `Runs/vae.h5.lock`), holding the owner's pid as text. It is not taken on the
/// target itself because every write replaces the target by `rename(2)`: a lock on the old
/// inode would not stop a writer that opens the new one, and a target that does not exist yet
/// could not be locked at all. The lock file's inode stays put while the lock is held.
///
/// A second writer is refused at once (`LOCK_NB`) with one line naming the file and the pid
/// stored in the lock file. On release the lock file is unlinked and then closed; a writer
/// that opened the unlinked file meanwhile sees, after it gets the lock, that the path no
/// longer names the inode it locked and starts over, so two writers can never both hold a
/// lock for one target. A process that dies (even by SIGKILL) loses its lock with its last
/// descriptor; its lock file stays behind holding a dead pid and is reused by the next writer.
/// On a filesystem without `flock` (ENOLCK, EOPNOTSUPP) the write proceeds unlocked.
public final class OutputLock {
    /// The lock file.
    public let lockPath: String
    private var descriptor: Int32 = -1

    /// The lock file of `target` (symbolic links resolved first, so every spelling of one file
    /// shares one lock).
    public static func lockPath(for target: String) -> String { resolvingOutputSymlinks(target) + ".lock" }

    /// Takes the lock for `target`, or throws a ``StoreError`` about `displayName` naming the
    /// holder's pid.
    public init(for target: String, displayName: String? = nil) throws {
        let name = displayName ?? target
        lockPath = Self.lockPath(for: target)
        for _ in 0..<100 {
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw StoreError(file: name, cause: "cannot create the lock file \(lockPath) (\(String(cString: strerror(errno))))")
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                if code == ENOLCK || code == EOPNOTSUPP || code == ENOSYS {
                    close(fd)  // no locking on this filesystem: proceed without it
                    return
                }
                let holder = Self.readPid(fd)
                close(fd)
                throw StoreError(file: name, cause: "another compare process (pid \(holder.map(String.init) ?? "unknown")) is writing it; "
                                 + "wait for it to finish or stop it")
            }
            // The path must still name the inode we locked (a releasing owner unlinks it).
            var mine = stat(), current = stat()
            if fstat(fd, &mine) == 0, stat(lockPath, &current) == 0, mine.st_dev == current.st_dev, mine.st_ino == current.st_ino {
                let text = Array("\(getpid())\n".utf8)
                _ = ftruncate(fd, 0)
                _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                descriptor = fd
                return
            }
            close(fd)
        }
        throw StoreError(file: name, cause: "cannot take the lock file \(lockPath): it keeps being replaced")
    }

    deinit { release() }

    /// Unlinks the lock file and releases the lock (idempotent).
    public func release() {
        guard descriptor >= 0 else { return }
        unlink(lockPath)
        close(descriptor)
        descriptor = -1
    }

    /// The pid written in an open lock file, if readable (the holder may not have written it yet).
    private static func readPid(_ fd: Int32) -> Int32? {
        for attempt in 0..<20 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            if count > 0, let pid = Int32(String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) {
                return pid
            }
            if attempt < 19 { usleep(5_000) }
        }
        return nil
    }
}

/// `path` with symbolic links in its last component followed (repeatedly), so that writing
/// "through" a link replaces the file it points at instead of the link itself. A dangling link
/// resolves to the path it names; a loop stops after 40 links.
public func resolvingOutputSymlinks(_ path: String) -> String {
    var current = path
    for _ in 0..<40 {
        var info = stat()
        guard lstat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK,
              let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return current }
        if target.hasPrefix("/") {
            current = target
        } else {
            let folder = (current as NSString).deletingLastPathComponent
            current = folder.isEmpty ? target : folder + "/" + target
        }
    }
    return current
}

/// The temporary file this process writes `resolvedPath` through: `NAME.<pid>.tmp` in the same
/// folder (so the rename stays on one filesystem, and two processes never share one).
public func temporaryPath(for resolvedPath: String) -> String { "\(resolvedPath).\(getpid()).tmp" }

/// Removes temporary files a killed earlier write of `path` left behind: `NAME.<pid>.tmp` whose
/// process no longer exists (`kill(pid, 0)` fails with ESRCH), and the unnumbered `NAME.tmp` of
/// older versions. A live process's temporary file is never touched. Call it while holding the
/// ``OutputLock`` of `path`.
public func removeStaleTemporaries(for path: String) {
    let resolved = resolvingOutputSymlinks(path)
    let folder = (resolved as NSString).deletingLastPathComponent
    let base = (resolved as NSString).lastPathComponent
    func full(_ name: String) -> String { folder.isEmpty ? name : folder + "/" + name }
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { return }
    for name in names where name.hasPrefix(base + ".") && name.hasSuffix(".tmp") {
        let middle = name.dropFirst(base.count + 1).dropLast(4)
        if middle.isEmpty {
            unlink(full(name))  // `NAME.tmp`: an older compare's, and we hold the lock
        } else if let pid = Int32(middle), pid > 0, pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
            unlink(full(name))
        }
    }
}

/// What an existing file is, as far as `compare` can tell without trusting it.
public enum ExistingFileKind: Equatable, Sendable {
    case missing
    case checkpoint
    case dataset
    case samples
    case report
    case plot
    /// A folder, or something that is not a regular file.
    case notAFile
    /// A file `compare` did not recognise (another HDF5 file, text, a damaged file).
    case unknown

    /// "a checkpoint", "a dataset", … for messages.
    public var phrase: String {
        switch self {
        case .missing: return "missing"
        case .checkpoint: return "a checkpoint"
        case .dataset: return "a dataset"
        case .samples: return "a sample file"
        case .report: return "a report"
        case .plot: return "a plot"
        case .notAFile: return "not a regular file"
        case .unknown: return "a file of unknown kind"
        }
    }

    /// Identifies the file at `path` (symbolic links followed): HDF5 files by their root
    /// `format` attribute (read in a forked child, so a damaged file cannot crash the caller),
    /// reports and plots by their first bytes.
    public static func identify(_ path: String) -> ExistingFileKind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .notAFile }
        guard let handle = FileHandle(forReadingAtPath: path) else { return .unknown }
        let head = [UInt8]((try? handle.read(upToCount: 4096)) ?? Data())
        try? handle.close()
        if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) {
            let kind = try? readInIsolation(path) { () -> ExistingFileKind in
                let file = try HDF5File.open(path)
                defer { try? file.close() }
                switch try file.attribute("format") {
                case .string(Checkpoint.format)?: return .checkpoint
                case .string(DatasetFile.format)?: return .dataset
                case .string(sampleFileFormat)?: return .samples
                default: return file.exists("/samples") && file.hasAttribute("model") ? .samples : .unknown
                }
            }
            return kind ?? .unknown
        }
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return .plot }
        let text = String(decoding: head, as: UTF8.self)
        if text.hasPrefix("<svg") || text.hasPrefix("<?xml") { return .plot }
        if text.hasPrefix("# "), info.st_size < 4 << 20,
           let whole = try? String(contentsOfFile: path, encoding: .utf8),
           whole.contains("\n## Reproduce\n"), whole.contains("\n# this report\n") {
            return .report  // what `compare report` writes: its own Reproduce section
        }
        return .unknown
    }
}

/// The root `format` attribute of a `compare sample --out FILE.h5` file.
public let sampleFileFormat = "compare-samples"
