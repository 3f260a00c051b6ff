import Core
import Foundation
import Tensor
import XCTest

/// `fastExponential` (Cephes-style expf: Cody–Waite reduction, degree-5 polynomial, exponent
/// bits) is internal to `Tensor`, and release test builds have no `@testable`, so it is tested
/// through the public kernel that exposes it most directly: σ(x) = 1/(1 + e) for x ≥ 0 and
/// e/(1 + e) for x < 0, with e = fastExponential(−|x|). For x < 0 the relative error of σ is
/// that of e plus two roundings; for x ≥ 0 it is damped by e/(1 + e). A relative error of
/// 10⁻⁶ on σ therefore bounds fastExponential's own to about 10⁻⁶ over [−87, 0].
final class FastExponentialTests: XCTestCase {
    static func reference(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    static func sigmoid(_ values: [Float]) -> [Float] {
        Tensor(shape: [values.count], storage: values).sigmoid().storage
    }

    /// Checks σ against the Double reference: relative 10⁻⁶ where σ ≥ 10⁻³⁰; below that (x
    /// under −69, approaching the clamp at −87.34 and Float's normal range) relative 10⁻⁵.
    /// Returns the worst relative error seen where σ ≥ 10⁻³⁰.
    @discardableResult
    func check(_ values: [Float], file: StaticString = #filePath, line: UInt = #line) -> Double {
        let y = Self.sigmoid(values)
        var worst = 0.0
        var failures = 0
        for (x, s) in zip(values, y) {
            let exact = Self.reference(Double(x))
            let relative = Swift.abs(Double(s) - exact) / exact
            let tolerance = exact >= 1e-30 ? 1e-6 : 1e-5
            if exact >= 1e-30 { worst = Swift.max(worst, relative) }
            if !(relative <= tolerance) {
                failures += 1
                if failures <= 5 { XCTFail("σ(\(x)) = \(s), reference \(exact), relative error \(relative)", file: file, line: line) }
            }
        }
        return worst
    }

    func testSigmoid_denseGridMatchesDoubleReference() {
        // Step 2⁻¹⁰ over [−87, 87]: 178 177 points, every range-reduction interval (width ln 2)
        // sampled ~700 times, including both of its ends.
        let values = (-(87 * 1024)...(87 * 1024)).map { Float($0) / 1024 }
        let worst = check(values)
        XCTAssertGreaterThan(worst, 0, "the kernel is not bit-identical to Double; the check must see errors")
    }

    func testSigmoid_randomInputsMatchDoubleReference() {
        var generator = RandomGenerator(seed: 0xE4F)
        // Uniform on [−87, 87], plus log-uniform magnitudes in [1e-6, 87] (small arguments,
        // where r ≈ x and n = 0).
        var values = (0..<50_000).map { _ in Float(-87 + 174 * generator.nextUniform()) }
        values += (0..<20_000).map { _ in
            let magnitude = Float(exp(log(1e-6) + (log(87.0) - log(1e-6)) * generator.nextUniform()))
            return generator.next() & 1 == 0 ? magnitude : -magnitude
        }
        check(values)
    }

    func testSigmoid_nearRangeReductionBoundaries() {
        // x = (k + ½) ln 2 is where n = round(x / ln 2) switches: the reduced argument r jumps
        // from +ln2/2 to −ln2/2. Probe the Floats right around each such point.
        var values: [Float] = []
        for k in -126...125 {
            let boundary = Float((Double(k) + 0.5) * log(2.0))
            guard boundary > -87, boundary < 87 else { continue }
            var v = boundary
            for _ in 0..<4 { v = v.nextDown }
            for _ in 0..<9 { values.append(v); v = v.nextUp }
        }
        check(values)
    }

    func testSigmoid_isExactlyOneAndTinyAtTheExtremes() {
        let large: [Float] = [17, 20, 30, 50, 87, 88, 88.5, 89, 100, 1e4, 1e30, .greatestFiniteMagnitude, .infinity]
        for (x, s) in zip(large, Self.sigmoid(large)) {
            XCTAssertEqual(s, 1, "σ(\(x))")
        }
        // Below the clamp at −87.34 the result is ~2⁻¹²⁶ instead of e^x (a denormal or 0):
        // finite, non-negative, within one smallest normal of the truth.
        let small: [Float] = [-87.5, -88, -88.5, -89, -100, -1e4, -1e30, -.greatestFiniteMagnitude, -.infinity]
        for (x, s) in zip(small, Self.sigmoid(small)) {
            XCTAssertTrue(s.isFinite, "σ(\(x)) = \(s)")
            XCTAssertGreaterThanOrEqual(s, 0, "σ(\(x))")
            XCTAssertEqual(Double(s), Self.reference(Double(x)), accuracy: Double(Float.leastNormalMagnitude) * 1.01, "σ(\(x))")
        }
        XCTAssertEqual(Self.sigmoid([0])[0], 0.5)
    }

    func testSigmoid_isMonotoneAndSymmetric() {
        let values = (-(40 * 256)...(40 * 256)).map { Float($0) / 256 }
        let y = Self.sigmoid(values)
        for i in 1..<y.count {
            XCTAssertGreaterThanOrEqual(y[i], y[i - 1], "σ decreases between \(values[i - 1]) and \(values[i])")
        }
        // σ(x) + σ(−x) = 1 up to the rounding of 1/(1 + e) (the two share e exactly).
        let negative = Self.sigmoid(values.map { -$0 })
        for i in 0..<values.count {
            XCTAssertEqual(Double(y[i]) + Double(negative[i]), 1, accuracy: 1.2e-7, "x = \(values[i])")
        }
    }

    func testTanhAndSilu_inheritTheExponentialsAccuracy() {
        // tanh = 2σ(2x) − 1 and silu = x σ(x), both on the same kernel.
        let values = (-(20 * 64)...(20 * 64)).map { Float($0) / 64 }
        let x = Tensor(shape: [values.count], storage: values)
        let t = x.tanh().storage, s = x.silu().storage
        for i in 0..<values.count {
            let v = Double(values[i])
            XCTAssertEqual(Double(t[i]), Foundation.tanh(v), accuracy: 2.5e-7, "tanh(\(v))")
            let exactSilu = v / (1 + exp(-v))
            XCTAssertEqual(Double(s[i]), exactSilu, accuracy: 1e-6 * Swift.abs(exactSilu) + 1e-30, "silu(\(v))")
        }
    }
}
