import Tensor
import XCTest

final class BroadcastingTests: XCTestCase {
    func testShape_compatibleShapesBroadcastLikeNumpy() {
        let cases: [([Int], [Int], [Int])] = [
            ([3, 4], [3, 4], [3, 4]),
            ([3, 4], [4], [3, 4]),
            ([3, 4], [1, 4], [3, 4]),
            ([3, 4], [3, 1], [3, 4]),
            ([3, 1], [1, 4], [3, 4]),
            ([], [2, 3], [2, 3]),
            ([], [], []),
            ([1], [5], [5]),
            ([3, 1, 4], [2, 1], [3, 2, 4]),
            ([3, 1, 4], [2, 4], [3, 2, 4]),
            ([8, 1, 6, 1], [7, 1, 5], [8, 7, 6, 5]),
            ([5, 4], [1], [5, 4]),
            ([15, 3, 5], [15, 1, 5], [15, 3, 5]),
            ([1, 1], [1], [1, 1]),
            ([0], [1], [0]),
            ([2, 0], [2, 1], [2, 0]),
        ]
        for (lhs, rhs, expected) in cases {
            XCTAssertEqual(Broadcasting.shape(lhs, rhs), expected, "\(lhs) with \(rhs)")
            XCTAssertEqual(Broadcasting.shape(rhs, lhs), expected, "\(rhs) with \(lhs)")
        }
    }

    func testShape_incompatibleShapesGiveNil() {
        let cases: [([Int], [Int])] = [
            ([3], [4]),
            ([2, 3], [3, 2]),
            ([2, 1], [8, 4, 3]),
            ([3, 4], [3]),
            ([4, 3], [2, 3, 2]),
            ([0], [2]),
            ([2, 3, 4], [3, 3]),
        ]
        for (lhs, rhs) in cases {
            XCTAssertNil(Broadcasting.shape(lhs, rhs), "\(lhs) with \(rhs)")
            XCTAssertNil(Broadcasting.shape(rhs, lhs), "\(rhs) with \(lhs)")
        }
    }
}
