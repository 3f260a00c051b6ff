import Core
import _TensorKernels

// Batches of normal deviates: the generator and its scalar Box–Muller live in Core (so that Store
// and DatasetMakers draw without linking the engine); the batched transform, which runs on the
// thread pool and through the AVX2 kernel, lives here.

extension RandomGenerator {
    /// Fills `buffer` with standard normal deviates, two per Box–Muller pair: the same values
    /// as `Float(nextNormalPair().0), Float(nextNormalPair().1), …`, with a fresh pair (its
    /// first half) for an odd last element. The uniforms are drawn in order; the transform runs
    /// over a block of them at a time, split over threads for large buffers (through the AVX2
    /// kernel where the CPU has it: the same operations, the same bits).
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>) {
        fillNormal(buffer, kernels: .current)
    }

    /// ``fillNormal(_:)`` through the given kernels (to compare the two).
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, kernels: ComputeKernels) {
        precondition(kernels.isAvailable, "this CPU cannot run the \(kernels) kernels")
        let count = buffer.count
        let pairs = (count + 1) / 2
        guard let output = buffer.baseAddress, pairs > 0 else { return }
        let block = Swift.min(pairs, Self.normalBlock)
        var uniforms = [Double](unsafeUninitializedCapacity: 2 * block) { _, initialized in initialized = 2 * block }
        uniforms.withUnsafeMutableBufferPointer { uniforms in
            let u = uniforms.baseAddress!
            var first = 0
            while first < pairs {
                let size = Swift.min(block, pairs - first)
                drawUniformPairs(into: u, count: size)
                let base = first
                Parallel.forEachChunk(size, minimumChunk: Self.normalChunk) { range in
                    let start = 2 * (base + range.lowerBound)
                    let written = Swift.min(count - start, 2 * range.count)
                    if kernels.usesAVX2Loops {
                        tk_box_muller(u + 2 * range.lowerBound, range.count, output + start, written)
                        return
                    }
                    for i in range {
                        let (a, b) = BoxMuller.transform(u[2 * i], u[2 * i + 1])
                        let index = 2 * (base + i)
                        output[index] = Float(a)
                        if index + 1 < count { output[index + 1] = Float(b) }
                    }
                }
                first += size
            }
        }
    }

    /// Pairs whose uniforms are drawn before they are transformed (1 MiB of uniforms).
    static let normalBlock = 1 << 16
    /// Pairs per thread below which the transform is not split.
    static let normalChunk = 1 << 12

}
