import Core
import NN
import Tensor

/// The variational autoencoder of Kingma & Welling (2014), "Auto-Encoding Variational Bayes".
///
/// - Encoder q(z | x) = N(μ(x), diag σ²(x)): a network x → [μ | log σ²] of size 2·latent.
/// - Prior p(z) = N(0, I).
/// - Decoder p(x | z): a network z → `likelihood.outputsPerDimension` · D parameters, read by
///   ``Likelihood`` (Gaussian (μ, log σ²), Bernoulli logits, or discretized Gaussian (μ, log σ)).
///
/// The networks are MLPs on rows, or for ``VAEConfiguration/architecture`` `.conv` ResNets on
/// the images (``ResNetEncoder``, ``ResNetDecoder``); both read and write rows, so everything
/// below is the same for the two.
///
/// Parameter keys: MLPs `encoder.layers.<i>.weight|bias` and `decoder.layers.<i>.weight|bias`
/// (weights [outputs, inputs]); ResNets `encoder.bottomUp.*`, `encoder.outputNorm.*`,
/// `encoder.output.*` and `decoder.input.*`, `decoder.blocks.<i>.*`, `decoder.upsamplers.<i>.*`,
/// `decoder.outputNorm.*`, `decoder.outputConvolution.*`. ``encoderParameterCount`` counts the
/// `encoder.` keys, ``decoderParameterCount`` the rest.
///
/// Estimators (all per example, in nats):
/// - ``elbo(_:using:)``: reconstruction log p(x | z) with one draw z ~ q(z | x), summed over
///   dimensions in Double; the KL term KL(q(z | x) ‖ N(0, I)) in closed form.
/// - ``logImportanceWeights(_:samples:using:)``: log p(x | z_k) + log N(z_k; 0, I) − log q(z_k | x)
///   for K independent draws z_k ~ q(z | x), every term evaluated at the drawn z_k.
public final class VAE: LatentVariableModel {
    /// x → [μ | log σ²] of q(z | x): an ``MLP`` or a ``ResNetEncoder``.
    public let encoder: any VAEEncoderNetwork
    /// z → likelihood parameters of p(x | z): an ``MLP`` or a ``ResNetDecoder``.
    public let decoder: any VAEDecoderNetwork
    /// The hyperparameters this model was built from.
    public let configuration: VAEConfiguration

    /// The number of rows (examples × samples) pushed through the networks at once by
    /// ``logImportanceWeights(_:samples:using:)`` and ``sample(count:using:)``, which bounds
    /// their memory: 65 536 rows for MLPs (a row costs a few KB of activations), 256 images for
    /// ResNets (an image costs a few hundred KB; 256 keep the convolutions' products efficient).
    public static func maximumRowsPerChunk(_ architecture: NetworkArchitecture) -> Int {
        architecture == .conv ? 256 : 65_536
    }

    /// A model with freshly initialized weights (PyTorch's default initialization), drawn from
    /// `generator`: first the encoder, then the decoder.
    ///
    /// The ResNets' residual blocks start as the identity (their second convolution is zero,
    /// ``ResidualBlock``'s `zeroInitializedOutput`): a fresh encoder and decoder are then plain
    /// conv–downsample/upsample stacks whose activations keep their scale whatever the number
    /// of blocks, so the first KL and reconstruction terms are moderate and every block is
    /// learned as a correction (Fixup, Zhang et al. 2019; the `zero_module` of improved-diffusion).
    /// The zero convolutions still receive gradients (their inputs are not zero), so nothing is
    /// frozen; the peers' default initialization trains too, and the benchmarks time steps only.
    /// - Throws: ``ModelError/invalidConfiguration(_:)`` when ``VAEConfiguration/validate()`` does.
    public init(configuration: VAEConfiguration, using generator: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        switch configuration.architecture {
        case .mlp:
            encoder = MLP(sizes: configuration.encoderSizes, activation: configuration.activation, using: &generator)
            decoder = MLP(sizes: configuration.decoderSizes, activation: configuration.activation, using: &generator)
        case .conv:
            // validate() guarantees the settings.
            let settings = configuration.convolution!
            encoder = ResNetEncoder(settings: settings, latentDimension: configuration.latentDimension, using: &generator)
            decoder = ResNetDecoder(settings: settings, latentDimension: configuration.latentDimension,
                                    outputsPerDimension: configuration.likelihood.outputsPerDimension, using: &generator)
        }
    }

    /// A model from given networks (closed-form tests use single-`Linear` MLPs, which are
    /// linear maps). Their layer sizes must be ``VAEConfiguration/encoderSizes`` and
    /// ``VAEConfiguration/decoderSizes``, and their activation the configuration's wherever
    /// an MLP has a hidden layer, so that the configuration rebuilds the same architecture.
    public init(configuration: VAEConfiguration, encoder: MLP, decoder: MLP) throws {
        try configuration.validate()
        guard configuration.architecture == .mlp else {
            throw ModelError.invalidConfiguration("VAE: MLP networks were given for a \(configuration.architecture.rawValue) configuration")
        }
        try Self.check(encoder, named: "encoder", sizes: configuration.encoderSizes, activation: configuration.activation)
        try Self.check(decoder, named: "decoder", sizes: configuration.decoderSizes, activation: configuration.activation)
        self.configuration = configuration
        self.encoder = encoder
        self.decoder = decoder
    }

    private static func check(_ network: MLP, named name: String, sizes: [Int], activation: Activation) throws {
        guard let first = network.layers.first else {
            throw ModelError.invalidConfiguration("VAE: the \(name) has no layers")
        }
        var actual = [first.inputCount]
        for (index, layer) in network.layers.enumerated() {
            if layer.inputCount != actual.last! {
                throw ModelError.invalidConfiguration("VAE: \(name) layer \(index) takes \(layer.inputCount) inputs, the previous layer gives \(actual.last!)")
            }
            actual.append(layer.outputCount)
        }
        guard actual == sizes else {
            throw ModelError.invalidConfiguration("VAE: the \(name) has layer sizes \(actual), the configuration needs \(sizes)")
        }
        if network.layers.count > 1 && network.activation != activation {
            throw ModelError.invalidConfiguration("VAE: the \(name) uses \(network.activation), the configuration \(activation)")
        }
    }

    // MARK: LatentVariableModel

    public var kind: ModelKind { .vae }
    public var likelihood: Likelihood { configuration.likelihood }
    public var dataDimension: Int { configuration.dataDimension }
    public var latentDimension: Int { configuration.latentDimension }
    public var latentLayerCount: Int { 1 }

    public var encoderParameterCount: Int {
        namedParameters.filter { $0.key.hasPrefix("encoder.") }.reduce(0) { $0 + $1.tensor.count }
    }

    public var decoderParameterCount: Int {
        namedParameters.filter { !$0.key.hasPrefix("encoder.") }.reduce(0) { $0 + $1.tensor.count }
    }

    /// q(z | x) for x [batch, D]: the encoder's output split into μ and log σ², each [batch, latent].
    public func posterior(_ x: Tensor) -> DiagonalGaussian {
        posterior(encoderOutput: encoder.encode(x))
    }

    private func posterior(encoderOutput h: Tensor) -> DiagonalGaussian {
        let k = configuration.latentDimension
        return DiagonalGaussian(mean: h.slice(axis: 1, 0..<k), logVariance: h.slice(axis: 1, k..<(2 * k)).guarded(to: LogScaleBounds.logVariance))
    }

    /// The decoder's output for z [batch, latent]: the parameters of p(x | z), [batch, k·D].
    public func decode(_ z: Tensor) -> Tensor { decoder.decode(z) }

    /// −ELBO averaged over the batch: one reparameterized draw z ~ q(z | x) per example for the
    /// reconstruction, closed-form KL(q(z | x) ‖ N(0, I)), weighted by β from
    /// ``VAEConfiguration/klWeight(step:)`` (1 unless a KL warm-up is configured).
    public func trainingLoss(_ x: Tensor, step: Int, using generator: inout RandomGenerator) -> Tensor {
        let q = posterior(x)
        let z = q.sample(using: &generator)
        let reconstruction = likelihood.logProbability(of: x, decoderOutput: decoder.decode(z))
        let kl = q.kl(to: DiagonalGaussian.standard(shape: q.shape))
        let beta = Float(configuration.klWeight(step: step))
        return (kl * beta - reconstruction).mean()
    }

    /// Per example: reconstruction log p(x | z) at one draw z ~ q(z | x) (Monte Carlo, summed in
    /// Double) and the closed-form KL(q(z | x) ‖ N(0, I)) as layer `z`. docs/math.md#evidence-lower-bound
    public func elbo(_ x: Tensor, using generator: inout RandomGenerator) -> ELBOTerms {
        GradientMode.withoutRecording {
            let q = posterior(x)
            let z = q.sample(using: &generator)
            let reconstruction = likelihood.logProbabilityInDouble(of: x, decoderOutput: decoder.decode(z))
            let kl = q.klPerElement(to: DiagonalGaussian.standard(shape: q.shape)).rowSumsInDouble()
            return ELBOTerms(reconstruction: reconstruction, layerNames: ["z"], layerKL: [kl])
        }
    }

    /// log w_k = log p(x | z_k) + log N(z_k; 0, I) − log q(z_k | x), z_k ~ q(z | x), k = 1…K
    /// (docs/math.md#importance-weighted-bound).
    ///
    /// The encoder runs once per example; its output and x are repeated K times into rows
    /// `k · batch + i`, processed in chunks of at most ``maximumRowsPerChunk(_:)`` rows.
    public func logImportanceWeights(_ x: Tensor, samples: Int, using generator: inout RandomGenerator) -> LogImportanceWeights {
        precondition(samples >= 1, "logImportanceWeights needs at least one sample")
        precondition(x.rank == 2 && x.shape[1] == dataDimension, "x must be [batch, \(dataDimension)], got \(x.shape)")
        let batch = x.shape[0]
        let total = samples * batch
        var values: [Double] = []
        values.reserveCapacity(total)
        GradientMode.withoutRecording {
            let encoded = encoder.encode(x)
            let perChunk = Self.maximumRowsPerChunk(configuration.architecture)
            var start = 0
            while start < total {
                let end = Swift.min(total, start + perChunk)
                let rows = (start..<end).map { $0 % batch }
                let xs = x.gather(rows: rows)
                let q = posterior(encoderOutput: encoded.gather(rows: rows))
                let z = q.sample(using: &generator)
                let reconstruction = likelihood.logProbabilityInDouble(of: xs, decoderOutput: decoder.decode(z))
                let prior = DiagonalGaussian.standard(shape: z.shape).logDensityPerElement(z).rowSumsInDouble()
                let proposal = q.logDensityPerElement(z).rowSumsInDouble()
                for r in 0..<(end - start) { values.append(reconstruction[r] + prior[r] - proposal[r]) }
                start = end
            }
        }
        return LogImportanceWeights(samples: samples, batch: batch, values: values)
    }

    /// `count` draws x ~ p(x | z), z ~ N(0, I): [count, D], decoded in chunks of at most
    /// ``maximumRowsPerChunk(_:)`` rows (each chunk draws its z, then its x).
    public func sample(count: Int, using generator: inout RandomGenerator) -> Tensor {
        ancestralDraws(count: count, weighted: false, using: &generator).samples
    }

    /// Samples as ``sample(count:using:)`` with log w(z*) = log p(x | z*) + log N(z*; 0, I) − log q(z* | x)
    /// at the z* that generated each x (docs/math.md#sandwich-bounds).
    public func ancestralSample(count: Int, using generator: inout RandomGenerator) -> AncestralSample {
        let draws = ancestralDraws(count: count, weighted: true, using: &generator)
        return AncestralSample(samples: draws.samples, generatingLogWeights: draws.logWeights!)
    }

    /// The one sampling loop; `weighted` adds the generating weights, which draw no random numbers.
    private func ancestralDraws(count: Int, weighted: Bool, using generator: inout RandomGenerator) -> (samples: Tensor, logWeights: [Double]?) {
        GradientMode.withoutRecording {
            let perChunk = Self.maximumRowsPerChunk(configuration.architecture)
            var parts: [Tensor] = []
            var logWeights: [Double] = []
            var start = 0
            repeat {
                let rows = Swift.min(count - start, perChunk)
                let z = Tensor.randomNormal(shape: [rows, configuration.latentDimension], using: &generator)
                let decoded = decoder.decode(z)
                let x = likelihood.sample(decoderOutput: decoded, dimension: dataDimension, using: &generator)
                parts.append(x)
                if weighted {
                    let reconstruction = likelihood.logProbabilityInDouble(of: x, decoderOutput: decoded)
                    let prior = DiagonalGaussian.standard(shape: z.shape).logDensityPerElement(z).rowSumsInDouble()
                    let proposal = posterior(x).logDensityPerElement(z).rowSumsInDouble()
                    for r in 0..<rows { logWeights.append(reconstruction[r] + prior[r] - proposal[r]) }
                }
                start += rows
            } while start < count
            let samples = parts.count == 1 ? parts[0] : Tensor.concatenate(parts, axis: 0)
            return (samples, weighted ? logWeights : nil)
        }
    }
}
