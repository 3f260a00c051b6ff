import Foundation
import _CHDF5

/// Process-wide set-up of the HDF5 C library.
///
/// The first use of any ``HDF5File`` calls `H5open()` and switches off HDF5's automatic
/// error printing (`H5Eset_auto2(H5E_DEFAULT, NULL, NULL)`), so that failures reach the
/// caller only as ``StoreError`` values and never as stack dumps on stderr. It also sets
/// `HDF5_USE_FILE_LOCKING=FALSE` unless already set (writes are atomic renames instead).
///
/// The serial HDF5 build is not thread-safe: use one file from one thread at a time.
enum HDF5Library {
    private static let initialization: Bool = {
        // Every write goes to NAME.tmp and is renamed into place, so HDF5's flock-based file
        // locking adds nothing, and it fails outright on filesystems without flock (NFS, some
        // container mounts). Switch it off unless the user chose otherwise.
        setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0)
        _ = H5open()
        _ = compare_h5_silence_errors()
        return true
    }()

    /// Runs the one-time set-up (idempotent).
    static func ensureInitialized() {
        _ = initialization
    }

    /// The most specific message on HDF5's current error stack, if any.
    static func lastErrorMessage() -> String? {
        var buffer = [CChar](repeating: 0, count: 1024)
        let found = buffer.withUnsafeMutableBufferPointer { pointer in
            compare_h5_last_error(pointer.baseAddress, pointer.count)
        }
        guard found != 0 else { return nil }
        let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return message.isEmpty ? nil : message
    }

    /// `cause`, followed by HDF5's own explanation when it has one.
    static func describe(_ cause: String) -> String {
        if let detail = lastErrorMessage() { return "\(cause): \(detail)" }
        return cause
    }
}
