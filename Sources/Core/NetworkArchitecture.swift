/// The family of networks inside a model (`--architecture`): multilayer perceptrons on
/// flattened rows, or convolutional networks on images.
public enum NetworkArchitecture: String, Codable, Sendable, CaseIterable {
    /// Multilayer perceptrons on rows of D values: the toy and 8×8 data's default.
    case mlp
    /// Convolutional networks on NHWC images (a U-Net ε-network for the DDPM, ResNets for the
    /// VAE and hierarchical VAE): the default for images of 28×28 or larger.
    case conv
}

/// The height, width and channels of the images a convolutional network takes. A dataset row
/// of D = height · width · channels values is one image in NHWC order (for one channel, the
/// row-major image itself).
public struct ImageShape: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int

    public init(height: Int, width: Int, channels: Int = 1) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// The image shape of a dataset's example shape: [H, W] (one channel) or [H, W, C]; `nil`
    /// for anything else (points, vectors).
    public init?(exampleShape: [Int]) {
        switch exampleShape.count {
        case 2: self.init(height: exampleShape[0], width: exampleShape[1])
        case 3: self.init(height: exampleShape[0], width: exampleShape[1], channels: exampleShape[2])
        default: return nil
        }
        guard height >= 1, width >= 1, channels >= 1 else { return nil }
    }

    /// D = height · width · channels.
    public var dimension: Int { height * width * channels }

    public var description: String { channels == 1 ? "\(height)×\(width)" : "\(height)×\(width)×\(channels)" }
}
