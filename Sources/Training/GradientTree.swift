/// The one order in which the gradients of a step's shards are added, whatever the number of
/// processes (docs/scaling.md#the-order-of-the-sum).
///
/// Floating-point addition is not associative, so the same shards summed in two orders give two
/// sets of bits. The sum here is a balanced binary tree over the shards in index order:
/// sum(g_0 … g_{M−1}) = sum(first half) + sum(second half), down to single shards. With M and the
/// process count N powers of two, each process's shards form one subtree of M/N leaves; a process
/// sums its subtree, and the top log₂ N levels over the N subtree sums in rank order are added by
/// the communicator's tree sum (`Communicator.treeSum`, grouped the same way): bit for bit the
/// sum one process forms from all M shards.
public enum GradientTree {
    /// The tree sum of `leaves`, all of one length: element i is the tree sum of the leaves'
    /// elements i.
    /// - Precondition: at least one leaf; equal lengths.
    public static func sum(_ leaves: [[Float]]) -> [Float] {
        precondition(!leaves.isEmpty, "a gradient tree needs at least one leaf")
        precondition(leaves.allSatisfy { $0.count == leaves[0].count }, "gradient leaves of different lengths")
        return sum(leaves[...])
    }

    private static func sum(_ leaves: ArraySlice<[Float]>) -> [Float] {
        if leaves.count == 1 { return leaves.first! }
        let middle = leaves.startIndex + leaves.count / 2
        var left = sum(leaves[..<middle])
        let right = sum(leaves[middle...])
        left.withUnsafeMutableBufferPointer { left in
            right.withUnsafeBufferPointer { right in
                for i in 0..<left.count { left[i] += right[i] }
            }
        }
        return left
    }

    /// Whether `count` is 1, 2, 4, 8, …: the shard and process counts whose subtrees line up.
    public static func isPowerOfTwo(_ count: Int) -> Bool { count > 0 && count & (count - 1) == 0 }
}
