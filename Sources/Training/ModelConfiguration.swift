import Core
import DDPMModel
import Foundation
import HVAEModel
import NN
import Tensor
import VAEModel

/// The configuration of any of the three models: what a checkpoint's `model` and `config`
/// attributes hold, and enough to rebuild the network.
public enum ModelConfiguration: Equatable, Sendable {
    case vae(VAEConfiguration)
    case hvae(HVAEConfiguration)
    case ddpm(DDPMConfiguration)

    /// Which model: the checkpoint's `model` attribute.
    public var kind: ModelKind {
        switch self {
        case .vae: return .vae
        case .hvae: return .hvae
        case .ddpm: return .ddpm
        }
    }

    /// The networks: perceptrons on rows or convolutional.
    public var architecture: NetworkArchitecture {
        switch self {
        case .vae(let c): return c.architecture
        case .hvae(let c): return c.architecture
        case .ddpm(let c): return c.architecture
        }
    }

    /// The largest size of any kind (a width, a latent size, D, T, E) a configuration may hold:
    /// 2⁴⁰, far beyond any machine's memory, so that sizes read from an edited checkpoint can be
    /// doubled and summed in `Int` (``networks``) without overflow; the memory limit refuses them
    /// long before.
    public static let maximumSize = 1 << 40

    /// Checks every option; throws ``ModelError/invalidConfiguration(_:)`` with one line.
    public func validate() throws {
        let sizes: [(String, [Int])]
        switch self {
        case .vae(let c):
            try c.validate()
            sizes = [("dataDimension", [c.dataDimension]), ("latentDimension", [c.latentDimension]), ("hiddenSizes", c.hiddenSizes)]
        case .hvae(let c):
            try c.validate()
            sizes = [("dataDimension", [c.dataDimension]), ("latentSizes", c.latentSizes), ("hiddenSizes", c.hiddenSizes)]
        case .ddpm(let c):
            try c.validate()
            sizes = [("dataDimension", [c.dataDimension]), ("timestepCount", [c.timestepCount]),
                     ("embeddingDimension", [c.embeddingDimension]), ("hiddenSizes", c.hiddenSizes),
                     ("learnedScheduleFeatures", c.continuousTime.map { [$0.learnedScheduleFeatures] } ?? [])]
        }
        for (name, values) in sizes {
            if let bad = values.first(where: { $0 > Self.maximumSize }) {
                throw ModelError.invalidConfiguration("\(kind.rawValue.uppercased()): \(name) \(bad) is beyond any machine (at most 2^40)")
            }
        }
    }

    /// A freshly initialized model, its weights drawn from `generator`.
    public func makeModel(using generator: inout RandomGenerator) throws -> any LatentVariableModel {
        switch self {
        case .vae(let c): return try VAE(configuration: c, using: &generator)
        case .hvae(let c): return try HVAE(configuration: c, using: &generator)
        case .ddpm(let c) where c.continuousTime != nil: return try ContinuousTimeDDPM(configuration: c, using: &generator)
        case .ddpm(let c): return try DDPM(configuration: c, using: &generator)
        }
    }

    /// The configuration as a JSON object with sorted keys (stable bytes for checkpoints).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        switch self {
        case .vae(let c): data = try encoder.encode(c)
        case .hvae(let c): data = try encoder.encode(c)
        case .ddpm(let c): data = try encoder.encode(c)
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Rebuilds a configuration from a checkpoint's `model` and `config` attributes.
    public init(kind name: String, json: String) throws {
        guard let kind = ModelKind(rawValue: name) else {
            throw ModelError.invalidState("unknown model '\(name)' (expected \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        try self.init(kind: kind, json: json)
    }

    /// Rebuilds a configuration of `kind` from the JSON of a checkpoint's `config` attribute.
    public init(kind: ModelKind, json: String) throws {
        let decoder = JSONDecoder()
        let data = Data(json.utf8)
        do {
            switch kind {
            case .vae: self = .vae(try decoder.decode(VAEConfiguration.self, from: data))
            case .hvae: self = .hvae(try decoder.decode(HVAEConfiguration.self, from: data))
            case .ddpm: self = .ddpm(try decoder.decode(DDPMConfiguration.self, from: data))
            }
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError.invalidState("the stored config of model '\(kind)' cannot be read: \(error)")
        }
    }
}

extension ModelConfiguration {
    /// The model with the given parameter values (from a checkpoint): built as for a fresh run,
    /// then every parameter overwritten by ``Module/load(_:strict:)`` (keys and shapes must match exactly).
    ///
    /// Nothing is built before the configuration is known to fit: it is validated, its
    /// ``parameterShapes`` (computed, not allocated) are held against the stored parameters — so
    /// a `config` edited to huge sizes is refused by the first key that differs — and the
    /// model's own memory (``modelBytes``: a DDPM's T-sized tables are in no stored shape) is held
    /// against ``MemoryBudget``.
    public func restoreModel(parameters: [NamedTensor]) throws -> any LatentVariableModel {
        try validate()
        try checkStoredShapes(parameters)
        if let refusal = try MemoryBudget.refusal(modelBytes, subject: "its config (\(summary))", what: "the model's parameters and tables") {
            throw ModelError.invalidState(refusal)
        }
        var generator = RandomGenerator(seed: 0)
        let model = try makeModel(using: &generator)
        try model.load(parameters)
        // A learned schedule's parameters must still give an increasing γ(t).
        if let continuous = model as? ContinuousTimeDDPM { try continuous.checkParameters() }
        return model
    }

    /// A one-line description of the options that shape the model, for reports.
    public var summary: String {
        switch self {
        case .vae(let c):
            return "latent \(c.latentDimension), " + Self.networkSummary(c.architecture, c.convolution, hidden: c.hiddenSizes, activation: c.activation)
        case .hvae(let c):
            let inference = c.inference == .bottomUp ? "bottom-up" : "top-down"
            return "latents \(c.latentSizes.map(String.init).joined(separator: ",")), \(inference), "
                + Self.networkSummary(c.architecture, c.convolution, hidden: c.hiddenSizes, activation: nil)
        case .ddpm(let c) where c.continuousTime != nil:
            let settings = c.continuousTime!
            let fourier = c.fourierExponents.isEmpty ? "" : ", Fourier features 2^\(c.fourierExponents.map(String.init).joined(separator: ","))"
            let ends = "γ = \(formatEndPoint(settings.startNegativeLogSNR)) to \(formatEndPoint(settings.endNegativeLogSNR))"
            return "continuous time (evaluated at T = \(c.timestepCount)), \(settings.schedule.rawValue) log-SNR schedule "
                + (settings.schedule == .learned ? "(initially \(ends)), " : "from \(ends), ")
                + Self.networkSummary(c.architecture, c.convolution, hidden: c.hiddenSizes, activation: nil, convolutionName: "U-Net") + fourier
        case .ddpm(let c):
            return "T = \(c.timestepCount), \(c.schedule.rawValue), \(c.variance.rawValue), loss \(c.loss.rawValue), "
                + Self.networkSummary(c.architecture, c.convolution, hidden: c.hiddenSizes, activation: nil, convolutionName: "U-Net")
                + (c.clipsPredictedStart ? ", x̂0 clipped to [-1, 1]" : "")
        }
    }

    /// An end point of a log-SNR schedule as the configuration holds it ("-13.3", "5").
    private func formatEndPoint(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// "hidden 128-128[, silu]" for MLPs; "ResNet|U-Net, channels 32×1,2,2, 2 blocks" for conv networks.
    static func networkSummary(_ architecture: NetworkArchitecture, _ convolution: ConvolutionalSettings?, hidden: [Int],
                               activation: Activation?, convolutionName: String = "ResNet") -> String {
        if architecture == .conv, let convolution {
            return "\(convolutionName), channels \(convolution.baseChannels)×\(convolution.channelMultipliers.map(String.init).joined(separator: ",")), "
                + "\(convolution.residualBlocks) blocks"
        }
        return "hidden \(hidden.map(String.init).joined(separator: "-"))" + (activation.map { ", \($0.rawValue)" } ?? "")
    }
}
