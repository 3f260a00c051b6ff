import Core

/// The data a run was evaluated on, as far as comparing runs is concerned: the dataset (its
/// name, and its identity: the SHA-256 of its bytes, so that two datasets that share a name
/// never share a table), the likelihood kind and its levels, and the shape of one example.
public struct DataKey: Equatable, Hashable, Sendable {
    public let datasetName: String
    public let datasetHash: String
    public let likelihood: Likelihood.Family
    public let levels: Int?
    public let exampleShape: [Int]

    public init(_ run: RunSummary) {
        datasetName = run.datasetName
        datasetHash = run.datasetHash
        likelihood = run.likelihood
        levels = run.levels
        exampleShape = run.exampleShape
    }

    /// "binary", "discrete (256 levels)", "continuous".
    public var likelihoodDescription: String {
        if likelihood == .discrete, let levels { return "discrete (\(levels) levels)" }
        return likelihood.rawValue
    }
}

/// Throws ``ReportError/mixedData(_:)`` unless every run is on the same dataset (name, contents
/// and example shape) under the same likelihood (kind and levels), and
/// ``ReportError/inconsistentRun(_:)`` when a run's evaluation does not fit its metadata.
public func validateComparable(_ runs: [RunSummary]) throws {
    guard let first = runs.first else { throw ReportError.noRuns }
    for run in runs { try validateRun(run) }
    let reference = DataKey(first)
    let rule = "models are only compared on the same data under the same likelihood; make one report per dataset and likelihood"
    for run in runs.dropFirst() {
        if let mismatch = dataMismatch(DataKey(run), reference: reference, first: first.path, other: run.path, otherIsBaseline: false) {
            throw ReportError.mixedData("\(mismatch) (\(rule))")
        }
    }
}

/// Why data `key` (of the file `other`) cannot share a table with `reference` (of the file
/// `first`), or nil when it can: the same dataset name, example shape, likelihood with its
/// levels, and dataset bytes (SHA-256). The words say whether `other` is a run or a baseline.
func dataMismatch(_ key: DataKey, reference: DataKey, first: String, other: String, otherIsBaseline: Bool) -> String? {
    let subject = otherIsBaseline ? "the baseline \(other)" : other
    func refusal(_ run: String, _ baseline: String) -> String {
        "cannot put \(otherIsBaseline ? baseline : run) in \(otherIsBaseline ? "this" : "one") table"
    }
    if key.datasetName != reference.datasetName {
        return "\(refusal("runs on different datasets", "a baseline of another dataset")): \(first) is on dataset '\(reference.datasetName)' "
            + "but \(subject) is on '\(key.datasetName)'"
    }
    if key.exampleShape != reference.exampleShape {
        return "\(refusal("runs on different data", "a baseline of other data")): \(first) has examples of shape \(reference.exampleShape) "
            + "but \(subject) has \(key.exampleShape), both called '\(key.datasetName)'"
    }
    if key.likelihood != reference.likelihood || key.levels != reference.levels {
        return "\(refusal("runs under different likelihoods", "a baseline under another likelihood")): on dataset '\(key.datasetName)', "
            + "\(first) uses the \(reference.likelihoodDescription) likelihood but \(subject) uses \(key.likelihoodDescription)"
    }
    if key.datasetHash != reference.datasetHash {
        return "\(refusal("runs on different data", "a baseline of other data")): \(first) and \(subject) come from datasets both called "
            + "'\(key.datasetName)' but with different contents (SHA-256 \(shortHash(reference.datasetHash)) vs \(shortHash(key.datasetHash))), "
            + "so their test sets differ"
    }
    return nil
}

private func shortHash(_ hash: String) -> String { hash.isEmpty ? "unknown" : String(hash.prefix(12)) + "…" }

/// Throws ``ReportError/repeatedRun(_:)`` when one checkpoint file appears twice among `runs`
/// (the same ``RunSummary/runIdentity``, or the same path): a table row per run, never two
/// rows for one run.
public func refuseRepeatedRuns(_ runs: [RunSummary]) throws {
    try refuseRepeatedFiles(runs.map { ($0.path, $0.runIdentity) }, noun: "run")
}

/// Throws ``ReportError/repeatedRun(_:)`` when two of `files` are one file: the same identity
/// (device and inode) or, without one, the same path. `noun` names what each should be given once.
func refuseRepeatedFiles(_ files: [(path: String, identity: String?)], noun: String) throws {
    var seen: [String: String] = [:]
    for file in files {
        let identity = file.identity ?? "path:" + file.path
        if let earlier = seen[identity] {
            let spelling = earlier == file.path ? "\(file.path) is given twice" : "\(earlier) and \(file.path) are the same checkpoint file"
            throw ReportError.repeatedRun("\(spelling); give each \(noun) once")
        }
        seen[identity] = file.path
    }
}

/// Checks that the run's evaluation is complete and matches its data shape.
func validateRun(_ run: RunSummary) throws {
    let evaluation = run.evaluation
    let problem: String?
    if evaluation.exampleCount < 1 || evaluation.elbo.count != evaluation.exampleCount {
        problem = "has \(evaluation.elbo.count) ELBO values for \(evaluation.exampleCount) examples"
    } else if evaluation.sampleCounts.isEmpty || evaluation.iwae.count != evaluation.sampleCounts.count
                || evaluation.iwae.contains(where: { $0.count != evaluation.exampleCount }) {
        problem = "has IWAE values that do not match its K values and examples"
    } else if evaluation.reconstruction.count != evaluation.exampleCount
                || evaluation.layerKL.count != evaluation.layerNames.count
                || evaluation.layerKL.contains(where: { $0.count != evaluation.exampleCount }) {
        problem = "has per-layer terms that do not match its examples"
    } else if let density = evaluation.logDensity, density.count != evaluation.exampleCount {
        problem = "has \(density.count) log-densities for \(evaluation.exampleCount) examples"
    } else if evaluation.dataDimension != run.dimension {
        problem = "was evaluated on \(evaluation.dataDimension)-dimensional data but its dataset has shape \(run.exampleShape)"
    } else {
        problem = nil
    }
    if let problem { throw ReportError.inconsistentRun("\(run.path): the evaluation \(problem); evaluate it again with compare eval") }
}

/// The runs split into groups that may share a table (same dataset and likelihood), in the
/// order of their first appearance; the order of runs within a group is kept.
public func groupByData(_ runs: [RunSummary]) -> [[RunSummary]] {
    var keys: [DataKey] = []
    var groups: [[RunSummary]] = []
    for run in runs {
        let key = DataKey(run)
        if let index = keys.firstIndex(of: key) {
            groups[index].append(run)
        } else {
            keys.append(key)
            groups.append([run])
        }
    }
    return groups
}
