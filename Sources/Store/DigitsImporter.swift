import Core
import Foundation

/// Imports scikit-learn's copy of the UCI optical-recognition handwritten digits
/// (8 × 8 images, 1797 rows) from `digits.csv.gz` into ``DatasetContents``.
///
/// Each CSV row holds 64 pixel counts 0…16, then the label 0…9. Stored as uint8 [N, 64],
/// likelihood `discrete` with levels 17, shape [8, 8].
///
/// Split (fixed and documented): the row order is permuted by
/// `RandomGenerator(seed: 0).permutation(1797)` (xoshiro256** seeded by SplitMix64,
/// Fisher–Yates); the first 1497 permuted rows are the training set, the last 300 the test
/// set. The original row numbers are stored in `/train_source_rows` and `/test_source_rows`
/// so the split can be checked without this program.
public enum DigitsImporter {
    /// Where Debian's `python3-sklearn` installs the file.
    public static let defaultPath = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
    /// The Debian package that provides ``defaultPath``.
    public static let debianPackage = "python3-sklearn"
    /// Rows in the file.
    public static let rowCount = 1797
    /// Rows in the test split; the other 1497 are training rows.
    public static let testCount = 300
    /// Seed of the split permutation.
    public static let splitSeed: UInt64 = 0

    /// Whether the source file exists.
    public static func isAvailable(at path: String = defaultPath) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// Reads `digits.csv.gz` and builds the dataset with the fixed split.
    ///
    /// - Throws: ``StoreError`` naming the file (and line) for a missing file (with the Debian
    ///   package to install), corrupt gzip data, a row without 65 integers, a pixel outside
    ///   0…16, a label outside 0…9, or a row count other than 1797.
    public static func load(from path: String = defaultPath) throws -> DatasetContents {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(file: path, cause: "no such file; install it with: apt-get install \(debianPackage)")
        }
        let text = String(decoding: try GzipFile.readAll(path), as: UTF8.self)
        var pixels: [[UInt8]] = []
        var labels: [Int64] = []
        for (index, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 65 else {
                throw StoreError(file: path, object: "line \(index + 1)", cause: "has \(fields.count) fields; expected 64 pixels and a label")
            }
            // Values are written as integers or as floats such as "0.0" in some versions.
            // Int(exactly:) refuses fractions, NaN, infinities and values beyond Int (1e300).
            let values = fields.compactMap { Double($0).flatMap { Int(exactly: $0) } }
            guard values.count == fields.count else {
                throw StoreError(file: path, object: "line \(index + 1)", cause: "holds a value that is not an integer")
            }
            guard values[0..<64].allSatisfy({ (0...16).contains($0) }) else {
                throw StoreError(file: path, object: "line \(index + 1)", cause: "holds a pixel outside 0…16")
            }
            guard (0...9).contains(values[64]) else {
                throw StoreError(file: path, object: "line \(index + 1)", cause: "label \(values[64]) is not a digit 0…9")
            }
            pixels.append(values[0..<64].map { UInt8($0) })
            labels.append(Int64(values[64]))
        }
        guard pixels.count == rowCount else {
            throw StoreError(file: path, cause: "has \(pixels.count) rows; expected \(rowCount)")
        }
        var generator = RandomGenerator(seed: splitSeed)
        let order = generator.permutation(rowCount)
        let trainRows = Array(order[0..<(rowCount - testCount)])
        let testRows = Array(order[(rowCount - testCount)...])
        return DatasetContents(
            name: "digits", likelihood: .discrete, levels: 17, exampleShape: [8, 8],
            source: "UCI Optical Recognition of Handwritten Digits (test part) as shipped by scikit-learn, Debian package \(debianPackage), \(path)",
            license: "BSD-3-Clause (scikit-learn); data from the UCI Machine Learning Repository, CC BY 4.0",
            train: .uint8(trainRows.flatMap { pixels[$0] }), test: .uint8(testRows.flatMap { pixels[$0] }),
            trainLabels: trainRows.map { labels[$0] }, testLabels: testRows.map { labels[$0] },
            integerArrays: [
                "train_source_rows": trainRows.map { Int64($0) },
                "test_source_rows": testRows.map { Int64($0) },
            ],
            attributes: [
                "split": .string("rows of digits.csv.gz permuted by RandomGenerator(seed: 0).permutation(1797) (xoshiro256** seeded by SplitMix64, Fisher-Yates from the last index down); first 1497 -> train, last 300 -> test; original row numbers (0-based) in /train_source_rows and /test_source_rows"),
            ])
    }
}
