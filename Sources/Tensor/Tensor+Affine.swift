extension Tensor {
    /// y = x Wᵀ + b in one operation: the output starts as b repeated on every row and one
    /// sgemm adds x Wᵀ to it (β = 1), so the bias costs no extra pass or allocation.
    ///
    /// Shapes: x [n, in], W [out, in], b [out] → [n, out].
    /// Gradients: dx = dy W, dW = dyᵀ x, db = Σ_rows dy — each accumulated by sgemm or one loop.
    public static func affine(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
        affine(x, weight: weight, bias: bias, activation: nil)
    }

    /// f(x Wᵀ + b) in one operation: the affine map as above, then `activation` applied in
    /// place to the product's buffer, keeping only its slopes f′ for the backward pass — no
    /// separate activation tensor, gradient buffer or tape entry. `activation: nil` is the
    /// plain affine map. Equal in value and gradient to `affine(x, weight:, bias:)` followed
    /// by the activation (checked by the tests).
    ///
    /// Gradients: with dz = dy ⊙ f′, dx = dz W, dW = dzᵀ x, db = Σ_rows dz.
    public static func affine(_ x: Tensor, weight: Tensor, bias: Tensor, activation: PointwiseActivation?) -> Tensor {
        precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1] && bias.shape == [weight.shape[0]],
                     "affine needs x [n, in], W [out, in], b [out]; got \(x.shape), \(weight.shape), \(bias.shape)")
        let n = x.shape[0], inputs = x.shape[1], outputs = weight.shape[0]
        var values = [Float](unsafeUninitializedCapacity: n * outputs) { buffer, initialized in
            bias.storage.withUnsafeBufferPointer { b in
                for row in 0..<n {
                    (buffer.baseAddress! + row * outputs).initialize(from: b.baseAddress!, count: outputs)
                }
            }
            initialized = n * outputs
        }
        gemm(x.storage, rows: n, columns: inputs, transpose: false,
             weight.storage, rows: outputs, columns: inputs, transpose: true,
             into: &values, accumulate: true)
        let records = GradientMode.isRecording && (x.requiresGradient || weight.requiresGradient || bias.requiresGradient)
        var slopes: [Float] = []
        if let activation {
            if records { slopes = uninitializedBuffer(n * outputs) }
            values.withUnsafeMutableBufferPointer { z in
                slopes.withUnsafeMutableBufferPointer { d in
                    activation.evaluate(z.baseAddress!, into: z.baseAddress!, slopes: records ? d.baseAddress! : nil, count: n * outputs)
                }
            }
        }
        return Tensor(shape: [n, outputs], storage: values, inputs: [x, weight, bias]) { output in
            var dy = output.takeGradient()!
            if activation != nil { multiply(&dy, by: slopes) }
            if x.requiresGradient {
                let accumulate = x.gradient != nil
                var dx = x.takeGradient() ?? uninitializedBuffer(x.count)
                gemm(dy, rows: n, columns: outputs, transpose: false,
                     weight.storage, rows: outputs, columns: inputs, transpose: false,
                     into: &dx, accumulate: accumulate)
                x.gradient = dx
            }
            if weight.requiresGradient {
                let accumulate = weight.gradient != nil
                var dw = weight.takeGradient() ?? uninitializedBuffer(weight.count)
                gemm(dy, rows: n, columns: outputs, transpose: true,
                     x.storage, rows: n, columns: inputs, transpose: false,
                     into: &dw, accumulate: accumulate)
                weight.gradient = dw
            }
            if bias.requiresGradient {
                bias.accumulateGradient(columnSums(dy, rows: n, columns: outputs), shape: [outputs])
            }
        }
    }

    /// Σ over rows of a row-major [rows, columns] buffer, accumulated in Double row by row
    /// (the same order as `Broadcasting.reduce`, so the same result), one vectorizable pass.
    static func columnSums(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        var totals = [Double](repeating: 0, count: columns)
        values.withUnsafeBufferPointer { v in
            totals.withUnsafeMutableBufferPointer { t in
                let v = v.baseAddress!, t = t.baseAddress!
                for row in 0..<rows {
                    let r = v + row * columns
                    for j in 0..<columns { t[j] += Double(r[j]) }
                }
            }
        }
        return [Float](unsafeUninitializedCapacity: columns) { buffer, initialized in
            for j in 0..<columns { buffer[j] = Float(totals[j]) }
            initialized = columns
        }
    }
}
