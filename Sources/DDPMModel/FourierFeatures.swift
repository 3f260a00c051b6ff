import Core
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Fourier features of the diffused input z (VDM §3.4): for each exponent n, sin(2ⁿ·2π z) and
/// cos(2ⁿ·2π z) of every element, stacked on as extra inputs of the ε-network. They let the
/// network see the fine structure of z at small noise — where z_t is within a fraction of a
/// bin of the data — which a smooth network of z alone resolves poorly, and which the small-t
/// terms of the ELBO price. docs/math.md#fourier-features
///
/// Layout: `x` [rows, P·C] (P pixels of C channels in NHWC order; an MLP's row is one "pixel"
/// of D channels) → [rows, P·C·(1 + 2k)] with each pixel's channels
/// [z (C) | sin at each n (k·C) | cos at each n (k·C)]: the image layout the U-Net expects with
/// C·(1 + 2k) input channels, and a plain wider row for an MLP.
public struct FourierFeatures: Sendable, Equatable {
    /// The exponents n of the frequencies 2ⁿ·2π.
    public let exponents: [Int]
    /// C: channels per pixel.
    public let channels: Int

    public init(exponents: [Int], channels: Int) {
        precondition(!exponents.isEmpty && channels >= 1, "Fourier features need an exponent and a channel")
        self.exponents = exponents
        self.channels = channels
    }

    /// Input channels of the network after stacking: C·(1 + 2k).
    public var outputChannels: Int { channels * (1 + 2 * exponents.count) }

    /// VDM's choice for data on `levels` levels of [−1, 1] (bin width Δ = 2/(levels − 1)): the
    /// two exponents below and at n* = round(log₂(1/Δ)), whose highest frequency has a period
    /// of about one bin (n* = 7 for 256 levels: VDM's 6 and 7). `nil` when fewer than 3 levels
    /// (binary data have no fine structure to resolve).
    public static func exponents(forLevels levels: Int) -> [Int]? {
        guard levels >= 3 else { return nil }
        let top = Int((log2(Double(levels - 1) / 2)).rounded())
        return [top - 1, top]
    }

    /// `x` [rows, P·C] → [rows, P·C·(1 + 2k)], differentiable in x.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let rows = x.shape[0], width = x.shape[1]
        precondition(width % channels == 0, "a row of \(width) values is no whole number of \(channels)-channel pixels")
        let pixels = rows * (width / channels)
        let z = x.reshaped([pixels, channels])
        var sines: [Tensor] = [], cosines: [Tensor] = []
        for n in exponents {
            let angle = z * Float(pow(2, Double(n)) * 2 * Double.pi)
            sines.append(angle.sine())
            cosines.append(angle.cosine())
        }
        return Tensor.concatenate([z] + sines + cosines, axis: 1).reshaped([rows, width * (1 + 2 * exponents.count)])
    }
}
