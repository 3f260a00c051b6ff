import _TensorKernels

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

extension Tensor {
    /// Group normalization (Wu & He 2018) of NHWC images with a per-channel scale and offset,
    /// then an optional fused activation, in one operation.
    ///
    /// Shapes: x [N, H, W, C], scale γ [C], offset β [C] → [N, H, W, C]; C a multiple of `groups`.
    /// The channels are cut into G groups of C/G; for each example n and group g, with M = H·W·C/G
    /// elements,
    ///   μ = (1/M) Σ x,  σ² = (1/M) Σ (x − μ)²,  x̂ = (x − μ)/√(σ² + ε),  y = f(γ_c x̂ + β_c).
    /// Statistics are summed in Double: each channel over its pixels in pixel order, then the
    /// channels of a group in channel order; z = (x − μ)·(γ_c/√(σ² + ε)) + β_c in Float.
    ///
    /// Gradients, with dz = dy ⊙ f′(z) and dx̂ = γ_c dz, per (n, g):
    ///   dx = (1/√(σ² + ε)) (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)),
    ///   dγ_c = Σ_{n,h,w} dz x̂,  dβ_c = Σ_{n,h,w} dz,
    /// where Σ dx̂ = Σ_c γ_c Σ_pixels dz and Σ dx̂ x̂ = Σ_c γ_c Σ_pixels dz x̂ come from the same
    /// per-channel sums as dγ and dβ.
    ///
    /// **Speed.** The operation only streams memory, so it is written to stream as little as it
    /// can: per example (an L2-sized piece), one pass for the channel sums, one for the squared
    /// deviations and one for y, all loops of `_TensorKernels` (`tk_channel_sums` …) sixteen
    /// channels at a time with their running sums in registers. Only μ and 1/√(σ² + ε) are
    /// kept for the backward pass, not the slopes f′(z): the pullback recomputes z — the same
    /// Float operations, so the same bits — and f′(z) for each example into this thread's
    /// scratch slot 2, where they stay in cache, and forms dz = dy ⊙ f′ inside its two loops.
    /// That saves writing and rereading a tensor of slopes, and keeping it alive between the
    /// passes, for one more evaluation of f per element. Measured, forward and backward of
    /// [64, 14, 14, 64] and [64, 28, 28, 32] in 32 groups with silu, one thread: element by
    /// element in Double, C/G channels at a time (the first version), 14–17 and 37–39 ms; these
    /// loops 5.2–5.6 and 9.7–11 ms — the same with stored slopes, within the noise of a shared
    /// machine (the loops are bound by memory traffic, and silu's division by the extra pass).
    ///
    /// Examples are shared out over the threads; the per-example sums of dγ and dβ are added in
    /// example order afterwards, so results do not depend on the thread count.
    public static func groupNormalization(
        _ x: Tensor, groups: Int, scale: Tensor, offset: Tensor, epsilon: Float = 1e-5, activation: PointwiseActivation? = nil
    ) -> Tensor {
        precondition(x.rank == 4, "groupNormalization needs x [N, H, W, C], got \(x.shape)")
        let (n, pixels, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
        precondition(groups >= 1 && c % groups == 0, "groupNormalization: \(c) channels do not split into \(groups) groups")
        precondition(scale.shape == [c] && offset.shape == [c], "groupNormalization: scale \(scale.shape) and offset \(offset.shape) must be [\(c)]")
        let width = c / groups
        let size = Double(pixels * width)
        var values = uninitializedBuffer(x.count)
        // μ and 1/√(σ² + ε) of each (example, group).
        var means = [Float](repeating: 0, count: n * groups)
        var inverseDeviations = [Float](repeating: 0, count: n * groups)
        let perExample = pixels * c
        let concurrent = x.count >= 2 * Parallel.minimumChunk
        // The AVX2 build of the loops (avx2 and avx512 kernels), or (reference and portable) the baseline one: the same bits.
        let vector: Int32 = ComputeKernels.current.usesAVX2Loops ? 1 : 0
        x.storage.withUnsafeBufferPointer { xs in
            values.withUnsafeMutableBufferPointer { ys in
                means.withUnsafeMutableBufferPointer { mu in
                    inverseDeviations.withUnsafeMutableBufferPointer { rs in
                        scale.storage.withUnsafeBufferPointer { gamma in
                            offset.storage.withUnsafeBufferPointer { beta in
                                guard let xb = xs.baseAddress, let yb = ys.baseAddress,
                                      let gammaBase = gamma.baseAddress, let betaBase = beta.baseAddress else { return }
                                Parallel.forEach(n, concurrent: concurrent) { example in
                                    let source = xb + example * perExample, target = yb + example * perExample
                                    var channelSums = [Double](repeating: 0, count: c)
                                    tk_channel_sums(vector, source, pixels, c, &channelSums)
                                    var channelMeans = [Double](repeating: 0, count: c)
                                    for g in 0..<groups {
                                        var total = 0.0
                                        for e in 0..<width { total += channelSums[g * width + e] }
                                        for e in 0..<width { channelMeans[g * width + e] = total / size }
                                    }
                                    var squares = [Double](repeating: 0, count: c)
                                    tk_channel_squared_deviations(vector, source, pixels, c, channelMeans, &squares)
                                    for g in 0..<groups {
                                        var total = 0.0
                                        for e in 0..<width { total += squares[g * width + e] }
                                        mu[example * groups + g] = Float(channelMeans[g * width])
                                        rs[example * groups + g] = Float(1 / (total / size + Double(epsilon)).squareRoot())
                                    }
                                    let map = ChannelMap(example: example, groups: groups, width: width, means: mu.baseAddress!,
                                                         inverses: rs.baseAddress!, gamma: gammaBase)
                                    tk_channel_affine(vector, source, pixels, c, map.shift, map.factor, betaBase, target)
                                    activation?.evaluateSerially(target, into: target, slopes: nil, count: perExample)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, storage: values, inputs: [x, scale, offset]) { output in
            let dy = output.gradient!
            // Per-example sums of dz·x̂ and dz for every channel, added in example order below.
            var scaleParts = [Double](repeating: 0, count: n * c)
            var offsetParts = [Double](repeating: 0, count: n * c)
            var dx = x.requiresGradient ? uninitializedBuffer(x.count) : []
            x.storage.withUnsafeBufferPointer { xs in
                dy.withUnsafeBufferPointer { dys in
                    dx.withUnsafeMutableBufferPointer { dxs in
                        scaleParts.withUnsafeMutableBufferPointer { sp in
                            offsetParts.withUnsafeMutableBufferPointer { op in
                                scale.storage.withUnsafeBufferPointer { gamma in
                                    offset.storage.withUnsafeBufferPointer { beta in
                                        guard let xb = xs.baseAddress, let dyb = dys.baseAddress, let gammaBase = gamma.baseAddress,
                                              let betaBase = beta.baseAddress, let spb = sp.baseAddress, let opb = op.baseAddress else { return }
                                        // Not the base address of the empty buffer when x needs no gradient: that
                                        // may be the shared empty-array storage.
                                        let dxb = x.requiresGradient ? dxs.baseAddress : nil
                                        Parallel.forEach(n, concurrent: concurrent) { example in
                                            let source = xb + example * perExample, gradient = dyb + example * perExample
                                            let map = ChannelMap(example: example, groups: groups, width: width, means: means,
                                                                 inverses: inverseDeviations, gamma: gammaBase)
                                            // f′(z) of this example, z recomputed as the forward pass computed it.
                                            var slopes: UnsafeMutablePointer<Float>? = nil
                                            if let activation {
                                                guard let scratch = tk_thread_scratch(2, 2 * perExample) else {
                                                    preconditionFailure("out of memory for the slopes of \(perExample) values")
                                                }
                                                tk_channel_affine(vector, source, pixels, c, map.shift, map.factor, betaBase, scratch)
                                                activation.evaluateSerially(scratch, into: scratch, slopes: scratch + perExample,
                                                                            count: perExample)
                                                slopes = scratch + perExample
                                            }
                                            let sumDz = opb + example * c, sumDzNormalized = spb + example * c
                                            tk_group_norm_gradient_sums(vector, source, gradient, slopes, pixels, c, map.shift, map.inverse,
                                                                        sumDz, sumDzNormalized)
                                            guard let dxb else { return }
                                            var meanGradient = [Float](repeating: 0, count: c), meanProduct = [Float](repeating: 0, count: c)
                                            for g in 0..<groups {
                                                var sumNormalizedGradient = 0.0, sumProduct = 0.0
                                                for e in 0..<width {
                                                    let channel = g * width + e
                                                    sumNormalizedGradient += Double(gammaBase[channel]) * sumDz[channel]
                                                    sumProduct += Double(gammaBase[channel]) * sumDzNormalized[channel]
                                                }
                                                for e in 0..<width {
                                                    meanGradient[g * width + e] = Float(sumNormalizedGradient / size)
                                                    meanProduct[g * width + e] = Float(sumProduct / size)
                                                }
                                            }
                                            tk_group_norm_input_gradient(vector, source, gradient, slopes, pixels, c, map.shift, map.inverse, gammaBase,
                                                                         meanGradient, meanProduct, dxb + example * perExample)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if x.requiresGradient { x.accumulateGradient(dx, shape: x.shape) }
            func total(_ parts: [Double]) -> [Float] {
                var sums = [Double](repeating: 0, count: c)
                for example in 0..<n { for channel in 0..<c { sums[channel] += parts[example * c + channel] } }
                return sums.map { Float($0) }
            }
            if scale.requiresGradient { scale.accumulateGradient(total(scaleParts), shape: [c]) }
            if offset.requiresGradient { offset.accumulateGradient(total(offsetParts), shape: [c]) }
        }
    }
}

/// One example's statistics spread over its channels: μ of the channel's group (`shift`),
/// 1/√(σ² + ε) (`inverse`) and γ_c/√(σ² + ε) (`factor`, so that z = (x − shift)·factor + β).
private struct ChannelMap {
    var shift: [Float], inverse: [Float], factor: [Float]

    init(example: Int, groups: Int, width: Int, means: UnsafePointer<Float>, inverses: UnsafePointer<Float>, gamma: UnsafePointer<Float>) {
        let c = groups * width
        shift = [Float](repeating: 0, count: c)
        inverse = shift
        factor = shift
        for g in 0..<groups {
            let mean = means[example * groups + g], r = inverses[example * groups + g]
            for e in 0..<width {
                shift[g * width + e] = mean
                inverse[g * width + e] = r
                factor[g * width + e] = r * gamma[g * width + e]
            }
        }
    }
}
