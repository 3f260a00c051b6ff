import Foundation

/// Imports Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) from the four gzip-compressed IDX
/// files of Debian's `dataset-fashion-mnist` package into ``DatasetContents``.
///
/// - 8-bit: `/train` uint8 [60000, 784], `/test` uint8 [10000, 784], likelihood `discrete`,
///   levels 256, shape [28, 28].
/// - binarized: pixel ≥ 128 → 1, else 0 (a fixed, deterministic threshold), likelihood
///   `binary`, levels 2; the rule is stored in the root attribute `binarization`.
///
/// Labels 0…9 go to `/train_labels` and `/test_labels`.
public enum FashionMNISTImporter {
    /// Where Debian's `dataset-fashion-mnist` installs the files.
    public static let defaultFolder = "/usr/share/datasets/fashion-mnist"
    /// The Debian package that provides ``defaultFolder``.
    public static let debianPackage = "dataset-fashion-mnist"
    /// The binarization threshold: a pixel p ∈ {0…255} becomes 1 when p ≥ 128.
    public static let binarizationThreshold: UInt8 = 128
    /// The rule as stored in the attribute `binarization`.
    public static let binarizationRule = "fixed threshold: pixel >= 128 -> 1, else 0 (deterministic, no randomness)"

    static let files = [
        "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    ]

    /// Whether the four source files are present in `folder`.
    public static func isAvailable(in folder: String = defaultFolder) -> Bool {
        files.values.allSatisfy { images, labels in
            FileManager.default.fileExists(atPath: folder + "/" + images)
                && FileManager.default.fileExists(atPath: folder + "/" + labels)
        }
    }

    /// Reads the IDX files from `folder` and builds the dataset.
    ///
    /// - Throws: ``StoreError`` naming the file for a missing file (with the Debian package
    ///   to install), a corrupt gzip stream, a bad magic number, a header/body size mismatch,
    ///   images that are not 28 × 28, or label counts that differ from image counts.
    public static func load(from folder: String = defaultFolder, binarize: Bool) throws -> DatasetContents {
        var splits: [String: (pixels: [UInt8], labels: [Int64])] = [:]
        for split in ["train", "test"] {
            let (imageName, labelName) = files[split]!
            let imagePath = folder + "/" + imageName, labelPath = folder + "/" + labelName
            for path in [imagePath, labelPath] where !FileManager.default.fileExists(atPath: path) {
                throw StoreError(file: path, cause: "no such file; install it with: apt-get install \(debianPackage)")
            }
            let images = try IDXFile.parseImages(try GzipFile.readAll(imagePath), path: imagePath)
            guard images.rows == 28, images.columns == 28 else {
                throw StoreError(file: imagePath, cause: "images are \(images.rows) × \(images.columns); expected 28 × 28")
            }
            let labels = try IDXFile.parseLabels(try GzipFile.readAll(labelPath), path: labelPath)
            guard labels.count == images.count else {
                throw StoreError(file: labelPath, cause: "\(labels.count) labels for \(images.count) images in \(imagePath)")
            }
            if let bad = labels.firstIndex(where: { $0 > 9 }) {
                throw StoreError(file: labelPath, cause: "label \(labels[bad]) at row \(bad) is not a class 0…9")
            }
            let pixels = binarize ? ArrayScan.threshold(images.pixels, at: binarizationThreshold) : images.pixels
            splits[split] = (pixels, labels.map { Int64($0) })
        }
        var attributes: [String: AttributeValue] = [
            "classes": .string("0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot"),
            "source_folder": .string(folder),
        ]
        if binarize { attributes["binarization"] = .string(binarizationRule) }
        return DatasetContents(
            name: binarize ? "fashion-mnist-binary" : "fashion-mnist",
            likelihood: binarize ? .binary : .discrete, levels: binarize ? 2 : 256,
            exampleShape: [28, 28],
            source: "Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, https://github.com/zalandoresearch/fashion-mnist), Debian package \(debianPackage), \(folder)",
            license: "MIT",
            train: .uint8(splits["train"]!.pixels), test: .uint8(splits["test"]!.pixels),
            trainLabels: splits["train"]!.labels, testLabels: splits["test"]!.labels,
            attributes: attributes)
    }
}
