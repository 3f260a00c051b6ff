import Core
import NN
import Tensor

/// The top-down ResNet hierarchy of a convolutional ``HVAE`` (a small VDVAE / NVAE: Child 2021;
/// Vahdat & Kautz 2020), with top-down inference:
///
///   bottom-up:  f_ℓ = features of x at resolution ℓ (``BottomUpResNet``)
///   top-down:   h = h₀;  for each layer i from the top (``ConvolutionalHVAEDecoder`` gives the path):
///                 p(zᵢ | z_{>i}) = N(μ_p, σ_p²),  [μ_p | log σ_p²] = prior head(h)   (N(0, I) for z_L)
///                 q(zᵢ | z_{>i}, x) = N(μ_p + Δμ, exp(log σ_p² + Δlog σ²)),
///                     [Δμ | Δlog σ²] = posterior head(concat[h, f_ℓ(i)])
///                 zᵢ ~ q;  h = ResBlock(h + conv1×1(zᵢ))
///               decoder head at full resolution → the parameters of p(x | z₁)
///
/// Both Gaussians of a layer condition on the same z_{>i} (through h), so each layer's KL is in
/// closed form, as for the MLP's top-down inference. Every map [rows, H, W, s] is flattened to a
/// row [rows, H·W·s] (NHWC order) when a ``DiagonalGaussian`` is formed, so ``HVAE/Pass`` and every
/// estimator read the maps like the MLP's vectors.
extension HVAE {
    var convolutionalEncoder: ConvolutionalHVAEEncoder { encoder as! ConvolutionalHVAEEncoder }
    var convolutionalDecoder: ConvolutionalHVAEDecoder { decoder as! ConvolutionalHVAEDecoder }

    /// The per-example part of inference: the bottom-up features f_ℓ [batch, H_ℓ, W_ℓ, c_ℓ] of
    /// every resolution holding a latent map, from ``ConvolutionalHVAEPlan/firstLatentLevel`` on.
    func convolutionalContext(_ x: Tensor) -> [Tensor] {
        let plan = convolutionalPlan!
        let features = convolutionalEncoder.bottomUp.features(plan.settings.image.images(x))
        return Array(features[plan.firstLatentLevel...])
    }

    /// The Gaussian of a [rows, H, W, 2s] map of [μ | log σ²], flattened to rows [rows, H·W·s].
    private func gaussian(maps: Tensor, channels s: Int) -> DiagonalGaussian {
        let rows = maps.shape[0]
        return DiagonalGaussian(mean: maps.slice(axis: 3, 0..<s).reshaped([rows, -1]),
                                logVariance: maps.slice(axis: 3, s..<(2 * s)).reshaped([rows, -1]).guarded(to: LogScaleBounds.logVariance))
    }

    /// One top-down pass over `rows` rows. With `context` (``convolutionalContext(_:)`` rows)
    /// every zᵢ is drawn from q(zᵢ | z_{>i}, x); without, from the prior p(zᵢ | z_{>i}), and the
    /// pass's posteriors are the priors (sampling). With `given` latents nothing is drawn: the
    /// pass evaluates q and p at them (docs/math.md#sandwich-bounds).
    func convolutionalPass(context: [Tensor]?, rows: Int, given: [Tensor]? = nil, using generator: inout RandomGenerator) -> Pass {
        let plan = convolutionalPlan!, encoder = convolutionalEncoder, decoder = convolutionalDecoder
        let layers = plan.layerCount, top = plan.levels - 1
        var latents = [Tensor?](repeating: nil, count: layers)
        var posteriors = [DiagonalGaussian?](repeating: nil, count: layers)
        var priors = [DiagonalGaussian?](repeating: nil, count: layers)
        var h = decoder.topInput.broadcast(to: [rows] + Array(decoder.topInput.shape.dropFirst()))
        for (index, level) in stride(from: top, through: 0, by: -1).enumerated() {
            let extent = plan.extent(level: level)
            for i in plan.layers(at: level) {
                let s = plan.latentChannels[i]
                let priorMaps: Tensor? = i < layers - 1 ? decoder.priors[i](h) : nil
                let prior = priorMaps.map { gaussian(maps: $0, channels: s) }
                    ?? DiagonalGaussian.standard(shape: [rows, plan.latentDimension(layer: i)])
                var q = prior
                if let context {
                    let features = context[level - plan.firstLatentLevel]
                    let delta = encoder.posteriors[i](Tensor.concatenate([h, features], axis: 3))
                    q = gaussian(maps: priorMaps.map { $0 + delta } ?? delta, channels: s)
                }
                let z = given?[i] ?? q.sample(using: &generator)
                latents[i] = z
                posteriors[i] = q
                priors[i] = prior
                h = decoder.latentBlocks[i](h + decoder.latentProjections[i](z.reshaped([rows, extent.height, extent.width, s])))
            }
            for block in decoder.blocks[(index * plan.blocksPerLevel)..<((index + 1) * plan.blocksPerLevel)] { h = block(h) }
            if level > 0 { h = decoder.upsamplers[index](h) }
        }
        let output = decoder.outputConvolution(decoder.outputNorm(h, activation: .silu))
        return Pass(latents: latents.map { $0! }, posteriors: posteriors.map { $0! }, priors: priors.map { $0! },
                    decoderOutput: plan.settings.image.parameterRows(output, parameters: likelihood.outputsPerDimension))
    }

    /// `count` draws x ~ p(x | z₁), z ~ p(z_{1:L}) top-down, in chunks of at most
    /// ``maximumRowsPerChunk(_:)`` images: [count, D], with the latents z₁ … z_L that generated them.
    func convolutionalSample(count: Int, using generator: inout RandomGenerator) -> (samples: Tensor, latents: [Tensor]) {
        GradientMode.withoutRecording {
            let perChunk = Self.maximumRowsPerChunk(.conv)
            var parts: [Tensor] = []
            var latentParts: [[Tensor]] = []
            var start = 0
            repeat {
                let rows = Swift.min(count - start, perChunk)
                let pass = convolutionalPass(context: nil, rows: rows, using: &generator)
                parts.append(likelihood.sample(decoderOutput: pass.decoderOutput, dimension: dataDimension, using: &generator))
                latentParts.append(pass.latents)
                start += rows
            } while start < count
            if parts.count == 1 { return (parts[0], latentParts[0]) }
            let latents = latentParts[0].indices.map { i in Tensor.concatenate(latentParts.map { $0[i] }, axis: 0) }
            return (Tensor.concatenate(parts, axis: 0), latents)
        }
    }
}
