import Core
import DDPMModel
import HVAEModel
import NN
import VAEModel

/// The architecture of a configuration computed from its sizes alone — nothing is allocated,
/// so a configuration edited to huge sizes can be checked against a checkpoint's stored
/// parameters (``ModelConfiguration/restoreModel(parameters:)``) and costed
/// (``ModelConfiguration/trainingBytes(batchSize:evaluationExamples:)``) before a model is built.
///
/// Each case mirrors its model's initializer (VAE.swift, HVAE.swift, DDPM.swift); TrainingTests
/// hold ``parameterShapes`` equal to the built model's `namedParameters` for every model kind,
/// inference and variance, so the two cannot drift apart.
extension ModelConfiguration {
    /// Every MLP of the model: its key prefix and its layer sizes `[inputs, hidden…, outputs]`,
    /// in the order the model draws their weights.
    public var networks: [(prefix: String, sizes: [Int])] {
        switch self {
        case .vae(let c) where c.architecture == .conv:
            return []
        case .hvae(let c) where c.architecture == .conv:
            return []
        case .vae(let c):
            return [("encoder", c.encoderSizes), ("decoder", c.decoderSizes)]
        case .hvae(let c):
            let sizes = c.latentSizes, hidden = c.hiddenSizes, layers = sizes.count
            var result: [(String, [Int])] = []
            switch c.inference {
            case .bottomUp:
                for i in 0..<layers {
                    result.append(("encoder.posteriors.\(i)", [i == 0 ? c.dataDimension : sizes[i - 1]] + hidden + [2 * sizes[i]]))
                }
            case .topDown:
                if let last = hidden.last {
                    for i in 0..<layers { result.append(("encoder.deterministic.\(i)", [i == 0 ? c.dataDimension : last] + hidden)) }
                }
                let feature = hidden.last ?? c.dataDimension
                for i in 0..<layers {
                    result.append(("encoder.posteriors.\(i)", [i == layers - 1 ? feature : feature + sizes[i + 1]] + hidden + [2 * sizes[i]]))
                }
            }
            for i in 0..<Swift.max(0, layers - 1) {
                result.append(("decoder.priors.\(i)", [sizes[i + 1]] + hidden + [2 * sizes[i]]))
            }
            result.append(("decoder.output", [sizes[0]] + hidden + [c.likelihood.outputsPerDimension * c.dataDimension]))
            return result
        case .ddpm(let c) where c.architecture == .conv:
            return []
        case .ddpm(let c):
            let outputs = c.variance == .learnedRange ? 2 * c.dataDimension : c.dataDimension
            return [("denoiser", [c.networkInputWidth + c.embeddingDimension] + c.hiddenSizes + [outputs])]
        }
    }

    /// The key and shape of every parameter the model of this configuration has (weights
    /// [outputs, inputs], biases [outputs]), without building it.
    public var parameterShapes: [(key: String, shape: [Int])] {
        convolutionalParameterShapes + networks.flatMap { network in
            zip(network.sizes.dropLast(), network.sizes.dropFirst()).enumerated().flatMap { index, pair in
                [("\(network.prefix).layers.\(index).weight", [pair.1, pair.0]),
                 ("\(network.prefix).layers.\(index).bias", [pair.1])]
            }
        } + scheduleParameterShapes
    }

    /// A continuous-time DDPM's learned schedule (after its ε-network, as the model declares them).
    var scheduleParameterShapes: [(key: String, shape: [Int])] {
        guard case .ddpm(let c) = self, let settings = c.continuousTime else { return [] }
        return prefixed("schedule", LogSNRSchedule.parameterShapes(settings: settings))
    }

    /// The parameters of convolutional networks (none for MLP configurations), from the same
    /// plans their initializers follow.
    var convolutionalParameterShapes: [(key: String, shape: [Int])] {
        switch self {
        case .ddpm(let c) where c.architecture == .conv:
            guard let settings = c.convolution else { return [] }
            let outputs = (c.variance == .learnedRange ? 2 : 1) * settings.image.channels
            return prefixed("denoiser", UNet.parameterShapes(settings: settings, embeddingDimension: c.embeddingDimension, outputChannels: outputs,
                                                             inputChannels: c.fourierFeatures?.outputChannels))
        case .vae(let c) where c.architecture == .conv:
            return c.convolutionalParameterShapes
        case .hvae(let c) where c.architecture == .conv:
            return c.convolutionalParameterShapes
        default:
            return []
        }
    }

    /// Floats of activation per example of a training pass through convolutional networks
    /// (0 for MLP configurations, whose widths ``networks`` lists).
    var convolutionalActivationsPerExample: Int {
        switch self {
        case .ddpm(let c) where c.architecture == .conv:
            return c.convolution.map { UNet.activationsPerExample(settings: $0) } ?? 0
        case .vae(let c) where c.architecture == .conv:
            return c.convolutionalActivationsPerExample
        case .hvae(let c) where c.architecture == .conv:
            return c.convolutionalActivationsPerExample
        default:
            return 0
        }
    }

    /// Refuses stored parameters that do not fit this configuration: a missing key, a shape
    /// that differs, or (with `strict`) a key the model does not have — checked in the order
    /// of ``parameterShapes``, before anything is allocated.
    ///
    /// - Throws: ``ModelError/invalidState(_:)`` naming the first key that does not fit.
    public func checkStoredShapes(_ stored: [NamedTensor], strict: Bool = true) throws {
        let byKey = Dictionary(stored.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let expected = parameterShapes
        for (key, shape) in expected {
            guard let saved = byKey[key] else { throw ModelError.invalidState("the checkpoint has no parameter '\(key)' (its config needs one of shape \(shape))") }
            let count = shape.reduce(1.0) { $0 * Double($1) }
            guard saved.shape == shape, Double(saved.values.count) == count else {
                throw ModelError.invalidState("parameter '\(key)' has shape \(saved.shape) in the checkpoint, its config needs \(shape)")
            }
        }
        if strict {
            let keys = Set(expected.map(\.key))
            if let extra = stored.first(where: { !keys.contains($0.key) }) {
                throw ModelError.invalidState("the checkpoint has a parameter '\(extra.key)' its config does not")
            }
        }
    }
}
