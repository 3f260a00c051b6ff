import Core
import Foundation
import Tensor
import XCTest

/// Compares the gradients that `backward()` produces against central finite differences.
///
/// The function under test maps a list of tensors to a tensor of any shape. It is reduced to
/// a scalar by a fixed random projection, `loss = Σ f(x) ⊙ R`, with `R` a standard-normal
/// constant of f's output shape, so that every output element (and every row/column of a
/// Jacobian) contributes to the checked gradient with a generic, non-cancelling weight.
///
/// The engine computes in Float32, so the finite differences are tuned for it:
/// - the loss of each perturbed forward pass is accumulated in Double from the Float outputs;
/// - the step is `h = 1e-2` by default, and the quotient divides by the step actually taken
///   (`Float(x + h) − Float(x − h)`, in Double), not by the nominal `2h`;
/// - an element passes when `|analytic − numeric| ≤ atol · scale + rtol · |numeric|`, with
///   `rtol = 1e-2`, `atol = 1e-3` and `scale = max(1, max |numeric| over that input)`.
///
/// Why these numbers: Float32 rounding in a forward pass perturbs the loss by about
/// `ε · Σ|f·R| ≈ 1e-7 · 10`, which the quotient divides by `2h = 2e-2`: ~1e-4 at most for the
/// small tensors used here. The truncation error of the central difference is
/// `h²/6 · |f'''| ≈ 2e-5 · |f'''|`, below 1e-3 · scale for the smooth inputs used (|f'''| ≲ 20).
/// So a correct gradient stays an order of magnitude inside the tolerance, while a VJP that is
/// off by 10 % misses it by 9 % of the largest gradient (0.1·s > 0.001·s + 0.01·s), and a wrong
/// sign or a missing un-broadcasting sum misses it by far more. The harness's own tests
/// (`GradientCheckHarnessTests`) assert both directions.
struct GradientCheck {
    var step: Double = 1e-2
    var relativeTolerance: Double = 1e-2
    var absoluteTolerance: Double = 1e-3
    var projectionSeed: UInt64 = 0x0DDB_1A5E_5BAD_5EED

    struct Report: CustomStringConvertible {
        /// One line per element outside the tolerance (input, flat index, analytic, numeric).
        var mismatches: [String] = []
        /// Structural problems: a gradient of the wrong size, a non-finite value.
        var problems: [String] = []
        /// max over elements of |analytic − numeric| / tolerance; ≤ 1 means every element passed.
        var worstRatio: Double = 0
        var passed: Bool { mismatches.isEmpty && problems.isEmpty }

        var description: String {
            let lines = problems + mismatches.prefix(12)
            let more = mismatches.count > 12 ? "\n… and \(mismatches.count - 12) more" : ""
            return "worst |error|/tolerance = \(worstRatio)\n" + lines.joined(separator: "\n") + more
        }
    }

    /// Runs the check for `inputs` (their values are copied into fresh parameters).
    func run(_ inputs: [Tensor], _ function: ([Tensor]) -> Tensor) -> Report {
        var report = Report()

        // Analytic gradients through the tape.
        let parameters = inputs.map { Tensor(parameterShape: $0.shape, storage: $0.storage) }
        let output = function(parameters)
        var generator = RandomGenerator(seed: projectionSeed)
        let projection = Tensor.randomNormal(shape: output.shape, using: &generator)
        let loss = (output * projection).sum()
        if loss.requiresGradient {
            loss.backward()
        }
        let projectionValues = projection.storage.map(Double.init)

        func projectedLoss(_ values: [Tensor]) -> Double {
            let result = GradientMode.withoutRecording { function(values) }
            precondition(result.shape == output.shape, "the function's output shape changed under perturbation")
            var total = 0.0
            for (y, r) in zip(result.storage, projectionValues) { total += Double(y) * r }
            return total
        }

        for (inputIndex, parameter) in parameters.enumerated() {
            let analytic = parameter.gradient ?? [Float](repeating: 0, count: parameter.count)
            if analytic.count != parameter.count {
                report.problems.append("input \(inputIndex): gradient has \(analytic.count) elements, input has \(parameter.count)")
                continue
            }
            var numeric = [Double](repeating: 0, count: parameter.count)
            var constants = inputs.map { Tensor(shape: $0.shape, storage: $0.storage) }
            for element in 0..<parameter.count {
                let x = inputs[inputIndex].storage[element]
                let up = Float(Double(x) + step)
                let down = Float(Double(x) - step)
                var values = inputs[inputIndex].storage
                values[element] = up
                constants[inputIndex] = Tensor(shape: parameter.shape, storage: values)
                let lossUp = projectedLoss(constants)
                values[element] = down
                constants[inputIndex] = Tensor(shape: parameter.shape, storage: values)
                let lossDown = projectedLoss(constants)
                numeric[element] = (lossUp - lossDown) / (Double(up) - Double(down))
            }
            let scale = Swift.max(1, numeric.map(Swift.abs).max() ?? 0)
            for element in 0..<parameter.count {
                let a = Double(analytic[element])
                let n = numeric[element]
                guard a.isFinite, n.isFinite else {
                    report.problems.append("input \(inputIndex)[\(element)]: non-finite gradient (analytic \(a), numeric \(n))")
                    continue
                }
                let tolerance = absoluteTolerance * scale + relativeTolerance * Swift.abs(n)
                let ratio = Swift.abs(a - n) / tolerance
                report.worstRatio = Swift.max(report.worstRatio, ratio)
                if ratio > 1 {
                    report.mismatches.append("input \(inputIndex) \(parameter.shape) [\(element)]: analytic \(a), numeric \(n)")
                }
            }
        }
        return report
    }
}

/// Asserts that `function`'s tape gradients match finite differences at `inputs`.
func assertGradientsMatch(
    _ inputs: [Tensor],
    _ message: @autoclosure () -> String = "",
    check: GradientCheck = GradientCheck(),
    file: StaticString = #filePath, line: UInt = #line,
    _ function: ([Tensor]) -> Tensor
) {
    let report = check.run(inputs, function)
    if ProcessInfo.processInfo.environment["GRADIENT_CHECK_VERBOSE"] != nil {
        print("gradient check \(message()) at \(file):\(line): worst |error|/tolerance = \(report.worstRatio)")
    }
    XCTAssertTrue(report.passed, "gradient check failed \(message()):\n\(report)", file: file, line: line)
}

// MARK: - Test data

/// Reproducible inputs for the tests.
struct TestData {
    var generator: RandomGenerator

    init(seed: UInt64) { generator = RandomGenerator(seed: seed) }

    /// Uniform values on [low, high).
    mutating func uniform(_ shape: [Int], _ low: Float = -1, _ high: Float = 1) -> Tensor {
        Tensor.randomUniform(shape: shape, low: low, high: high, using: &generator)
    }

    /// Standard normal values.
    mutating func normal(_ shape: [Int]) -> Tensor {
        Tensor.randomNormal(shape: shape, using: &generator)
    }

    /// Values of random sign with magnitude in [minimum, maximum): away from the kink at 0.
    mutating func awayFromZero(_ shape: [Int], _ minimum: Float = 0.2, _ maximum: Float = 2) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let magnitude = minimum + (maximum - minimum) * Float(generator.nextUniform())
            values[i] = generator.next() & 1 == 0 ? magnitude : -magnitude
        }
        return Tensor(shape: shape, storage: values)
    }

    /// Pairwise distinct values, at least `spacing` apart, in random order (for max).
    mutating func distinct(_ shape: [Int], spacing: Float = 0.25) -> Tensor {
        let count = shape.reduce(1, *)
        let order = generator.permutation(count)
        let values = order.map { (Float($0) - Float(count) / 2) * spacing }
        return Tensor(shape: shape, storage: values)
    }
}

// MARK: - Naive references

/// Row-major strides of `shape`.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = running
        running *= shape[axis]
    }
    return strides
}

/// The multi-index of flat position `flat` in `shape`.
func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count)
    var rest = flat
    for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}

/// The element of `tensor` addressed by the output multi-index `index` under numpy
/// broadcasting (written independently of the engine's stride tricks).
func broadcastElement(_ tensor: Tensor, at index: [Int]) -> Float {
    let offset = index.count - tensor.rank
    var flat = 0
    let strides = rowMajorStrides(tensor.shape)
    for axis in 0..<tensor.rank {
        let i = tensor.shape[axis] == 1 ? 0 : index[axis + offset]
        flat += i * strides[axis]
    }
    return tensor.storage[flat]
}

/// C = op(A) · op(B) by the textbook triple loop, in Double.
func naiveMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> (shape: [Int], values: [Double]) {
    func elementA(_ i: Int, _ p: Int) -> Double {
        Double(transposeA ? a.storage[p * a.shape[1] + i] : a.storage[i * a.shape[1] + p])
    }
    func elementB(_ p: Int, _ j: Int) -> Double {
        Double(transposeB ? b.storage[j * b.shape[1] + p] : b.storage[p * b.shape[1] + j])
    }
    let m = transposeA ? a.shape[1] : a.shape[0]
    let k = transposeA ? a.shape[0] : a.shape[1]
    let n = transposeB ? b.shape[0] : b.shape[1]
    var values = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var total = 0.0
            for p in 0..<k { total += elementA(i, p) * elementB(p, j) }
            values[i * n + j] = total
        }
    }
    return ([m, n], values)
}

/// Asserts element-wise closeness `|actual − expected| ≤ atol + rtol·|expected|`.
func assertClose(
    _ actual: [Float], _ expected: [Double], rtol: Double = 1e-5, atol: Double = 1e-6,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "element count \(message())", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let ok = Swift.abs(Double(a) - e) <= atol + rtol * Swift.abs(e)
        if !ok {
            XCTFail("element \(i): \(a) vs expected \(e) \(message())", file: file, line: line)
            return
        }
    }
}

extension XCTestCase {
    /// Runs `body` with `threads` threads (``LinearAlgebra/setThreadCount(_:)``), restoring the
    /// previous count.
    func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        let previous = LinearAlgebra.threadCount
        LinearAlgebra.setThreadCount(threads)
        defer { LinearAlgebra.setThreadCount(previous) }
        return try body()
    }

    /// Runs `body` under every kernel this CPU can run (``ComputeKernels/select(_:)``) on each of
    /// `threadCounts` threads, restoring the kernels and the thread count.
    func forEachKernelAndThreadCount(_ threadCounts: [Int] = [1, 2], _ body: (ComputeKernels, Int) throws -> Void) rethrows {
        let previous = ComputeKernels.current
        defer { ComputeKernels.select(previous) }
        for kernels in ComputeKernels.allCases where kernels.isAvailable {
            ComputeKernels.select(kernels)
            for threads in threadCounts {
                try withThreads(threads) { try body(kernels, threads) }
            }
        }
    }
}
