import Core
import Foundation
import Tensor
import XCTest

/// The fused kernels (`Tensor+Activations.swift`, `Tensor+Affine.swift`) against their
/// definitions: each fused activation must reproduce its `CompositeActivations` form in value
/// and gradient, and `Tensor.affine` must reproduce `x.matmul(w, transposeOther: true) + b`.
///
/// Tolerances. `softplus` and `relu` evaluate the very same Float operations as their
/// composites and must agree to rounding. `sigmoid`, `silu` and `tanh` go through
/// `fastExponential` (relative error ≲ 2·10⁻⁷ against libm's `expf`), so their values agree
/// to a few ulps; `tanh = 2σ(2x) − 1` loses relative accuracy near 0 to cancellation (in both
/// forms), hence an absolute floor. Gradients are compared with a relative tolerance of 10⁻⁵
/// and an absolute floor of 10⁻⁷ per unit of output gradient — about one ulp of the largest
/// slopes (σ′ ≤ ¼, tanh′ ≤ 1, silu′ ≤ 1.1). The composite chain rule keeps e^{−|x|} to full
/// relative precision; a fused slope written as σ(1 − σ) cancels for large |x| and is only
/// good to a few ulps of 1 in absolute terms, which this floor tolerates for σ (error
/// ≤ 3·10⁻⁸) but would not for 1 − tanh² (error up to 2.5·10⁻⁷, 100 % relative for |x| ≳ 8),
/// which is why the fused tanh slope is 4e/(1 + e)².
final class FusedKernelTests: XCTestCase {
    struct Activation {
        let name: String
        let fused: (Tensor) -> Tensor
        let composite: (Tensor) -> Tensor
        /// The exact function and derivative, in Double.
        let exact: (Double) -> Double
        let exactSlope: (Double) -> Double
        let valueRelative: Double
        let valueAbsolute: Double
        /// Smooth everywhere (relu is excluded from checks that straddle its kink).
        let smooth: Bool
    }

    static func logistic(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }

    static let activations: [Activation] = [
        Activation(name: "relu", fused: { $0.relu() }, composite: CompositeActivations.relu,
                   exact: { Swift.max($0, 0) }, exactSlope: { $0 > 0 ? 1 : 0 },
                   valueRelative: 0, valueAbsolute: 0, smooth: false),
        Activation(name: "softplus", fused: { $0.softplus() }, composite: CompositeActivations.softplus,
                   exact: { Swift.max($0, 0) + log1p(exp(-Swift.abs($0))) }, exactSlope: { logistic($0) },
                   valueRelative: 1e-6, valueAbsolute: 1e-30, smooth: true),
        Activation(name: "sigmoid", fused: { $0.sigmoid() }, composite: CompositeActivations.sigmoid,
                   exact: { logistic($0) }, exactSlope: { logistic($0) * logistic(-$0) },
                   valueRelative: 1e-6, valueAbsolute: 1e-30, smooth: true),
        Activation(name: "silu", fused: { $0.silu() }, composite: CompositeActivations.silu,
                   exact: { $0 * logistic($0) }, exactSlope: { logistic($0) * (1 + $0 * logistic(-$0)) },
                   valueRelative: 1e-6, valueAbsolute: 1e-30, smooth: true),
        Activation(name: "tanh", fused: { $0.tanh() }, composite: CompositeActivations.tanh,
                   exact: { Foundation.tanh($0) }, exactSlope: { 1 - Foundation.tanh($0) * Foundation.tanh($0) },
                   valueRelative: 1e-6, valueAbsolute: 2e-7, smooth: true),
    ]

    /// A grid over [−30, 30] (step 1/8, so it contains 0 and the integers), random points in
    /// between, ±100, and small magnitudes around 0.
    static func inputs(seed: UInt64 = 7) -> [Float] {
        var values = (-240...240).map { Float($0) / 8 }
        var generator = RandomGenerator(seed: seed)
        values += (0..<400).map { _ in Float(-30 + 60 * generator.nextUniform()) }
        values += [100, -100, 1e-4, -1e-4, 1e-8, -1e-8, 0.5e-38, -0.5e-38]
        return values
    }

    static func close(_ a: Double, _ b: Double, relative: Double, absolute: Double) -> Bool {
        Swift.abs(a - b) <= absolute + relative * Swift.abs(b)
    }

    // MARK: - Values

    func testFusedActivations_valuesEqualCompositeDefinitions() {
        let x = Tensor(shape: [Self.inputs().count], storage: Self.inputs())
        for activation in Self.activations {
            let fused = activation.fused(x).storage
            let composite = activation.composite(x).storage
            XCTAssertEqual(fused.count, composite.count)
            var failures = 0
            for i in 0..<x.count where !Self.close(Double(fused[i]), Double(composite[i]),
                                                   relative: activation.valueRelative, absolute: activation.valueAbsolute) {
                // Below −87 the fused kernels clamp e^{−|x|} at ~2⁻¹²⁶ where expf underflows;
                // both are then negligible (< 10⁻³⁷) against every other term.
                if x.storage[i] < -87, Swift.abs(fused[i]) < 1e-35, Swift.abs(composite[i]) < 1e-35 { continue }
                failures += 1
                if failures <= 5 {
                    XCTFail("\(activation.name)(\(x.storage[i])): fused \(fused[i]) vs composite \(composite[i])")
                }
            }
        }
    }

    func testFusedActivations_valuesMatchDoubleReference() {
        let values = Self.inputs()
        let x = Tensor(shape: [values.count], storage: values)
        for activation in Self.activations {
            let y = activation.fused(x).storage
            for i in 0..<values.count {
                let v = Double(values[i])
                let exact = activation.exact(v)
                if Swift.abs(exact) < 1e-30 {
                    XCTAssertLessThan(Swift.abs(Double(y[i])), 1e-30, "\(activation.name)(\(v))")
                    continue
                }
                // A few ulps (the input itself is exact; 2·10⁻⁷ from fastExponential, plus roundings).
                let relative = activation.name == "relu" ? 0 : 1e-6
                let absolute = activation.name == "tanh" ? 2e-7 : 0
                XCTAssertTrue(Self.close(Double(y[i]), exact, relative: relative, absolute: absolute),
                              "\(activation.name)(\(v)) = \(y[i]), exact \(exact)")
            }
        }
    }

    func testFusedActivations_finiteAndBoundedEverywhere() {
        var values = Self.inputs()
        values += [1e4, -1e4, 1e6, -1e6, 1e30, -1e30]
        let x = Tensor(parameterShape: [values.count], storage: values)
        for activation in Self.activations {
            let y = activation.fused(x)
            for (v, f) in zip(values, y.storage) {
                XCTAssertTrue(f.isFinite, "\(activation.name)(\(v)) = \(f)")
                // Bounds that hold exactly: σ ∈ [0, 1], tanh ∈ [−1, 1], relu, softplus ≥ 0.
                switch activation.name {
                case "sigmoid": XCTAssertTrue(f >= 0 && f <= 1, "sigmoid(\(v)) = \(f)")
                case "tanh": XCTAssertTrue(f >= -1 && f <= 1, "tanh(\(v)) = \(f)")
                case "relu", "softplus": XCTAssertGreaterThanOrEqual(f, 0, "\(activation.name)(\(v))")
                default: break
                }
            }
            y.backward(seed: [Float](repeating: 1, count: values.count))
            for (v, g) in zip(values, x.gradient ?? []) {
                XCTAssertTrue(g.isFinite, "\(activation.name)′(\(v)) = \(g)")
            }
            x.zeroGradient()
        }
    }

    /// SiLU is bounded below by its minimum −0.2785 (at x ≈ −1.278) and tends to 0⁻ as x → −∞.
    /// The fused kernel multiplies x by σ(x), and σ comes from `fastExponential`, which clamps
    /// its argument at −87.34 and so returns ≈ 1.18·10⁻³⁸ instead of 0 for every x < −87.34:
    /// silu(x) ≈ −1.18·10⁻³⁸ · |x| then grows without bound (silu(−3.4·10³⁸) ≈ −4).
    func testSilu_staysAboveItsMinimumForHugeNegativeInputs() {
        let values: [Float] = [-100, -1e6, -1e20, -1e30, -1e36, -Float.greatestFiniteMagnitude]
        let y = Tensor(shape: [values.count], storage: values).silu().storage
        for (v, f) in zip(values, y) {
            XCTAssertLessThanOrEqual(f, 0, "silu(\(v))")
            XCTAssertGreaterThanOrEqual(f, -1e-30, "silu(\(v)) = \(f): the exact value is −|x| e^{−|x|} ≈ −0")
        }
    }

    func testFusedActivations_specialValues() {
        let x = Tensor(shape: [5], storage: [0, 100, -100, 30, -30])
        XCTAssertEqual(x.relu().storage, [0, 100, 0, 30, 0])
        XCTAssertEqual(x.sigmoid().storage[0], 0.5)
        XCTAssertEqual(x.sigmoid().storage[1], 1)
        XCTAssertEqual(x.tanh().storage[0], 0)
        XCTAssertEqual(x.tanh().storage[1], 1)
        XCTAssertEqual(x.tanh().storage[2], -1)
        XCTAssertEqual(x.silu().storage[0], 0)
        XCTAssertEqual(x.silu().storage[1], 100)
        XCTAssertEqual(x.softplus().storage[0], Float(log(2.0)))
        XCTAssertEqual(x.softplus().storage[1], 100)
        XCTAssertEqual(x.softplus().storage[3], 30)
    }

    // MARK: - Gradients

    /// `backward()` through the fused op and through the composite, with the same random
    /// output seed on the same inputs, gives the same input gradient.
    func testFusedActivations_gradientsEqualCompositeGradients() {
        let values = Self.inputs()
        var generator = RandomGenerator(seed: 11)
        let seed = Tensor.randomNormal(shape: [values.count], using: &generator).storage
        for activation in Self.activations {
            let a = Tensor(parameterShape: [values.count], storage: values)
            let b = Tensor(parameterShape: [values.count], storage: values)
            activation.fused(a).backward(seed: seed)
            activation.composite(b).backward(seed: seed)
            guard let fused = a.gradient, let composite = b.gradient else {
                XCTFail("\(activation.name): no gradient"); continue
            }
            var failures = 0
            for i in 0..<values.count {
                if !Self.close(Double(fused[i]), Double(composite[i]), relative: 1e-5, absolute: 1e-7 * Double(Swift.abs(seed[i]))) {
                    failures += 1
                    if failures <= 5 {
                        XCTFail("\(activation.name)′(\(values[i])) × \(seed[i]): fused \(fused[i]) vs composite \(composite[i])")
                    }
                }
            }
        }
    }

    /// The fused slopes against the exact derivative in Double (unit seed).
    func testFusedActivations_gradientsMatchExactDerivatives() {
        let values = Self.inputs()
        for activation in Self.activations {
            let x = Tensor(parameterShape: [values.count], storage: values)
            activation.fused(x).backward()
            let gradient = x.gradient ?? []
            XCTAssertEqual(gradient.count, values.count)
            for (v, g) in zip(values, gradient) {
                let exact = activation.exactSlope(Double(v))
                XCTAssertTrue(Self.close(Double(g), exact, relative: 1e-5, absolute: 1e-7),
                              "\(activation.name)′(\(v)) = \(g), exact \(exact)")
            }
        }
    }

    /// softplus′(0) = σ(0) = ½. A composite `relu(x) + log1p(e^{−|x|})` whose relu takes the
    /// subgradient 0 at 0 (mask x > 0) while |x| takes +1 (mask x ≥ 0) gives 0 + ½·(−1) = −½.
    func testCompositeSoftplus_gradientAtZeroIsOneHalf() {
        let x = Tensor(parameterShape: [1], storage: [0])
        CompositeActivations.softplus(x).backward()
        XCTAssertEqual(x.gradient?[0] ?? .nan, 0.5, accuracy: 1e-7)
        let y = Tensor(parameterShape: [1], storage: [0])
        y.softplus().backward()
        XCTAssertEqual(y.gradient?[0] ?? .nan, 0.5, accuracy: 1e-7)
    }

    func testFusedActivations_gradientsMatchFiniteDifferences() {
        var data = TestData(seed: 300)
        let tails: [Float] = [-100, -30, -12, -6.5, -3, 3.5, 7, 11, 30, 100]
        let middle = data.awayFromZero([20], 0.05, 4).storage
        for activation in Self.activations {
            var values = tails + middle
            if activation.smooth { values.append(0) }
            let x = Tensor(shape: [values.count], storage: values)
            assertGradientsMatch([x], activation.name) { activation.fused($0[0]) }
            let matrix = data.awayFromZero([3, 5], 0.05, 5)
            assertGradientsMatch([matrix], "\(activation.name) [3, 5]") { activation.fused($0[0]) }
        }
    }

    func testFusedActivations_gradientsFlowThroughChains() {
        // Fused ops inside a larger graph: inputs reused, gradients accumulated.
        var data = TestData(seed: 301)
        let x = data.awayFromZero([2, 4], 0.1, 3)
        assertGradientsMatch([x], "chain") { inputs in
            let v = inputs[0]
            return v.silu() * v.tanh() + v.sigmoid().softplus() + (v * 2).relu() - v.tanh().tanh()
        }
    }

    func testFusedActivations_noRecordingGivesConstants() {
        let x = Tensor(parameterShape: [4], storage: [-2, -0.5, 0.5, 2])
        for activation in Self.activations {
            let recorded = activation.fused(x)
            XCTAssertTrue(recorded.requiresGradient, activation.name)
            let unrecorded = GradientMode.withoutRecording { activation.fused(x) }
            XCTAssertFalse(unrecorded.requiresGradient, activation.name)
            XCTAssertEqual(unrecorded.storage, recorded.storage, activation.name)
            let constant = activation.fused(Tensor(shape: [4], storage: x.storage))
            XCTAssertFalse(constant.requiresGradient, activation.name)
            XCTAssertEqual(constant.storage, recorded.storage, activation.name)
            XCTAssertEqual(recorded.shape, [4])
        }
    }

    func testFusedActivations_keepShape() {
        var data = TestData(seed: 302)
        let x = data.uniform([2, 3, 4], -3, 3)
        for activation in Self.activations {
            XCTAssertEqual(activation.fused(x).shape, [2, 3, 4], activation.name)
        }
        let scalar = Tensor(0.5)
        for activation in Self.activations {
            XCTAssertEqual(activation.fused(scalar).shape, [], activation.name)
        }
    }

    // MARK: - Affine

    static func compositeAffine(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
        x.matmul(w, transposeOther: true) + b
    }

    func testAffine_valueEqualsMatmulPlusBias() {
        var data = TestData(seed: 310)
        for (n, input, output) in [(1, 1, 1), (5, 7, 4), (16, 3, 9), (3, 32, 32)] {
            let x = data.normal([n, input]), w = data.normal([output, input]), b = data.normal([output])
            let fused = Tensor.affine(x, weight: w, bias: b)
            XCTAssertEqual(fused.shape, [n, output])
            let composite = Self.compositeAffine(x, w, b)
            let naive = naiveMatmul(x, w, transposeA: false, transposeB: true).values
            let reference = naive.enumerated().map { $0.element + Double(b.storage[$0.offset % output]) }
            assertClose(fused.storage, composite.storage.map(Double.init), rtol: 1e-6, atol: 1e-6, "n \(n) in \(input) out \(output)")
            assertClose(fused.storage, reference, rtol: 1e-5, atol: 1e-5, "n \(n) in \(input) out \(output)")
        }
    }

    func testAffine_gradientsEqualCompositeGradients() {
        var data = TestData(seed: 311)
        let x0 = data.normal([6, 5]), w0 = data.normal([3, 5]), b0 = data.normal([3]), seed = data.normal([6, 3])
        func gradients(_ op: (Tensor, Tensor, Tensor) -> Tensor) -> [[Float]] {
            let x = Tensor(parameterShape: x0.shape, storage: x0.storage)
            let w = Tensor(parameterShape: w0.shape, storage: w0.storage)
            let b = Tensor(parameterShape: b0.shape, storage: b0.storage)
            op(x, w, b).backward(seed: seed.storage)
            return [x.gradient ?? [], w.gradient ?? [], b.gradient ?? []]
        }
        let fused = gradients { Tensor.affine($0, weight: $1, bias: $2) }
        let composite = gradients(Self.compositeAffine)
        for (name, (f, c)) in zip(["x", "weight", "bias"], zip(fused, composite)) {
            XCTAssertEqual(f.count, c.count, name)
            assertClose(f, c.map(Double.init), rtol: 1e-5, atol: 1e-5, name)
        }
        // Closed forms: dx = dy W, dW = dyᵀ x, db = Σ_rows dy.
        let dx = naiveMatmul(seed, w0, transposeA: false, transposeB: false).values
        let dw = naiveMatmul(seed, x0, transposeA: true, transposeB: false).values
        let db = (0..<3).map { j in (0..<6).reduce(0.0) { $0 + Double(seed.storage[$1 * 3 + j]) } }
        assertClose(fused[0], dx, rtol: 1e-5, atol: 1e-5, "dx")
        assertClose(fused[1], dw, rtol: 1e-5, atol: 1e-5, "dW")
        assertClose(fused[2], db, rtol: 1e-5, atol: 1e-5, "db")
    }

    func testAffine_gradientsMatchFiniteDifferences() {
        var data = TestData(seed: 312)
        assertGradientsMatch([data.uniform([4, 3]), data.uniform([5, 3]), data.uniform([5])], "affine") {
            Tensor.affine($0[0], weight: $0[1], bias: $0[2])
        }
        // Inside a chain with a fused activation, as in an MLP.
        assertGradientsMatch([data.uniform([3, 2]), data.uniform([4, 2]), data.uniform([4]), data.uniform([2, 4]), data.uniform([2])],
                             "two layers") {
            Tensor.affine(Tensor.affine($0[0], weight: $0[1], bias: $0[2]).tanh(), weight: $0[3], bias: $0[4])
        }
    }

    func testAffine_gradientsOfSomeInputsOnly() {
        var data = TestData(seed: 313)
        let x0 = data.normal([3, 4]), w0 = data.normal([2, 4]), b0 = data.normal([2]), seed = data.normal([3, 2])
        // Only the weight; only x; only the bias.
        for trainable in 0..<3 {
            let x = trainable == 0 ? Tensor(parameterShape: x0.shape, storage: x0.storage) : x0
            let w = trainable == 1 ? Tensor(parameterShape: w0.shape, storage: w0.storage) : w0
            let b = trainable == 2 ? Tensor(parameterShape: b0.shape, storage: b0.storage) : b0
            let y = Tensor.affine(x, weight: w, bias: b)
            XCTAssertTrue(y.requiresGradient)
            y.backward(seed: seed.storage)
            let xr = Tensor(parameterShape: x0.shape, storage: x0.storage)
            let wr = Tensor(parameterShape: w0.shape, storage: w0.storage)
            let br = Tensor(parameterShape: b0.shape, storage: b0.storage)
            Self.compositeAffine(xr, wr, br).backward(seed: seed.storage)
            let (got, expected) = [(x, xr), (w, wr), (b, br)][trainable]
            assertClose(got.gradient ?? [], (expected.gradient ?? []).map(Double.init), rtol: 1e-5, atol: 1e-6, "input \(trainable)")
        }
        let constant = Tensor.affine(x0, weight: w0, bias: b0)
        XCTAssertFalse(constant.requiresGradient)
        let w = Tensor(parameterShape: w0.shape, storage: w0.storage)
        XCTAssertFalse(GradientMode.withoutRecording { Tensor.affine(x0, weight: w, bias: b0) }.requiresGradient)
    }

    /// The same weight (and bias) in two affine ops, and the same x in both: every gradient is
    /// the sum of the two uses, whichever order the tape replays them in.
    func testAffine_accumulatesWhenTheSameWeightIsUsedTwice() {
        var data = TestData(seed: 314)
        let x1v = data.normal([4, 3]), x2v = data.normal([2, 3]), w0 = data.normal([5, 3]), b0 = data.normal([5])
        let r1 = data.normal([4, 5]), r2 = data.normal([2, 5]), r3 = data.normal([4, 5])
        func run(_ op: (Tensor, Tensor, Tensor) -> Tensor) -> [[Float]] {
            let x1 = Tensor(parameterShape: x1v.shape, storage: x1v.storage)
            let x2 = Tensor(parameterShape: x2v.shape, storage: x2v.storage)
            let w = Tensor(parameterShape: w0.shape, storage: w0.storage)
            let b = Tensor(parameterShape: b0.shape, storage: b0.storage)
            let loss = (op(x1, w, b) * r1).sum() + (op(x2, w, b) * r2).sum() + (op(x1, w, b) * r3).sum()
            loss.backward()
            return [x1.gradient ?? [], x2.gradient ?? [], w.gradient ?? [], b.gradient ?? []]
        }
        let fused = run { Tensor.affine($0, weight: $1, bias: $2) }
        let composite = run(Self.compositeAffine)
        for (name, (f, c)) in zip(["x1", "x2", "weight", "bias"], zip(fused, composite)) {
            XCTAssertEqual(f.count, c.count, name)
            assertClose(f, c.map(Double.init), rtol: 1e-5, atol: 1e-5, name)
        }
        // dW = (r1 + r3)ᵀ x1 + r2ᵀ x2, computed independently.
        let r13 = Tensor(shape: [4, 5], storage: zip(r1.storage, r3.storage).map { $0 + $1 })
        let a = naiveMatmul(r13, x1v, transposeA: true, transposeB: false).values
        let c = naiveMatmul(r2, x2v, transposeA: true, transposeB: false).values
        assertClose(fused[2], zip(a, c).map { $0 + $1 }, rtol: 1e-5, atol: 1e-5, "dW closed form")
    }

    /// A second backward() adds to the gradients left by the first (the optimizer clears them).
    func testAffine_secondBackwardAccumulatesIntoParameterGradients() {
        var data = TestData(seed: 315)
        let x = data.normal([3, 2])
        let w = Tensor(parameterShape: [4, 2], storage: data.normal([4, 2]).storage)
        let b = Tensor(parameterShape: [4], storage: data.normal([4]).storage)
        let seed = data.normal([3, 4]).storage
        Tensor.affine(x, weight: w, bias: b).backward(seed: seed)
        let first = (w.gradient ?? [], b.gradient ?? [])
        Tensor.affine(x, weight: w, bias: b).backward(seed: seed)
        assertClose(w.gradient ?? [], first.0.map { 2 * Double($0) }, rtol: 1e-6, atol: 1e-7, "weight")
        assertClose(b.gradient ?? [], first.1.map { 2 * Double($0) }, rtol: 1e-6, atol: 1e-7, "bias")
    }
}
