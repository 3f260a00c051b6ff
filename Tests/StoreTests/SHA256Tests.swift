import Foundation
import Store
import XCTest

final class SHA256Tests: TemporaryFolderTestCase {
    func testSHA256_matchesFIPSTestVectors() {
        XCTAssertEqual(SHA256.hexDigest(of: []), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hexDigest(of: Array("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hexDigest(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hexDigest(of: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testSHA256_fileDigestEqualsInMemoryDigestAcrossBlockBoundaries() throws {
        let bytes = (0..<(1 << 20) + 17).map { UInt8(truncatingIfNeeded: ($0 &* 2654435761) >> 7) }
        let filePath = path("bytes.bin")
        try Data(bytes).write(to: URL(fileURLWithPath: filePath))
        XCTAssertEqual(try SHA256.hexDigest(ofFileAt: filePath), SHA256.hexDigest(of: bytes))
        var incremental = SHA256()
        incremental.update(Array(bytes[0..<63]))
        incremental.update(Array(bytes[63..<1000]))
        incremental.update(Array(bytes[1000...]))
        let hex = incremental.finalize().map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(hex, SHA256.hexDigest(of: bytes))
    }
}
