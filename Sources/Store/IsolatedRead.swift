import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a file that is not a regular one is, in words ("is a FIFO (named pipe)"), or `nil` for a
/// regular file or one that cannot be examined.
public func nonRegularFileDescription(_ path: String) -> String? {
    #if canImport(Glibc)
    var information = stat()
    guard stat(path, &information) == 0 else { return nil }
    return nonRegularFileDescription(mode: information.st_mode)
    #else
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue ? "is a directory" : nil
    #endif
}

#if canImport(Glibc)
private func nonRegularFileDescription(mode: mode_t) -> String? {
    switch mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return "is a directory"
    case S_IFIFO: return "is a FIFO (named pipe)"
    case S_IFCHR: return "is a character device"
    case S_IFBLK: return "is a block device"
    case S_IFSOCK: return "is a socket"
    default: return "is not a regular file"
    }
}
#endif

/// Refuses, with one ``StoreError`` naming `path`, anything but an existing regular file (or a
/// symbolic link to one), before the file is opened: opening a FIFO blocks until a writer
/// appears (forever, for `compare datasets info FIFO`), and a directory or a device is never
/// an HDF5 file.
public func requireRegularFile(_ path: String) throws {
    #if canImport(Glibc)
    var information = stat()
    guard stat(path, &information) == 0 else {
        let code = errno
        if code == ENOENT || code == ENOTDIR { throw StoreError(file: path, cause: "no such file") }
        if code == EACCES { throw StoreError(file: path, cause: "permission denied") }
        throw StoreError(file: path, cause: "cannot read it (\(String(cString: strerror(code))))")
    }
    guard let description = nonRegularFileDescription(mode: information.st_mode) else { return }
    throw StoreError(file: path, cause: "\(description), not a regular file; give an HDF5 file")
    #else
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw StoreError(file: path, cause: "no such file")
    }
    if isDirectory.boolValue { throw StoreError(file: path, cause: "is a directory, not a regular file; give an HDF5 file") }
    #endif
}

#if canImport(Glibc)
/// `prctl(2)`, looked up once in the parent (C's variadic `prctl` is not callable from Swift;
/// glibc implements it as a plain system-call stub, so a fixed-arity pointer is safe).
private let prctlFunction: (@convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32)? = {
    guard let symbol = dlsym(nil, "prctl") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32).self)
}()
#endif

/// Reads a file that may be damaged without letting the damage crash or hang `compare`.
///
/// HDF5 1.10 trusts the bytes it parses: a file with a flipped bit in a link or heap message
/// can make `libhdf5` itself dereference garbage (SIGSEGV) or loop forever, where no check of
/// ours can intervene. So `read` first runs in a forked child with a CPU-time limit; only if
/// the child finishes (successfully or with an ordinary error) does the parent run `read`
/// for real, which then takes the same, safe path. A child killed by a signal or by the limit
/// becomes one error line naming the file. The child writes nothing: its stdout and stderr go
/// to /dev/null and it leaves through `_exit`, so no buffer is flushed twice. The child dies
/// with its parent (`PR_SET_PDEATHSIG`), and anything but a regular file is refused before
/// either process opens it (``requireRegularFile(_:)``).
public func readInIsolation<T>(_ path: String, _ read: () throws -> T) throws -> T {
    try requireRegularFile(path)
    #if canImport(Glibc)
    var size = 0
    if let attributes = try? FileManager.default.attributesOfItem(atPath: path), let bytes = attributes[.size] as? NSNumber {
        size = bytes.intValue
    }
    // Reading and validating runs at 50 MB/s or more (a small file takes milliseconds): 2 s
    // plus 1 s per 8 MB of CPU time is ample.
    let seconds = rlim_t(2 + max(0, size) / 8_000_000)
    let parent = getpid()
    let setDeathSignal = prctlFunction
    let child = fork()
    if child == 0 {
        // PR_SET_PDEATHSIG = 1: SIGKILL when the parent dies; a parent that died before the
        // call is caught by the check of getppid() that follows it.
        _ = setDeathSignal?(1, UInt(SIGKILL), 0, 0, 0)
        if getppid() != parent { _exit(1) }
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 {
            _ = dup2(null, STDOUT_FILENO)
            _ = dup2(null, STDERR_FILENO)
        }
        var cpu = rlimit(rlim_cur: seconds, rlim_max: seconds + 1)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CPU.rawValue), &cpu)
        var memory = rlimit(rlim_cur: 16 << 30, rlim_max: 16 << 30)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &memory)
        _ = try? read()
        _exit(0)
    }
    if child > 0 {
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 {
            if errno != EINTR { return try read() }
        }
        let signal = status & 0x7f
        if signal == SIGXCPU || signal == SIGKILL {
            throw StoreError(file: path, cause: "damaged file: the HDF5 library did not finish reading it within \(seconds) s")
        }
        if signal != 0 && signal != 0x7f {
            throw StoreError(file: path, cause: "damaged file: the HDF5 library failed reading it (signal \(signal))")
        }
    }
    #endif
    return try read()
}
