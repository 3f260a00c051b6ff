import Core
import NN
import Tensor

/// ε_θ(x_t, t): the one network of a DDPM, mapping rows of x_t and their timestep embeddings
/// to ε̂ (and, with the learned-range variance, the interpolation v).
///
/// Shapes: `xt` [rows, D] (a row is an image in NHWC order for convolutional networks),
/// `embedding` [rows, E] → [rows, D] or [rows, 2D] laid out [ε̂ (D) | v (D)], whatever the
/// architecture, so that ``ReverseProcess`` reads every network alike.
public protocol DenoisingNetwork: Module {
    func denoise(_ xt: Tensor, embedding: Tensor) -> Tensor
}

/// The MLP ε-network: [x_t | e(t)] → hidden layers → ε̂ (and v). Parameter keys
/// `denoiser.layers.<i>.weight|bias`, as every MLP checkpoint has them.
extension MLP: DenoisingNetwork {
    public func denoise(_ xt: Tensor, embedding: Tensor) -> Tensor {
        self(Tensor.concatenate([xt, embedding], axis: 1))
    }
}

/// The U-Net ε-network on images: rows are viewed as [rows, H, W, C_in] (the same memory; C_in
/// is C, or more with ``FourierFeatures`` stacked on), and its C (or 2C) output channels are
/// laid out as rows [ε̂ | v] again.
extension UNet: DenoisingNetwork {
    public func denoise(_ xt: Tensor, embedding: Tensor) -> Tensor {
        let rows = xt.shape[0], image = settings.image
        let output = self(xt.reshaped([rows, image.height, image.width, inputChannels]), embedding: embedding)
        if outputChannels == image.channels { return output.reshaped([rows, image.dimension]) }
        let epsilon = output.slice(axis: 3, 0..<image.channels).reshaped([rows, image.dimension])
        let interpolation = output.slice(axis: 3, image.channels..<(2 * image.channels)).reshaped([rows, image.dimension])
        return Tensor.concatenate([epsilon, interpolation], axis: 1)
    }
}
