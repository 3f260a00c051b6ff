import Distributed
import XCTest

/// Promise (docs/scaling.md#the-order-of-the-sum): the ranks' vectors are added as the balanced
/// tree over the ranks in index order, whatever the transport.
final class TreeSumTests: XCTestCase {
    /// 1e8 + 1 rounds to 1e8 in Float, so the grouping shows in the result: the tree gives
    /// (1e8 + 1) + (−1e8 + 1) = 0, adding in rank order would give ((1e8 + 1) − 1e8) + 1 = 1.
    func testTreeSum_groupsTheRanksAsABalancedTree() {
        let gathered: [Float] = [1e8, 2, 1, 3, -1e8, 5, 1, 7]  // four ranks of two values
        let sum = SingleProcessCommunicator.treeSumOfGathered(gathered, rankCount: 4)
        XCTAssertEqual(sum, [0, 17])
        let inRankOrder = ((gathered[0] + gathered[2]) + gathered[4]) + gathered[6]
        XCTAssertEqual(inRankOrder, 1, "the example must tell the two orders apart")
    }

    func testTreeSum_ofOneRankIsItsOwnVector() throws {
        XCTAssertEqual(SingleProcessCommunicator.treeSumOfGathered([1, 2, 3], rankCount: 1), [1, 2, 3])
        XCTAssertEqual(try SingleProcessCommunicator().treeSum([4, 5]), [4, 5])
    }

    func testTreeSum_ofTwoAndEightRanksMatchesTheHalvesAddedLast() {
        var values: [Float] = []
        for rank in 0 ..< 8 { values += [Float(rank) * 0.1 + 1e7, 1 / Float(rank + 1)] }
        let eight = SingleProcessCommunicator.treeSumOfGathered(values, rankCount: 8)
        let left = SingleProcessCommunicator.treeSumOfGathered(Array(values[0 ..< 8]), rankCount: 4)
        let right = SingleProcessCommunicator.treeSumOfGathered(Array(values[8 ..< 16]), rankCount: 4)
        XCTAssertEqual(eight, SingleProcessCommunicator.treeSumOfGathered(left + right, rankCount: 2))
    }
}
