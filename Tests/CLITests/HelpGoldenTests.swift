import Foundation
import XCTest

/// `compare … --help` is part of the interface: every command's help text is compared with a
/// golden file in `Golden/` (written at 100 columns). A change to an option, its help or its
/// values shows up here and must be made on purpose: regenerate with
/// `scripts/regenerate-help.sh` and review the diff.
final class HelpGoldenTests: XCTestCase {
    /// Every command and subcommand, by the words after `compare`.
    static let commands: [[String]] = [
        [], ["demo"], ["datasets"], ["datasets", "list"], ["datasets", "info"], ["datasets", "make"], ["datasets", "import"],
        ["train"], ["eval"], ["baseline"], ["sample"], ["report"], ["lesson"], ["bench"],
    ]

    static func goldenName(_ command: [String]) -> String { (["help"] + command).joined(separator: "-") + ".txt" }

    static var goldenFolder: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden") }

    func testHelp_matchesGoldenFiles() throws {
        for command in Self.commands {
            let result = try runCompare(command + ["--help"], environment: ["COLUMNS": "100"])
            XCTAssertEqual(result.status, 0, "compare \(command.joined(separator: " ")) --help failed: \(result.stderr)")
            let golden = try String(contentsOf: Self.goldenFolder.appendingPathComponent(Self.goldenName(command)), encoding: .utf8)
            XCTAssertEqual(result.stdout + result.stderr, golden,
                           "help of `compare \(command.joined(separator: " "))` differs from Golden/\(Self.goldenName(command))")
        }
    }

    /// Each enum option lists its values, and a value outside them is refused with one line naming them.
    func testEnumOptions_listTheirValuesAndRefuseOthers() throws {
        // Whitespace folded: the help text wraps at 100 columns, sometimes inside a list.
        let train = try String(contentsOf: Self.goldenFolder.appendingPathComponent("help-train.txt"), encoding: .utf8)
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for values in ["vae, hvae, ddpm", "relu, silu, tanh", "bottom-up, top-down", "linear, cosine, learned",
                       "fixed-large, fixed-small, learned-range", "simple, vlb, hybrid", "continuous, binary, discrete"] {
            XCTAssertTrue(train.contains("(values: \(values))"), "train --help lacks (values: \(values))")
        }
        assertOneLineFailure(try runCompare(["train", "--model", "gan", "--dataset", "x.h5"]), mentioning: ["gan", "vae", "hvae", "ddpm"])
        assertOneLineFailure(try runCompare(["train", "--model", "ddpm", "--dataset", "x.h5", "--schedule", "quadratic"]),
                             mentioning: ["quadratic", "linear", "cosine"])
        assertOneLineFailure(try runCompare(["train", "--model", "hvae", "--dataset", "x.h5", "--inference", "sideways"]),
                             mentioning: ["sideways", "bottom-up", "top-down"])
        let baseline = try String(contentsOf: Self.goldenFolder.appendingPathComponent("help-baseline.txt"), encoding: .utf8)
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(baseline.contains("(values: uniform, pixel"), "baseline --help lacks (values: uniform, pixel)")
    }
}
