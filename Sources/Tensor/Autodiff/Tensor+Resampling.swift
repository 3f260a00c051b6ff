extension Tensor {
    /// Nearest-neighbour upsampling of NHWC images by an integer `factor`: every pixel becomes
    /// a factor × factor block. The decoder path's upsampling (followed by a convolution, as in
    /// improved-diffusion's `Upsample`).
    ///
    /// Shapes: [N, H, W, C] → [N, f·H, f·W, C]; y[n, i, j, c] = x[n, ⌊i/f⌋, ⌊j/f⌋, c].
    /// Gradient: dx[n, i, j, c] = Σ_{a, b < f} dy[n, f·i + a, f·j + b, c], summed in (a, b) order.
    public func upsampledNearest(factor: Int) -> Tensor {
        precondition(rank == 4 && factor >= 1, "upsampledNearest needs [N, H, W, C] and a factor ≥ 1; got \(shape), \(factor)")
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let outputWidth = w * factor
        var values = Tensor.uninitializedBuffer(count * factor * factor)
        storage.withUnsafeBufferPointer { x in
            values.withUnsafeMutableBufferPointer { y in
                guard let x = x.baseAddress, let y = y.baseAddress else { return }
                // One input row (n, i) per item: it writes output rows f·i … f·i + f − 1.
                Parallel.forEachChunk(n * h, minimumChunk: Swift.max(1, Parallel.minimumChunk / Swift.max(1, w * c * factor * factor))) { rows in
                    for row in rows {
                        let source = x + row * w * c
                        let first = y + row * factor * outputWidth * c
                        for j in 0..<w {
                            for b in 0..<factor { (first + (j * factor + b) * c).update(from: source + j * c, count: c) }
                        }
                        for a in 1..<Swift.max(1, factor) { (first + a * outputWidth * c).update(from: first, count: outputWidth * c) }
                    }
                }
            }
        }
        return Tensor(shape: [n, h * factor, outputWidth, c], storage: values, inputs: [self]) { output in
            let dx = Tensor.blockSums(output.gradient!, rows: n * h, width: w, channels: c, factor: factor, scale: 1)
            self.accumulateGradient(dx, shape: self.shape)
        }
    }

    /// Average pooling of NHWC images over non-overlapping factor × factor blocks: the
    /// parameter-free downsampling (improved-diffusion's `Downsample` without a convolution).
    ///
    /// Shapes: [N, H, W, C] → [N, H/f, W/f, C] (H and W multiples of f);
    /// y[n, i, j, c] = (1/f²) Σ_{a, b < f} x[n, f·i + a, f·j + b, c], summed in (a, b) order.
    /// Gradient: dx[n, f·i + a, f·j + b, c] = dy[n, i, j, c] / f².
    public func averagePooled(factor: Int) -> Tensor {
        precondition(rank == 4 && factor >= 1 && shape[1] % factor == 0 && shape[2] % factor == 0,
                     "averagePooled needs [N, H, W, C] with H and W multiples of the factor; got \(shape), \(factor)")
        let (n, h, w, c) = (shape[0], shape[1] / factor, shape[2] / factor, shape[3])
        let inputWidth = w * factor
        let scale = 1 / Float(factor * factor)
        let values = Tensor.blockSums(storage, rows: n * h, width: w, channels: c, factor: factor, scale: scale)
        let chunk = Swift.max(1, Parallel.minimumChunk / Swift.max(1, w * c * factor * factor))
        return Tensor(shape: [n, h, w, c], storage: values, inputs: [self]) { output in
            let dy = output.gradient!
            var dx = Tensor.uninitializedBuffer(n * h * factor * inputWidth * c)
            dy.withUnsafeBufferPointer { dy in
                dx.withUnsafeMutableBufferPointer { dx in
                    guard let dy = dy.baseAddress, let dx = dx.baseAddress else { return }
                    Parallel.forEachChunk(n * h, minimumChunk: chunk) { rows in
                        for row in rows {
                            let source = dy + row * w * c
                            let first = dx + row * factor * inputWidth * c
                            for j in 0..<w {
                                for b in 0..<factor {
                                    let t = first + (j * factor + b) * c, s = source + j * c
                                    for e in 0..<c { t[e] = s[e] * scale }
                                }
                            }
                            for a in 1..<Swift.max(1, factor) { (first + a * inputWidth * c).update(from: first, count: inputWidth * c) }
                        }
                    }
                }
            }
            self.accumulateGradient(dx, shape: self.shape)
        }
    }

    /// scale · Σ_{a, b < f} of each factor × factor block of NHWC images [n, f·h, f·w, c], summed
    /// in (a, b) order → [n, h, w, c] (`rows` = n · h): the backward pass of nearest upsampling
    /// (scale 1) and the forward pass of average pooling (scale 1/f²). Rows of the result are
    /// shared out over the threads; each element's sum has one order whatever the split.
    static func blockSums(_ large: [Float], rows: Int, width w: Int, channels c: Int, factor: Int, scale: Float) -> [Float] {
        let largeWidth = w * factor
        var small = [Float](repeating: 0, count: rows * w * c)
        large.withUnsafeBufferPointer { x in
            small.withUnsafeMutableBufferPointer { y in
                guard let x = x.baseAddress, let y = y.baseAddress else { return }
                Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, Parallel.minimumChunk / Swift.max(1, w * c * factor * factor))) { range in
                    for row in range {
                        let target = y + row * w * c
                        for a in 0..<factor {
                            let source = x + (row * factor + a) * largeWidth * c
                            for j in 0..<w {
                                for b in 0..<factor {
                                    let s = source + (j * factor + b) * c, t = target + j * c
                                    for e in 0..<c { t[e] += s[e] }
                                }
                            }
                        }
                        if scale != 1 { for e in 0..<(w * c) { target[e] *= scale } }
                    }
                }
            }
        }
        return small
    }
}
