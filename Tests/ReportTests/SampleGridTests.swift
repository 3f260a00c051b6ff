import _CPNG
import Foundation
import Report
import XCTest

final class SampleGridTests: XCTestCase {
    /// The pixels of a PNG decoded by libpng's simplified read API as 8-bit gray.
    private func decodeGray(_ bytes: [UInt8]) throws -> GrayImage {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        XCTAssertNotEqual(begun, 0, "libpng could not read the header")
        image.format = png_uint_32(PNG_FORMAT_GRAY)
        var pixels = [UInt8](repeating: 0, count: Int(image.width * image.height))
        let finished = bytes.withUnsafeBytes { _ in
            pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        }
        XCTAssertNotEqual(finished, 0, "libpng could not decode the pixels")
        return GrayImage(width: Int(image.width), height: Int(image.height), pixels: pixels)
    }

    private func bigEndian(_ bytes: [UInt8], at offset: Int) -> Int {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
    }

    func testPixelMapping_discreteAndBinary() {
        XCTAssertEqual([-1, -0.5, 0, 1, 3, -7].map { PixelMapping.symmetricUnit.gray($0) }, [0, 64, 128, 255, 255, 0])
        XCTAssertEqual([0, 1, 0.5].map { PixelMapping.unit.gray($0) }, [0, 255, 128])
        XCTAssertEqual(PixelMapping.forLikelihood("discrete", values: []), .symmetricUnit)
        XCTAssertEqual(PixelMapping.forLikelihood("binary", values: []), .unit)
        XCTAssertEqual(PixelMapping.forLikelihood("continuous", values: [2, -3, 5]), .range(lower: -3, upper: 5))
        XCTAssertEqual(PixelMapping.unit.gray(.nan), 0)
    }

    func testSampleGrid_layoutAndSize() throws {
        // Five 2 × 3 examples in 3 columns, pixel scale 2, padding 1: width 3·6 + 4 = 22, height 2·4 + 3 = 11.
        let samples: [Float] = (0..<30).map { Float($0 % 2) }
        let image = try XCTUnwrap(sampleGridImage(samples: samples, shape: [2, 3], mapping: .unit, columns: 3, scale: 2, padding: 1))
        XCTAssertEqual(image.width, 22)
        XCTAssertEqual(image.height, 11)
        XCTAssertEqual(image[0, 0], 128, "padding")
        // Example 0, pixel (0, 1) = 1 → white, drawn as a 2 × 2 block at (1 + 0, 1 + 2).
        XCTAssertEqual([image[1, 3], image[1, 4], image[2, 3], image[2, 4]], [255, 255, 255, 255])
        XCTAssertEqual(image[1, 1], 0)
        // Example 4 is in row 1, column 1: its top-left pixel (value 0) at (1 + 4 + 1, 1 + 6 + 1).
        XCTAssertEqual(image[6, 8], 0)
        XCTAssertEqual(image[6, 10], 255)
        // The empty sixth cell stays padding gray.
        XCTAssertEqual(image[6, 15], 128)
        XCTAssertNil(sampleGridImage(samples: samples, shape: [30], mapping: .unit))
        XCTAssertNil(sampleGridImage(samples: [], shape: [2, 3], mapping: .unit))
    }

    func testEncodePNG_signatureSizeAndPixelsRoundTrip() throws {
        let pixels = (0..<(7 * 5)).map { UInt8(($0 * 37) % 256) }
        let image = GrayImage(width: 7, height: 5, pixels: pixels)
        let bytes = try encodePNG(image)
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(String(decoding: bytes[12..<16], as: UTF8.self), "IHDR")
        XCTAssertEqual(bigEndian(bytes, at: 16), 7)
        XCTAssertEqual(bigEndian(bytes, at: 20), 5)
        XCTAssertEqual(bytes[24], 8, "bit depth")
        XCTAssertEqual(bytes[25], 0, "color type: grayscale")
        XCTAssertEqual(try decodeGray(bytes), image)
    }

    func testReportPNG_isTheSampleGridOfTheRun() throws {
        let runs = Fixtures.imageRuns()
        let files = try makeComparisonReport(title: "t", runs: runs, reportName: "digits", command: "c")
        let png = try XCTUnwrap(files.first { $0.name == "digits-samples-vae.png" })
        let decoded = try decodeGray(png.contents)
        // Two 4 × 4 samples, scaled ×7 to reach 28 pixels, 2 columns, padding 1: 2·28 + 3 by 28 + 2.
        XCTAssertEqual(decoded.width, 59)
        XCTAssertEqual(decoded.height, 30)
        XCTAssertEqual(bigEndian(png.contents, at: 16), 59)
        XCTAssertEqual(bigEndian(png.contents, at: 20), 30)
        // Discrete samples on [-1, 1]: value k/8 - 1 maps to round(k/16 · 255).
        let expected = try XCTUnwrap(sampleGridImage(samples: runs[0].samples, shape: [4, 4], mapping: .symmetricUnit, scale: 7))
        XCTAssertEqual(decoded, expected)
        XCTAssertEqual(decoded[1, 1], 0, "sample value -1 is black")
        XCTAssertEqual(decoded[1 + 7, 1], PixelMapping.symmetricUnit.gray(Float(4) / 8 - 1), "row 1 of sample 0 starts with value 4")
    }
}
