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
    /// Statistics are summed in Double in pixel order.
    ///
    /// Gradients, with dz = dy ⊙ f′ and dx̂ = γ_c dz, per (n, g):
    ///   dx = (1/√(σ² + ε)) (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)),
    ///   dγ_c = Σ_{n,h,w} dz x̂,  dβ_c = Σ_{n,h,w} dz.
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
        let records = GradientMode.isRecording && (x.requiresGradient || scale.requiresGradient || offset.requiresGradient)
        var values = uninitializedBuffer(x.count)
        var slopes: [Float] = records && activation != nil ? uninitializedBuffer(x.count) : []
        // μ and 1/√(σ² + ε) of each (example, group).
        var means = [Float](repeating: 0, count: n * groups)
        var inverseDeviations = [Float](repeating: 0, count: n * groups)
        let perExample = pixels * c
        x.storage.withUnsafeBufferPointer { xs in
            values.withUnsafeMutableBufferPointer { ys in
                slopes.withUnsafeMutableBufferPointer { ds in
                    means.withUnsafeMutableBufferPointer { mu in
                        inverseDeviations.withUnsafeMutableBufferPointer { rs in
                            scale.storage.withUnsafeBufferPointer { gamma in
                                offset.storage.withUnsafeBufferPointer { beta in
                                    guard let xb = xs.baseAddress, let yb = ys.baseAddress else { return }
                                    // (An empty array may still have a base address: ask whether slopes are kept.)
                                    let slopeBase = records && activation != nil ? ds.baseAddress : nil
                                    Parallel.forEach(n, concurrent: x.count >= 2 * Parallel.minimumChunk) { example in
                                        let source = xb + example * perExample
                                        let target = yb + example * perExample
                                        for g in 0..<groups {
                                            var total = 0.0
                                            for p in 0..<pixels {
                                                let s = source + p * c + g * width
                                                for e in 0..<width { total += Double(s[e]) }
                                            }
                                            let mean = total / size
                                            var squares = 0.0
                                            for p in 0..<pixels {
                                                let s = source + p * c + g * width
                                                for e in 0..<width { let d = Double(s[e]) - mean; squares += d * d }
                                            }
                                            let inverse = 1 / (squares / size + Double(epsilon)).squareRoot()
                                            mu[example * groups + g] = Float(mean)
                                            rs[example * groups + g] = Float(inverse)
                                            let m = Float(mean), r = Float(inverse)
                                            for p in 0..<pixels {
                                                let offset = p * c + g * width
                                                for e in 0..<width {
                                                    let channel = g * width + e
                                                    target[offset + e] = (source[offset + e] - m) * r * gamma[channel] + beta[channel]
                                                }
                                            }
                                        }
                                        if let activation {
                                            activation.evaluateSerially(target, into: target, slopes: slopeBase.map { $0 + example * perExample },
                                                                        count: perExample)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, storage: values, inputs: [x, scale, offset]) { output in
            var dz = output.takeGradient()!
            if activation != nil { multiply(&dz, by: slopes) }
            // Per-example sums of dz·x̂ and dz for every channel, added in example order below.
            var scaleParts = [Double](repeating: 0, count: n * c)
            var offsetParts = [Double](repeating: 0, count: n * c)
            var dx = x.requiresGradient ? uninitializedBuffer(x.count) : []
            x.storage.withUnsafeBufferPointer { xs in
                dz.withUnsafeBufferPointer { dzs in
                    dx.withUnsafeMutableBufferPointer { dxs in
                        scaleParts.withUnsafeMutableBufferPointer { sp in
                            offsetParts.withUnsafeMutableBufferPointer { op in
                                scale.storage.withUnsafeBufferPointer { gamma in
                                    guard let xb = xs.baseAddress, let dzb = dzs.baseAddress else { return }
                                    // Not the base address of the empty buffer when x needs no gradient: that
                                    // may be the shared empty-array storage.
                                    let dxb = x.requiresGradient ? dxs.baseAddress : nil
                                    Parallel.forEach(n, concurrent: x.count >= 2 * Parallel.minimumChunk) { example in
                                        let source = xb + example * perExample, gradient = dzb + example * perExample
                                        for g in 0..<groups {
                                            let m = means[example * groups + g], r = inverseDeviations[example * groups + g]
                                            var sumNormalizedGradient = 0.0, sumProduct = 0.0
                                            for p in 0..<pixels {
                                                let offset = p * c + g * width
                                                for e in 0..<width {
                                                    let channel = g * width + e
                                                    let normalized = (source[offset + e] - m) * r
                                                    let d = Double(gradient[offset + e])
                                                    sp[example * c + channel] += d * Double(normalized)
                                                    op[example * c + channel] += d
                                                    let dNormalized = d * Double(gamma[channel])
                                                    sumNormalizedGradient += dNormalized
                                                    sumProduct += dNormalized * Double(normalized)
                                                }
                                            }
                                            guard let dxb else { continue }
                                            let meanGradient = Float(sumNormalizedGradient / size), meanProduct = Float(sumProduct / size)
                                            let target = dxb + example * perExample
                                            for p in 0..<pixels {
                                                let offset = p * c + g * width
                                                for e in 0..<width {
                                                    let channel = g * width + e
                                                    let normalized = (source[offset + e] - m) * r
                                                    let dNormalized = gradient[offset + e] * gamma[channel]
                                                    target[offset + e] = r * (dNormalized - meanGradient - normalized * meanProduct)
                                                }
                                            }
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
