import Core
import Tensor

/// An affine map y = x Wᵀ + b.
///
/// Shapes: `weight` [outputs, inputs] (PyTorch's layout), `bias` [outputs]; x [batch, inputs]
/// → y [batch, outputs]. The product passes a transpose flag to BLAS; no transposed copy.
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor

    public var inputCount: Int { weight.shape[1] }
    public var outputCount: Int { weight.shape[0] }

    /// PyTorch's default initialization: W and b uniform on ±1/√inputs
    /// (`kaiming_uniform_(a=√5)` reduces to this bound).
    public init(inputs: Int, outputs: Int, using generator: inout RandomGenerator) {
        let bound = 1 / Float(inputs).squareRoot()
        weight = Tensor(parameterShape: [outputs, inputs],
                        storage: Tensor.randomUniform(shape: [outputs, inputs], low: -bound, high: bound, using: &generator).storage)
        bias = Tensor(parameterShape: [outputs],
                      storage: Tensor.randomUniform(shape: [outputs], low: -bound, high: bound, using: &generator).storage)
    }

    /// A layer with the given values (tests, and closed-form models set by hand).
    public init(weight: Tensor, bias: Tensor) {
        precondition(weight.rank == 2 && bias.shape == [weight.shape[0]], "Linear needs weight [out, in] and bias [out]")
        self.weight = weight.requiresGradient ? weight : Tensor(parameterShape: weight.shape, storage: weight.storage)
        self.bias = bias.requiresGradient ? bias : Tensor(parameterShape: bias.shape, storage: bias.storage)
    }

    /// y = x Wᵀ + b for x of shape [batch, inputs].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.affine(x, weight: weight, bias: bias)
    }

    /// f(x Wᵀ + b) as one fused operation (the activation applied in place to the product):
    /// equal to `activation(self(x))` in value and gradient, with one tensor less.
    public func callAsFunction(_ x: Tensor, activation: Activation) -> Tensor {
        Tensor.affine(x, weight: weight, bias: bias, activation: activation.pointwise)
    }
}
