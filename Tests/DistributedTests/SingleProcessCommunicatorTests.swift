import Distributed
import XCTest

/// A job of one process: every collective returns this rank's own argument.
final class SingleProcessCommunicatorTests: XCTestCase {
    func testCollectives_returnTheirOwnArgument() throws {
        let communicator = SingleProcessCommunicator()
        XCTAssertEqual(communicator.rank, 0)
        XCTAssertEqual(communicator.size, 1)
        XCTAssertTrue(communicator.isRoot)
        XCTAssertEqual(try communicator.allGather([1, 2.5, -3]), [1, 2.5, -3])
        XCTAssertEqual(try communicator.allGather([]), [])
        XCTAssertEqual(try communicator.allGatherVariable([0.125, 7]), [0.125, 7])
        XCTAssertEqual(try communicator.allGatherVariable([]), [])
        XCTAssertEqual(try communicator.maximum(-4.5), -4.5)
        XCTAssertEqual(try communicator.broadcast([1, 2, 3], root: 0), [1, 2, 3])
        XCTAssertNoThrow(try communicator.barrier())
    }
}
