import Tensor

/// x_0 from a draw of the decoder's Gaussian, for both DDPMs' samplers: on `levels` levels of
/// [−1, 1] the draw is rounded to the nearest level (end bins open, so this is an exact draw of
/// the discretized Gaussian), otherwise kept as it is rounded to Float. Returns the value on the
/// diffusion scale (`start`, what the decoder's log-likelihood is evaluated at) and on the
/// dataset's scale (`stored`; binary levels ±1 → {0, 1}).
func decodedSample(_ draw: Double, levels: Int?, binary: Bool) -> (start: Double, stored: Float) {
    guard let levels else {
        let stored = Float(draw)
        return (Double(stored), stored)
    }
    let steps = Double(levels - 1)
    let k = Swift.min(Swift.max(((draw + 1) / 2 * steps).rounded(), 0), steps)
    let start = -1 + 2 * k / steps
    return (start, Float(binary ? (start + 1) / 2 : start))
}

/// A network applied to `rows` rows at most `perCall` at a time, without recording: `call`
/// gets a range of rows and returns their outputs, which are concatenated in order. A row's
/// output must not depend on the others (true of every denoiser), so the chunking changes no value.
func predictInChunks(rows: Int, perCall: Int, _ call: (Range<Int>) -> [Float]) -> [Float] {
    let perCall = Swift.max(1, perCall)
    return GradientMode.withoutRecording {
        if rows <= perCall { return call(0..<rows) }
        var result: [Float] = []
        var first = 0
        while first < rows {
            let last = Swift.min(rows, first + perCall)
            result += call(first..<last)
            first = last
        }
        return result
    }
}
