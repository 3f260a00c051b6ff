import Core

/// The sizes of a model's convolutional networks (`--architecture conv`), stored with the
/// model's configuration under the key `convolution`.
///
/// The networks work at `channelMultipliers.count` resolutions: the image's, then each halved
/// by a stride-2 convolution (28 → 14 → 7 for three). Resolution r has
/// `baseChannels · channelMultipliers[r]` channels and `residualBlocks` residual blocks.
/// Defaults: improved-diffusion's U-Net scaled for a CPU — 32 base channels, multipliers
/// (1, 2, 2), two residual blocks per resolution, GroupNorm with 8 groups.
public struct ConvolutionalSettings: Codable, Equatable, Sendable {
    /// The images the networks take.
    public var image: ImageShape
    /// Channels at the first resolution.
    public var baseChannels: Int
    /// Channel multiplier of each resolution, first (full size) to last.
    public var channelMultipliers: [Int]
    /// Residual blocks per resolution.
    public var residualBlocks: Int
    /// Groups of every group normalization.
    public var normalizationGroups: Int

    public init(image: ImageShape, baseChannels: Int = 32, channelMultipliers: [Int] = [1, 2, 2],
                residualBlocks: Int = 2, normalizationGroups: Int = 8) {
        self.image = image
        self.baseChannels = baseChannels
        self.channelMultipliers = channelMultipliers
        self.residualBlocks = residualBlocks
        self.normalizationGroups = normalizationGroups
    }

    /// The number of resolutions.
    public var levels: Int { channelMultipliers.count }
    /// Channels at resolution `level`.
    public func channels(level: Int) -> Int { baseChannels * channelMultipliers[level] }
    /// Height and width at resolution `level`: each stride-2 convolution maps e to ⌊(e − 1)/2⌋ + 1.
    public func extent(level: Int) -> (height: Int, width: Int) {
        var (h, w) = (image.height, image.width)
        for _ in 0..<level { h = (h - 1) / 2 + 1; w = (w - 1) / 2 + 1 }
        return (h, w)
    }

    /// Refuses sizes that cannot build (one line naming the option), `model` prefixing it.
    public func validate(model: String) throws {
        func fail(_ message: String) -> ModelError { ModelError.invalidConfiguration("\(model): \(message)") }
        guard image.height >= 1, image.width >= 1, image.channels >= 1 else { throw fail("the image shape \(image) has an empty axis") }
        guard baseChannels >= 1 else { throw fail("the base channel count must be at least 1, got \(baseChannels)") }
        guard !channelMultipliers.isEmpty, channelMultipliers.allSatisfy({ $0 >= 1 }) else {
            throw fail("channel multipliers must be one or more positive integers, got \(channelMultipliers)")
        }
        guard residualBlocks >= 1 else { throw fail("residual blocks per resolution must be at least 1, got \(residualBlocks)") }
        guard normalizationGroups >= 1 else { throw fail("normalization groups must be at least 1, got \(normalizationGroups)") }
        for level in 0..<levels where channels(level: level) % normalizationGroups != 0 {
            throw fail("\(channels(level: level)) channels at resolution \(level + 1) do not split into \(normalizationGroups) normalization groups")
        }
        guard baseChannels % normalizationGroups == 0 else {
            throw fail("\(baseChannels) base channels do not split into \(normalizationGroups) normalization groups")
        }
        // The decoder path doubles each halved extent back: every halving must be exact.
        for level in 0..<(levels - 1) {
            let (h, w) = extent(level: level)
            guard h % 2 == 0, w % 2 == 0 else {
                throw fail("images of \(image) cannot be halved \(levels - 1) times (\(h)×\(w) at resolution \(level + 1) is odd); use fewer channel multipliers")
            }
        }
        let largest = 1 << 20
        guard image.dimension <= largest * 16, baseChannels * (channelMultipliers.max() ?? 1) <= 65_536 else {
            throw fail("image \(image) or channels \(baseChannels)×\(channelMultipliers) beyond any machine")
        }
    }
}

extension ConvolutionalSettings {
    /// The check every model's configuration makes: a convolutional architecture needs its
    /// settings, for images of D values; an MLP one takes none. `model` prefixes the message.
    public static func validate(_ convolution: ConvolutionalSettings?, for architecture: NetworkArchitecture,
                                model: String, dataDimension: Int) throws {
        switch architecture {
        case .mlp:
            if convolution != nil { throw ModelError.invalidConfiguration("\(model): convolution settings are given for an MLP architecture") }
        case .conv:
            guard let convolution else { throw ModelError.invalidConfiguration("\(model): the conv architecture needs convolution settings (the image shape)") }
            try convolution.validate(model: model)
            guard convolution.image.dimension == dataDimension else {
                throw ModelError.invalidConfiguration("\(model): images of \(convolution.image) hold \(convolution.image.dimension) values, the data have \(dataDimension)")
            }
        }
    }
}
