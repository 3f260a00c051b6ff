#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// Fused activations: one pass computes y = f(x) and, when a gradient will be needed, the
// local slope f′(x), kept for the backward pass — one allocation and one closure instead of
// the seven of the composite form. Each matches its definition in `CompositeActivations`
// (checked by the tests) and keeps its numerical care: e^{−|x|} never overflows.

extension Tensor {
    /// Applies `kernel(x) -> (y, dy/dx)` element-wise, recording the slopes only when needed.
    @inline(__always)
    func fusedActivation(_ kernel: (Float) -> (Float, Float)) -> Tensor {
        let n = count
        let records = GradientMode.isRecording && requiresGradient
        var slopes: [Float] = records ? [Float](unsafeUninitializedCapacity: n) { _, c in c = n } : []
        let values = [Float](unsafeUninitializedCapacity: n) { y, initialized in
            storage.withUnsafeBufferPointer { x in
                if records {
                    slopes.withUnsafeMutableBufferPointer { d in
                        for i in 0..<n { (y[i], d[i]) = kernel(x[i]) }
                    }
                } else {
                    for i in 0..<n { y[i] = kernel(x[i]).0 }
                }
            }
            initialized = n
        }
        return Tensor(shape: shape, storage: values, inputs: [self]) { output in
            var g = output.gradient!
            g.withUnsafeMutableBufferPointer { g in
                slopes.withUnsafeBufferPointer { d in for i in 0..<n { g[i] *= d[i] } }
            }
            self.accumulateGradient(g, shape: self.shape)
        }
    }

    /// σ(x) through e^{−|x|}: stable on both sides.
    @inline(__always)
    static func logistic(_ x: Float) -> Float {
        let e = fastExponential(-Swift.abs(x))
        return (x >= 0 ? 1 : e) / (1 + e)
    }

    /// max(x, 0); slope 1 for x > 0, else 0.
    public func relu() -> Tensor { fusedActivation { x in x > 0 ? (x, 1) : (0, 0) } }

    /// σ(x) = 1/(1 + e^{−x}); slope σ(1 − σ).
    public func sigmoid() -> Tensor {
        fusedActivation { x in
            let s = Tensor.logistic(x)
            return (s, s * (1 - s))
        }
    }

    /// x σ(x); slope σ (1 + x (1 − σ)).
    public func silu() -> Tensor {
        fusedActivation { x in
            let s = Tensor.logistic(x)
            return (x * s, s * (1 + x * (1 - s)))
        }
    }

    /// tanh x = sign(x) (1 − e)/(1 + e) with e = e^{−2|x|}; slope 4e/(1 + e)², which keeps its
    /// relative precision where 1 − tanh² would cancel (|x| ≳ 4).
    public func tanh() -> Tensor {
        fusedActivation { x in
            let e = fastExponential(-2 * Swift.abs(x))
            let magnitude = (1 - e) / (1 + e)
            return (x >= 0 ? magnitude : -magnitude, 4 * e / ((1 + e) * (1 + e)))
        }
    }

    /// log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}); slope σ(x).
    public func softplus() -> Tensor {
        fusedActivation { x in
            (Swift.max(x, 0) + log1pf(expf(-Swift.abs(x))), Tensor.logistic(x))
        }
    }
}
