import Core
import Foundation

/// `checkerboard`: uniform on the dark squares of a 4 × 4 board covering [−2, 2]².
///
/// Cell (i, j) = [−2 + i, −1 + i] × [−2 + j, −1 + j] for column i and row j in 0…3 is dark
/// when i + j is even: 8 unit squares of total area 8, so
///
///     q(x) = 1/8 on the (closed) dark squares, 0 elsewhere;  log q(x) = −log 8 inside.
///
/// Sampling picks one of the 8 dark squares uniformly (`nextInt(below: 8)`), then two
/// uniforms u, v ∈ [0, 1): x = (x_min + u, y_min + v).
public struct Checkerboard: ToyDistribution {
    public init() {}

    public var dimension: Int { 2 }

    /// The dark squares as (x_min, x_max, y_min, y_max), column-major over the board.
    public var darkSquares: [[Double]] {
        var squares: [[Double]] = []
        for column in 0..<4 {
            for row in 0..<4 where (column + row) % 2 == 0 {
                let xMinimum = -2 + Double(column), yMinimum = -2 + Double(row)
                squares.append([xMinimum, xMinimum + 1, yMinimum, yMinimum + 1])
            }
        }
        return squares
    }

    public func sample(using generator: inout RandomGenerator) -> [Double] {
        let square = darkSquares[generator.nextInt(below: 8)]
        let u = generator.nextUniform(), v = generator.nextUniform()
        return [square[0] + u, square[2] + v]
    }

    /// −log 8 on a closed dark square, −∞ elsewhere.
    public func logDensity(_ point: [Double]) -> Double? {
        let inside = darkSquares.contains { square in
            point[0] >= square[0] && point[0] <= square[1] && point[1] >= square[2] && point[1] <= square[3]
        }
        return inside ? -log(8.0) : -Double.infinity
    }

    public var density: DensityDescription? {
        DensityDescription(
            family: "uniform-on-squares",
            formula: "q(x) = 1 / total_area if x lies in one of the closed squares [x_min, x_max] x [y_min, y_max] (rows of squares), else 0; total_area = 8, so log q(x) = -log 8 on the dark squares",
            parameters: [
                DensityParameter(name: "squares", shape: [8, 4], values: darkSquares.flatMap { $0 }),
                DensityParameter(name: "bounds", shape: [2, 2], values: [-2, 2, -2, 2]),
                DensityParameter(name: "total_area", shape: [], values: [8]),
            ])
    }

    public var settings: [String: Double] { ["board_cells_per_side": 4, "half_width": 2] }
}
