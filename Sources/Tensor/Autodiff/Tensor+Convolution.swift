import _TensorKernels

/// The geometry of a 2-D convolution over NHWC images: a square kernel, one stride and one
/// zero padding for both spatial axes (dilation 1).
public struct ConvolutionGeometry: Equatable, Sendable, CustomStringConvertible {
    /// The kernel's height and width.
    public var kernelSize: Int
    /// Pixels between the centres of neighbouring outputs.
    public var stride: Int
    /// Zero pixels added on each side of both spatial axes.
    public var padding: Int

    public init(kernelSize: Int, stride: Int = 1, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
    }

    /// 3 × 3, stride 1, padding 1: the size-preserving convolution of residual blocks.
    public static let same3x3 = ConvolutionGeometry(kernelSize: 3, stride: 1, padding: 1)
    /// 3 × 3, stride 2, padding 1: halves an even extent (28 → 14 → 7).
    public static let downsampling3x3 = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
    /// 1 × 1: a per-pixel linear map of the channels.
    public static let pointwise = ConvolutionGeometry(kernelSize: 1)

    /// ⌊(input + 2·padding − kernel) / stride⌋ + 1, the output extent of an input extent.
    public func outputExtent(_ input: Int) -> Int { (input + 2 * padding - kernelSize) / stride + 1 }

    /// A 1 × 1, stride-1, unpadded convolution reads every pixel once: its patches are the image.
    var isPointwise: Bool { kernelSize == 1 && stride == 1 && padding == 0 }

    public var description: String { "\(kernelSize)×\(kernelSize) stride \(stride) padding \(padding)" }
}

extension Tensor {
    /// f(conv(x, W) + b) over NHWC images, in one operation.
    ///
    /// Shapes: x [N, H, W, C_in], weight [C_out, k, k, C_in], bias [C_out] →
    /// [N, H_out, W_out, C_out] with H_out = ⌊(H + 2p − k)/s⌋ + 1 (likewise W_out).
    ///
    /// y[n, i, j, o] = f(b[o] + Σ_{a, c < k} Σ_{ci} W[o, a, c, ci] · x[n, s·i − p + a, s·j − p + c, ci]),
    /// with x = 0 outside the image.
    ///
    /// **Why NHWC.** The product wants each output pixel's patch as one row of a matrix whose
    /// columns are (a, c, ci): in NHWC a kernel row of a patch (k pixels × C_in channels) is one
    /// contiguous stretch of the image, so unfolding is k block copies per patch row, and the
    /// product's [N·H_out·W_out, C_out] result *is* the NHWC output — no transposition on
    /// either side. A flattened image row [N, H·W] is also the NHWC tensor [N, H, W, 1], so the
    /// diffusion math keeps working on rows.
    ///
    /// **How.** The patches of a block of output pixels are unfolded ("im2col") into this
    /// thread's scratch slot 2 and multiplied by Wᵀ — seen as [C_out, k·k·C_in] — with
    /// ``MatrixProduct``, which adds b and applies f to each block of the result while it is in
    /// cache (as ``affine(_:weight:bias:activation:)`` does). Blocks hold about
    /// ``patchBlockElements`` floats, so the unfolded patches stay in cache whatever the batch,
    /// and nothing but x and the slopes of f is kept for the backward pass: it unfolds the
    /// patches again (a copy, cheap next to the product). A 1 × 1, stride-1 convolution
    /// multiplies the image itself.
    ///
    /// **Gradients**, with dz = dy ⊙ f′ seen as [N·H_out·W_out, C_out] and P the patches:
    /// db = Σ_rows dz; dW = dzᵀ P, accumulated block after block; dx = fold(dz W), the
    /// patch gradients dz W (scratch slot 3) added back onto the pixels they were copied from
    /// ("col2im"). Blocks of rows and the images within them are fixed by the shapes alone and
    /// each image's pixels are summed in row order, so results do not depend on the thread count.
    public static func convolution2D(
        _ x: Tensor, weight: Tensor, bias: Tensor, geometry: ConvolutionGeometry, activation: PointwiseActivation? = nil
    ) -> Tensor {
        precondition(x.rank == 4 && weight.rank == 4, "convolution2D needs x [N, H, W, C_in] and weight [C_out, k, k, C_in]; got \(x.shape) and \(weight.shape)")
        let k = geometry.kernelSize
        precondition(k >= 1 && geometry.stride >= 1 && geometry.padding >= 0 && geometry.padding < k,
                     "convolution2D: invalid geometry \(geometry)")
        let layout = ConvolutionLayout(input: x.shape, geometry: geometry, outputChannels: weight.shape[0])
        precondition(weight.shape == [layout.outputChannels, k, k, layout.inputChannels] && bias.shape == [layout.outputChannels],
                     "convolution2D: weight \(weight.shape) and bias \(bias.shape) do not fit x \(x.shape) with a \(k)×\(k) kernel")
        precondition(layout.inputChannels >= 1, "convolution2D needs at least one input channel; got x \(x.shape)")
        precondition(layout.outputHeight >= 1 && layout.outputWidth >= 1,
                     "convolution2D: a \(geometry) kernel does not fit images of \(layout.inputHeight)×\(layout.inputWidth)")
        let rows = layout.rows, outputs = layout.outputChannels, depth = layout.depth
        let records = GradientMode.isRecording && (x.requiresGradient || weight.requiresGradient || bias.requiresGradient)
        var values = uninitializedBuffer(rows * outputs)
        var slopes: [Float] = records && activation != nil ? uninitializedBuffer(rows * outputs) : []

        x.storage.withUnsafeBufferPointer { xs in
            weight.storage.withUnsafeBufferPointer { w in
                bias.storage.withUnsafeBufferPointer { b in
                    values.withUnsafeMutableBufferPointer { z in
                        slopes.withUnsafeMutableBufferPointer { d in
                            guard let zBase = z.baseAddress, let xBase = xs.baseAddress, let wBase = w.baseAddress else { return }
                            // (An empty array may still have a base address: ask whether slopes are kept.)
                            let slopeBase = records && activation != nil ? d.baseAddress : nil
                            layout.forEachBlock(xBase) { block, patches in
                                let target = zBase + block.lowerBound * outputs
                                MatrixProduct.multiply(m: block.count, n: outputs, k: depth,
                                                       patches, leading: depth, transpose: false,
                                                       wBase, leading: depth, transpose: true,
                                                       into: target, accumulate: false, bias: b.baseAddress) { blockRows, columns in
                                    guard let activation else { return }
                                    applyActivation(activation, to: target, slopes: slopeBase.map { $0 + block.lowerBound * outputs },
                                                    rows: blockRows, columns: columns, width: outputs)
                                }
                            }
                        }
                    }
                }
            }
        }
        let outputShape = [layout.batch, layout.outputHeight, layout.outputWidth, outputs]
        return Tensor(shape: outputShape, storage: values, inputs: [x, weight, bias]) { output in
            var dz = output.takeGradient()!
            if activation != nil { multiply(&dz, by: slopes) }
            if bias.requiresGradient {
                bias.accumulateGradient(columnSums(dz, rows: rows, columns: outputs), shape: [outputs])
            }
            guard x.requiresGradient || weight.requiresGradient else { return }
            let weightHadGradient = weight.gradient != nil
            // Without rows (an empty batch) no product writes dW: it is zero.
            var dw = weight.requiresGradient
                ? (weight.takeGradient() ?? (rows > 0 ? uninitializedBuffer(weight.count) : [Float](repeating: 0, count: weight.count)))
                : []
            // The fold adds onto dx, so it starts at zero; a pointwise convolution's one product
            // writes (or adds onto) all of it.
            let xHadGradient = x.gradient != nil
            var dx = x.requiresGradient
                ? (x.takeGradient() ?? (geometry.isPointwise ? uninitializedBuffer(x.count) : [Float](repeating: 0, count: x.count)))
                : []
            x.storage.withUnsafeBufferPointer { xs in
                weight.storage.withUnsafeBufferPointer { w in
                    dz.withUnsafeBufferPointer { dzs in
                        dw.withUnsafeMutableBufferPointer { dwBuffer in
                            dx.withUnsafeMutableBufferPointer { dxBuffer in
                                guard let xBase = xs.baseAddress, let wBase = w.baseAddress, let dzBase = dzs.baseAddress else { return }
                                // The empty buffer of an input without a gradient may still have a base
                                // address (the shared empty-array storage): never write through it.
                                let dwTarget = weight.requiresGradient ? dwBuffer.baseAddress : nil
                                let dxTarget = x.requiresGradient ? dxBuffer.baseAddress : nil
                                layout.forEachBlock(xBase) { block, patches in
                                    let dzBlock = dzBase + block.lowerBound * outputs
                                    if let dwBase = dwTarget {
                                        // dW (+)= dzᵀ P over this block's rows.
                                        MatrixProduct.multiply(m: outputs, n: depth, k: block.count,
                                                               dzBlock, leading: outputs, transpose: true,
                                                               patches, leading: depth, transpose: false,
                                                               into: dwBase, accumulate: weightHadGradient || block.lowerBound > 0)
                                    }
                                    if let dxBase = dxTarget, geometry.isPointwise {
                                        // The patches are the image: dx (+)= dz W, straight into dx. (Through
                                        // scratch and an added pass, the first version spent 6–7 ms on the
                                        // forward and backward passes of 64 → 64 on [64, 14, 14, 64] at one thread.)
                                        MatrixProduct.multiply(m: block.count, n: depth, k: outputs,
                                                               dzBlock, leading: outputs, transpose: false,
                                                               wBase, leading: depth, transpose: false,
                                                               into: dxBase + block.lowerBound * depth, accumulate: xHadGradient)
                                    } else if let dxBase = dxTarget {
                                        layout.accumulateInputGradient(of: block, patchGradient: { dPatches in
                                            // dP = dz W: [rows, C_out] · [C_out, depth].
                                            MatrixProduct.multiply(m: block.count, n: depth, k: outputs,
                                                                   dzBlock, leading: outputs, transpose: false,
                                                                   wBase, leading: depth, transpose: false,
                                                                   into: dPatches, accumulate: false)
                                        }, into: dxBase)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if weight.requiresGradient { weight.gradient = dw }
            if x.requiresGradient { x.gradient = dx }
        }
    }

    /// Floats of unfolded patches per block (1 MB): small enough that a block stays in a core's
    /// L2 cache (2 MB here) from its unfolding through the packing of both products that read
    /// it, large enough that each product still splits over the threads. Measured on the
    /// forward and backward passes of 3 × 3 convolutions 64 → 64 on [64, 14, 14, 64] and
    /// 32 → 32 on [64, 28, 28, 32], one thread: 2²¹ floats (8 MB, in L3 only) 48 and 40 GFLOP/s,
    /// 2¹⁹ 64 and 49, 2¹⁸ 68 and 54, 2¹⁷ 70 and 57 (blocks rounded down to whole 256 rows;
    /// rounded to the nearest, 2¹⁸ makes blocks of 512 and 1024 rows, see ``blockRows``).
    /// Settable so that tests can cut small convolutions into several blocks; like
    /// ``LinearAlgebra/setThreadCount(_:)``, not to be changed while other threads compute.
    nonisolated(unsafe) public static var patchBlockElements = 1 << 18

    /// Applies a fused activation to a block of a product's result (shared by the affine map
    /// and the convolution): whole rows as one stretch, else row by row.
    static func applyActivation(
        _ activation: PointwiseActivation, to base: UnsafeMutablePointer<Float>, slopes: UnsafeMutablePointer<Float>?,
        rows: Range<Int>, columns: Range<Int>, width: Int
    ) {
        if columns.count == width {
            // Whole rows: one stretch of memory (split over threads unless the product already
            // runs on several).
            let offset = rows.lowerBound * width
            activation.evaluate(base + offset, into: base + offset, slopes: slopes.map { $0 + offset }, count: rows.count * width)
            return
        }
        for row in rows {
            let offset = row * width + columns.lowerBound
            activation.evaluateSerially(base + offset, into: base + offset, slopes: slopes.map { $0 + offset }, count: columns.count)
        }
    }
}

/// The sizes of one convolution and its unfolding: output pixel r = (n, i, j) is row r of the
/// patch matrix, whose columns run over (kernel row a, kernel column c, input channel).
struct ConvolutionLayout {
    let batch: Int, inputHeight: Int, inputWidth: Int, inputChannels: Int
    let outputHeight: Int, outputWidth: Int, outputChannels: Int
    let geometry: ConvolutionGeometry

    init(input shape: [Int], geometry: ConvolutionGeometry, outputChannels: Int) {
        batch = shape[0]; inputHeight = shape[1]; inputWidth = shape[2]; inputChannels = shape[3]
        self.geometry = geometry
        self.outputChannels = outputChannels
        outputHeight = geometry.outputExtent(inputHeight)
        outputWidth = geometry.outputExtent(inputWidth)
    }

    /// Output pixels, the rows of the product.
    var rows: Int { batch * outputHeight * outputWidth }
    /// k · k · C_in, the depth of the product.
    var depth: Int { geometry.kernelSize * geometry.kernelSize * inputChannels }
    var pixelsPerImage: Int { outputHeight * outputWidth }

    /// Rows per block: about ``Tensor/patchBlockElements`` floats of patches, fixed by the
    /// shapes alone. When the rows take several blocks, a block is a whole number of the
    /// product's 256-deep blocks (``MatrixProduct/maximumDepthBlock``), the nearest to that
    /// size, where it holds that many: dW = Σ_blocks dzᵀP then adds the same partial sums as
    /// one product over all rows whenever the rows are a multiple of 256, so the blocking
    /// changes no bit of it. (Rounding down instead made blocks of 256 rows out of room for
    /// 455 in the 64 → 64 case of ``Tensor/patchBlockElements``, 768 out of 910 in the 32 → 32
    /// one: more blocks, each with its ~8 hand-offs to the threads. Measured, best of 3, one
    /// thread: 50–67 and 39–47 GFLOP/s rounded down, 58–66 and 52–53 to the nearest; two
    /// threads 98 and 72 against 103 and 77 — a shared machine, hence the ranges.)
    var blockRows: Int {
        let fitting = Tensor.patchBlockElements / Swift.max(1, depth)
        if fitting >= rows { return Swift.max(1, rows) }
        let depthBlock = MatrixProduct.maximumDepthBlock
        guard fitting >= depthBlock else { return Swift.max(1, fitting) }
        return Swift.min(rows, (fitting + depthBlock / 2) / depthBlock * depthBlock)
    }

    /// Calls `body(rows, patches)` for consecutive blocks of output pixels, in order, with
    /// their patches [rows.count, depth] unfolded into scratch slot 2 of the calling thread (a
    /// pointwise convolution passes the image itself).
    func forEachBlock(_ x: UnsafePointer<Float>, _ body: (Range<Int>, UnsafePointer<Float>) -> Void) {
        if rows == 0 || depth == 0 { return }
        if geometry.isPointwise {
            body(0..<rows, x)
            return
        }
        let size = blockRows
        guard let patches = tk_thread_scratch(2, size * depth) else {
            preconditionFailure("out of memory unfolding \(size) patches of \(depth) values")
        }
        var start = 0
        while start < rows {
            let block = start..<Swift.min(rows, start + size)
            unfold(x, rows: block, into: patches)
            body(block, UnsafePointer(patches))
            start = block.upperBound
        }
    }

    /// Writes the patches of output pixels `rows` into `patches` (row-major, `depth` wide),
    /// zeros where a patch reaches past the image. Pieces of rows are shared out over the threads.
    func unfold(_ x: UnsafePointer<Float>, rows: Range<Int>, into patches: UnsafeMutablePointer<Float>) {
        withUnsafePointer(to: kernelShape) { shape in
            Parallel.forEachChunk(rows.count, minimumChunk: Swift.max(1, Parallel.minimumChunk / depth)) { piece in
                tk_convolution_unfold(shape, x, rows.lowerBound + piece.lowerBound, piece.count, patches + piece.lowerBound * depth)
            }
        }
    }

    /// The sizes as `_TensorKernels` takes them.
    var kernelShape: tk_convolution_shape {
        tk_convolution_shape(height: inputHeight, width: inputWidth, channels: inputChannels, outputHeight: outputHeight,
                             outputWidth: outputWidth, kernel: geometry.kernelSize, stride: geometry.stride, padding: geometry.padding)
    }

    /// dx += fold(dP) for the output pixels `rows`: `patchGradient` fills dP [rows.count, depth]
    /// (scratch slot 3), whose values are then added onto the pixels each patch was copied
    /// from (`tk_convolution_fold`). The input rows those patches reach are shared out over the
    /// threads (no two write the same pixel), and each pixel adds its patches' values in
    /// output pixel order, so the sums depend neither on the thread count nor on the blocks.
    ///
    /// Gathering by input pixel rather than scattering patch after patch lets every block split
    /// over the threads, where a scatter shared out whole images (a block of 1 MB holds one or
    /// two images of 28 × 28), and adds each pixel's k² values while it is in L1.
    func accumulateInputGradient(
        of rows: Range<Int>, patchGradient: (UnsafeMutablePointer<Float>) -> Void, into dx: UnsafeMutablePointer<Float>
    ) {
        let k = geometry.kernelSize, stride = geometry.stride, padding = geometry.padding
        let channels = inputChannels, depth = self.depth
        precondition(!geometry.isPointwise, "a pointwise convolution's dx is one product, not a fold")
        guard let dPatches = tk_thread_scratch(3, rows.count * depth) else {
            preconditionFailure("out of memory for the gradient of \(rows.count) patches of \(depth) values")
        }
        patchGradient(dPatches)
        // Input rows q = n·H + ih reached by the first and the last output row of the block.
        let first = rows.lowerBound, last = rows.upperBound - 1
        let firstInput = first / pixelsPerImage * inputHeight + Swift.max(0, first % pixelsPerImage / outputWidth * stride - padding)
        let lastInput = last / pixelsPerImage * inputHeight
            + Swift.min(inputHeight - 1, last % pixelsPerImage / outputWidth * stride - padding + k - 1)
        let additionsPerRow = Swift.max(1, inputWidth * channels * k * k / (stride * stride))
        withUnsafePointer(to: kernelShape) { shape in
            Parallel.forEachChunk(lastInput - firstInput + 1, minimumChunk: Swift.max(1, Parallel.minimumChunk / additionsPerRow)) { piece in
                tk_convolution_fold(shape, dPatches, rows.lowerBound, rows.count, firstInput + piece.lowerBound, piece.count, dx)
            }
        }
    }
}
