import Foundation
import XCTest

/// One case of the size-and-state corpus: a command line that must be refused with one line
/// before it allocates what cannot fit or writes state that is not finite.
struct SizeAndStateCase {
    let name: String
    let arguments: [String]
    /// Fragments the stderr line must contain (the option or the file, and the problem).
    let expected: [String]
    /// The memory limit the command runs under (`COMPARE_MEMORY_LIMIT`); nil: the machine's.
    var limit: String? = "2G"
}

/// Tiny train runs of the corpus (`--steps 2`), 16 examples a batch.
private func train(_ model: String, _ extra: [String], out: String = "new.h5") -> [String] {
    ["train", "--model", model, "--dataset", "data.h5", "--steps", "2", "--batch-size", "16", "--out", out] + extra
}

/// Promise (issue 15, "Resource bounds" and "Only finite state"): every size option of train,
/// eval and sample, and every size read from a checkpoint's `config`, is costed before anything
/// is allocated and refused with one line naming the option or the file, the estimate and the
/// limit; an edited config is held against the stored shapes before a model is built; impossible
/// Adam moments are refused on `--resume`; a run whose update turns non-finite writes nothing.
///
/// Fixtures (one folder, copied for each case): `data.h5` (gmm2d, 64 + 16 rows), `vae.h5` and
/// `ddpm.h5` (2 steps, hidden 8), and edited copies written by `compare-fixtures edit-checkpoint`.
final class SizeAndStateCorpusTests: XCTestCase {
    static let vaeTraining = train("vae", ["--hidden", "8"], out: "vae.h5")

    static let cases: [SizeAndStateCase] = [
        // Size options of train, refused by validate() before the dataset is read or by run() with its D.
        SizeAndStateCase(name: "train --hidden", arguments: train("vae", ["--hidden", "100000,100000"]),
                         expected: ["--hidden 100000,100000", "GiB of memory", "limit of 2.0 GiB", "COMPARE_MEMORY_LIMIT=2G"]),
        SizeAndStateCase(name: "train --latent", arguments: train("vae", ["--latent", "100000000"]), expected: ["--latent 100000000", "GiB"]),
        SizeAndStateCase(name: "train --latent-sizes", arguments: train("hvae", ["--latent-sizes", "1000000"]),
                         expected: ["--latent-sizes 1000000", "GiB"]),
        SizeAndStateCase(name: "train --latent-sizes long list", arguments: train("hvae", ["--latent-sizes", "2,2,2,3000000", "--hidden", "64"]),
                         expected: ["--latent-sizes 2,2,2,3000000", "GiB"]),
        SizeAndStateCase(name: "train --embedding", arguments: train("ddpm", ["--embedding", "100000000"]), expected: ["--embedding 100000000", "GiB"]),
        SizeAndStateCase(name: "train --timesteps", arguments: train("ddpm", ["--timesteps", "100000000", "--hidden", "8"]),
                         expected: ["--timesteps 100000000", "GiB"]),
        SizeAndStateCase(name: "train --hidden ddpm", arguments: train("ddpm", ["--hidden", "50000,50000"]), expected: ["--hidden 50000,50000", "GiB"]),
        SizeAndStateCase(name: "train --hidden near Int.max", arguments: train("vae", ["--hidden", "4611686018427387904"]),
                         expected: ["hiddenSizes 4611686018427387904", "2^40"]),
        SizeAndStateCase(name: "train --hidden under the machine's limit", arguments: train("vae", ["--hidden", "1000000,1000000"]),
                         expected: ["--hidden 1000000,1000000", "75 % of the", "COMPARE_MEMORY_LIMIT"], limit: nil),
        SizeAndStateCase(name: "unreadable COMPARE_MEMORY_LIMIT", arguments: train("vae", ["--hidden", "8"]),
                         expected: ["COMPARE_MEMORY_LIMIT='lots'"], limit: "lots"),
        // Size options of eval and sample.
        SizeAndStateCase(name: "eval --samples", arguments: ["eval", "vae.h5", "--samples", "1000000000"], expected: ["--samples 1000000000", "GiB"]),
        SizeAndStateCase(name: "eval --samples with a small batch", arguments: ["eval", "vae.h5", "--samples", "1,30000000", "--batch-size", "16"],
                         expected: ["--samples 1,30000000", "GiB"]),
        SizeAndStateCase(name: "eval --elbo-draws of a DDPM", arguments: ["eval", "ddpm.h5", "--elbo-draws", "3000", "--samples", "1"],
                         expected: ["--elbo-draws 3000", "GiB"]),
        SizeAndStateCase(name: "sample --count", arguments: ["sample", "vae.h5", "--count", "1000000000", "--out", "s.h5"],
                         expected: ["--count 1000000000", "GiB"]),
        SizeAndStateCase(name: "sample --count of a DDPM", arguments: ["sample", "ddpm.h5", "--count", "10000000", "--out", "s.h5"],
                         expected: ["--count 10000000", "GiB"]),
        // Checkpoints whose config was edited to other sizes: refused by the first stored key, before building.
        SizeAndStateCase(name: "eval edited hiddenSizes", arguments: ["eval", "vae-hidden.h5"],
                         expected: ["vae-hidden.h5", "parameter 'encoder.layers.0.weight' has shape [8, 2]", "[100000, 2]"]),
        SizeAndStateCase(name: "eval edited latentDimension", arguments: ["eval", "vae-latent.h5"],
                         expected: ["vae-latent.h5", "'encoder.layers.1.weight'"]),
        SizeAndStateCase(name: "sample edited dataDimension", arguments: ["sample", "vae-dimension.h5", "--out", "s.h5"],
                         expected: ["vae-dimension.h5", "'encoder.layers.0.weight'"]),
        SizeAndStateCase(name: "sample edited hiddenSizes beyond any machine", arguments: ["sample", "vae-beyond.h5", "--out", "s.h5"],
                         expected: ["vae-beyond.h5", "hiddenSizes", "2^40"]),
        SizeAndStateCase(name: "eval edited embeddingDimension", arguments: ["eval", "ddpm-embedding.h5"],
                         expected: ["ddpm-embedding.h5", "'denoiser.layers.0.weight'"]),
        SizeAndStateCase(name: "eval edited timestepCount", arguments: ["eval", "ddpm-timesteps.h5"],
                         expected: ["ddpm-timesteps.h5", "T = 100000000", "GiB of memory"]),
        SizeAndStateCase(name: "sample edited timestepCount", arguments: ["sample", "ddpm-timesteps.h5", "--out", "s.h5"],
                         expected: ["ddpm-timesteps.h5", "GiB of memory"]),
        SizeAndStateCase(name: "read-checkpoint edited hiddenSizes", arguments: ["compare-fixtures", "read-checkpoint", "vae-hidden.h5"],
                         expected: ["vae-hidden.h5", "encoder.layers.0.weight"]),
        // Non-finite state: never written, never resumed.
        SizeAndStateCase(name: "train huge --lr", arguments: train("vae", ["--hidden", "8", "--lr", "1e38", "--checkpoint-every", "1"]),
                         expected: ["training stopped at step 1", "parameter '", "after the update", "not finite"]),
        SizeAndStateCase(name: "train --overwrite huge --lr", arguments: train("vae", ["--hidden", "8", "--lr", "1e38", "--checkpoint-every", "1", "--overwrite"], out: "vae.h5"),
                         expected: ["training stopped at step 1", "not finite"]),
        SizeAndStateCase(name: "resume negative second moments", arguments: train("vae", ["--hidden", "8", "--resume", "--steps", "4"], out: "vae-negative.h5"),
                         expected: ["--resume vae-negative.h5", "second moment of '", "expected finite values ≥ 0"]),
        SizeAndStateCase(name: "resume NaN first moment", arguments: train("vae", ["--hidden", "8", "--resume", "--steps", "4"], out: "vae-nan-moment.h5"),
                         expected: ["vae-nan-moment.h5", "nan"]),
        SizeAndStateCase(name: "resume NaN parameter", arguments: train("vae", ["--hidden", "8", "--resume", "--steps", "4"], out: "vae-nan-parameter.h5"),
                         expected: ["vae-nan-parameter.h5", "nan"]),
        SizeAndStateCase(name: "eval NaN parameter", arguments: ["eval", "vae-nan-parameter.h5"], expected: ["vae-nan-parameter.h5", "nan"]),
    ]

    static func makeFixtures(in folder: ScratchFolder) throws {
        let edits: [(String, String, [String])] = [
            ("vae.h5", "vae-hidden.h5", ["--set", "hiddenSizes=[100000,100000]"]),
            ("vae.h5", "vae-latent.h5", ["--set", "latentDimension=100000000"]),
            ("vae.h5", "vae-dimension.h5", ["--set", "dataDimension=1000000"]),
            ("vae.h5", "vae-beyond.h5", ["--set", "hiddenSizes=[9223372036854775807]"]),
            ("ddpm.h5", "ddpm-embedding.h5", ["--set", "embeddingDimension=100000000"]),
            ("ddpm.h5", "ddpm-timesteps.h5", ["--set", "timestepCount=100000000"]),
            ("vae.h5", "vae-negative.h5", ["--scale-second-moments=-1"]),
            ("vae.h5", "vae-nan-moment.h5", ["--nan-first-moment"]),
            ("vae.h5", "vae-nan-parameter.h5", ["--nan-parameter"]),
        ]
        let commands: [[String]] = [
            ["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--out", "data.h5"],
            vaeTraining,
            train("ddpm", ["--hidden", "8"], out: "ddpm.h5"),
        ] + edits.map { ["compare-fixtures", "edit-checkpoint", $0.0, "--out", $0.1] + $0.2 }
        for arguments in commands {
            let result = try runCompare(arguments, cwd: folder.url)
            guard result.status == 0 else {
                throw ByteSurgery.Failure(description: "fixture: compare \(arguments.joined(separator: " ")) failed: \(result.stderr)")
            }
        }
    }

    func testCorpus_isLargeAndNamed() {
        XCTAssertGreaterThanOrEqual(Self.cases.count, 20)
        XCTAssertEqual(Set(Self.cases.map(\.name)).count, Self.cases.count, "case names must be unique")
    }

    /// Each case: non-zero exit, no signal, no hang (60 s), one stderr line `Error: …` with every
    /// fragment, and the folder exactly as before: no new file, no temporary, every file
    /// byte-identical (the checkpoints a failed `--resume` or `--overwrite` named included).
    func testCorpus_everyCaseIsRefusedWithOneLineAndLeavesEveryFileAsItWas() throws {
        let fixtures = try ScratchFolder("size-corpus-fixtures")
        defer { fixtures.remove() }
        try Self.makeFixtures(in: fixtures)
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.url.path)
        var failures: [String] = []
        for item in Self.cases {
            let folder = try ScratchFolder("size-corpus-case")
            defer { folder.remove() }
            for name in names { try FileManager.default.copyItem(atPath: fixtures.path(name), toPath: folder.path(name)) }
            let before = folder.snapshot()
            var environment: [String: String] = [:]
            if let limit = item.limit { environment["COMPARE_MEMORY_LIMIT"] = limit }
            let started = Date()
            let result = try runCompare(item.arguments, cwd: folder.url, environment: environment, timeout: 60)
            let seconds = Date().timeIntervalSince(started)
            var problems: [String] = []
            if result.signaled { problems.append("died from signal \(result.status) (or timed out)") }
            if result.status == 0 { problems.append("exited 0") }
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.count != 2 || !lines[1].isEmpty || lines[0].trimmingCharacters(in: .whitespaces).isEmpty { problems.append("stderr is not one line") }
            if !result.stderr.hasPrefix("Error: ") { problems.append("stderr does not start with 'Error: '") }
            for fragment in item.expected where !result.stderr.contains(fragment) { problems.append("lacks '\(fragment)'") }
            let after = folder.snapshot()
            let added = Set(after.keys).subtracting(before.keys).sorted()
            let removed = Set(before.keys).subtracting(after.keys).sorted()
            let changed = before.keys.filter { after[$0] != nil && after[$0] != before[$0] }.sorted()
            if !added.isEmpty { problems.append("left new files \(added)") }
            if !removed.isEmpty { problems.append("removed \(removed)") }
            if !changed.isEmpty { problems.append("changed \(changed)") }
            if seconds > 20 { problems.append("took \(Int(seconds)) s: the refusal should come before the work") }
            if ProcessInfo.processInfo.environment["CORPUS_PRINT"] != nil {
                print("\(item.name) (\(String(format: "%.2f", seconds)) s): compare \(item.arguments.joined(separator: " "))\n    \(result.stderr.trimmingCharacters(in: .newlines))")
            }
            if !problems.isEmpty {
                failures.append("[\(item.name)] compare \(item.arguments.joined(separator: " ")): \(problems.joined(separator: "; ")); status \(result.status); stderr: \(result.stderr)")
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(Self.cases.count) cases failed:\n" + failures.joined(separator: "\n"))
    }

    /// The same options at sizes that fit still run: the bound refuses only what cannot fit.
    func testSizesThatFit_stillRun() throws {
        let folder = try ScratchFolder("size-corpus-fit")
        defer { folder.remove() }
        try runCompareSucceeding(["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--out", "data.h5"], in: folder)
        for arguments in [train("hvae", ["--latent-sizes", "3,2", "--hidden", "8"], out: "h.h5"),
                          train("ddpm", ["--timesteps", "50", "--embedding", "8", "--hidden", "8"], out: "d.h5"),
                          ["eval", "d.h5", "--samples", "1,4", "--elbo-draws", "2"],
                          ["sample", "h.h5", "--count", "100", "--out", "s.h5"]] {
            let result = try runCompare(arguments, cwd: folder.url, environment: ["COMPARE_MEMORY_LIMIT": "2G"], timeout: 120)
            XCTAssertEqual(result.status, 0, "compare \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        XCTAssertTrue(folder.temporaryFiles().isEmpty)
    }
}
