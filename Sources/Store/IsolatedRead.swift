import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads a file that may be damaged without letting the damage crash or hang `compare`.
///
/// HDF5 1.10 trusts the bytes it parses: a file with a flipped bit in a link or heap message
/// can make `libhdf5` itself dereference garbage (SIGSEGV) or loop forever, where no check of
/// ours can intervene. So `read` first runs in a forked child with a CPU-time limit; only if
/// the child finishes (successfully or with an ordinary error) does the parent run `read`
/// for real, which then takes the same, safe path. A child killed by a signal or by the limit
/// becomes one error line naming the file. The child writes nothing: its stdout and stderr go
/// to /dev/null and it leaves through `_exit`, so no buffer is flushed twice.
public func readInIsolation<T>(_ path: String, _ read: () throws -> T) throws -> T {
    #if canImport(Glibc)
    var size = 0
    if let attributes = try? FileManager.default.attributesOfItem(atPath: path), let bytes = attributes[.size] as? NSNumber {
        size = bytes.intValue
    }
    // Reading and validating runs at 50 MB/s or more (a small file takes milliseconds): 2 s
    // plus 1 s per 8 MB of CPU time is ample.
    let seconds = rlim_t(2 + size / 8_000_000)
    let child = fork()
    if child == 0 {
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
