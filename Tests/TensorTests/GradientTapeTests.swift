import Tensor
import XCTest

/// The tape: accumulation, recording rules, and `GradientMode.withoutRecording`.
final class GradientTapeTests: XCTestCase {
    func testTensorUsedTwice_accumulatesGradientOfBothUses() {
        let x = Tensor(parameterShape: [3], storage: [1, -2, 0.5])
        (x * x).sum().backward()
        XCTAssertEqual(x.gradient, [2, -4, 1], "d/dx Σ x² = 2x")
    }

    func testIntermediateUsedTwice_accumulatesBeforeItsPullback() {
        let x = Tensor(parameterShape: [2], storage: [1, 2])
        let y = x * 3
        (y * y + y).sum().backward()
        // d/dx (9x² + 3x) = 18x + 3
        XCTAssertEqual(x.gradient, [21, 39])
    }

    func testParameterGradient_accumulatesOverTwoBackwardCallsUntilZeroed() {
        let x = Tensor(parameterShape: [2], storage: [3, -1])
        let w = Tensor(parameterShape: [2, 2], storage: [1, 2, 3, 4])
        func loss() -> Tensor { Tensor.matmul(x.reshaped([1, 2]), w).sum() + (x * x).sum() }
        loss().backward()
        let once = x.gradient
        let onceW = w.gradient
        XCTAssertEqual(once, [3 + 6, 7 - 2])
        XCTAssertEqual(onceW, [3, 3, -1, -1])
        loss().backward()
        XCTAssertEqual(x.gradient, once.map { $0.map { 2 * $0 } }, "gradients add up over backward() calls")
        XCTAssertEqual(w.gradient, onceW.map { $0.map { 2 * $0 } }, "matmul gradients add up too")
        x.zeroGradient()
        w.zeroGradient()
        XCTAssertNil(x.gradient)
        XCTAssertNil(w.gradient)
        loss().backward()
        XCTAssertEqual(x.gradient, once)
        XCTAssertEqual(w.gradient, onceW)
    }

    func testBackward_intermediateGradientsAreReleased() {
        let x = Tensor(parameterShape: [2], storage: [1, 2])
        let y = x.exp()
        let loss = y.sum()
        loss.backward()
        XCTAssertNil(y.gradient, "intermediate gradients are not kept")
        XCTAssertNotNil(x.gradient)
    }

    func testBackward_customSeedScalesGradient() {
        let x = Tensor(parameterShape: [3], storage: [1, 2, 3])
        (x * 2).backward(seed: [1, 10, 100])
        XCTAssertEqual(x.gradient, [2, 20, 200])
    }

    func testConstants_doNotRecordOrReceiveGradients() {
        let c = Tensor(shape: [2], storage: [1, 2])
        let x = Tensor(parameterShape: [2], storage: [3, 4])
        XCTAssertFalse(c.requiresGradient)
        XCTAssertFalse((c * c).exp().requiresGradient, "an op on constants only records nothing")
        let y = x * c
        XCTAssertTrue(y.requiresGradient)
        y.sum().backward()
        XCTAssertNil(c.gradient)
        XCTAssertEqual(x.gradient, [1, 2])
    }

    func testDetached_stopsGradientFlow() {
        let x = Tensor(parameterShape: [2], storage: [3, 4])
        let d = x.detached()
        XCTAssertFalse(d.requiresGradient)
        (x * d).sum().backward()
        XCTAssertEqual(x.gradient, [3, 4], "only the non-detached factor contributes")
    }

    func testWithoutRecording_resultsOfOpsOnParametersRecordNothing() {
        let x = Tensor(parameterShape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        let w = Tensor(parameterShape: [3, 2], storage: [1, 0, 0, 1, 1, 1])
        XCTAssertTrue(GradientMode.isRecording)
        let results: [Tensor] = GradientMode.withoutRecording {
            XCTAssertFalse(GradientMode.isRecording)
            return [
                x + x, x * 2, x / 3, x - 1, x.exp(), x.log(), x.log1p(),
                Tensor.matmul(x, w), x.sum(), x.sum(axis: 1), x.mean(), x.max(axis: 0),
                x.reshaped([3, 2]), x.broadcast(to: [4, 2, 3]), x.permuted([1, 0]), x.transposed(),
                Tensor.concatenate([x, x], axis: 0), x.slice(axis: 1, 0..<2), x.gather(rows: [1, 1]),
                Tensor.select(x.mask { $0 > 2 }, x, w.transposed()),
                x.softplus(), x.sigmoid(), x.logSigmoid(), x.tanh(), x.silu(), x.relu(), x.absolute(),
                x.squareRoot(), x.squared(), x.logSumExp(axis: 1), x.logMeanExp(axis: 0),
            ]
        }
        XCTAssertTrue(GradientMode.isRecording, "recording is back on after the block")
        for (i, r) in results.enumerated() {
            XCTAssertFalse(r.requiresGradient, "result \(i) (\(r.shape)) recorded a gradient")
        }
        // Values are still computed.
        XCTAssertEqual(results[1].storage, [2, 4, 6, 8, 10, 12])
        // And recording works again afterwards.
        XCTAssertTrue((x * 2).requiresGradient)
    }

    func testWithoutRecording_nestedBlocksRestoreOuterState() {
        GradientMode.withoutRecording {
            GradientMode.withoutRecording { XCTAssertFalse(GradientMode.isRecording) }
            XCTAssertFalse(GradientMode.isRecording)
        }
        XCTAssertTrue(GradientMode.isRecording)
    }

    func testWithoutRecording_rethrowsAndRestoresRecording() {
        struct Failure: Error {}
        XCTAssertThrowsError(try GradientMode.withoutRecording { throw Failure() })
        XCTAssertTrue(GradientMode.isRecording)
    }

    func testCustomOperation_recordsOnlyWhenAnInputNeedsGradient() {
        let x = Tensor(parameterShape: [2], storage: [1, 2])
        let c = Tensor(shape: [2], storage: [1, 2])
        var calls = 0
        func op(_ t: Tensor) -> Tensor {
            Tensor.recordOperation(shape: t.shape, storage: t.storage, inputs: [t]) { output in
                calls += 1
                t.accumulateGradient(output.gradient!, shape: output.shape)
            }
        }
        XCTAssertFalse(op(c).requiresGradient)
        XCTAssertFalse(GradientMode.withoutRecording { op(x) }.requiresGradient)
        let y = op(x)
        XCTAssertTrue(y.requiresGradient)
        y.sum().backward()
        XCTAssertEqual(calls, 1)
        XCTAssertEqual(x.gradient, [1, 1])
    }

    func testAccumulateGradient_reducesBroadcastShape() {
        let bias = Tensor(parameterShape: [1, 3], storage: [0, 0, 0])
        bias.accumulateGradient([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(bias.gradient, [5, 7, 9])
        let column = Tensor(parameterShape: [2, 1], storage: [0, 0])
        column.accumulateGradient([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(column.gradient, [6, 15])
        let scalar = Tensor(parameterShape: [], storage: [0])
        scalar.accumulateGradient([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(scalar.gradient, [21])
        let general = Tensor(parameterShape: [3, 1, 2], storage: [Float](repeating: 0, count: 6))
        general.accumulateGradient((0..<24).map(Float.init), shape: [4, 3, 1, 2])
        // Sum over the leading axis of extent 4: element (j, 0, k) gets Σ_i g[i, j, 0, k].
        XCTAssertEqual(general.gradient, [36, 40, 44, 48, 52, 56])
    }
}
