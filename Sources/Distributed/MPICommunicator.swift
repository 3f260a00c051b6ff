import Foundation
import _CMPI

/// The processes of a job started by `mpirun`, talking through Open MPI (MPI_COMM_WORLD).
///
/// Open MPI's `libmpi.so.40` is loaded when the first communicator is made, not linked (see
/// ``JobEnvironment``): a build needs no MPI, and only a run under `mpirun` needs the library.
/// Every MPI error comes back as a code (the world communicator uses MPI_ERRORS_RETURN) and is
/// thrown as an ``MPIError`` naming the operation. MPI is initialized once per process; call
/// ``finalize()`` before a normal exit, because `mpirun` treats a rank that exits without it as
/// failed.
///
/// `@unchecked Sendable`: the only state is the immutable rank and size; MPI itself is
/// initialized at MPI_THREAD_SERIALIZED, so calls may come from any thread as long as the
/// caller makes them one at a time and in the same order on every rank, which the collective
/// contract of ``Communicator`` requires anyway.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int

    /// Loads Open MPI (`libmpi.so.40`, else `libmpi.so`), initializes MPI unless it already is,
    /// and reads this process's rank and the job's size.
    public convenience init() throws {
        try self.init(library: nil)
    }

    /// As ``init()``, loading `library` (a file name for the dynamic loader, or a path) instead
    /// of the default names; `nil` means the default. For tests of the loading error, and for
    /// an Open MPI installed outside the loader's path.
    public init(library: String?) throws {
        var reason = [CChar](repeating: 0, count: 1024)
        if cmpi_load(library, &reason, reason.count) != 0 {
            let text = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw MPIError.libraryNotLoaded(library: library ?? "libmpi.so.40", reason: text)
        }
        try MPIError.check(cmpi_init(), "MPI initialization (MPI_Init_thread, MPI_Comm_set_errhandler)")
        var rank: Int32 = 0
        var size: Int32 = 0
        try MPIError.check(cmpi_rank(&rank), "MPI_Comm_rank")
        try MPIError.check(cmpi_size(&size), "MPI_Comm_size")
        self.rank = Int(rank)
        self.size = Int(size)
    }

    public func allGather(_ values: [Float]) throws -> [Float] {
        let count = try Self.int32Count(values.count, "MPI_Allgather")
        var gathered = [Float](repeating: 0, count: values.count * size)
        try values.withUnsafeBufferPointer { send in
            try gathered.withUnsafeMutableBufferPointer { receive in
                try MPIError.check(cmpi_allgather_float(send.baseAddress, count, receive.baseAddress), "MPI_Allgather")
            }
        }
        return gathered
    }

    /// Two collectives: every rank's count (MPI_Allgather of one Int32), then the values
    /// (MPI_Allgatherv, rank r's at the sum of the counts before it).
    public func allGatherVariable(_ values: [Double]) throws -> [Double] {
        let count = try Self.int32Count(values.count, "MPI_Allgatherv")
        var counts = [Int32](repeating: 0, count: size)
        try withUnsafePointer(to: count) { send in
            try counts.withUnsafeMutableBufferPointer { receive in
                try MPIError.check(cmpi_allgather_int(send, 1, receive.baseAddress), "MPI_Allgather (of the counts)")
            }
        }
        var displacements = [Int32](repeating: 0, count: size)
        var total = 0
        for (index, count) in counts.enumerated() {
            displacements[index] = try Self.int32Count(total, "MPI_Allgatherv")
            total += Int(count)
        }
        _ = try Self.int32Count(total, "MPI_Allgatherv")
        // Every rank knows the total now, so all of them skip together.
        if total == 0 { return [] }
        var gathered = [Double](repeating: 0, count: total)
        try values.withUnsafeBufferPointer { send in
            try gathered.withUnsafeMutableBufferPointer { receive in
                try MPIError.check(
                    cmpi_allgatherv_double(send.baseAddress, count, receive.baseAddress, counts, displacements),
                    "MPI_Allgatherv")
            }
        }
        return gathered
    }

    public func maximum(_ value: Double) throws -> Double {
        var result = 0.0
        try MPIError.check(cmpi_max_double(value, &result), "MPI_Allreduce (maximum)")
        return result
    }

    /// Two broadcasts from `root`: the byte count (so the other ranks can size their buffer),
    /// then the bytes, in pieces of at most 2^30 because MPI counts are Int32.
    public func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        guard (0..<size).contains(root) else {
            throw MPIError.invalidArgument("MPI_Bcast: root \(root) is not a rank of \(size) processes")
        }
        let rootArgument = Int32(root)
        var count = Int64(rank == root ? bytes.count : 0)
        try withUnsafeMutableBytes(of: &count) { buffer in
            try MPIError.check(cmpi_bcast_bytes(buffer.baseAddress, Int32(buffer.count), rootArgument), "MPI_Bcast (of the count)")
        }
        guard count >= 0, count <= Int64(Int.max) else {
            throw MPIError.invalidArgument("MPI_Bcast: root \(root) sent an impossible byte count \(count)")
        }
        var received = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
        let piece = 1 << 30
        try received.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }  // nil only when there are no bytes
            var start = 0
            while start < buffer.count {
                let length = min(piece, buffer.count - start)
                try MPIError.check(cmpi_bcast_bytes(base + start, Int32(length), rootArgument), "MPI_Bcast")
                start += length
            }
        }
        return received
    }

    /// Recursive doubling: at distance d = 1, 2, 4, …, rank r swaps its partial sum with rank
    /// r XOR d and adds the two with the lower rank's operand first. After log₂ N exchanges
    /// every rank holds the balanced tree's sum, added in the order of the protocol's default
    /// (the same bits, tested by scripts/mpi-runs-test.sh against one process).
    public func treeSum(_ values: [Float]) throws -> [Float] {
        guard size > 1 else { return values }
        guard size & (size - 1) == 0 else {
            throw MPIError.invalidArgument("the tree sum needs a power-of-two number of processes, not \(size)")
        }
        let count = try Self.int32Count(values.count, "MPI_Sendrecv")
        var partial = values
        var received = [Float](repeating: 0, count: values.count)
        var distance = 1
        while distance < size {
            let partner = rank ^ distance
            try partial.withUnsafeBufferPointer { send in
                try received.withUnsafeMutableBufferPointer { receive in
                    try MPIError.check(cmpi_sendrecv_float(send.baseAddress, count, Int32(partner), receive.baseAddress),
                                       "MPI_Sendrecv (tree sum with rank \(partner))")
                }
            }
            if rank & distance == 0 {
                for i in partial.indices { partial[i] = partial[i] + received[i] }
            } else {
                for i in partial.indices { partial[i] = received[i] + partial[i] }
            }
            distance *= 2
        }
        return partial
    }

    public func barrier() throws {
        try MPIError.check(cmpi_barrier(), "MPI_Barrier")
    }

    /// Writes `Error: rank R of N: message` (or `Error: message` alone) as one line on standard
    /// error, then MPI_Abort: `mpirun` kills every rank and exits non-zero, so the other ranks
    /// never wait forever in their next collective. Should MPI_Abort return, the process exits.
    public func abort(_ message: String, status: Int32) -> Never {
        let line = message.split(whereSeparator: \.isNewline).joined(separator: "; ")
        let prefix = size > 1 ? "Error: rank \(rank) of \(size): " : "Error: "
        fflush(stdout)
        FileHandle.standardError.write(Data((prefix + line + "\n").utf8))
        let status = status == 0 ? 1 : status
        _ = cmpi_abort(status)
        exit(status)
    }

    /// Ends MPI in this process (MPI_Finalize). Idempotent: later calls, and calls when MPI was
    /// never initialized, do nothing. Call it once every rank is done, before a normal exit.
    public func finalize() throws {
        try MPIError.check(cmpi_finalize(), "MPI_Finalize")
    }

    /// `value` as an MPI count, or an error naming `operation` when it exceeds Int32.
    private static func int32Count(_ value: Int, _ operation: String) throws -> Int32 {
        guard let count = Int32(exactly: value) else {
            throw MPIError.invalidArgument("\(operation): \(value) elements exceed MPI's Int32 count")
        }
        return count
    }
}

/// A failed MPI operation, or an MPI library that could not be loaded: one line.
public enum MPIError: Error, CustomStringConvertible, Equatable {
    case libraryNotLoaded(library: String, reason: String)
    /// An MPI call returned `code`; `text` is MPI_Error_string's.
    case failed(operation: String, code: Int32, text: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .libraryNotLoaded(library, reason):
            return "Open MPI's \(library) could not be loaded: \(reason); install openmpi-bin and libopenmpi-dev, "
                + "or run without mpirun"
        case let .failed(operation, _, text):
            return "\(operation) failed: \(text)"
        case let .invalidArgument(text):
            return text
        }
    }

    /// Throws `.failed` unless `code` is MPI_SUCCESS (0).
    static func check(_ code: Int32, _ operation: String) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        cmpi_error_string(code, &text, text.count)
        throw MPIError.failed(
            operation: operation, code: code,
            text: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
