import Tensor
import XCTest

/// Promise (docs/guarantees.md, 11): a NaN or an infinity that an update writes into a weight or
/// a moment is reported by the update itself, on every kernel, wherever it falls (in the groups
/// of eight, in the tail), and nothing is reported when every value written is finite.
final class AdamNonFiniteTests: XCTestCase {
    private func update(count: Int, kernels: ComputeKernels, gradient: [Float], m: [Float], v: [Float], w: [Float],
                        stepSize: Float = 1e-3) -> (flag: Bool, m: [Float], v: [Float], w: [Float]) {
        var m = m, v = v, w = w, flag = true
        _ = gradient.withUnsafeBufferPointer { g in
            m.withUnsafeMutableBufferPointer { mp in
                v.withUnsafeMutableBufferPointer { vp in
                    w.withUnsafeMutableBufferPointer { wp in
                        AdamUpdate.apply(count: count, gradient: g.baseAddress!, firstMoment: mp.baseAddress!, secondMoment: vp.baseAddress!,
                                         weights: wp.baseAddress!, scale: 1, beta1: 0.9, beta2: 0.999, stepSize: stepSize,
                                         rootCorrection2: 0.0447, epsilon: 1e-8, sumOfSquares: true, kernels: kernels, nonFinite: &flag)
                    }
                }
            }
        }
        return (flag, m, v, w)
    }

    func testUpdate_reportsWhatItWroteOnEveryKernel() {
        let kernels = ComputeKernels.allCases.filter(\.isAvailable)
        XCTAssertTrue(kernels.contains(.portable) && kernels.contains(.reference))
        for kernel in kernels {
            for count in [1, 7, 8, 9, 16, 37] {
                let gradient = (0..<count).map { Float($0 % 5) - 2.5 }
                let m = (0..<count).map { Float($0) * 0.01 }, v = (0..<count).map { Float($0) * 0.02 }
                let w = (0..<count).map { Float($0) - 3 }
                let finite = update(count: count, kernels: kernel, gradient: gradient, m: m, v: v, w: w)
                XCTAssertFalse(finite.flag, "\(kernel), \(count) values, all finite")
                for position in Set([0, count / 2, count - 1]) {
                    // A NaN gradient makes m, v and w NaN there; a huge weight minus a huge step
                    // overflows w alone; an infinite second moment makes v infinite (and w stays).
                    var nanGradient = gradient
                    nanGradient[position] = .nan
                    var hugeWeight = w
                    hugeWeight[position] = -Float.greatestFiniteMagnitude
                    var infiniteMoment = v
                    infiniteMoment[position] = .infinity
                    let cases: [(String, (flag: Bool, m: [Float], v: [Float], w: [Float]))] = [
                        ("NaN gradient", update(count: count, kernels: kernel, gradient: nanGradient, m: m, v: v, w: w)),
                        ("overflowing weight", update(count: count, kernels: kernel, gradient: gradient.map { _ in 1 }, m: m, v: v, w: hugeWeight,
                                                      stepSize: Float.greatestFiniteMagnitude)),
                        ("infinite second moment", update(count: count, kernels: kernel, gradient: gradient, m: m, v: infiniteMoment, w: w)),
                    ]
                    for (name, result) in cases {
                        let wrote = !(result.m + result.v + result.w).allSatisfy(\.isFinite)
                        XCTAssertTrue(wrote, "\(kernel), \(count) values, \(name) at \(position): the case must write a non-finite value")
                        XCTAssertEqual(result.flag, wrote, "\(kernel), \(count) values, \(name) at \(position)")
                    }
                }
            }
        }
    }
}
