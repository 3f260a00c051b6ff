import Core
import Foundation
import Tensor
import XCTest

/// The two implementations of the fused activations — the Swift loops (`portable`) and the
/// AVX2 + FMA kernels of `_TensorKernels` (`avx2`) — against the exact functions in Double and
/// against each other, densely over the range where the exponentials and log1p switch
/// branches, at the clamps, and at the special values, with every tail length of the 8-lane loop.
///
/// Tolerances. Both evaluate the same Cephes polynomials (relative error ≲ 2·10⁻⁷ for eˣ, about
/// one ulp for log1p) followed by a few correctly rounded operations, so each is within 10⁻⁶
/// relative of the exact value (about 8 ulp; the observed worst case is below 3). tanh near 0
/// is (1 − e)/(1 + e) with e ≈ 1: the difference cancels in both, which an absolute floor of
/// 2·10⁻⁷ (2 ulp of 1) covers, as in `FusedKernelTests`. Slopes get the same relative bound
/// and an absolute floor of 10⁻⁷ (slopes are at most 1.1, and σ(1 − σ) is good to an ulp of 1).
/// Below x = −87.34 the exponential is flushed to 0 (softplus keeps subnormals): there σ, its
/// slope and x σ(x) are below 1.1·10⁻³⁶, which is the absolute floor of every value.
final class ActivationKernelTests: XCTestCase {
    static func logistic(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }

    /// (f, f′) of each activation in Double.
    static func exact(_ activation: PointwiseActivation, _ x: Double) -> (Double, Double) {
        switch activation {
        case .relu: return x > 0 ? (x, 1) : (0, 0)
        case .sigmoid: return (logistic(x), logistic(x) * logistic(-x))
        case .silu: return (x * logistic(x), logistic(x) * (1 + x * logistic(-x)))
        case .tanh: return (Foundation.tanh(x), 1 - Foundation.tanh(x) * Foundation.tanh(x))
        case .softplus: return (Swift.max(x, 0) + log1p(exp(-Swift.abs(x))), logistic(x))
        }
    }

    /// A dense sweep of [−110, 110], the switch points of log1p and the clamps, and tiny values.
    static let inputs: [Float] = {
        var values = (-88_000...88_000).map { Float($0) / 800 }
        values += (-1100...1100).map { Float($0) / 10 }
        values += [-87.336_54, -87.336_55, -87.336_53, 88.376_26, -103.972_08, -103.972_1, -0.881_373_6, 0.881_373_6]
        // Subnormals: half the smallest normal, and the smallest of all.
        let halfNormal = Float.leastNormalMagnitude / 2, tiniest = Float.leastNonzeroMagnitude
        values += [1e-4, -1e-4, 1e-8, -1e-8, halfNormal, -halfNormal, tiniest, -tiniest, 0, -0]
        return values
    }()

    var kernelSets: [ComputeKernels] { ComputeKernels.allCases.filter(\.isAvailable) }

    static func within(_ actual: Float, _ exact: Double, relative: Double, absolute: Double) -> Bool {
        Swift.abs(Double(actual) - exact) <= absolute + relative * Swift.abs(exact)
    }

    func testKernels_matchTheExactFunctions() {
        for kernels in kernelSets {
            for activation in PointwiseActivation.allCases {
                let (values, slopes) = activation.valuesAndSlopes(Self.inputs, kernels: kernels)
                var failures = 0
                for (i, x) in Self.inputs.enumerated() {
                    let (value, slope) = Self.exact(activation, Double(x))
                    let valueFloor = activation == .tanh ? 2e-7 : 1.1e-36
                    let okValue = Self.within(values[i], value, relative: 1e-6, absolute: valueFloor)
                    let okSlope = Self.within(slopes[i], slope, relative: 1e-6, absolute: 1e-7)
                    if !(okValue && okSlope) {
                        failures += 1
                        if failures <= 3 {
                            XCTFail("\(kernels) \(activation)(\(x)) = (\(values[i]), \(slopes[i])), exact (\(value), \(slope))")
                        }
                    }
                }
            }
        }
    }

    func testKernels_agreeWithEachOther() throws {
        try XCTSkipUnless(ComputeKernels.avx2Available, "this CPU has no AVX2 + FMA")
        for activation in PointwiseActivation.allCases {
            let vector = activation.valuesAndSlopes(Self.inputs, kernels: .avx2)
            let swift = activation.valuesAndSlopes(Self.inputs, kernels: .portable)
            for (i, x) in Self.inputs.enumerated() {
                let floor: Double = activation == .tanh ? 2e-7 : 1.1e-36
                XCTAssertTrue(Self.within(vector.values[i], Double(swift.values[i]), relative: 1e-6, absolute: floor),
                              "\(activation)(\(x)): \(vector.values[i]) vs \(swift.values[i])")
                XCTAssertTrue(Self.within(vector.slopes[i], Double(swift.slopes[i]), relative: 1e-6, absolute: 1e-7),
                              "\(activation)′(\(x)): \(vector.slopes[i]) vs \(swift.slopes[i])")
                if activation == .relu {
                    XCTAssertEqual(vector.values[i], swift.values[i], "relu is exact")
                }
            }
        }
    }

    /// NaN stays NaN (so non-finite losses are caught) wherever the Swift kernel keeps it; ±∞
    /// give the limits; both implementations agree on every special value.
    func testKernels_specialValues() {
        let specials: [Float] = [.nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                 .leastNonzeroMagnitude, -.leastNonzeroMagnitude]
        let expected: [PointwiseActivation: [Float]] = [
            .relu: [0, .infinity, 0, .greatestFiniteMagnitude, 0, .leastNonzeroMagnitude, 0],
            .sigmoid: [.nan, 1, 0, 1, 0, 0.5, 0.5],
            .tanh: [.nan, 1, -1, 1, -1, 0, 0],  // tanh(±2⁻¹⁴⁹) is within the 2·10⁻⁷ floor of 0
            .softplus: [.nan, .infinity, 0, .greatestFiniteMagnitude, 0, 0.693_147_2, 0.693_147_2],
        ]
        for kernels in kernelSets {
            for activation in PointwiseActivation.allCases {
                let (values, _) = activation.valuesAndSlopes(specials, kernels: kernels)
                XCTAssertTrue(values[0].isNaN || activation == .relu, "\(kernels) \(activation)(NaN) = \(values[0])")
                guard let wanted = expected[activation] else { continue }
                for (i, (value, target)) in zip(values, wanted).enumerated() {
                    if target.isNaN { XCTAssertTrue(value.isNaN, "\(kernels) \(activation)(\(specials[i])) = \(value)"); continue }
                    let floor = activation == .tanh ? 2e-7 : 0
                    XCTAssertTrue(value == target || Self.within(value, Double(target), relative: 1e-6, absolute: floor),
                                  "\(kernels) \(activation)(\(specials[i])) = \(value), expected \(target)")
                }
            }
        }
        // silu: x σ(x) → +∞ at +∞, 0 for very negative finite x.
        for kernels in kernelSets {
            let (values, _) = PointwiseActivation.silu.valuesAndSlopes([.infinity, -1e30, .nan], kernels: kernels)
            XCTAssertEqual(values[0], .infinity, "\(kernels)")
            XCTAssertEqual(values[1], 0, "\(kernels)")
            XCTAssertTrue(values[2].isNaN, "\(kernels)")
        }
    }

    /// Every length from 0 to 40 (all tails of the 8-lane loop), through `Tensor`, in place
    /// (fused affine) and out of place, with and without slopes: the same values.
    func testKernels_everyTailLengthAndBothCallPaths() {
        var generator = RandomGenerator(seed: 77)
        for count in 0...40 {
            let x = (0..<count).map { _ in Float(-6 + 12 * generator.nextUniform()) }
            for activation in PointwiseActivation.allCases {
                let (values, slopes) = activation.valuesAndSlopes(x, kernels: .current)
                let constant = Tensor(shape: [count], storage: x)
                let recorded = Tensor(parameterShape: [count], storage: x)
                let throughTensor: (Tensor) -> Tensor
                switch activation {
                case .relu: throughTensor = { $0.relu() }
                case .sigmoid: throughTensor = { $0.sigmoid() }
                case .silu: throughTensor = { $0.silu() }
                case .tanh: throughTensor = { $0.tanh() }
                case .softplus: throughTensor = { $0.softplus() }
                }
                XCTAssertEqual(throughTensor(constant).storage, values, "\(activation), \(count), no slopes")
                let y = throughTensor(recorded)
                XCTAssertEqual(y.storage, values, "\(activation), \(count), with slopes")
                if count > 0 {
                    y.backward()
                    XCTAssertEqual(recorded.gradient, slopes, "\(activation), \(count), slopes")
                }
            }
        }
    }
}
