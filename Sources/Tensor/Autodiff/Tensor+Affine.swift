import _TensorKernels

extension Tensor {
    /// y = x Wᵀ + b in one operation: the product adds b to each element as it stores it, so
    /// the bias costs no extra pass or allocation.
    ///
    /// Shapes: x [n, in], W [out, in], b [out] → [n, out].
    /// Gradients: dx = dy W, dW = dyᵀ x, db = Σ_rows dy — each accumulated by the product or one loop.
    public static func affine(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
        affine(x, weight: weight, bias: bias, activation: nil)
    }

    /// f(x Wᵀ + b) in one operation: the affine map as above, then `activation` applied in
    /// place to each block of the product while it is in cache, keeping only its slopes f′ for
    /// the backward pass — no separate activation tensor, gradient buffer or tape entry.
    /// `activation: nil` is the plain affine map. Equal in value and gradient to
    /// `affine(x, weight:, bias:)` followed by the activation (checked by the tests).
    ///
    /// Gradients: with dz = dy ⊙ f′, dx = dz W, dW = dzᵀ x, db = Σ_rows dz.
    public static func affine(_ x: Tensor, weight: Tensor, bias: Tensor, activation: PointwiseActivation?) -> Tensor {
        precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1] && bias.shape == [weight.shape[0]],
                     "affine needs x [n, in], W [out, in], b [out]; got \(x.shape), \(weight.shape), \(bias.shape)")
        let n = x.shape[0], inputs = x.shape[1], outputs = weight.shape[0]
        let records = GradientMode.isRecording && (x.requiresGradient || weight.requiresGradient || bias.requiresGradient)
        var values = uninitializedBuffer(n * outputs)
        var slopes: [Float] = records && activation != nil ? uninitializedBuffer(n * outputs) : []
        x.storage.withUnsafeBufferPointer { xs in
            weight.storage.withUnsafeBufferPointer { w in
                bias.storage.withUnsafeBufferPointer { b in
                    values.withUnsafeMutableBufferPointer { z in
                        slopes.withUnsafeMutableBufferPointer { d in
                            guard let zBase = z.baseAddress else { return }
                            let slopeBase = records ? d.baseAddress : nil
                            MatrixProduct.multiply(m: n, n: outputs, k: inputs,
                                                   xs.baseAddress ?? UnsafePointer(zBase), leading: inputs, transpose: false,
                                                   w.baseAddress ?? UnsafePointer(zBase), leading: inputs, transpose: true,
                                                   into: zBase, accumulate: false, bias: b.baseAddress) { rows, columns in
                                guard let activation else { return }
                                applyActivation(activation, to: zBase, slopes: slopeBase, rows: rows, columns: columns, width: outputs)
                            }
                        }
                    }
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
    /// (the same order as `Broadcasting.reduce`, so the same result). Blocks of columns are
    /// shared out between threads; each column's additions stay in row order, so the result
    /// does not depend on the thread count or on the kernels (the AVX2 loop makes the same
    /// additions four columns at a time).
    public static func columnSums(_ values: [Float], rows: Int, columns: Int, kernels: ComputeKernels = .current) -> [Float] {
        var totals = [Double](repeating: 0, count: columns)
        values.withUnsafeBufferPointer { v in
            totals.withUnsafeMutableBufferPointer { t in
                guard let v = v.baseAddress, let t = t.baseAddress else { return }
                let blockWidth = 64
                let blocks = rows * columns >= 2 * Parallel.minimumChunk ? (columns + blockWidth - 1) / blockWidth : 1
                let width = blocks == 1 ? columns : blockWidth
                Parallel.forEach(blocks) { block in
                    let first = block * width, count = Swift.min(width, columns - first)
                    if kernels.usesAVX2Loops {
                        tk_column_sums(v + first, rows, count, columns, t + first)
                        return
                    }
                    for row in 0..<rows {
                        let r = v + row * columns + first
                        for j in 0..<count { t[first + j] += Double(r[j]) }
                    }
                }
            }
        }
        return [Float](unsafeUninitializedCapacity: columns) { buffer, initialized in
            for j in 0..<columns { buffer[j] = Float(totals[j]) }
            initialized = columns
        }
    }
}
