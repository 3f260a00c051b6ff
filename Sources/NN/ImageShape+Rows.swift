import Core
import Tensor

/// The two views of the same data that convolutional models move between: dataset rows
/// [N, D] and NHWC images [N, H, W, C], D = H · W · C. A row IS its image in memory order, so
/// the view of the input is a reshape; per-pixel parameter maps need their channels regrouped.
extension ImageShape {
    /// Rows x [N, D] viewed as images [N, H, W, C] (same memory, no copy of the order).
    public func images(_ rows: Tensor) -> Tensor {
        precondition(rows.rank == 2 && rows.shape[1] == dimension, "expected rows [N, \(dimension)] for images of \(self), got \(rows.shape)")
        return rows.reshaped([rows.shape[0], height, width, channels])
    }

    /// Per-pixel parameter maps [N, H, W, k·C] (channel j·C + c is parameter j of channel c) →
    /// rows [N, k·D] laid out [parameter 1 (D) | … | parameter k (D)], each block in image order:
    /// the layout ``Likelihood`` reads from every decoder (Likelihood+Decoder.swift).
    public func parameterRows(_ maps: Tensor, parameters k: Int) -> Tensor {
        let n = maps.shape[0]
        precondition(maps.shape == [n, height, width, k * channels], "expected maps [N, \(height), \(width), \(k * channels)], got \(maps.shape)")
        if k == 1 { return maps.reshaped([n, dimension]) }
        let blocks = (0..<k).map { j in maps.slice(axis: 3, (j * channels)..<((j + 1) * channels)).reshaped([n, dimension]) }
        return Tensor.concatenate(blocks, axis: 1)
    }
}
