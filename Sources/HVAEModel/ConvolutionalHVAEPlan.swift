import Core
import NN

/// Where every part of a convolutional ``HVAE`` lives, worked out once from its configuration
/// for the initializer, ``HVAEConfiguration/convolutionalParameterShapes`` and the activation
/// estimate alike.
///
/// With R = ``ConvolutionalSettings/levels`` resolutions and L latent layers:
/// - latent layer i (0-based, z_{i+1}; z₁ nearest the data) is a map of `latentSizes[i]`
///   channels at resolution ℓ(i) = min(i + 1, R − 1): with the default multipliers (1, 2, 2) on
///   28×28, z₁ at 14×14 and z₂ (and any further layer) at 7×7. The full resolution holds no latent
///   map unless R = 1: per-pixel latents at full size would mostly copy pixels (VDVAE's
///   lowest latent resolutions lie below the image's too);
/// - both paths go down to the top layer's resolution only: ``levels`` = ℓ(L − 1) + 1 (a
///   resolution below it would be computed from a constant and read by no posterior);
/// - each path has ``blocksPerLevel`` = ⌈B/2⌉ residual blocks per resolution
///   (``ConvolutionalSettings/autoencoderBlocksPerLevel``), and the top-down path one more
///   after each latent layer's merge.
public struct ConvolutionalHVAEPlan: Equatable, Sendable {
    public let settings: ConvolutionalSettings
    /// s_i: the channels of latent map i, z₁ first.
    public let latentChannels: [Int]
    /// ℓ(i) = min(i + 1, R − 1) for every layer.
    public let latentLevels: [Int]
    /// Resolutions built: 0 … ℓ(L − 1).
    public let levels: Int
    public let blocksPerLevel: Int

    public init(settings: ConvolutionalSettings, latentSizes: [Int]) {
        self.settings = settings
        latentChannels = latentSizes
        latentLevels = latentSizes.indices.map { Swift.min($0 + 1, settings.levels - 1) }
        levels = (latentLevels.last ?? 0) + 1
        blocksPerLevel = settings.autoencoderBlocksPerLevel
    }

    public var layerCount: Int { latentChannels.count }
    /// The lowest-index resolution holding a latent map: bottom-up features from here on are read.
    public var firstLatentLevel: Int { latentLevels.first ?? 0 }
    public func channels(level: Int) -> Int { settings.channels(level: level) }
    public func extent(level: Int) -> (height: Int, width: Int) { settings.extent(level: level) }
    public func pixels(level: Int) -> Int { let e = extent(level: level); return e.height * e.width }
    /// The latent layers at resolution `level`, top first (the order of the top-down pass).
    public func layers(at level: Int) -> [Int] { latentLevels.indices.filter { latentLevels[$0] == level }.reversed() }
    /// The width of latent layer i flattened to a row: H_ℓ · W_ℓ · s_i.
    public func latentDimension(layer i: Int) -> Int { pixels(level: latentLevels[i]) * latentChannels[i] }
}
