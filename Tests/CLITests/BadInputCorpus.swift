import Foundation
import XCTest

/// One bad input: files damaged in a fresh folder, the `compare` command line that meets
/// them, and what its one stderr line must say (the file or option, and the problem).
///
/// Every case starts in its own folder holding the corpus fixtures (see
/// ``BadInputCorpusTests/makeFixtures(in:)``): `data.h5` (gmm2d, 64 train and 16 test rows),
/// `vae.h5` (a VAE trained 2 steps on it, never evaluated), `evaluated.h5` (the same,
/// evaluated) and `example.h5` (`compare-fixtures example-checkpoint`, model `example`);
/// `discrete.h5` (a digits import of `discrete.csv.gz`, 1497 train and 300 test rows of 64
/// pixels, 17 levels), `baseline.h5` (`compare baseline` on it) and `discrete-vae.h5` (a VAE
/// trained 2 steps on it, evaluated on 4 examples). `setup` then damages or adds files; the command runs
/// with the folder as its working directory.
struct BadInputCase {
    let name: String
    let category: String
    var setup: (ScratchFolder) throws -> Void = { _ in }
    let arguments: [String]
    /// Fragments the stderr line must contain.
    let expected: [String]
}

/// The train command line of the corpus: tiny and short (`--steps 2`), writing `new.h5`.
private func train(_ extra: [String], model: String = "vae", dataset: String = "data.h5", out: String = "new.h5") -> [String] {
    var arguments = ["train", "--model", model, "--dataset", dataset, "--steps", "2", "--batch-size", "16", "--hidden", "8", "--out", out]
    // Later occurrences of an option win in argument-parser, so `extra` overrides the defaults.
    arguments += extra
    return arguments
}

/// IDX bytes: images (magic 2051) `count` × 28 × 28, labels (magic 2049).
private func idxImages(count: UInt32, rows: UInt32 = 28, columns: UInt32 = 28, bodyBytes: Int? = nil, magic: UInt32 = 2051) -> [UInt8] {
    let body = bodyBytes ?? Int(count * rows * columns)
    return [magic, count, rows, columns].flatMap(ByteSurgery.bigEndian32) + [UInt8](repeating: 7, count: body)
}

private func idxLabels(_ labels: [UInt8], magic: UInt32 = 2049) -> [UInt8] {
    [magic, UInt32(labels.count)].flatMap(ByteSurgery.bigEndian32) + labels
}

/// A Fashion-MNIST source folder `idx/` with valid files for both splits, then `damage`
/// replacing some of them (by file name).
private func fashionSource(_ damage: [String: [UInt8]]) -> (ScratchFolder) throws -> Void {
    { folder in
        try FileManager.default.createDirectory(atPath: folder.path("idx"), withIntermediateDirectories: true)
        for prefix in ["train", "t10k"] {
            try folder.write(ByteSurgery.gzip(idxImages(count: 2)), to: "idx/\(prefix)-images-idx3-ubyte.gz")
            try folder.write(ByteSurgery.gzip(idxLabels([1, 2])), to: "idx/\(prefix)-labels-idx1-ubyte.gz")
        }
        for (name, bytes) in damage { try folder.write(bytes, to: "idx/\(name)") }
    }
}

private let fashionImport = ["datasets", "import", "fashion-mnist", "--source", "idx", "--out", "fashion.h5"]

/// A digits CSV (64 pixels and a label per line) of `rows` lines with `firstLine` first.
private func digitsCSV(firstLine: String, rows: Int = 6) -> (ScratchFolder) throws -> Void {
    { folder in
        let good = (Array(repeating: "0", count: 64) + ["3"]).joined(separator: ",")
        try folder.write(ByteSurgery.gzip(Array(([firstLine] + Array(repeating: good, count: rows - 1)).joined(separator: "\n").utf8)), to: "digits.csv.gz")
    }
}

private func damaged(_ source: String, as name: String, _ transform: @escaping ([UInt8]) throws -> [UInt8]) -> (ScratchFolder) throws -> Void {
    { folder in try folder.write(try transform(try folder.bytes(source)), to: name) }
}

private func invalidDataset(_ kind: String, as name: String) -> (ScratchFolder) throws -> Void {
    { folder in
        let result = try runCompare(["compare-fixtures", "write-invalid-dataset", kind, "--out", name], cwd: folder.url)
        guard result.status == 0 else { throw ByteSurgery.Failure(description: "cannot write invalid dataset \(kind): \(result.stderr)") }
    }
}

/// The fixtures' digits CSV: 1797 rows of 64 pixels (0…16, varied so that every pixel's
/// counts differ from level 0 only) and a label.
func digitsFixtureCSV() -> [UInt8] {
    let rows = (0..<1797).map { i in ((0..<64).map { j in String((i * 3 + j * 5 + (i * j) % 7) % 17) } + [String(i % 10)]).joined(separator: ",") }
    return ByteSurgery.gzip(Array(rows.joined(separator: "\n").utf8))
}

/// `compare-fixtures ARGUMENTS` in the case's folder, failing the setup when it fails.
private func fixtureEdit(_ arguments: [String]) -> (ScratchFolder) throws -> Void {
    { folder in
        let result = try runCompare(["compare-fixtures"] + arguments, cwd: folder.url)
        guard result.status == 0 else { throw ByteSurgery.Failure(description: "compare-fixtures \(arguments.joined(separator: " ")): \(result.stderr)") }
    }
}

/// `baseline.h5` copied to `name` with `/parameters/counts` [64, 17] replaced by `values`.
private func baselineCounts(_ name: String, _ values: [String]) -> (ScratchFolder) throws -> Void {
    fixtureEdit(["edit-array", "baseline.h5", "--out", name, "--object", "/parameters/counts", "--values=" + values.joined(separator: ",")])
}

/// `baseline.h5` copied to `name` with the root attribute `config` replaced by `json`.
private func baselineConfig(_ name: String, _ json: String) -> (ScratchFolder) throws -> Void {
    fixtureEdit(["edit-attribute", "baseline.h5", "--out", name, "--name", "config", "--string", json])
}

enum BadInputCorpus {
    static let cases: [BadInputCase] = damagedFiles + schemaViolations + checkpoints + gzipAndIDX + impossibleOptions + outputFolders + reports
        + baselines + oracleDenoiser + continuousTime

    // MARK: `compare eval --denoiser oracle` where there is no Gaussian-mixture DDPM

    /// A DDPM trained 2 steps (T = 10) on `dataset`, written to `out`.
    private static func ddpm(on dataset: String, out: String) -> (ScratchFolder) throws -> Void {
        { folder in try runCompareSucceeding(train(["--timesteps", "10"], model: "ddpm", dataset: dataset, out: out), in: folder) }
    }

    static let oracleDenoiser: [BadInputCase] = [
        BadInputCase(name: "oracle denoiser of a VAE", category: "oracle",
                     arguments: ["eval", "vae.h5", "--denoiser", "oracle"], expected: ["--denoiser oracle", "vae.h5", "vae model", "DDPM"]),
        BadInputCase(name: "oracle denoiser of a baseline", category: "oracle",
                     arguments: ["eval", "baseline.h5", "--denoiser", "oracle"], expected: ["--denoiser oracle", "baseline.h5", "baseline"]),
        BadInputCase(name: "oracle denoiser on the checkerboard", category: "oracle",
                     setup: { folder in
                         try runCompareSucceeding(["datasets", "make", "checkerboard", "--train", "64", "--test", "16", "--out", "board.h5"], in: folder)
                         try ddpm(on: "board.h5", out: "board-ddpm.h5")(folder)
                     },
                     arguments: ["eval", "board-ddpm.h5", "--denoiser", "oracle"], expected: ["--denoiser oracle", "board-ddpm.h5", "uniform-on-squares"]),
        BadInputCase(name: "oracle denoiser on discrete data", category: "oracle", setup: ddpm(on: "discrete.h5", out: "discrete-ddpm.h5"),
                     arguments: ["eval", "discrete-ddpm.h5", "--denoiser", "oracle"], expected: ["--denoiser oracle", "discrete-ddpm.h5", "discrete data"]),
        BadInputCase(name: "unknown denoiser", category: "oracle",
                     arguments: ["eval", "vae.h5", "--denoiser", "perfect"], expected: ["--denoiser", "perfect", "network", "oracle"]),
    ]

    // MARK: continuous time: options that do not go together

    /// A continuous-time DDPM trained 2 steps on `data.h5`, written to `continuous.h5`.
    private static func continuousDDPM(_ folder: ScratchFolder) throws {
        try runCompareSucceeding(train(["--timesteps", "continuous", "--evaluation-timesteps", "4"], model: "ddpm", out: "continuous.h5"), in: folder)
    }

    static let continuousTime: [BadInputCase] = [
        BadInputCase(name: "learned schedule of T steps", category: "continuous time",
                     arguments: train(["--timesteps", "10", "--schedule", "learned"], model: "ddpm"), expected: ["--schedule learned", "--timesteps continuous"]),
        BadInputCase(name: "learned schedule with T left out", category: "continuous time",
                     arguments: train(["--schedule", "learned"], model: "ddpm"), expected: ["--schedule learned", "--timesteps continuous"]),
        BadInputCase(name: "reverse variance in continuous time", category: "continuous time",
                     arguments: train(["--timesteps", "continuous", "--variance", "fixed-large"], model: "ddpm"), expected: ["--variance", "continuous time"]),
        BadInputCase(name: "loss in continuous time", category: "continuous time",
                     arguments: train(["--timesteps", "continuous", "--loss", "hybrid"], model: "ddpm"), expected: ["--loss", "continuous time"]),
        BadInputCase(name: "evaluation T of a discrete DDPM", category: "continuous time",
                     arguments: train(["--timesteps", "10", "--evaluation-timesteps", "5"], model: "ddpm"), expected: ["--evaluation-timesteps", "--timesteps continuous"]),
        BadInputCase(name: "timesteps neither a number nor continuous", category: "continuous time",
                     arguments: train(["--timesteps", "infinite"], model: "ddpm"), expected: ["--timesteps", "infinite", "continuous"]),
        BadInputCase(name: "zero evaluation timesteps", category: "continuous time",
                     arguments: train(["--timesteps", "continuous", "--evaluation-timesteps", "0"], model: "ddpm"), expected: ["--evaluation-timesteps", "at least 1"]),
        BadInputCase(name: "Fourier features not a list", category: "continuous time",
                     arguments: train(["--fourier-features", "6;7"], model: "ddpm"), expected: ["--fourier-features", "6;7"]),
        BadInputCase(name: "automatic Fourier features of continuous data", category: "continuous time",
                     arguments: train(["--fourier-features", "auto"], model: "ddpm"), expected: ["--fourier-features auto", "continuous data"]),
        BadInputCase(name: "Fourier exponent beyond Float32", category: "continuous time",
                     arguments: train(["--fourier-features", "3,40"], model: "ddpm"), expected: ["--fourier-features", "40"]),
        BadInputCase(name: "Fourier features of a VAE", category: "continuous time",
                     arguments: train(["--fourier-features", "2"]), expected: ["--fourier-features", "--model ddpm"]),
        BadInputCase(name: "eval T of a VAE", category: "continuous time",
                     arguments: ["eval", "vae.h5", "--timesteps", "5"], expected: ["--timesteps", "vae.h5", "continuous-time"]),
        BadInputCase(name: "eval T of a discrete DDPM", category: "continuous time", setup: ddpm(on: "data.h5", out: "steps.h5"),
                     arguments: ["eval", "steps.h5", "--timesteps", "5"], expected: ["--timesteps", "steps.h5", "T = 10"]),
        BadInputCase(name: "continuous-time draws of a discrete DDPM", category: "continuous time", setup: ddpm(on: "data.h5", out: "steps.h5"),
                     arguments: ["eval", "steps.h5", "--continuous-draws", "5"], expected: ["--continuous-draws", "steps.h5", "continuous-time"]),
        BadInputCase(name: "zero continuous-time draws", category: "continuous time", setup: continuousDDPM,
                     arguments: ["eval", "continuous.h5", "--continuous-draws", "0"], expected: ["--continuous-draws", "at least 1"]),
        BadInputCase(name: "eval at zero steps", category: "continuous time", setup: continuousDDPM,
                     arguments: ["eval", "continuous.h5", "--timesteps", "0"], expected: ["--timesteps", "at least 1"]),
        BadInputCase(name: "oracle denoiser of a continuous-time DDPM", category: "continuous time", setup: continuousDDPM,
                     arguments: ["eval", "continuous.h5", "--denoiser", "oracle"], expected: ["--denoiser oracle", "continuous.h5", "continuous-time DDPM"]),
        BadInputCase(name: "learned schedule edited flat", category: "continuous time",
                     setup: { folder in
                         try continuousDDPM(folder)
                         // softplus(−1000) = 0 and no feature left: g(1) = g(0), no schedule.
                         try fixtureEdit(["edit-array", "continuous.h5", "--out", "step.h5", "--object", "/parameters/schedule/linearSlope",
                                          "--values=-1000"])(folder)
                         try fixtureEdit(["edit-array", "step.h5", "--out", "flat.h5", "--object", "/parameters/schedule/featureWeights",
                                          "--values=" + [String](repeating: "0", count: 1024).joined(separator: ",")])(folder)
                     },
                     arguments: ["eval", "flat.h5", "--samples", "1"], expected: ["flat.h5", "learned log-SNR schedule does not increase"]),
        BadInputCase(name: "samples of a VAE at T steps", category: "continuous time",
                     arguments: ["sample", "vae.h5", "--out", "s.h5", "--timesteps", "5"], expected: ["--timesteps", "vae.h5", "continuous-time"]),
    ]

    // MARK: truncated, zero-length and random-byte files

    static let damagedFiles: [BadInputCase] = [
        BadInputCase(name: "zero-length dataset", category: "damaged file",
                     setup: { try $0.write([UInt8](), to: "empty.h5") },
                     arguments: ["datasets", "info", "empty.h5"], expected: ["empty.h5", "not an HDF5 file"]),
        BadInputCase(name: "dataset cut in half", category: "damaged file",
                     setup: damaged("data.h5", as: "cut.h5") { Array($0.prefix($0.count / 2)) },
                     arguments: ["datasets", "info", "cut.h5"], expected: ["cut.h5"]),
        BadInputCase(name: "dataset cut after 600 bytes", category: "damaged file",
                     setup: damaged("data.h5", as: "stub.h5") { Array($0.prefix(600)) },
                     arguments: ["datasets", "info", "stub.h5"], expected: ["stub.h5"]),
        BadInputCase(name: "dataset cut after the signature", category: "damaged file",
                     setup: damaged("data.h5", as: "sig.h5") { Array($0.prefix(8)) },
                     arguments: ["datasets", "info", "sig.h5"], expected: ["sig.h5"]),
        BadInputCase(name: "random bytes as dataset", category: "damaged file",
                     setup: { try $0.write(ByteSurgery.randomBytes(4096, seed: 1), to: "random.h5") },
                     arguments: ["datasets", "info", "random.h5"], expected: ["random.h5", "not an HDF5 file"]),
        BadInputCase(name: "HDF5 signature then random bytes", category: "damaged file",
                     setup: damaged("data.h5", as: "noise.h5") { Array($0.prefix(8)) + ByteSurgery.randomBytes($0.count - 8, seed: 2) },
                     arguments: ["datasets", "info", "noise.h5"], expected: ["noise.h5"]),
        BadInputCase(name: "dataset with its metadata zeroed", category: "damaged file",
                     setup: damaged("data.h5", as: "zeroed.h5") { Array($0.prefix(96)) + [UInt8](repeating: 0, count: 1024) + Array($0.dropFirst(96 + 1024)) },
                     arguments: ["datasets", "info", "zeroed.h5"], expected: ["zeroed.h5"]),
        BadInputCase(name: "train on a truncated dataset", category: "damaged file",
                     setup: damaged("data.h5", as: "cut.h5") { Array($0.prefix($0.count / 2)) },
                     arguments: train([], dataset: "cut.h5"), expected: ["cut.h5"]),
        BadInputCase(name: "eval of a checkpoint cut in half", category: "damaged file",
                     setup: damaged("vae.h5", as: "cut-run.h5") { Array($0.prefix($0.count / 2)) },
                     arguments: ["eval", "cut-run.h5"], expected: ["cut-run.h5"]),
        BadInputCase(name: "eval of a zero-length checkpoint", category: "damaged file",
                     setup: { try $0.write([UInt8](), to: "empty-run.h5") },
                     arguments: ["eval", "empty-run.h5"], expected: ["empty-run.h5", "not an HDF5 file"]),
        BadInputCase(name: "sample from random bytes", category: "damaged file",
                     setup: { try $0.write(ByteSurgery.randomBytes(10_000, seed: 3), to: "random-run.h5") },
                     arguments: ["sample", "random-run.h5", "--out", "s.h5"], expected: ["random-run.h5", "not an HDF5 file"]),
        BadInputCase(name: "resume from a truncated checkpoint", category: "damaged file",
                     setup: damaged("vae.h5", as: "vae.h5") { Array($0.prefix($0.count / 3)) },
                     arguments: train(["--resume"], out: "vae.h5"), expected: ["vae.h5"]),
    ]

    // MARK: valid HDF5, wrong contents

    static let schemaViolations: [BadInputCase] = {
        let kinds: [(String, [String])] = [
            ("missing-train", ["/train", "missing"]),
            ("wrong-rank", ["/train", "rank 1"]),
            ("wrong-dtype", ["/train", "float64"]),
            ("nan", ["/train", "NaN"]),
            ("inf", ["/train", "Inf"]),
            ("empty-split", ["/train", "empty split"]),
            ("unknown-likelihood", ["likelihood", "poisson"]),
            ("bad-shape", ["shape", "D = 2"]),
            ("log-density-length", ["/train_log_density", "2 entries for 3 examples"]),
        ]
        var cases = kinds.map { kind, fragments in
            BadInputCase(name: "dataset: \(kind)", category: "schema", setup: invalidDataset(kind, as: "\(kind).h5"),
                         arguments: ["datasets", "info", "\(kind).h5"], expected: ["\(kind).h5"] + fragments)
        }
        cases += [
            BadInputCase(name: "train on NaN data", category: "schema", setup: invalidDataset("nan", as: "nan.h5"),
                         arguments: train(["--batch-size", "1"], dataset: "nan.h5"), expected: ["nan.h5", "/train", "NaN"]),
            BadInputCase(name: "train on float64 data", category: "schema", setup: invalidDataset("wrong-dtype", as: "f64.h5"),
                         arguments: train(["--batch-size", "1"], dataset: "f64.h5"), expected: ["f64.h5", "float64"]),
            BadInputCase(name: "train on an empty split", category: "schema", setup: invalidDataset("empty-split", as: "empty-split.h5"),
                         arguments: train(["--batch-size", "1"], dataset: "empty-split.h5"), expected: ["empty-split.h5", "empty split"]),
            BadInputCase(name: "eval when the dataset now holds NaN", category: "schema",
                         setup: { folder in try invalidDataset("nan", as: "nan.h5")(folder); try folder.copy("nan.h5", to: "data.h5") },
                         arguments: ["eval", "vae.h5"], expected: ["data.h5", "NaN"]),
            BadInputCase(name: "eval when the dataset now holds Inf", category: "schema",
                         setup: { folder in try invalidDataset("inf", as: "inf.h5")(folder); try folder.copy("inf.h5", to: "data.h5") },
                         arguments: ["eval", "vae.h5"], expected: ["data.h5", "Inf"]),
        ]
        return cases
    }()

    // MARK: checkpoints

    static let checkpoints: [BadInputCase] = [
        BadInputCase(name: "checkpoint of format version 99", category: "checkpoint",
                     setup: damaged("vae.h5", as: "v99.h5") { try ByteSurgery.setIntegerAttribute($0, "format_version", to: 99) },
                     arguments: ["eval", "v99.h5"], expected: ["v99.h5", "format_version", "99"]),
        BadInputCase(name: "checkpoint of another format", category: "checkpoint",
                     setup: damaged("vae.h5", as: "other.h5") { try ByteSurgery.replaceUnique($0, "compare-checkpoint", "compare-checkpoinX") },
                     arguments: ["eval", "other.h5"], expected: ["other.h5", "format", "compare-checkpoinX"]),
        BadInputCase(name: "dataset file given as a checkpoint", category: "checkpoint",
                     arguments: ["eval", "data.h5"], expected: ["data.h5", "format", "compare-dataset", "compare-checkpoint"]),
        BadInputCase(name: "checkpoint of format version 0", category: "checkpoint",
                     setup: damaged("vae.h5", as: "v0.h5") { try ByteSurgery.setIntegerAttribute($0, "format_version", to: 0) },
                     arguments: ["sample", "v0.h5", "--out", "s.h5"], expected: ["v0.h5", "format_version", "is 0"]),
        BadInputCase(name: "resume without /generator", category: "checkpoint",
                     setup: damaged("vae.h5", as: "vae.h5") { try ByteSurgery.replaceUnique($0, "generator", "generatoX") },
                     arguments: train(["--resume", "--steps", "4"], out: "vae.h5"), expected: ["vae.h5", "/generator", "missing"]),
        BadInputCase(name: "resume without /optimizer", category: "checkpoint",
                     setup: damaged("vae.h5", as: "vae.h5") { try ByteSurgery.replaceUnique($0, "optimizer", "optimizeX") },
                     arguments: train(["--resume", "--steps", "4"], out: "vae.h5"), expected: ["vae.h5", "/optimizer", "missing"]),
        BadInputCase(name: "checkpoint missing a parameter group", category: "checkpoint",
                     setup: damaged("vae.h5", as: "partial.h5") { try ByteSurgery.replaceUnique($0, "first_moment", "first_momenX") },
                     arguments: ["eval", "partial.h5"], expected: ["partial.h5", "/optimizer/first_moment", "missing"]),
        BadInputCase(name: "checkpoint with NaN in a tensor", category: "checkpoint",
                     setup: damaged("example.h5", as: "nan-run.h5") { try ByteSurgery.replaceFloats($0, [1, 1.5, 2], [1, .nan, 2]) },
                     arguments: ["eval", "nan-run.h5"], expected: ["nan-run.h5", "contains nan"]),
        BadInputCase(name: "checkpoint with Inf in a tensor", category: "checkpoint",
                     setup: damaged("example.h5", as: "inf-run.h5") { try ByteSurgery.replaceFloats($0, [1, 1.5, 2], [1, .infinity, 2]) },
                     arguments: ["compare-fixtures", "read-checkpoint", "inf-run.h5"], expected: ["inf-run.h5", "contains inf"]),
        BadInputCase(name: "checkpoint of an unknown model", category: "checkpoint",
                     arguments: ["eval", "example.h5"], expected: ["example.h5", "example"]),
        BadInputCase(name: "resume with a checkpoint of another model", category: "checkpoint",
                     arguments: train(["--resume"], model: "ddpm", out: "vae.h5"), expected: ["vae.h5", "model", "'vae'", "'ddpm'"]),
        BadInputCase(name: "resume with other model options", category: "checkpoint",
                     arguments: train(["--resume", "--hidden", "16"], out: "vae.h5"), expected: ["--resume vae.h5", "model options differ", "same command line"]),
        BadInputCase(name: "resume with other training options", category: "checkpoint",
                     arguments: train(["--resume", "--seed", "5", "--steps", "4"], out: "vae.h5"), expected: ["--resume vae.h5", "training options differ"]),
        BadInputCase(name: "resume with --steps below the steps taken", category: "checkpoint",
                     setup: { folder in try runCompareSucceeding(train(["--steps", "3"], out: "three.h5"), in: folder) },
                     arguments: train(["--resume", "--steps", "2"], out: "three.h5"), expected: ["--steps 2", "3 steps"]),
        BadInputCase(name: "eval when the dataset changed (hash mismatch)", category: "checkpoint",
                     setup: { folder in try runCompareSucceeding(["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--seed", "5", "--out", "data.h5", "--overwrite"], in: folder) },
                     arguments: ["eval", "vae.h5"], expected: ["vae.h5", "data.h5", "changed"]),
        BadInputCase(name: "resume when the dataset changed (hash mismatch)", category: "checkpoint",
                     setup: { folder in try runCompareSucceeding(["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--seed", "5", "--out", "data.h5", "--overwrite"], in: folder) },
                     arguments: train(["--resume", "--steps", "4"], out: "vae.h5"), expected: ["--resume vae.h5", "data.h5", "changed"]),
        BadInputCase(name: "eval when the dataset is gone", category: "checkpoint",
                     setup: { folder in
                         // The fixtures were trained in another folder: forget that absolute path too.
                         let result = try runCompare(["compare-fixtures", "edit-attribute", "vae.h5", "--out", "vae.h5", "--name", "dataset_absolute", "--delete"], cwd: folder.url)
                         guard result.status == 0 else { throw ByteSurgery.Failure(description: result.stderr) }
                         try FileManager.default.removeItem(atPath: folder.path("data.h5"))
                     },
                     arguments: ["eval", "vae.h5"], expected: ["vae.h5", "data.h5", "not found"]),
        BadInputCase(name: "eval of a missing checkpoint", category: "checkpoint",
                     arguments: ["eval", "absent.h5"], expected: ["absent.h5", "no such file"]),
        BadInputCase(name: "resume when --out does not exist", category: "checkpoint",
                     arguments: train(["--resume"], out: "absent.h5"), expected: ["--resume", "absent.h5", "does not exist"]),
        BadInputCase(name: "train over an existing run", category: "checkpoint",
                     arguments: train([], out: "vae.h5"), expected: ["vae.h5", "exists", "--resume", "--overwrite"]),
    ]

    // MARK: gzip and IDX (Fashion-MNIST) and the digits CSV

    static let gzipAndIDX: [BadInputCase] = [
        BadInputCase(name: "IDX images with a bad magic", category: "gz/IDX",
                     setup: fashionSource(["train-images-idx3-ubyte.gz": ByteSurgery.gzip(idxImages(count: 2, magic: 2049))]),
                     arguments: fashionImport, expected: ["train-images-idx3-ubyte.gz", "bad IDX magic number 2049"]),
        BadInputCase(name: "IDX images with a short body", category: "gz/IDX",
                     setup: fashionSource(["train-images-idx3-ubyte.gz": ByteSurgery.gzip(idxImages(count: 2, bodyBytes: 100))]),
                     arguments: fashionImport, expected: ["train-images-idx3-ubyte.gz", "body has 100 bytes"]),
        BadInputCase(name: "IDX images with a header cut short", category: "gz/IDX",
                     setup: fashionSource(["t10k-images-idx3-ubyte.gz": ByteSurgery.gzip(Array(idxImages(count: 2).prefix(10)))]),
                     arguments: fashionImport, expected: ["t10k-images-idx3-ubyte.gz", "cut short"]),
        BadInputCase(name: "IDX images whose header overflows", category: "gz/IDX",
                     setup: fashionSource(["train-images-idx3-ubyte.gz": ByteSurgery.gzip(idxImages(count: .max, rows: .max, columns: .max, bodyBytes: 16))]),
                     arguments: fashionImport, expected: ["train-images-idx3-ubyte.gz", "too many"]),
        BadInputCase(name: "IDX images of 27 × 28", category: "gz/IDX",
                     setup: fashionSource(["train-images-idx3-ubyte.gz": ByteSurgery.gzip(idxImages(count: 2, rows: 27))]),
                     arguments: fashionImport, expected: ["train-images-idx3-ubyte.gz", "27 × 28"]),
        BadInputCase(name: "IDX labels with a bad magic", category: "gz/IDX",
                     setup: fashionSource(["train-labels-idx1-ubyte.gz": ByteSurgery.gzip(idxLabels([1, 2], magic: 2051))]),
                     arguments: fashionImport, expected: ["train-labels-idx1-ubyte.gz", "bad IDX magic number 2051"]),
        BadInputCase(name: "IDX labels with a short body", category: "gz/IDX",
                     setup: fashionSource(["t10k-labels-idx1-ubyte.gz": ByteSurgery.gzip(Array(idxLabels([1, 2]).dropLast()))]),
                     arguments: fashionImport, expected: ["t10k-labels-idx1-ubyte.gz", "body has 1 bytes"]),
        BadInputCase(name: "IDX labels that are not classes", category: "gz/IDX",
                     setup: fashionSource(["train-labels-idx1-ubyte.gz": ByteSurgery.gzip(idxLabels([1, 12]))]),
                     arguments: fashionImport, expected: ["train-labels-idx1-ubyte.gz", "label 12"]),
        BadInputCase(name: "gzip stream cut short", category: "gz/IDX",
                     setup: fashionSource(["train-images-idx3-ubyte.gz": Array(ByteSurgery.gzip(idxImages(count: 2)).prefix(700))]),
                     arguments: fashionImport, expected: ["train-images-idx3-ubyte.gz", "truncated gzip"]),
        BadInputCase(name: "gzip with a wrong CRC", category: "gz/IDX",
                     setup: fashionSource(["train-labels-idx1-ubyte.gz": { var b = ByteSurgery.gzip(idxLabels([1, 2])); b[b.count - 6] ^= 0xFF; return b }()]),
                     arguments: fashionImport, expected: ["train-labels-idx1-ubyte.gz", "gzip"]),
        BadInputCase(name: "gzip header then garbage", category: "gz/IDX",
                     setup: fashionSource(["train-images-idx3-ubyte.gz": [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255] + ByteSurgery.randomBytes(300, seed: 4)]),
                     arguments: fashionImport, expected: ["train-images-idx3-ubyte.gz", "gzip"]),
        BadInputCase(name: "zero-length IDX file", category: "gz/IDX",
                     setup: fashionSource(["t10k-images-idx3-ubyte.gz": []]),
                     arguments: fashionImport, expected: ["t10k-images-idx3-ubyte.gz", "too short"]),
        BadInputCase(name: "missing IDX file", category: "gz/IDX",
                     setup: { folder in try fashionSource([:])(folder); try FileManager.default.removeItem(atPath: folder.path("idx/t10k-labels-idx1-ubyte.gz")) },
                     arguments: fashionImport, expected: ["t10k-labels-idx1-ubyte.gz", "no such file"]),
        BadInputCase(name: "digits CSV with a value of 1e300", category: "gz/IDX",
                     setup: digitsCSV(firstLine: (["1e300"] + Array(repeating: "0", count: 63) + ["3"]).joined(separator: ",")),
                     arguments: ["datasets", "import", "digits", "--source", "digits.csv.gz", "--out", "digits.h5"], expected: ["digits.csv.gz", "line 1", "not an integer"]),
        BadInputCase(name: "digits CSV with inf", category: "gz/IDX",
                     setup: digitsCSV(firstLine: (Array(repeating: "0", count: 64) + ["inf"]).joined(separator: ",")),
                     arguments: ["datasets", "import", "digits", "--source", "digits.csv.gz", "--out", "digits.h5"], expected: ["digits.csv.gz", "line 1", "not an integer"]),
        BadInputCase(name: "digits CSV with a short line", category: "gz/IDX",
                     setup: digitsCSV(firstLine: "1,2,3"),
                     arguments: ["datasets", "import", "digits", "--source", "digits.csv.gz", "--out", "digits.h5"], expected: ["digits.csv.gz", "line 1", "3 fields"]),
        BadInputCase(name: "digits CSV with too few rows", category: "gz/IDX",
                     setup: digitsCSV(firstLine: (Array(repeating: "0", count: 64) + ["3"]).joined(separator: ",")),
                     arguments: ["datasets", "import", "digits", "--source", "digits.csv.gz", "--out", "digits.h5"], expected: ["digits.csv.gz", "6 rows", "1797"]),
    ]

    // MARK: impossible options

    static let impossibleOptions: [BadInputCase] = {
        let options: [(String, [String], [String])] = [
            ("zero steps", train(["--steps", "0"]), ["--steps", "0"]),
            ("negative steps", train(["--steps=-3"]), ["--steps", "-3"]),
            ("batch 0", train(["--batch-size", "0"]), ["--batch-size", "0"]),
            ("batch larger than the data", train(["--batch-size", "1000"]), ["--batch-size 1000", "64 training examples"]),
            ("unknown model", train([], model: "gan"), ["--model", "gan"]),
            ("unknown activation", train(["--activation", "gelu"]), ["--activation", "gelu"]),
            ("bad hidden sizes", train(["--hidden", "8,x"]), ["--hidden", "8,x"]),
            ("L = 0 latent layers", train(["--latent-sizes", "0"], model: "hvae"), ["--latent-sizes"]),
            ("empty --latent-sizes", train(["--latent-sizes", ""], model: "hvae"), ["--latent-sizes"]),
            ("latent size 0", train(["--latent", "0"]), ["--latent", "0"]),
            ("negative KL warm-up", train(["--warmup=-1"]), ["--warmup", "-1"]),
            ("negative free bits", train(["--free-bits=-1"], model: "hvae"), ["--free-bits", "-1"]),
            ("odd timestep embedding", train(["--embedding", "3"], model: "ddpm"), ["--embedding", "3"]),
            ("NaN learning rate", train(["--lr", "nan"]), ["--lr", "nan"]),
            ("T = 0 diffusion steps", train(["--timesteps", "0"], model: "ddpm"), ["timesteps", "0"]),
            ("unknown schedule", train(["--schedule", "quadratic"], model: "ddpm"), ["--schedule", "quadratic"]),
            ("unknown variance", train(["--variance", "fixed-huge"], model: "ddpm"), ["--variance", "fixed-huge"]),
            ("unknown diffusion loss", train(["--loss", "l1"], model: "ddpm"), ["--loss", "l1"]),
            ("unknown inference", train(["--inference", "sideways"], model: "hvae"), ["--inference", "sideways"]),
            ("binary likelihood on continuous data", train(["--likelihood", "binary"]), ["--likelihood binary", "data.h5", "continuous"]),
            ("unknown likelihood", train(["--likelihood", "poisson"]), ["--likelihood", "'poisson'", "continuous", "discrete"]),
            ("0 threads", train(["--threads", "0"]), ["--threads", "0"]),
            ("zero learning rate", train(["--lr", "0"]), ["--lr", "0"]),
            ("negative clip", train(["--clip=-1"]), ["--clip", "-1"]),
            ("zero time budget", train(["--time-budget", "0"]), ["--time-budget", "'0'", "positive duration"]),
            ("negative time budget", train(["--time-budget=-5m"]), ["--time-budget", "-5m"]),
            ("time budget of unknown unit", train(["--time-budget", "3d"]), ["--time-budget", "'3d'", "25m"]),
            ("infinite time budget", train(["--time-budget", "inf"]), ["--time-budget", "'inf'"]),
            ("budget clock without a budget", train(["--budget-clock", "cpu"]), ["--budget-clock", "--time-budget"]),
            ("unknown budget clock", train(["--time-budget", "10", "--budget-clock", "sundial"]), ["--budget-clock", "sundial"]),
            ("negative checkpoint interval", train(["--checkpoint-every=-1"]), ["--checkpoint-every", "-1"]),
            ("log every 0", train(["--log-every", "0"]), ["--log-every", "0"]),
            ("option of another model", train(["--timesteps", "10"]), ["--timesteps", "--model vae"]),
            ("steps not a number", train(["--steps", "abc"]), ["--steps", "abc"]),
            ("unknown option", train(["--frobnicate", "3"]), ["--frobnicate"]),
            ("train without --dataset", ["train", "--model", "vae"], ["--dataset"]),
            ("K = 0 in eval", ["eval", "vae.h5", "--samples", "0"], ["--samples", "0"]),
            ("empty --samples in eval", ["eval", "vae.h5", "--samples", ""], ["--samples", "empty"]),
            ("non-integer K in eval", ["eval", "vae.h5", "--samples", "1,x"], ["--samples", "'x'"]),
            ("eval of 0 examples", ["eval", "vae.h5", "--examples", "0"], ["--examples", "0"]),
            ("eval with 0 ELBO draws", ["eval", "vae.h5", "--elbo-draws", "0"], ["--elbo-draws", "0"]),
            ("eval with batch 0", ["eval", "vae.h5", "--batch-size", "0"], ["--batch-size", "0"]),
            ("sandwich of 1 model sample", ["eval", "vae.h5", "--sandwich", "1"], ["--sandwich", "1"]),
            ("sandwich not a number", ["eval", "vae.h5", "--sandwich", "many"], ["--sandwich", "many"]),
            ("sample 0", ["sample", "vae.h5", "--count", "0", "--out", "s.h5"], ["--count", "0"]),
            ("sample to an unknown format", ["sample", "vae.h5", "--out", "s.txt"], ["--out s.txt", ".h5"]),
            ("PNG grid of 2-D data", ["sample", "vae.h5", "--out", "s.png"], ["--out s.png", "image data"]),
            ("demo with 0 steps", ["demo", "--steps", "0"], ["--steps", "0"]),
            ("demo with K = 0", ["demo", "--samples", "0"], ["--samples", "0"]),
            ("demo with an empty --samples", ["demo", "--samples", ""], ["--samples", "empty"]),
            ("make 0 training examples", ["datasets", "make", "gmm2d", "--train", "0", "--out", "x.h5"], ["--train 0"]),
            ("make an unknown dataset", ["datasets", "make", "spiral", "--out", "x.h5"], ["'spiral'", "gmm2d", "two-moons"]),
            ("import an unknown dataset", ["datasets", "import", "cifar10", "--out", "x.h5"], ["'cifar10'", "fashion-mnist", "digits"]),
            ("unknown command", ["fly"], ["fly"]),
        ]
        return options.map { BadInputCase(name: $0.0, category: "option", arguments: $0.1, expected: $0.2) }
    }()

    // MARK: output folders that do not exist or cannot be written (tests run as root: a path
    // under a regular file, or under /proc, is unwritable whatever the permission bits)

    static let outputFolders: [BadInputCase] = [
        BadInputCase(name: "train into a missing folder", category: "output folder",
                     arguments: train([], out: "missing/run.h5"), expected: ["missing/run.h5", "does not exist"]),
        BadInputCase(name: "train into a folder that is a file", category: "output folder",
                     arguments: train([], out: "data.h5/run.h5"), expected: ["data.h5/run.h5", "not a folder"]),
        BadInputCase(name: "train into /proc", category: "output folder",
                     arguments: train([], out: "/proc/compare-run.h5"), expected: ["/proc/compare-run.h5", "cannot be written"]),
        BadInputCase(name: "make into a missing folder", category: "output folder",
                     arguments: ["datasets", "make", "gmm2d", "--out", "missing/x.h5"], expected: ["missing"]),
        BadInputCase(name: "make into a folder that is a file", category: "output folder",
                     arguments: ["datasets", "make", "gmm2d", "--out", "data.h5/x.h5"], expected: ["data.h5/x.h5", "not a folder"]),
        BadInputCase(name: "make into /proc", category: "output folder",
                     arguments: ["datasets", "make", "gmm2d", "--out", "/proc/compare-x.h5"], expected: ["/proc/compare-x.h5"]),
        BadInputCase(name: "sample into a missing folder", category: "output folder",
                     arguments: ["sample", "vae.h5", "--out", "missing/s.svg"], expected: ["missing/s.svg", "does not exist"]),
        BadInputCase(name: "sample into a folder that is a file", category: "output folder",
                     arguments: ["sample", "vae.h5", "--out", "data.h5/s.h5"], expected: ["data.h5/s.h5", "not a folder"]),
        BadInputCase(name: "sample into /proc", category: "output folder",
                     arguments: ["sample", "vae.h5", "--out", "/proc/compare-s.svg"], expected: ["/proc/compare-s.svg"]),
        BadInputCase(name: "report into a missing folder", category: "output folder",
                     arguments: ["report", "evaluated.h5", "--out", "missing/r.md"], expected: ["missing/r.md", "does not exist"]),
        BadInputCase(name: "report into a folder that is a file", category: "output folder",
                     arguments: ["report", "evaluated.h5", "--out", "data.h5/r.md"], expected: ["data.h5/r.md", "not a folder"]),
        BadInputCase(name: "report into /proc", category: "output folder",
                     arguments: ["report", "evaluated.h5", "--out", "/proc/compare-r.md"], expected: ["/proc/compare-r.md"]),
        BadInputCase(name: "import into /proc", category: "output folder",
                     setup: digitsCSV(firstLine: (Array(repeating: "0", count: 64) + ["3"]).joined(separator: ","), rows: 1797),
                     arguments: ["datasets", "import", "digits", "--source", "digits.csv.gz", "--out", "/proc/compare-d.h5"], expected: ["/proc/compare-d.h5"]),
    ]

    // MARK: report

    static let reports: [BadInputCase] = [
        BadInputCase(name: "report of a never-evaluated checkpoint", category: "report",
                     arguments: ["report", "vae.h5", "--out", "r.md"], expected: ["vae.h5", "not been evaluated", "compare eval"]),
        BadInputCase(name: "report of a missing run file", category: "report",
                     arguments: ["report", "evaluated.h5", "absent.h5", "--out", "r.md"], expected: ["absent.h5", "no such file"]),
        BadInputCase(name: "report without runs", category: "report",
                     arguments: ["report", "--out", "r.md"], expected: ["runs"]),
        BadInputCase(name: "report to a non-Markdown file", category: "report",
                     arguments: ["report", "evaluated.h5", "--out", "r.txt"], expected: ["--out r.txt", ".md"]),
        BadInputCase(name: "report of a damaged run", category: "report",
                     setup: damaged("evaluated.h5", as: "cut.h5") { Array($0.prefix($0.count / 2)) },
                     arguments: ["report", "evaluated.h5", "cut.h5", "--out", "r.md"], expected: ["cut.h5"]),
    ]
}

extension BadInputCorpus {
    // MARK: exact baselines (`compare baseline` and the readers of its checkpoints)

    static let baselines: [BadInputCase] = {
        let zeros = Array(repeating: "0", count: 64 * 17 - 1)
        let allAtLevelZero = (0..<64).flatMap { _ in ["1497"] + Array(repeating: "0", count: 16) }
        let json = #"{"dimension":64,"kind":"pixel","levels":1000000000000,"smoothing":1,"training_examples":1497}"#
        return [
            BadInputCase(name: "baseline of continuous data", category: "baseline",
                         arguments: ["baseline", "--dataset", "data.h5", "--out", "b.h5"], expected: ["data.h5", "continuous", "no exact discrete baseline"]),
            BadInputCase(name: "baseline with smoothing 0", category: "baseline",
                         arguments: ["baseline", "--dataset", "discrete.h5", "--smoothing", "0", "--out", "b.h5"], expected: ["--smoothing", "0"]),
            BadInputCase(name: "baseline with NaN smoothing", category: "baseline",
                         arguments: ["baseline", "--dataset", "discrete.h5", "--smoothing", "nan", "--out", "b.h5"], expected: ["--smoothing", "nan"]),
            BadInputCase(name: "smoothing of the uniform baseline", category: "baseline",
                         arguments: ["baseline", "--dataset", "discrete.h5", "--kind", "uniform", "--smoothing", "2", "--out", "b.h5"],
                         expected: ["--smoothing", "--kind pixel"]),
            BadInputCase(name: "baseline of an unknown kind", category: "baseline",
                         arguments: ["baseline", "--dataset", "discrete.h5", "--kind", "gaussian"], expected: ["gaussian", "uniform", "pixel"]),
            BadInputCase(name: "baseline of 0 examples", category: "baseline",
                         arguments: ["baseline", "--dataset", "discrete.h5", "--examples", "0", "--out", "b.h5"], expected: ["--examples", "0"]),
            BadInputCase(name: "baseline over an existing checkpoint", category: "baseline",
                         arguments: ["baseline", "--dataset", "discrete.h5", "--kind", "uniform", "--out", "baseline.h5"],
                         expected: ["baseline.h5", "exists", "--overwrite"]),
            BadInputCase(name: "baseline over its own dataset", category: "baseline",
                         arguments: ["baseline", "--dataset", "discrete.h5", "--out", "discrete.h5", "--overwrite"], expected: ["discrete.h5", "input"]),
            BadInputCase(name: "baseline into a missing folder", category: "baseline",
                         arguments: ["baseline", "--dataset", "discrete.h5", "--out", "missing/b.h5"], expected: ["missing/b.h5", "does not exist"]),
            BadInputCase(name: "sample from a baseline", category: "baseline",
                         arguments: ["sample", "baseline.h5", "--out", "s.png"], expected: ["baseline.h5", "exact baseline", "cannot be sampled"]),
            BadInputCase(name: "resume a baseline checkpoint", category: "baseline",
                         arguments: train(["--resume"], dataset: "discrete.h5", out: "baseline.h5"), expected: ["--resume", "baseline.h5", "exact baseline"]),
            BadInputCase(name: "eval of a baseline with a negative count", category: "baseline",
                         setup: baselineCounts("negative.h5", ["-1"] + zeros),
                         arguments: ["eval", "negative.h5"], expected: ["negative.h5", "/parameters/counts", "-1", "whole numbers"]),
            BadInputCase(name: "eval of a baseline with a NaN count", category: "baseline",
                         setup: baselineCounts("nan-count.h5", ["nan"] + zeros),
                         arguments: ["eval", "nan-count.h5"], expected: ["nan-count.h5", "/parameters/counts", "nan"]),
            BadInputCase(name: "eval of a baseline with counts of another shape", category: "baseline",
                         setup: baselineCounts("shape.h5", ["1", "2", "3"]),
                         arguments: ["eval", "shape.h5"], expected: ["shape.h5", "/parameters/counts", "shape [3]", "[64, 17]"]),
            BadInputCase(name: "eval of a baseline whose counts are not its data's", category: "baseline",
                         setup: baselineCounts("recounted.h5", allAtLevelZero),
                         arguments: ["eval", "recounted.h5"], expected: ["recounted.h5", "differ from the counts of the training split"]),
            BadInputCase(name: "eval of a baseline whose config claims 10^12 levels", category: "baseline",
                         setup: baselineConfig("levels.h5", json),
                         arguments: ["eval", "levels.h5"], expected: ["levels.h5", "[64, 17]", "1000000000000"]),
            BadInputCase(name: "eval of a baseline whose config is not JSON", category: "baseline",
                         setup: baselineConfig("config.h5", "{"),
                         arguments: ["eval", "config.h5"], expected: ["config.h5", "config"]),
            BadInputCase(name: "eval of a baseline whose dataset changed", category: "baseline",
                         setup: fixtureEdit(["edit-attribute", "discrete.h5", "--out", "discrete.h5", "--name", "source", "--string", "elsewhere"]),
                         arguments: ["eval", "baseline.h5"], expected: ["baseline.h5", "discrete.h5", "changed"]),
            BadInputCase(name: "report of a baseline beside a run of other data", category: "baseline",
                         arguments: ["report", "evaluated.h5", "baseline.h5", "--out", "r.md"], expected: ["baseline.h5", "cannot put a baseline"]),
            BadInputCase(name: "report of a baseline alone", category: "baseline",
                         arguments: ["report", "baseline.h5", "--out", "r.md"], expected: ["baseline.h5", "at least one evaluated model"]),
            BadInputCase(name: "report of a baseline with an edited evaluation", category: "baseline",
                         setup: fixtureEdit(["edit-array", "baseline.h5", "--out", "edited.h5", "--object", "/evaluation/elbo",
                                             "--values=" + Array(repeating: "-1", count: 300).joined(separator: ",")]),
                         arguments: ["report", "discrete-vae.h5", "edited.h5", "--out", "r.md"], expected: ["edited.h5", "exact"]),
            BadInputCase(name: "report of a baseline evaluated on fewer examples than the models", category: "baseline",
                         setup: { folder in try runCompareSucceeding(["eval", "baseline.h5", "--examples", "2"], in: folder) },
                         arguments: ["report", "discrete-vae.h5", "baseline.h5", "--out", "r.md"], expected: ["baseline.h5", "2 test examples", "fewer than the 4"]),
        ]
    }()
}

/// Runs every case of ``BadInputCorpus`` through the real `compare` binary.
final class BadInputCorpusTests: XCTestCase {
    /// Builds the corpus fixtures in `folder` (see ``BadInputCase``).
    static func makeFixtures(in folder: ScratchFolder) throws {
        try folder.write(digitsFixtureCSV(), to: "discrete.csv.gz")
        for arguments in [
            ["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--out", "data.h5"],
            train([], out: "vae.h5"),
            train([], out: "evaluated.h5"),
            ["eval", "evaluated.h5", "--samples", "1,2", "--examples", "4", "--elbo-draws", "1"],
            ["compare-fixtures", "example-checkpoint", "--out", "example.h5", "--dataset", "data.h5"],
            ["datasets", "import", "digits", "--source", "discrete.csv.gz", "--out", "discrete.h5"],
            ["baseline", "--dataset", "discrete.h5", "--out", "baseline.h5"],
            train([], dataset: "discrete.h5", out: "discrete-vae.h5"),
            ["eval", "discrete-vae.h5", "--samples", "1,2", "--examples", "4", "--elbo-draws", "1"],
        ] {
            let result = try runCompare(arguments, cwd: folder.url)
            guard result.status == 0 else {
                throw ByteSurgery.Failure(description: "fixture: compare \(arguments.joined(separator: " ")) failed: \(result.stderr)")
            }
        }
    }

    func testCorpus_isLargeAndNamed() {
        let names = BadInputCorpus.cases.map(\.name)
        XCTAssertGreaterThanOrEqual(names.count, 40)
        XCTAssertEqual(Set(names).count, names.count, "case names must be unique")
        XCTAssertTrue(BadInputCorpus.cases.allSatisfy { !$0.expected.isEmpty })
    }

    /// Each case: non-zero exit, no death by signal, exactly one non-empty stderr line
    /// (`Error: …`) containing every expected fragment, and the folder exactly as the setup
    /// left it: no new file, no changed file, no `*.tmp`. With `CORPUS_PRINT=1` in the
    /// environment, every case's command line and message is printed.
    func testCorpus_everyBadInputFailsWithOneLineAndLeavesNothingBehind() throws {
        let fixtures = try ScratchFolder("corpus-fixtures")
        defer { fixtures.remove() }
        try Self.makeFixtures(in: fixtures)
        let fixtureFiles = try FileManager.default.contentsOfDirectory(atPath: fixtures.url.path)

        var failures: [String] = []
        for item in BadInputCorpus.cases {
            let folder = try ScratchFolder("corpus-case")
            defer { folder.remove() }
            for name in fixtureFiles { try FileManager.default.copyItem(atPath: fixtures.path(name), toPath: folder.path(name)) }
            do { try item.setup(folder) } catch {
                failures.append("[\(item.name)] setup failed: \(error)")
                continue
            }
            let before = folder.snapshot()
            let result = try runCompare(item.arguments, cwd: folder.url, timeout: 60)
            var problems: [String] = []
            if result.signaled { problems.append("died from signal \(result.status)") }
            if result.status == 0 { problems.append("exited 0") }
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            let nonEmpty = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            if nonEmpty.count != 1 || !result.stderr.hasSuffix("\n") || lines.count != 2 { problems.append("stderr is not one line") }
            if !result.stderr.hasPrefix("Error: ") { problems.append("stderr does not start with 'Error: '") }
            for fragment in item.expected where !result.stderr.contains(fragment) { problems.append("lacks '\(fragment)'") }
            let after = folder.snapshot()
            let added = Set(after.keys).subtracting(before.keys).sorted()
            let removed = Set(before.keys).subtracting(after.keys).sorted()
            let changed = before.keys.filter { after[$0] != nil && after[$0] != before[$0] }.sorted()
            if !added.isEmpty { problems.append("left new files \(added)") }
            if !removed.isEmpty { problems.append("removed \(removed)") }
            if !changed.isEmpty { problems.append("changed \(changed)") }
            for outside in ["/proc/compare-run.h5.tmp", "/proc/compare-x.h5.tmp", "/proc/compare-r.md.tmp", "/proc/compare-s.svg.tmp", "/proc/compare-d.h5.tmp"]
            where FileManager.default.fileExists(atPath: outside) {
                problems.append("left \(outside)")
            }
            if ProcessInfo.processInfo.environment["CORPUS_PRINT"] != nil {
                print("[\(item.category)] \(item.name): compare \(item.arguments.joined(separator: " "))\n    \(result.stderr.trimmingCharacters(in: .newlines))")
            }
            if !problems.isEmpty {
                failures.append("[\(item.name)] compare \(item.arguments.joined(separator: " ")): \(problems.joined(separator: "; ")); status \(result.status); stderr: \(result.stderr)")
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(BadInputCorpus.cases.count) cases failed:\n" + failures.joined(separator: "\n"))
    }
}
