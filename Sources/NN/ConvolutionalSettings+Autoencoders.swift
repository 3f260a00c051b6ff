extension ConvolutionalSettings {
    /// Residual blocks per resolution in each path of a convolutional VAE or hierarchical VAE
    /// (the encoder or bottom-up path, and the decoder or top-down path): ⌈B/2⌉ for
    /// B = ``residualBlocks``.
    ///
    /// B counts the blocks a resolution has along the whole way x → z → x, shared by the two
    /// paths (a U-Net's data pass through B + (B + 1) blocks per resolution, an autoencoder's
    /// through the encoder's and the decoder's), rounded up so that every path has at least one.
    /// The default B = 2 gives one block per resolution on each side: the ResNet VAE of the
    /// `convvae28` benchmark workload, which its PyTorch and JAX peers implement alike.
    public var autoencoderBlocksPerLevel: Int { (residualBlocks + 1) / 2 }
}
