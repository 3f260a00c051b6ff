/// `compare WORDS…` as one line a POSIX shell reads back as the same words: every request
/// prints itself this way, so a report's "Reproduce" lines and a checkpoint's `command`
/// attribute run exactly what was run.
public func shellCommand(_ words: [String]) -> String {
    let quoted = words.map { word -> String in
        let plain = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "-_./,=:+".contains($0) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
    return (["compare"] + quoted).joined(separator: " ")
}
