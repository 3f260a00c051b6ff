#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// Composite operations: built only from primitives, so they declare no backward of their
// own; their gradients follow from the primitives'. Each is written to stay finite where
// the naive formula overflows.

extension Tensor {
    /// −x.
    public static prefix func - (x: Tensor) -> Tensor { x * -1 }

    /// lhs − rhs with broadcasting: lhs + (−rhs). Where nothing is recorded the two passes are
    /// done as one, which gives the same values (a − b is a + (−b) in IEEE arithmetic).
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        if !GradientMode.isRecording || !(lhs.requiresGradient || rhs.requiresGradient) {
            let (shape, values) = broadcastBinary(lhs, rhs, Subtraction.self)
            return Tensor(shape: shape, storage: values)
        }
        return lhs + (-rhs)
    }

    /// x².
    public func squared() -> Tensor { self * self }

    /// √x, as exp(½ log x); for positive x.
    public func squareRoot() -> Tensor { (log() * 0.5).exp() }

    /// |x|, as a selection between x and −x.
    public func absolute() -> Tensor { Tensor.select(mask { $0 >= 0 }, self, -self) }

    /// log σ(x) = −softplus(−x).
    public func logSigmoid() -> Tensor { -((-self).softplus()) }

    /// log Σ exp(x) over `axis`, as m + log Σ exp(x − m) with m the (detached) maximum, so
    /// that large values do not overflow: logSumExp([1000, 1000]) = 1000 + log 2.
    /// The gradient is exact whatever m is, since the result does not depend on it.
    public func logSumExp(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let maximum = max(axis: axis, keepingDimensions: true).detached()
        // A row of −∞ would give −∞ − (−∞) = NaN; shift such rows by 0 instead.
        let shift = Tensor(shape: maximum.shape, storage: maximum.storage.map { $0.isFinite ? $0 : 0 })
        let total = (self - shift).exp().sum(axis: axis, keepingDimensions: true).log() + shift
        if keepingDimensions { return total }
        var outputShape = shape
        outputShape.remove(at: normalizedAxes([axis])[0])
        return total.reshaped(outputShape)
    }

    /// log (1/K) Σ exp(x) over `axis`, K its extent: the importance-weighted bound's estimator.
    public func logMeanExp(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let extent = shape[normalizedAxes([axis])[0]]
        return logSumExp(axis: axis, keepingDimensions: keepingDimensions) - Float(Foundation_log(Double(extent)))
    }
}

/// The activations written as compositions of primitives: the definitions the fused kernels
/// of `Tensor+Activations.swift` must reproduce (tests compare values and gradients), and the
/// form in which their numerical care is easiest to read.
public enum CompositeActivations {
    /// max(x, 0).
    public static func relu(_ x: Tensor) -> Tensor { Tensor.select(x.mask { $0 > 0 }, x, Tensor(0)) }

    /// log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}): never overflows, exact in both tails
    /// (softplus(100) = 100, softplus(−100) = e^{−100}).
    /// The max takes x at 0 (not 0, as relu does) so that its slope 1 pairs with |x|'s slope +1
    /// there: softplus′(0) = 1 − ½ = ½.
    public static func softplus(_ x: Tensor) -> Tensor {
        Tensor.select(x.mask { $0 >= 0 }, x, Tensor(0)) + (-x.absolute()).exp().log1p()
    }

    /// σ(x) = 1 / (1 + e^{−x}), evaluated through e^{−|x|} ≤ 1 on both sides so neither
    /// branch of the selection overflows: σ(x) = 1/(1+e) for x ≥ 0, e/(1+e) for x < 0.
    public static func sigmoid(_ x: Tensor) -> Tensor {
        let e = (-x.absolute()).exp()
        let denominator = 1 + e
        return Tensor.select(x.mask { $0 >= 0 }, 1 / denominator, e / denominator)
    }

    /// tanh(x) = 2σ(2x) − 1.
    public static func tanh(_ x: Tensor) -> Tensor { sigmoid(x * 2) * 2 - 1 }

    /// SiLU (swish): x · σ(x).
    public static func silu(_ x: Tensor) -> Tensor { x * sigmoid(x) }
}

@inline(__always) func Foundation_log(_ x: Double) -> Double { log(x) }
