import Core
import Tensor
import XCTest

/// The convolution and the group normalization on an input that records no gradient (a data
/// batch, the first layer of every convolutional network): the parameters' gradients are the
/// ones computed when the input records one, and nothing is written for the input.
///
/// Regression: their pullbacks once wrote the input's gradient through the base address of an
/// empty array, which Swift gives too (the process-wide empty storage), corrupting memory that
/// crashed later, unrelated code (a print, a reflection of the module's parameters).
final class ConstantInputGradientTests: XCTestCase {
    private func parameterGradients(inputRecords: Bool, _ body: (Tensor) -> Tensor, parameters: [Tensor], input: [Float]) -> [[Float]] {
        for p in parameters { p.zeroGradient() }
        let x = inputRecords ? Tensor(parameterShape: [2, 4, 4, 4], storage: input) : Tensor(shape: [2, 4, 4, 4], storage: input)
        body(x).sum().backward()
        XCTAssertEqual(x.gradient == nil, !inputRecords)
        return parameters.map { $0.gradient ?? [] }
    }

    func testConvolutionAndGroupNormalization_onAConstantInput_giveTheParametersTheSameGradients() {
        var generator = RandomGenerator(seed: 3)
        let input = Tensor.randomNormal(shape: [2, 4, 4, 4], using: &generator).storage
        let weight = Tensor(parameterShape: [3, 3, 3, 4], storage: Tensor.randomNormal(shape: [3, 3, 3, 4], using: &generator).storage)
        let bias = Tensor(parameterShape: [3], storage: [0.1, -0.2, 0.3])
        let scale = Tensor(parameterShape: [4], storage: [1, 0.5, 2, 1.5])
        let offset = Tensor(parameterShape: [4], storage: [0, 0.1, -0.1, 0.2])
        let cases: [(String, [Tensor], (Tensor) -> Tensor)] = [
            ("convolution", [weight, bias], { Tensor.convolution2D($0, weight: weight, bias: bias, geometry: .same3x3, activation: .silu) }),
            ("strided convolution", [weight, bias], { Tensor.convolution2D($0, weight: weight, bias: bias, geometry: .downsampling3x3) }),
            ("group normalization", [scale, offset], { Tensor.groupNormalization($0, groups: 2, scale: scale, offset: offset, epsilon: 1e-5, activation: .silu) }),
        ]
        for (name, parameters, body) in cases {
            let constant = parameterGradients(inputRecords: false, body, parameters: parameters, input: input)
            let recorded = parameterGradients(inputRecords: true, body, parameters: parameters, input: input)
            XCTAssertEqual(constant, recorded, name)
        }
        // Memory outside the tensors is intact: an empty array is still empty and usable.
        var empty: [Float] = []
        empty.append(1)
        XCTAssertEqual(empty, [1])
    }
}
