import Foundation
import _CHDF5

/// An open HDF5 file: the entry point for groups, datasets and attributes.
///
/// Objects inside the file are addressed by absolute HDF5 paths (`/parameters/encoder/weight`);
/// a path without the leading slash is taken relative to the root. Every failure is thrown
/// as a ``StoreError`` naming ``path``, the object and the cause.
///
/// Files are created with HDF5's default (earliest compatible) format, so that h5py and any
/// HDF5 ≥ 1.8 can read them. Groups created here track link creation order, so
/// ``children(of:)`` lists them in the order they were written. Objects carry no
/// modification times, so writing the same content twice gives byte-identical files (and
/// the same SHA-256).
///
/// ```swift
/// let file = try HDF5File.create("example.h5")
/// try file.write([1, 2, 3, 4] as [Float], shape: [2, 2], to: "/weights")
/// try file.setAttribute("name", to: .string("example"))
/// try file.close()
/// ```
public final class HDF5File {
    /// How an existing file is opened.
    public enum AccessMode: Sendable {
        case readOnly
        case readWrite
    }

    /// The file's path as given by the caller (used in error messages).
    public let path: String
    /// The HDF5 file identifier; valid until ``close()``.
    let identifier: hid_t
    private var isOpen = true

    private init(path: String, identifier: hid_t) {
        self.path = path
        self.identifier = identifier
    }

    deinit {
        if isOpen { _ = H5Fclose(identifier) }
    }

    /// Creates a new file at `path`, replacing any file already there.
    public static func create(_ path: String) throws -> HDF5File {
        HDF5Library.ensureInitialized()
        let creationProperties = H5Pcreate(compare_h5p_file_create())
        defer { if creationProperties >= 0 { _ = H5Pclose(creationProperties) } }
        if creationProperties >= 0 {
            _ = H5Pset_obj_track_times(creationProperties, false)
            _ = H5Pset_link_creation_order(
                creationProperties, UInt32(H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED))
        }
        let identifier = H5Fcreate(
            path, compare_h5f_acc_trunc(),
            creationProperties >= 0 ? creationProperties : compare_h5p_default(),
            compare_h5p_default())
        guard identifier >= 0 else {
            throw StoreError(file: path, cause: HDF5Library.describe("cannot create the file"))
        }
        return HDF5File(path: path, identifier: identifier)
    }

    /// Creates a new file in memory only (HDF5's core driver without a backing store): HDF5
    /// itself never touches the disk, so a full disk or a file-size limit cannot fail inside the
    /// library (whose flush-on-close error path leaves a half-closed file that crashed at exit).
    /// ``fileImage()`` gives the bytes; ``HDF5File/writeAtomically(to:_:)`` writes them.
    static func createInMemory(name: String) throws -> HDF5File {
        HDF5Library.ensureInitialized()
        let creationProperties = H5Pcreate(compare_h5p_file_create())
        defer { if creationProperties >= 0 { _ = H5Pclose(creationProperties) } }
        if creationProperties >= 0 {
            _ = H5Pset_obj_track_times(creationProperties, false)
            _ = H5Pset_link_creation_order(
                creationProperties, UInt32(H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED))
        }
        let accessProperties = H5Pcreate(compare_h5p_file_access())
        defer { if accessProperties >= 0 { _ = H5Pclose(accessProperties) } }
        guard accessProperties >= 0, H5Pset_fapl_core(accessProperties, 1 << 20, false) >= 0 else {
            throw StoreError(file: name, cause: HDF5Library.describe("cannot set up an in-memory file"))
        }
        let identifier = H5Fcreate(
            name, compare_h5f_acc_trunc(),
            creationProperties >= 0 ? creationProperties : compare_h5p_default(), accessProperties)
        guard identifier >= 0 else {
            throw StoreError(file: name, cause: HDF5Library.describe("cannot create the file"))
        }
        return HDF5File(path: name, identifier: identifier)
    }

    /// The complete bytes of an open file (flushed first), as HDF5 would leave them on disk.
    func fileImage() throws -> [UInt8] {
        guard isOpen else { throw StoreError(file: path, cause: "the file is already closed") }
        guard H5Fflush(identifier, H5F_SCOPE_GLOBAL) >= 0 else {
            throw StoreError(file: path, cause: HDF5Library.describe("cannot flush the file"))
        }
        let size = H5Fget_file_image(identifier, nil, 0)
        guard size > 0 else { throw StoreError(file: path, cause: HDF5Library.describe("cannot get the file image")) }
        var bytes = [UInt8](repeating: 0, count: size)
        let copied = bytes.withUnsafeMutableBytes { H5Fget_file_image(identifier, $0.baseAddress, size) }
        guard copied == size else { throw StoreError(file: path, cause: HDF5Library.describe("cannot get the file image")) }
        return bytes
    }

    /// Opens an existing HDF5 file.
    ///
    /// Distinguishes a missing file, a file that is not HDF5 at all, and an HDF5 file that
    /// is damaged (for example truncated), each with its own message.
    public static func open(_ path: String, mode: AccessMode = .readOnly) throws -> HDF5File {
        HDF5Library.ensureInitialized()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StoreError(file: path, cause: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw StoreError(file: path, cause: "is a directory, not an HDF5 file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw StoreError(file: path, cause: "permission denied")
        }
        let signature = H5Fis_hdf5(path)
        if signature == 0 {
            throw StoreError(file: path, cause: "not an HDF5 file (no HDF5 signature)")
        }
        let flags = mode == .readOnly ? compare_h5f_acc_rdonly() : compare_h5f_acc_rdwr()
        let identifier = H5Fopen(path, flags, compare_h5p_default())
        guard identifier >= 0 else {
            throw StoreError(
                file: path,
                cause: HDF5Library.describe("cannot open the HDF5 file (damaged or truncated?)"))
        }
        let file = HDF5File(path: path, identifier: identifier)
        // A truncated file may still open (its superblock is intact); touching the root
        // group's link table makes HDF5 read past the header and notice.
        do {
            _ = try file.children(of: "/")
        } catch let error as StoreError {
            try? file.close()
            throw StoreError(file: path, cause: "damaged or truncated HDF5 file: \(error.cause)")
        }
        return file
    }

    /// Flushes and closes the file. Safe to call twice: the identifier is given up before
    /// `H5Fclose` runs, so a close that fails (a full disk during the flush) is never retried,
    /// neither here nor by `deinit`.
    public func close() throws {
        guard isOpen else { return }
        isOpen = false
        if H5Fclose(identifier) < 0 {
            throw StoreError(file: path, cause: HDF5Library.describe("cannot close (flush) the file"))
        }
    }

    /// Makes an object path absolute: `train` → `/train`, `/a//b/` → `/a/b`.
    static func normalized(_ objectPath: String) -> String {
        let components = objectPath.split(separator: "/", omittingEmptySubsequences: true)
        return "/" + components.joined(separator: "/")
    }

    /// The parent of an absolute object path (`/a/b` → `/a`, `/a` → `/`).
    static func parent(of objectPath: String) -> String {
        var components = normalized(objectPath).split(separator: "/").map(String.init)
        guard !components.isEmpty else { return "/" }
        components.removeLast()
        return "/" + components.joined(separator: "/")
    }

    /// A ``StoreError`` about an object in this file.
    func error(_ object: String?, _ cause: String) -> StoreError {
        StoreError(file: path, object: object, cause: cause)
    }

    /// A ``StoreError`` about an object in this file, with HDF5's own explanation appended.
    func libraryError(_ object: String?, _ cause: String) -> StoreError {
        StoreError(file: path, object: object, cause: HDF5Library.describe(cause))
    }
}
