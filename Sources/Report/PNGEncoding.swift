import _CPNG

/// An 8-bit grayscale image, row-major, top row first.
public struct GrayImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `pixels[row * width + column]`, 0 = black, 255 = white.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "an image needs a positive size")
        precondition(pixels.count == width * height, "\(pixels.count) pixels for \(width) × \(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, filledWith value: UInt8) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: value, count: width * height))
    }

    public subscript(row: Int, column: Int) -> UInt8 {
        get { pixels[row * width + column] }
        set { pixels[row * width + column] = newValue }
    }
}

/// The PNG file of `image` (8-bit grayscale), made in memory with libpng's simplified write API.
public func encodePNG(_ image: GrayImage) throws -> [UInt8] {
    var description = png_image()
    description.version = png_uint_32(PNG_IMAGE_VERSION)
    description.width = png_uint_32(image.width)
    description.height = png_uint_32(image.height)
    description.format = png_uint_32(PNG_FORMAT_GRAY)
    return try image.pixels.withUnsafeBytes { pixels -> [UInt8] in
        // First call: the size; second call: the bytes.
        var size = 0
        guard png_image_write_to_memory(&description, nil, &size, 0, pixels.baseAddress, 0, nil) != 0, size > 0 else {
            throw ReportError.imageEncoding(pngMessage(&description))
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBytes { output in
            png_image_write_to_memory(&description, output.baseAddress, &size, 0, pixels.baseAddress, 0, nil)
        }
        guard written != 0 else { throw ReportError.imageEncoding(pngMessage(&description)) }
        return Array(bytes.prefix(size))
    }
}

/// libpng's message for a failed simplified-API call (and frees its state).
private func pngMessage(_ image: inout png_image) -> String {
    let message = withUnsafeBytes(of: &image.message) { raw -> String in
        let bytes = raw.prefix(while: { $0 != 0 })
        return String(decoding: bytes, as: UTF8.self)
    }
    png_image_free(&image)
    return message.isEmpty ? "libpng failed without a message" : message
}
