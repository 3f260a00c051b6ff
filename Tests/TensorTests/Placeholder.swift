import XCTest

final class TensorTestsPlaceholder: XCTestCase {}
