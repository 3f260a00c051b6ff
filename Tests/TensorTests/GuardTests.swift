import Tensor
import XCTest

/// ``Tensor/guarded(to:)``: a clamp in the forward pass, the identity in the backward pass, the
/// tensor itself when nothing is out of bounds, and every moved element counted.
final class GuardTests: XCTestCase {
    func testInBoundsTensorIsReturnedItselfAndNothingIsCounted() {
        let x = Tensor(parameterShape: [3], storage: [-2, 0, 2])
        let before = GuardCounter.total
        XCTAssertTrue(x.guarded(to: -2...2) === x, "no copy, no graph node: a run whose guards never act is bit for bit unguarded")
        XCTAssertEqual(GuardCounter.total, before)
    }

    func testOutOfBoundsElementsAreClampedCountedAndGetTheGradientUnchanged() {
        let x = Tensor(parameterShape: [5], storage: [-30, -1, 0.5, 12, .nan])
        let before = GuardCounter.total
        let y = x.guarded(to: -20...10)
        XCTAssertEqual(Array(y.storage.prefix(4)), [-20, -1, 0.5, 10])
        XCTAssertTrue(y.storage[4].isNaN, "a guard bounds large values; it does not hide an undefined one")
        XCTAssertEqual(GuardCounter.total - before, 2, "the two elements past a bound (NaN is not counted)")
        (y * Tensor(shape: [5], storage: [1, 2, 3, 4, 0])).sum().backward()
        XCTAssertEqual(x.gradient!, [1, 2, 3, 4, 0], "straight through: the gradient at the bound flows back unchanged")
    }
}
