import Core
import Foundation
import Tensor
import XCTest

/// The fused mean squared error (`Tensor.meanSquaredError`) against the composition it replaces
/// (bit for bit, value and gradients, every kernel, one and two threads), against a Double sum,
/// and against finite differences.
final class MeanSquaredErrorTests: XCTestCase {
    /// Value and gradients of c · L(p, t) for L the fused operation or the composition, both
    /// operands recorded (c ≠ 1 so that the incoming gradient is not 1).
    func valueAndGradients(fused: Bool, prediction: Tensor, target: Tensor, recordTarget: Bool)
        -> (value: Float, prediction: [Float], target: [Float]) {
        let p = Tensor(parameterShape: prediction.shape, storage: prediction.storage)
        let t = recordTarget ? Tensor(parameterShape: target.shape, storage: target.storage) : target
        let loss = fused ? Tensor.meanSquaredError(p, t) : (p - t).squared().mean()
        (loss * 0.37).backward()
        return (loss.scalar, p.gradient ?? [], recordTarget ? (t.gradient ?? []) : [])
    }

    func testTheSameBitsAsTheCompositionUnderEveryKernelAndThreadCount() {
        var data = TestData(seed: 51)
        // 97 × 803: more than 2 × Parallel.minimumChunk elements, an odd width.
        let prediction = data.normal([97, 803])
        let target = Tensor(shape: [97, 803], storage: data.normal([97, 803]).storage.map { $0 * 3 })
        forEachKernelAndThreadCount { kernels, threads in
            for recordTarget in [false, true] {
                let fused = valueAndGradients(fused: true, prediction: prediction, target: target, recordTarget: recordTarget)
                let composed = valueAndGradients(fused: false, prediction: prediction, target: target, recordTarget: recordTarget)
                let context = "\(kernels) kernels, \(threads) threads, target recorded: \(recordTarget)"
                XCTAssertEqual(fused.value.bitPattern, composed.value.bitPattern, "value, \(context)")
                XCTAssertEqual(fused.prediction.map(\.bitPattern), composed.prediction.map(\.bitPattern), "∂/∂p, \(context)")
                XCTAssertEqual(fused.target.map(\.bitPattern), composed.target.map(\.bitPattern), "∂/∂t, \(context)")
            }
        }
        // Without recording: the same value.
        let unrecorded = GradientMode.withoutRecording { Tensor.meanSquaredError(prediction, target).scalar }
        XCTAssertEqual(unrecorded.bitPattern, GradientMode.withoutRecording { (prediction - target).squared().mean().scalar }.bitPattern)
    }

    /// The value is the mean of the squares within Float rounding of the Double mean; the
    /// gradient is 2 (p − t)/n (times the incoming 0.37) within a few ulps.
    func testAgainstDoubleFormulas() {
        var data = TestData(seed: 52)
        let prediction = data.normal([5, 9]), target = data.normal([5, 9])
        let n = Double(prediction.count)
        let expected = zip(prediction.storage, target.storage).map { Double($0) - Double($1) }.map { $0 * $0 }.reduce(0, +) / n
        let result = valueAndGradients(fused: true, prediction: prediction, target: target, recordTarget: true)
        XCTAssertEqual(Double(result.value), expected, accuracy: 1e-6 * expected)
        for i in 0..<prediction.count {
            let gradient = 0.37 * 2 * (Double(prediction.storage[i]) - Double(target.storage[i])) / n
            XCTAssertEqual(Double(result.prediction[i]), gradient, accuracy: 1e-6 * Swift.max(abs(gradient), 1e-3), "∂/∂p \(i)")
            XCTAssertEqual(Double(result.target[i]), -gradient, accuracy: 1e-6 * Swift.max(abs(gradient), 1e-3), "∂/∂t \(i)")
        }
    }

    func testGradientsAgainstFiniteDifferences() {
        var data = TestData(seed: 53)
        assertGradientsMatch([data.normal([4, 7]), data.normal([4, 7])], "mean squared error") {
            Tensor.meanSquaredError($0[0], $0[1])
        }
    }
}
