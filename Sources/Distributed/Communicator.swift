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

    /// The element-wise sum of every rank's `values`, on every rank, grouped as the balanced
    /// binary tree over the ranks in index order: with four ranks, (v₀ + v₁) + (v₂ + v₃). The
    /// grouping is part of the contract, so that the bits do not depend on the transport; `size`
    /// must be a power of two and every rank passes the same count. The default gathers every
    /// rank's values and adds them level by level (``treeSumOfGathered(_:rankCount:)``);
    /// ``MPICommunicator`` exchanges partial sums by recursive doubling instead, log₂ N messages
    /// of one vector each rather than N (docs/scaling.md#cost-per-step).
    func treeSum(_ values: [Float]) throws -> [Float]

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

extension Communicator {
    public func treeSum(_ values: [Float]) throws -> [Float] {
        Self.treeSumOfGathered(try allGather(values), rankCount: size)
    }

    /// The tree sum of ``treeSum(_:)`` of `gathered`, the ranks' vectors concatenated in rank
    /// order: level by level, rank r's partial sum taking partner r + d's (d = 1, 2, 4, …) with
    /// the lower rank's operand first, as the recursive doubling of ``MPICommunicator`` does.
    public static func treeSumOfGathered(_ gathered: [Float], rankCount: Int) -> [Float] {
        precondition(rankCount > 0 && rankCount & (rankCount - 1) == 0, "the tree sum needs a power-of-two rank count")
        let width = gathered.count / rankCount
        var partial = (0 ..< rankCount).map { Array(gathered[($0 * width) ..< (($0 + 1) * width)]) }
        var distance = 1
        while distance < rankCount {
            for rank in stride(from: 0, to: rankCount, by: 2 * distance) {
                let right = partial[rank + distance]
                for i in 0 ..< width { partial[rank][i] = partial[rank][i] + right[i] }
            }
            distance *= 2
        }
        return partial[0]
    }
}
