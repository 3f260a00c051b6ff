/// The processes of one job and the few collective operations that data-parallel training and
/// sharded evaluation need (docs/scaling.md).
///
/// Every operation is collective: every rank calls it, in the same order, with the same shape of
/// arguments. Results never depend on the number of ranks beyond what the caller asks for: the
/// gathers return the ranks' contributions concatenated in rank order, so that a caller who sums
/// them does so in an order it chose, not one the transport chose.
///
/// A rank that cannot go on calls ``abort(_:status:)``, which ends the whole job with one line on
/// standard error: never a hang of the other ranks in their next collective.
public protocol Communicator: AnyObject {
    /// This process's index, `0 ..< size`.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }

    /// Every rank's `values`, concatenated in rank order, on every rank. Every rank passes the
    /// same count.
    func allGather(_ values: [Float]) throws -> [Float]

    /// Every rank's `values`, concatenated in rank order, on every rank; the counts may differ
    /// between ranks (an evaluation's last shard is shorter).
    func allGatherVariable(_ values: [Double]) throws -> [Double]

    /// The largest of the ranks' `value`s, on every rank (a stop flag is 0 or 1: any rank that
    /// must stop makes every rank stop at the same step).
    func maximum(_ value: Double) throws -> Double

    /// Root's `bytes` on every rank (the other ranks' arguments are ignored).
    func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8]

    /// Returns when every rank has called it.
    func barrier() throws

    /// Ends the whole job: writes `message` as one line on standard error, prefixed with this
    /// rank when there are several, and terminates every rank with a non-zero status.
    func abort(_ message: String, status: Int32) -> Never
}

extension Communicator {
    /// Whether this rank is the one that writes files and prints (rank 0).
    public var isRoot: Bool { rank == 0 }
}
