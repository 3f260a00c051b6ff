import Core
import Foundation
import Tensor
import XCTest

// A copy of the TensorTests gradient-check harness (that one lives in another test target):
// tape gradients against central finite differences of a random projection of the output.
//
// loss = Σ f(x) ⊙ R with R standard normal; numeric ∂loss/∂xᵢ = [loss(x + h eᵢ) − loss(x − h eᵢ)]
// / (actual step), accumulated in Double from the Float outputs. An element passes when
// |analytic − numeric| ≤ atol · max(1, max |numeric|) + rtol · |numeric|, rtol = 1e-2, atol = 1e-3
// (Float rounding ~1e-7·Σ|f R| / 2h plus h²/6·|f‴| stays well inside; a 10 % VJP error does not).
struct GradientCheck {
    var step: Double = 1e-2
    var relativeTolerance: Double = 1e-2
    var absoluteTolerance: Double = 1e-3
    var projectionSeed: UInt64 = 0x0DDB_1A5E_5BAD_5EED

    /// The failures (empty when every element of every input passed).
    func run(_ inputs: [Tensor], _ function: ([Tensor]) -> Tensor) -> [String] {
        var failures: [String] = []
        let parameters = inputs.map { Tensor(parameterShape: $0.shape, storage: $0.storage) }
        let output = function(parameters)
        var generator = RandomGenerator(seed: projectionSeed)
        let projection = Tensor.randomNormal(shape: output.shape, using: &generator)
        let loss = (output * projection).sum()
        if loss.requiresGradient { loss.backward() }
        let weights = projection.storage.map(Double.init)

        func projectedLoss(_ values: [Tensor]) -> Double {
            let result = GradientMode.withoutRecording { function(values) }
            precondition(result.shape == output.shape, "output shape changed under perturbation")
            return zip(result.storage, weights).reduce(0.0) { $0 + Double($1.0) * $1.1 }
        }

        for (index, parameter) in parameters.enumerated() {
            let analytic = parameter.gradient ?? [Float](repeating: 0, count: parameter.count)
            guard analytic.count == parameter.count else {
                failures.append("input \(index): gradient has \(analytic.count) elements, input \(parameter.count)")
                continue
            }
            var numeric = [Double](repeating: 0, count: parameter.count)
            var constants = inputs.map { Tensor(shape: $0.shape, storage: $0.storage) }
            for element in 0..<parameter.count {
                let x = inputs[index].storage[element]
                let up = Float(Double(x) + step), down = Float(Double(x) - step)
                var values = inputs[index].storage
                values[element] = up
                constants[index] = Tensor(shape: parameter.shape, storage: values)
                let lossUp = projectedLoss(constants)
                values[element] = down
                constants[index] = Tensor(shape: parameter.shape, storage: values)
                let lossDown = projectedLoss(constants)
                numeric[element] = (lossUp - lossDown) / (Double(up) - Double(down))
            }
            let scale = Swift.max(1, numeric.map(Swift.abs).max() ?? 0)
            for element in 0..<parameter.count {
                let a = Double(analytic[element]), n = numeric[element]
                guard a.isFinite, n.isFinite else {
                    failures.append("input \(index)[\(element)]: non-finite (analytic \(a), numeric \(n))")
                    continue
                }
                if Swift.abs(a - n) > absoluteTolerance * scale + relativeTolerance * Swift.abs(n) {
                    failures.append("input \(index) \(parameter.shape)[\(element)]: analytic \(a), numeric \(n)")
                }
            }
        }
        return failures
    }
}

func assertGradientsMatch(
    _ inputs: [Tensor], _ message: @autoclosure () -> String = "", check: GradientCheck = GradientCheck(),
    file: StaticString = #filePath, line: UInt = #line, _ function: ([Tensor]) -> Tensor
) {
    let failures = check.run(inputs, function)
    XCTAssertTrue(failures.isEmpty, "gradient check failed \(message()):\n" + failures.prefix(12).joined(separator: "\n"),
                  file: file, line: line)
}

/// |actual − expected| ≤ atol + rtol·|expected| element-wise.
func assertClose(
    _ actual: [Float], _ expected: [Double], rtol: Double = 1e-5, atol: Double = 1e-6,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "element count \(message())", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(Swift.abs(Double(a) - e) <= atol + rtol * Swift.abs(e)) {
        XCTFail("element \(i): \(a) vs expected \(e) \(message())", file: file, line: line)
        return
    }
}

/// Uniform values on [low, high) from a seeded generator.
func uniform(_ shape: [Int], _ low: Float, _ high: Float, _ generator: inout RandomGenerator) -> Tensor {
    Tensor.randomUniform(shape: shape, low: low, high: high, using: &generator)
}
