extension Tensor {
    /// The mean squared error in one operation (a fused chain):
    ///
    ///     L = (1/n) Σᵢ (pᵢ − tᵢ)²      over all n elements (the DDPM's L_simple, docs/math.md#per-timestep-bound-term, "Training losses")
    ///
    /// Shapes: prediction p and target t of one shape → a scalar. Gradients: ∂L/∂p = 2 (g/n) (p − t),
    /// ∂L/∂t = −∂L/∂p, with g the incoming gradient.
    ///
    /// The same bits as the composition it replaces, `(prediction - target).squared().mean()`,
    /// value and gradients: each element takes the same Float operations (the difference, its
    /// square; backward (g·(1/n))·d added to itself, as the product d·d hands it to d twice), the
    /// squares are summed in Double in element order as `Broadcasting.reduce` sums them, and the
    /// Float total is multiplied by 1/n. What it saves: the composition's five recorded
    /// operations, with a buffer each forward (difference, square) and backward (the expanded
    /// gradient, two products and their sum), become one pass each way.
    public static func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        precondition(prediction.shape == target.shape && prediction.count > 0,
                     "meanSquaredError needs a prediction and a target of one non-empty shape; got \(prediction.shape), \(target.shape)")
        let n = prediction.count
        let records = GradientMode.isRecording && (prediction.requiresGradient || target.requiresGradient)
        var differences: [Float] = records ? uninitializedBuffer(n) : []
        var total = 0.0
        prediction.storage.withUnsafeBufferPointer { p in
            target.storage.withUnsafeBufferPointer { t in
                differences.withUnsafeMutableBufferPointer { d in
                    guard let p = p.baseAddress, let t = t.baseAddress else { return }
                    // The sum stays serial: its order is the composition's, and so are its bits.
                    if records, let d = d.baseAddress {
                        for i in 0..<n {
                            let difference = p[i] - t[i]
                            d[i] = difference
                            total += Double(difference * difference)
                        }
                    } else {
                        for i in 0..<n {
                            let difference = p[i] - t[i]
                            total += Double(difference * difference)
                        }
                    }
                }
            }
        }
        // `mean()` is the sum times 1/n, both rounded to Float.
        let value = Float(total) * (1 / Float(n))
        return Tensor(shape: [], storage: [value], inputs: [prediction, target]) { output in
            let scaled = output.gradient![0] * (1 / Float(n))
            var gradient = uninitializedBuffer(n)
            gradient.withUnsafeMutableBufferPointer { out in
                differences.withUnsafeBufferPointer { d in
                    guard let out = out.baseAddress, let d = d.baseAddress else { return }
                    Parallel.forEachChunk(n) { range in
                        for i in range {
                            let half = scaled * d[i]
                            out[i] = half + half
                        }
                    }
                }
            }
            // The prediction first, as the composition's sum hands its gradient on before the
            // negation of the target does.
            if prediction.requiresGradient { prediction.accumulateGradient(gradient, shape: prediction.shape) }
            if target.requiresGradient { target.accumulateGradient(gradient.map { $0 * -1 }, shape: target.shape) }
        }
    }
}
