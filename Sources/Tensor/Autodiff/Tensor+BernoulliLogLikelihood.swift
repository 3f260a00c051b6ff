extension Tensor {
    /// The Bernoulli log-likelihood of each row, in one operation (a fused chain):
    ///
    ///     log p(x | ℓ) = Σⱼ xⱼ ℓⱼ − softplus(ℓⱼ)      (docs/math.md#bernoulli-logits)
    ///
    /// Shapes: logits ℓ [rows, columns], observations x [rows, columns] (0/1, or any value in
    /// between) → [rows]. Gradients: ∂/∂ℓⱼ = g xⱼ − g σ(ℓⱼ), ∂/∂xⱼ = g ℓⱼ, with g the row's
    /// incoming gradient.
    ///
    /// The same bits as the composition it replaces, `(x * logits - logits.softplus()).sum(axis: -1)`,
    /// value and gradients, under every kernel: each element takes the same Float operations
    /// (the product, the fused softplus, the difference; in the backward pass the two products
    /// and their difference), and each row is summed in Double in column order as
    /// `Broadcasting.reduce` sums it, then rounded to Float. (Where ℓ feeds other operations too,
    /// its gradient's terms are added in another order than the composition's, so its last bit
    /// may differ.) What it saves: the composition makes four passes over the batch forward and
    /// five backward, each with its own buffer and tape entry; this makes one of each, and keeps
    /// only the slopes σ(ℓ) for the backward pass.
    public static func bernoulliLogLikelihood(logits: Tensor, observations x: Tensor) -> Tensor {
        precondition(logits.rank == 2 && x.shape == logits.shape,
                     "bernoulliLogLikelihood needs logits and observations of one shape [rows, columns]; got \(logits.shape), \(x.shape)")
        let rows = logits.shape[0], columns = logits.shape[1]
        let records = GradientMode.isRecording && (logits.requiresGradient || x.requiresGradient)
        var slopes: [Float] = records ? uninitializedBuffer(logits.count) : []
        let sums = rowLogLikelihoods(logits: logits, observations: x, rows: rows, columns: columns, slopes: &slopes)
        return Tensor(shape: [rows], storage: sums.map { Float($0) }, inputs: [logits, x]) { output in
            let g = output.gradient!
            if logits.requiresGradient {
                logits.accumulateGradient(logitGradient(g, observations: x.storage, slopes: slopes, rows: rows, columns: columns),
                                          shape: logits.shape)
            }
            if x.requiresGradient {
                x.accumulateGradient(observationGradient(g, logits: logits.storage, rows: rows, columns: columns), shape: x.shape)
            }
        }
    }

    /// ``bernoulliLogLikelihood(logits:observations:)`` without recording, each row's sum kept in
    /// Double (as `rowSumsInDouble` keeps the composition's): for evaluations that sum many terms.
    public static func bernoulliLogLikelihoodInDouble(logits: Tensor, observations x: Tensor) -> [Double] {
        precondition(logits.rank == 2 && x.shape == logits.shape,
                     "bernoulliLogLikelihood needs logits and observations of one shape [rows, columns]; got \(logits.shape), \(x.shape)")
        var slopes: [Float] = []
        return rowLogLikelihoods(logits: logits, observations: x, rows: logits.shape[0], columns: logits.shape[1], slopes: &slopes)
    }

    /// Σⱼ Double(xⱼ ℓⱼ − softplus(ℓⱼ)) of each row, rows shared out over the threads; σ(ℓ) into
    /// `slopes` when it is not empty.
    private static func rowLogLikelihoods(logits: Tensor, observations x: Tensor, rows: Int, columns: Int,
                                          slopes: inout [Float]) -> [Double] {
        var sums = [Double](repeating: 0, count: rows)
        guard rows > 0, columns > 0 else { return sums }
        // softplus(ℓ), computed block by block of rows into one scratch buffer, by the kernel
        // `softplus()` uses (the same value for each element wherever it lies in a block).
        var softplus = uninitializedBuffer(logits.count)
        logits.storage.withUnsafeBufferPointer { l in
            x.storage.withUnsafeBufferPointer { x in
                softplus.withUnsafeMutableBufferPointer { sp in
                    slopes.withUnsafeMutableBufferPointer { d in
                        sums.withUnsafeMutableBufferPointer { sums in
                            let l = l.baseAddress!, x = x.baseAddress!, sp = sp.baseAddress!, sums = sums.baseAddress!
                            // (An empty array's buffer can have a base address: its shared empty storage.)
                            let slopeBase = d.isEmpty ? nil : d.baseAddress
                            Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, Parallel.minimumChunk / columns)) { range in
                                let offset = range.lowerBound * columns, count = range.count * columns
                                PointwiseActivation.softplus.evaluateSerially(l + offset, into: sp + offset,
                                                                              slopes: slopeBase.map { $0 + offset }, count: count)
                                for row in range {
                                    let start = row * columns
                                    var total = 0.0
                                    for j in start..<(start + columns) { total += Double(x[j] * l[j] - sp[j]) }
                                    sums[row] = total
                                }
                            }
                        }
                    }
                }
            }
        }
        return sums
    }

    /// ∂/∂ℓ = g x − g σ(ℓ) of every element (g the row's incoming gradient), rows shared out over
    /// the threads.
    private static func logitGradient(_ g: [Float], observations x: [Float], slopes: [Float], rows: Int, columns: Int) -> [Float] {
        var gradient = uninitializedBuffer(rows * columns)
        guard rows > 0, columns > 0 else { return gradient }
        g.withUnsafeBufferPointer { g in
            x.withUnsafeBufferPointer { x in
                slopes.withUnsafeBufferPointer { slope in
                    gradient.withUnsafeMutableBufferPointer { out in
                        let g = g.baseAddress!, x = x.baseAddress!, slope = slope.baseAddress!, out = out.baseAddress!
                        Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, Parallel.minimumChunk / columns)) { range in
                            for row in range {
                                let gr = g[row], start = row * columns
                                // The composition's two terms, g·x from the product and (−g)·σ(ℓ)
                                // from the softplus, added.
                                for j in start..<(start + columns) { out[j] = gr * x[j] + -gr * slope[j] }
                            }
                        }
                    }
                }
            }
        }
        return gradient
    }

    /// ∂/∂x = g ℓ of every element.
    private static func observationGradient(_ g: [Float], logits l: [Float], rows: Int, columns: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * columns) { out, initialized in
            for row in 0..<rows {
                for j in (row * columns)..<((row + 1) * columns) { out[j] = g[row] * l[j] }
            }
            initialized = rows * columns
        }
    }
}
