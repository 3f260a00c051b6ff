import Core
import ArgumentParser
import Foundation
import Store

/// `compare-fixtures edit-checkpoint IN --out OUT [--config JSON] [--set KEY=JSON …] [--scale-second-moments X]
/// [--scale-first-moments X] [--nan-parameter] [--nan-first-moment]`: writes a copy of a checkpoint with one kind of
/// hand edit — a replaced `config` JSON, scaled Adam moments (−1 makes every nonzero second
/// moment negative), or a NaN in the first parameter or first moment — for the tests of
/// edited checkpoints (Tests/CLITests/SizeAndStateCorpus.swift), which cannot link Store.
/// Everything else is copied as read.
struct EditCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit-checkpoint",
        abstract: "Write a copy of a checkpoint with its config, moments or a parameter edited (for tests).")

    @Argument(help: "Checkpoint to read.")
    var input: String

    @Option(help: "Checkpoint to write.")
    var out: String

    @Option(help: "Replace the config JSON attribute.")
    var config: String?

    @Option(name: .customLong("set"), help: "Set one key of the config JSON: KEY=JSON (repeatable), e.g. hiddenSizes=[100000,100000].")
    var settings: [String] = []

    @Option(help: "Multiply every Adam second moment by this.")
    var scaleSecondMoments: Float?

    @Option(help: "Multiply every Adam first moment by this.")
    var scaleFirstMoments: Float?

    @Flag(help: "Set the first value of the first parameter to NaN.")
    var nanParameter = false

    @Flag(help: "Set the first value of the first Adam first moment to NaN.")
    var nanFirstMoment = false

    func run() throws {
        try failOnError {
            var checkpoint = try readInIsolation(input) { try Checkpoint.read(from: input) }
            if let config { checkpoint.config = config }
            if !settings.isEmpty {
                guard var object = try JSONSerialization.jsonObject(with: Data(checkpoint.config.utf8)) as? [String: Any] else {
                    throw FixtureError("\(input): the config is not a JSON object")
                }
                for setting in settings {
                    guard let equals = setting.firstIndex(of: "=") else { throw FixtureError("--set \(setting): expected KEY=JSON") }
                    let value = try JSONSerialization.jsonObject(with: Data(setting[setting.index(after: equals)...].utf8), options: .fragmentsAllowed)
                    object[String(setting[..<equals])] = value
                }
                checkpoint.config = String(decoding: try JSONSerialization.data(withJSONObject: object, options: .sortedKeys), as: UTF8.self)
            }
            if scaleSecondMoments != nil || scaleFirstMoments != nil || nanFirstMoment {
                guard var state = checkpoint.optimizer else { throw FixtureError("\(input): no optimizer state to edit") }
                if let scale = scaleSecondMoments {
                    state.secondMoment = state.secondMoment.map { NamedTensor(key: $0.key, shape: $0.shape, values: $0.values.map { $0 * scale }) }
                }
                if let scale = scaleFirstMoments {
                    state.firstMoment = state.firstMoment.map { NamedTensor(key: $0.key, shape: $0.shape, values: $0.values.map { $0 * scale }) }
                }
                if nanFirstMoment { state.firstMoment[0].values[0] = .nan }
                checkpoint.optimizer = state
            }
            if nanParameter { checkpoint.parameters[0].values[0] = .nan }
            try checkpoint.write(to: out)
            print("wrote \(out)")
        }
    }
}
