import Core
import NN
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// γ(t) = −log SNR(t) on t ∈ [0, 1], increasing from γ(0) to γ(1): the noise schedule of a
/// continuous-time DDPM (docs/math.md#log-snr-schedules), with its derivative γ'(t), which the
/// continuous-time diffusion loss weighs by.
///
/// - `.linear`: γ(t) = γ₀ + (γ₁ − γ₀) t.
/// - `.cosine`: γ(t) = 2 log tan θ(t), θ(t) = θ₀ + (θ₁ − θ₀) t, θᵢ = atan e^{γᵢ/2};
///   γ'(t) = 4 (θ₁ − θ₀) / sin 2θ(t).
/// - `.learned` (VDM §3.5): γ(t) = γ₀ + (γ₁ − γ₀) u(t), u(t) = (g(t) − g(0)) / (g(1) − g(0)),
///   g(t) = softplus(a) t + (1/n) Σⱼ |cⱼ| φ(|bⱼ| (2t − 1) + oⱼ), φ(h) = 2 sigmoid(h) − 1;
///   γ₀ = `start`, γ₁ = γ₀ + softplus(`widthParameter`), so γ₁ > γ₀ and u is increasing
///   from 0 to 1 whatever the parameters.
///
/// The learned schedule's end points are trained on the loss (they change the ELBO); its shape
/// u (a, b, o, c) is trained to minimise the variance of the diffusion loss's estimate
/// (``trainingValues(at:shapeGradientScale:)``). Parameter keys `schedule.start`,
/// `schedule.widthParameter`, `schedule.linearSlope`, `schedule.featureSlopes`,
/// `schedule.featureOffsets`, `schedule.featureWeights`; fixed schedules have none.
public final class LogSNRSchedule: Module {
    public let kind: LogSNRScheduleKind
    /// The fixed end points (the learned schedule's initial ones).
    public let settings: ContinuousTimeSettings
    /// γ₀, [1] (learned only).
    public let start: Tensor?
    /// softplus⁻¹(γ₁ − γ₀), [1].
    public let widthParameter: Tensor?
    /// a, [1]: the linear part's slope is softplus(a).
    public let linearSlope: Tensor?
    /// b, [1, n].
    public let featureSlopes: Tensor?
    /// o, [1, n].
    public let featureOffsets: Tensor?
    /// c, [n, 1].
    public let featureWeights: Tensor?

    public init(settings: ContinuousTimeSettings, using generator: inout RandomGenerator) {
        self.kind = settings.schedule
        self.settings = settings
        guard settings.schedule == .learned else {
            start = nil; widthParameter = nil; linearSlope = nil; featureSlopes = nil; featureOffsets = nil; featureWeights = nil
            return
        }
        let n = settings.learnedScheduleFeatures
        start = Tensor(parameterShape: [1], storage: [Float(settings.startNegativeLogSNR)])
        widthParameter = Tensor(parameterShape: [1], storage: [Float(Self.inverseSoftplus(settings.endNegativeLogSNR - settings.startNegativeLogSNR))])
        // softplus(a) = 1: the linear part alone is the linear schedule.
        linearSlope = Tensor(parameterShape: [1], storage: [Float(Self.inverseSoftplus(1))])
        featureSlopes = Tensor(parameterShape: [1, n], storage: (0..<n).map { _ in Float(generator.nextNormal()) })
        featureOffsets = Tensor(parameterShape: [1, n], storage: [Float](repeating: 0, count: n))
        featureWeights = Tensor(parameterShape: [n, 1], storage: (0..<n).map { _ in Float(generator.nextNormal()) })
    }

    /// The keys and shapes of the schedule's parameters, in ``Module/namedParameters`` order.
    public static func parameterShapes(settings: ContinuousTimeSettings) -> [(key: String, shape: [Int])] {
        guard settings.schedule == .learned else { return [] }
        let n = settings.learnedScheduleFeatures
        return [("start", [1]), ("widthParameter", [1]), ("linearSlope", [1]),
                ("featureSlopes", [1, n]), ("featureOffsets", [1, n]), ("featureWeights", [n, 1])]
    }

    static func inverseSoftplus(_ y: Double) -> Double { y > 30 ? y : log(expm1(y)) }

    // MARK: - Double (evaluation and sampling)

    /// (γ₀, γ₁).
    public var endPoints: (start: Double, end: Double) {
        guard kind == .learned, let start, let widthParameter else { return (settings.startNegativeLogSNR, settings.endNegativeLogSNR) }
        let gamma0 = Double(start.storage[0])
        return (gamma0, gamma0 + LogSNRFormulas.softplus(Double(widthParameter.storage[0])))
    }

    /// γ(t).
    public func callAsFunction(_ t: Double) -> Double { valueAndDerivative(at: t).value }

    /// γ(t) and γ'(t), in Double from the (Float) parameters.
    public func valueAndDerivative(at t: Double) -> (value: Double, derivative: Double) {
        valuesAndDerivatives(at: [t])[0]
    }

    /// γ and γ' at each of `times`; the learned shape's normalization g(0), g(1) is computed once.
    public func valuesAndDerivatives(at times: [Double]) -> [(value: Double, derivative: Double)] {
        let (gamma0, gamma1) = endPoints
        guard kind == .learned else { return times.map { fixedValueAndDerivative(at: $0, start: gamma0, end: gamma1) } }
        let g0 = shapeFunction(0).value, range = shapeFunction(1).value - g0
        return times.map { t in
            let g = shapeFunction(t)
            return (gamma0 + (gamma1 - gamma0) * (g.value - g0) / range, (gamma1 - gamma0) * g.derivative / range)
        }
    }

    /// γ(t) and γ'(t) of the fixed schedules.
    private func fixedValueAndDerivative(at t: Double, start gamma0: Double, end gamma1: Double) -> (value: Double, derivative: Double) {
        switch kind {
        case .linear:
            return (gamma0 + (gamma1 - gamma0) * t, gamma1 - gamma0)
        case .cosine:
            let theta0 = atan(exp(0.5 * gamma0)), theta1 = atan(exp(0.5 * gamma1))
            let theta = theta0 + (theta1 - theta0) * t
            return (2 * log(tan(theta)), 4 * (theta1 - theta0) / sin(2 * theta))
        case .learned:
            preconditionFailure("the learned schedule is computed by valuesAndDerivatives(at:)")
        }
    }

    /// g(t) and g'(t) of the learned shape, in Double.
    func shapeFunction(_ t: Double) -> (value: Double, derivative: Double) {
        guard let linearSlope, let featureSlopes, let featureOffsets, let featureWeights else { return (t, 1) }
        let slope = LogSNRFormulas.softplus(Double(linearSlope.storage[0]))
        let n = featureSlopes.count
        var value = 0.0, derivative = 0.0
        for j in 0..<n {
            let b = abs(Double(featureSlopes.storage[j])), c = abs(Double(featureWeights.storage[j]))
            let h = b * (2 * t - 1) + Double(featureOffsets.storage[j])
            let s = 1 / (1 + exp(-h))
            value += c * (2 * s - 1)
            derivative += c * 2 * s * (1 - s) * 2 * b
        }
        return (slope * t + value / Double(n), slope + derivative / Double(n))
    }

    /// Refuses a learned schedule whose parameters (edited or diverged) give no increasing γ,
    /// with one line.
    public func check() throws {
        guard kind == .learned else { return }
        let (gamma0, gamma1) = endPoints
        let range = shapeFunction(1).value - shapeFunction(0).value
        guard gamma0.isFinite, gamma1.isFinite, gamma1 > gamma0, range.isFinite, range > 0 else {
            throw ModelError.invalidState("the learned log-SNR schedule does not increase: γ(0) = \(gamma0), γ(1) = \(gamma1), g(1) − g(0) = \(range)")
        }
    }

    // MARK: - Tensors (training)

    /// γ(t) and γ'(t) for one t per row, [rows, 1] each, with γ₀ and γ₁ ([1]); recorded for
    /// gradients when the schedule is learned. The shape's outputs u(t) and u'(t) pass through
    /// `shapeGradientScale`, which multiplies the gradient reaching row i by the scale set
    /// after the forward pass: with scale 2·L_i (the row's diffusion loss) the shape parameters
    /// receive ∂ mean(L²)/∂η instead of ∂ mean(L)/∂η, VDM's variance-minimizing gradient, while
    /// the end points and the network receive the loss's own. docs/math.md#log-snr-schedules
    public func trainingValues(at times: [Float], shapeGradientScale: RowGradientScale?)
        -> (value: Tensor, derivative: Tensor, start: Tensor, end: Tensor) {
        let rows = times.count
        guard kind == .learned, let start, let widthParameter, let linearSlope, let featureSlopes, let featureOffsets,
              let featureWeights else {
            let pairs = valuesAndDerivatives(at: times.map(Double.init))
            let (gamma0, gamma1) = endPoints
            return (Tensor(shape: [rows, 1], storage: pairs.map { Float($0.value) }),
                    Tensor(shape: [rows, 1], storage: pairs.map { Float($0.derivative) }),
                    Tensor(shape: [1], storage: [Float(gamma0)]), Tensor(shape: [1], storage: [Float(gamma1)]))
        }
        let features = featureSlopes.count, n = Float(features)
        // Rows t_1 … t_rows, then 0 and 1 for the normalization.
        let t = Tensor(shape: [rows + 2, 1], storage: times + [0, 1])
        let slopes = featureSlopes.absolute().reshaped([features, 1]), weights = featureWeights.absolute()
        // Written so that the [rows, n] work is one affine product, a sigmoid and s − s², and
        // the sums over features are products with [n, 1] columns. Measured on gmm2d (batch 256,
        // n = 1024, 500 steps): broadcasting [1, n] rows over the batch element by element added
        // 11 ms a step to the linear schedule's 2 ms; this form adds 4 ms.
        // φ(h) = 2s − 1 and φ'(h) = 2 s (1 − s) with s = sigmoid(h):
        //   (1/n) Σ_j |c_j| φ(h_j)            = (2/n) s·|c| − (1/n) Σ_j |c_j|,
        //   (1/n) Σ_j |c_j| 2|b_j| φ'(h_j)    = (4/n) (s − s²)·(|b| ∘ |c|).
        let h = Tensor.affine(t * 2 - 1, weight: slopes, bias: featureOffsets.reshaped([features]))
        let s = h.sigmoid()
        let linear = linearSlope.softplus()
        let g = t * linear + s.matmul(weights) * (2 / n) - weights.sum() / n
        let gSlope = linear + (s - s.squared()).matmul(slopes * weights) * (4 / n)
        let g0 = g.slice(axis: 0, rows..<(rows + 1)), g1 = g.slice(axis: 0, (rows + 1)..<(rows + 2))
        let range = g1 - g0
        var u = (g.slice(axis: 0, 0..<rows) - g0) / range
        var uSlope = gSlope.slice(axis: 0, 0..<rows) / range
        if let shapeGradientScale {
            u = shapeGradientScale.apply(u)
            uSlope = shapeGradientScale.apply(uSlope)
        }
        let width = widthParameter.softplus()
        return (start + width * u, width * uSlope, start, start + width)
    }
}

/// An identity on [rows, 1] tensors whose pullback multiplies the gradient of row i by
/// ``scales``[i], set after the forward pass (the scales are computed from its outputs).
/// ``LogSNRSchedule/trainingValues(at:shapeGradientScale:)`` uses it for VDM's
/// variance-minimizing gradient of the schedule's shape.
public final class RowGradientScale {
    /// One factor per row; must be set before the backward pass.
    public var scales: [Float]?

    public init() {}

    func apply(_ x: Tensor) -> Tensor {
        Tensor.recordOperation(shape: x.shape, storage: x.storage, inputs: [x]) { [self] output in
            guard let scales else { preconditionFailure("RowGradientScale: the scales were not set before the backward pass") }
            var g = output.gradient!
            precondition(g.count == scales.count, "one scale per row")
            for i in g.indices { g[i] *= scales[i] }
            x.accumulateGradient(g, shape: output.shape)
        }
    }
}
