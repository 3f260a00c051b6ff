/// Whether operations record their vector–Jacobian closures.
///
/// Recording is on by default. Evaluation code wraps its work in
/// ``withoutRecording(_:)`` so that nothing is retained for a backward pass, even when
/// the model's parameters require gradients. The flag is task-local (a thread-local outside
/// Swift concurrency), so it is not shared mutable global state.
public enum GradientMode {
    @TaskLocal static var recordingEnabled = true

    /// Whether the current task records operations.
    public static var isRecording: Bool { recordingEnabled }

    /// Runs `body` with recording switched off: results of operations have no history.
    public static func withoutRecording<R>(_ body: () throws -> R) rethrows -> R {
        try $recordingEnabled.withValue(false) { try body() }
    }
}
