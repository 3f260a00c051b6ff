import _CBLAS

extension Tensor {
    /// y = x Wᵀ + b in one operation: the output starts as b repeated on every row and one
    /// sgemm adds x Wᵀ to it (β = 1), so the bias costs no extra pass or allocation.
    ///
    /// Shapes: x [n, in], W [out, in], b [out] → [n, out].
    /// Gradients: dx = dy W, dW = dyᵀ x, db = Σ_rows dy — each accumulated by sgemm or one loop.
    public static func affine(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
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
        return Tensor(shape: [n, outputs], storage: values, inputs: [x, weight, bias]) { output in
            let dy = output.gradient!
            if x.requiresGradient {
                let accumulate = x.gradient != nil
                var dx = x.takeGradient() ?? [Float](repeating: 0, count: x.count)
                gemm(dy, rows: n, columns: outputs, transpose: false,
                     weight.storage, rows: outputs, columns: inputs, transpose: false,
                     into: &dx, accumulate: accumulate)
                x.gradient = dx
            }
            if weight.requiresGradient {
                let accumulate = weight.gradient != nil
                var dw = weight.takeGradient() ?? [Float](repeating: 0, count: weight.count)
                gemm(dy, rows: n, columns: outputs, transpose: true,
                     x.storage, rows: n, columns: inputs, transpose: false,
                     into: &dw, accumulate: accumulate)
                weight.gradient = dw
            }
            if bias.requiresGradient {
                bias.accumulateGradient(Broadcasting.reduce(dy, from: [n, outputs], to: [outputs]), shape: [outputs])
            }
        }
    }
}
