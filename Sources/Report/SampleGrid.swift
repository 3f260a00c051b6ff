/// How sample values become gray levels.
public enum PixelMapping: Equatable, Sendable {
    /// Discrete data on [-1, 1]: -1 → 0, 1 → 255 (clamped).
    case symmetricUnit
    /// Binary data (or Bernoulli means) on [0, 1]: 0 → 0, 1 → 255 (clamped).
    case unit
    /// Any other range: lower → 0, upper → 255 (clamped).
    case range(lower: Float, upper: Float)

    /// The mapping for samples of data with `likelihood` (`discrete`, `binary`, `continuous`):
    /// continuous images are stretched over the samples' own range.
    public static func forLikelihood(_ likelihood: String, values: [Float]) -> PixelMapping {
        switch likelihood {
        case "discrete": return .symmetricUnit
        case "binary": return .unit
        default:
            let finite = values.filter(\.isFinite)
            guard let low = finite.min(), let high = finite.max(), high > low else { return .symmetricUnit }
            return .range(lower: low, upper: high)
        }
    }

    /// The gray level of `value` (NaN → 0).
    public func gray(_ value: Float) -> UInt8 {
        let (lower, upper): (Float, Float)
        switch self {
        case .symmetricUnit: (lower, upper) = (-1, 1)
        case .unit: (lower, upper) = (0, 1)
        case .range(let low, let high): (lower, upper) = (low, high)
        }
        guard !value.isNaN else { return 0 }
        let fraction = min(max((value - lower) / (upper - lower), 0), 1)
        return UInt8((fraction * 255).rounded())
    }
}

/// Image samples tiled into one grayscale image.
///
/// - Parameters:
///   - samples: [count, height · width] row-major (a partial last example is ignored).
///   - shape: [height, width] of one example.
///   - columns: tiles per row (default ⌈√count⌉).
///   - scale: each pixel drawn as a scale × scale block.
///   - padding: gray (128) pixels between and around tiles.
public func sampleGridImage(samples: [Float], shape: [Int], mapping: PixelMapping, columns: Int? = nil,
                            scale: Int = 1, padding: Int = 1) -> GrayImage? {
    guard shape.count == 2, shape[0] > 0, shape[1] > 0, scale >= 1, padding >= 0 else { return nil }
    let (tileHeight, tileWidth) = (shape[0], shape[1])
    let count = samples.count / (tileHeight * tileWidth)
    guard count > 0 else { return nil }
    let columnCount = max(1, min(count, columns ?? Int(Double(count).squareRoot().rounded(.up))))
    let rowCount = (count + columnCount - 1) / columnCount
    let cellWidth = tileWidth * scale, cellHeight = tileHeight * scale
    var image = GrayImage(width: columnCount * cellWidth + (columnCount + 1) * padding,
                          height: rowCount * cellHeight + (rowCount + 1) * padding, filledWith: 128)
    for example in 0..<count {
        let top = padding + (example / columnCount) * (cellHeight + padding)
        let left = padding + (example % columnCount) * (cellWidth + padding)
        let offset = example * tileHeight * tileWidth
        for row in 0..<tileHeight {
            for column in 0..<tileWidth {
                let gray = mapping.gray(samples[offset + row * tileWidth + column])
                for dy in 0..<scale {
                    for dx in 0..<scale { image[top + row * scale + dy, left + column * scale + dx] = gray }
                }
            }
        }
    }
    return image
}

/// The pixel scale that makes tiles of `shape` at least `minimumSide` pixels on their longer side.
func gridScale(for shape: [Int], minimumSide: Int = 28) -> Int {
    let side = shape.max() ?? minimumSide
    return max(1, (minimumSide + side - 1) / max(1, side))
}
