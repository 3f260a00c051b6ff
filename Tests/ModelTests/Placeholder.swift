import XCTest

final class ModelTestsPlaceholder: XCTestCase {}
