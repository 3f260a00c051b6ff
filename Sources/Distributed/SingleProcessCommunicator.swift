import Foundation

/// The job of one process: every collective returns its own argument. This is what `compare`
/// uses when it is not started by `mpirun`, and it needs no MPI library.
public final class SingleProcessCommunicator: Communicator {
    public init() {}

    public var rank: Int { 0 }
    public var size: Int { 1 }

    public func allGather(_ values: [Float]) throws -> [Float] { values }
    public func allGatherVariable(_ values: [Double]) throws -> [Double] { values }
    public func maximum(_ value: Double) throws -> Double { value }
    public func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] { bytes }
    public func barrier() throws {}

    /// Writes `Error: message` on standard error, as `compare`'s one-line errors and
    /// ``MPICommunicator`` do, and exits with `status` (1 for 0).
    public func abort(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data(("Error: " + message + "\n").utf8))
        exit(status == 0 ? 1 : status)
    }
}
