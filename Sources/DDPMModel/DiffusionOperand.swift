import Core
import NN
import Tensor

/// What the diffusion formulas are evaluated on, so that each of them is written once
/// (``GaussianDiffusion``, ``ReverseProcess``) and serves both paths:
/// - `Double`: one element at one timestep t, in Double (the ELBO, the importance weights and
///   sampling); per-timestep constants are scalars;
/// - `Tensor`: a Float32 batch [batch, D] with one timestep per row (the training loss, with
///   gradients); per-timestep constants are [batch, 1] columns that broadcast over D.
///
/// The requirements are the arithmetic the formulas use, the clip of x̂_0 and the three
/// element-wise log-densities, each delegating to the one scalar formula in
/// ``GaussianFormulas`` / ``DiscretizedGaussian``. Generic code over this protocol is
/// specialized inside the module: no dispatch per element on either path.
protocol DiffusionOperand {
    /// One timestep t ∈ 1…T (`Double`), or one per row (`Tensor`).
    associatedtype Timesteps
    /// Entry t − 1 of a per-timestep constant (arrays hold t = 1…T): the scalar for `Double`,
    /// the [batch, 1] column of Float32 values for `Tensor`.
    static func perTimestep(_ constants: [Double], at timesteps: Timesteps) -> Self
    /// A constant that broadcasts against any operand.
    static func constant(_ value: Double) -> Self
    static func + (lhs: Self, rhs: Self) -> Self
    static func - (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Self, rhs: Self) -> Self
    static prefix func - (operand: Self) -> Self
    /// min(max(x, −1), 1): the support of image data on the diffusion scale.
    func clippedToUnitInterval() -> Self
    /// KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) per element; the first Gaussian (q's posterior) is a
    /// constant: no gradient flows into it.
    static func gaussianKL(mean1: Self, logVariance1: Self, mean2: Self, logVariance2: Self) -> Self
    /// log N(x; μ, σ²) per element.
    static func gaussianLogDensity(_ x: Self, mean: Self, logVariance: Self) -> Self
    /// log P(x) per element of the Gaussian N(μ, σ²) discretized to `levels` values on [−1, 1].
    static func discretizedGaussianLogProbability(_ x: Self, mean: Self, logScale: Self, levels: Int) -> Self
    /// `decoder()` where t = 1, `otherwise()` where t ≥ 2: a branch for `Double`; for `Tensor`
    /// both are computed for every row and selected row by row.
    static func whereFirstStep(_ timesteps: Timesteps, _ decoder: () -> Self, otherwise: () -> Self) -> Self
}

extension Double: DiffusionOperand {
    @inline(__always)
    static func perTimestep(_ constants: [Double], at t: Int) -> Double { constants[t - 1] }
    @inline(__always)
    static func constant(_ value: Double) -> Double { value }
    @inline(__always)
    func clippedToUnitInterval() -> Double { Swift.min(Swift.max(self, -1), 1) }
    @inline(__always)
    static func gaussianKL(mean1: Double, logVariance1: Double, mean2: Double, logVariance2: Double) -> Double {
        GaussianFormulas.kl(mean1: mean1, logVariance1: logVariance1, mean2: mean2, logVariance2: logVariance2)
    }
    @inline(__always)
    static func gaussianLogDensity(_ x: Double, mean: Double, logVariance: Double) -> Double {
        GaussianFormulas.logDensity(x, mean: mean, logVariance: logVariance)
    }
    @inline(__always)
    static func discretizedGaussianLogProbability(_ x: Double, mean: Double, logScale: Double, levels: Int) -> Double {
        DiscretizedGaussian.logProbabilityAndGradient(x, mean: mean, logScale: logScale, levels: levels).value
    }
    @inline(__always)
    static func whereFirstStep(_ t: Int, _ decoder: () -> Double, otherwise: () -> Double) -> Double {
        t == 1 ? decoder() : otherwise()
    }
}

extension Tensor: DiffusionOperand {
    static func perTimestep(_ constants: [Double], at timesteps: [Int]) -> Tensor {
        Tensor(shape: [timesteps.count, 1], storage: timesteps.map { Float(constants[$0 - 1]) })
    }
    static func constant(_ value: Double) -> Tensor { Tensor(Float(value)) }
    /// No gradient flows where it clips.
    func clippedToUnitInterval() -> Tensor {
        Tensor.select(mask { $0 > 1 }, Tensor(1), Tensor.select(mask { $0 < -1 }, Tensor(-1), self))
    }
    static func gaussianKL(mean1: Tensor, logVariance1: Tensor, mean2: Tensor, logVariance2: Tensor) -> Tensor {
        DiagonalGaussian(mean: mean1, logVariance: logVariance1).detachedParameters()
            .klPerElement(to: DiagonalGaussian(mean: mean2, logVariance: logVariance2))
    }
    static func gaussianLogDensity(_ x: Tensor, mean: Tensor, logVariance: Tensor) -> Tensor {
        DiagonalGaussian(mean: mean, logVariance: logVariance).logDensityPerElement(x)
    }
    static func discretizedGaussianLogProbability(_ x: Tensor, mean: Tensor, logScale: Tensor, levels: Int) -> Tensor {
        DiscretizedGaussian(mean: mean, logScale: logScale, levels: levels).logProbabilityPerElement(x)
    }
    static func whereFirstStep(_ timesteps: [Int], _ decoder: () -> Tensor, otherwise: () -> Tensor) -> Tensor {
        let later = otherwise(), first = decoder()
        let width = later.count / Swift.max(timesteps.count, 1)
        let isFirstStep = Mask(shape: later.shape, values: timesteps.flatMap { [Bool](repeating: $0 == 1, count: width) })
        return Tensor.select(isFirstStep, first, later)
    }
}

extension DiagonalGaussian {
    /// The same distribution with its parameters cut from the graph.
    func detachedParameters() -> DiagonalGaussian { DiagonalGaussian(mean: mean.detached(), logVariance: logVariance.detached()) }
}
