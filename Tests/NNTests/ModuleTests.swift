import Core
import Foundation
import NN
import Tensor
import XCTest

private final class Block: Module {
    let projection: Linear
    let gain: Tensor
    /// A constant: not a parameter.
    let offset = Tensor(repeating: 1, shape: [2])
    init(using generator: inout RandomGenerator) {
        projection = Linear(inputs: 2, outputs: 3, using: &generator)
        gain = Tensor(parameterShape: [3], storage: [1, 1, 1])
    }
}

private class Base: Module {
    let trunk: MLP
    init(using generator: inout RandomGenerator) { trunk = MLP(sizes: [2, 4, 2], activation: .silu, using: &generator) }
}

private final class Composite: Base {
    let blocks: [Block]
    let heads: [Linear]
    let temperature: Tensor
    let optionalHead: Linear?
    let absentHead: Linear? = nil
    let extra: Tensor?
    let tensors: [Tensor]
    /// Plain numbers are never walked.
    let schedule: [Float] = [0.1, 0.2]
    let label = "composite"

    override init(using generator: inout RandomGenerator) {
        blocks = [Block(using: &generator), Block(using: &generator)]
        heads = [Linear(inputs: 3, outputs: 1, using: &generator)]
        temperature = Tensor(parameterShape: [], storage: [1])
        optionalHead = Linear(inputs: 1, outputs: 1, using: &generator)
        extra = Tensor(parameterShape: [2, 2], storage: [0, 0, 0, 0])
        tensors = [Tensor(parameterShape: [1], storage: [0]), Tensor(shape: [1], storage: [0]), Tensor(parameterShape: [5], storage: [0, 0, 0, 0, 0])]
        super.init(using: &generator)
    }
}

final class ModuleTests: XCTestCase {
    func testModuleReflection_dottedKeysForNestedModulesAndArrays() {
        var generator = RandomGenerator(seed: 1)
        let model = Composite(using: &generator)
        let keys = model.namedParameters.map(\.key)
        XCTAssertEqual(keys, [
            "trunk.layers.0.weight", "trunk.layers.0.bias", "trunk.layers.1.weight", "trunk.layers.1.bias",
            "blocks.0.projection.weight", "blocks.0.projection.bias", "blocks.0.gain",
            "blocks.1.projection.weight", "blocks.1.projection.bias", "blocks.1.gain",
            "heads.0.weight", "heads.0.bias",
            "temperature",
            "optionalHead.weight", "optionalHead.bias",
            "extra",
            "tensors.0", "tensors.2",
        ])
        XCTAssertTrue(model.namedParameters[0].tensor === model.trunk.layers[0].weight)
        XCTAssertTrue(model.namedParameters[5].tensor === model.blocks[0].projection.bias)
        XCTAssertTrue(model.namedParameters.allSatisfy { $0.tensor.requiresGradient })
    }

    func testModuleReflection_parameterCount() {
        var generator = RandomGenerator(seed: 2)
        let model = Composite(using: &generator)
        // trunk 2·4+4 + 4·2+2 = 22; each block 2·3+3+3 = 12; head 3+1; temperature 1;
        // optional head 1+1; extra 4; tensors 1 + 5.
        XCTAssertEqual(model.parameterCount, 22 + 24 + 4 + 1 + 2 + 4 + 6)
        XCTAssertEqual(model.parameterCount, model.namedParameters.reduce(0) { $0 + $1.tensor.count })
        let mlp = MLP(sizes: [3, 16, 16, 2], activation: .relu, using: &generator)
        XCTAssertEqual(mlp.parameterCount, 3 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2)
    }

    func testModuleReflection_zeroGradientsClearsEveryParameter() {
        var generator = RandomGenerator(seed: 3)
        let mlp = MLP(sizes: [2, 5, 1], activation: .tanh, using: &generator)
        let x = Tensor.randomNormal(shape: [4, 2], using: &generator)
        mlp(x).squared().sum().backward()
        XCTAssertTrue(mlp.namedParameters.allSatisfy { $0.tensor.gradient != nil })
        mlp.zeroGradients()
        XCTAssertTrue(mlp.namedParameters.allSatisfy { $0.tensor.gradient == nil })
    }

    func testLinear_initializationWithinPyTorchBoundsAndShapes() {
        var generator = RandomGenerator(seed: 4)
        for (inputs, outputs) in [(1, 300), (16, 200), (100, 40)] {
            let layer = Linear(inputs: inputs, outputs: outputs, using: &generator)
            XCTAssertEqual(layer.weight.shape, [outputs, inputs])
            XCTAssertEqual(layer.bias.shape, [outputs])
            XCTAssertEqual(layer.inputCount, inputs)
            XCTAssertEqual(layer.outputCount, outputs)
            XCTAssertTrue(layer.weight.requiresGradient && layer.bias.requiresGradient)
            let bound = 1 / Float(inputs).squareRoot()
            for values in [layer.weight.storage, layer.bias.storage] {
                XCTAssertTrue(values.allSatisfy { $0 >= -bound && $0 < bound }, "outside ±\(bound)")
                // Uniform, not narrower: the extremes come near the bound and the mean near 0.
                let n = Double(values.count)
                XCTAssertGreaterThan(Double(values.max()!), Double(bound) * (1 - 16 / n))
                XCTAssertLessThan(Double(values.min()!), -Double(bound) * (1 - 16 / n))
                let mean = values.reduce(0.0) { $0 + Double($1) } / n
                XCTAssertLessThan(Swift.abs(mean), 5 * Double(bound) / (3 * n).squareRoot())
            }
        }
    }

    func testLinear_appliesXWTransposePlusBias() {
        let layer = Linear(weight: Tensor([[1, 2, 3], [-1, 0, 1]]), bias: Tensor(shape: [2], storage: [0.5, -0.5]))
        XCTAssertTrue(layer.weight.requiresGradient && layer.bias.requiresGradient)
        let y = layer(Tensor([[1, 1, 1], [2, 0, -1]]))
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(y.storage, [6.5, -0.5, -0.5, -3.5])
    }

    func testMLP_activationBetweenLayersNotAfterTheLast() {
        var generator = RandomGenerator(seed: 5)
        for activation in Activation.allCases {
            let mlp = MLP(sizes: [3, 4, 5, 2], activation: activation, using: &generator)
            XCTAssertEqual(mlp.layers.map(\.weight.shape), [[4, 3], [5, 4], [2, 5]])
            let x = Tensor.randomNormal(shape: [6, 3], using: &generator)
            let y = mlp(x)
            XCTAssertEqual(y.shape, [6, 2])
            var h = x
            h = activation(mlp.layers[0](h))
            h = activation(mlp.layers[1](h))
            h = mlp.layers[2](h)
            XCTAssertEqual(y.storage, h.storage, "\(activation)")
            // The output is not squashed: with a large last bias it leaves the activation's range.
            XCTAssertEqual(Set(mlp.namedParameters.map(\.key)).count, 6)
        }
    }

    func testMLP_gradientsMatchFiniteDifferences() {
        var generator = RandomGenerator(seed: 6)
        for activation in [Activation.silu, .tanh] {
            let x = Tensor.randomNormal(shape: [3, 2], using: &generator)
            let mlp = MLP(sizes: [2, 4, 2], activation: activation, using: &generator)
            let values = mlp.namedParameters.map { Tensor(shape: $0.tensor.shape, storage: $0.tensor.storage) }
            assertGradientsMatch([x] + values, "\(activation)") { inputs in
                let layers = [Linear(weight: inputs[1], bias: inputs[2]), Linear(weight: inputs[3], bias: inputs[4])]
                // Linear(weight:bias:) keeps tensors that already require gradients, so the
                // harness's parameters are the layer's own.
                return MLP(layers: layers, activation: activation)(inputs[0])
            }
        }
    }

    /// y = sin(3x) on 256 points of [−1, 1], MLP [1, 32, 32, 1] with tanh, full-batch Adam.
    func testMLP_fitsASmallRegression() {
        var generator = RandomGenerator(seed: 7)
        let n = 256
        let xs = (0..<n).map { -1 + 2 * Float($0) / Float(n - 1) }
        let x = Tensor(shape: [n, 1], storage: xs)
        let y = Tensor(shape: [n, 1], storage: xs.map { sinf(3 * $0) })
        let mlp = MLP(sizes: [1, 32, 32, 1], activation: .tanh, using: &generator)
        let adam = Adam(parameters: mlp.namedParameters, learningRate: 3e-3)
        let start = Date()
        var loss: Float = .infinity
        for _ in 0..<2000 {
            let l = (mlp(x) - y).squared().mean()
            loss = l.scalar
            l.backward()
            adam.update()
        }
        let finalLoss = GradientMode.withoutRecording { (mlp(x) - y).squared().mean().scalar }
        XCTAssertLessThan(finalLoss, 0.01, "MSE after 2000 steps (last training loss \(loss))")
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "2000 steps should take about a second in release")
    }
}
