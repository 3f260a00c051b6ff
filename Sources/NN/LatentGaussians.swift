/// The Gaussian q(z_layer | x) = N(mean, diag variance) of one latent layer for each of n
/// examples, in Double: what lesson 3's bounds on I(x0; z) read from a model
/// (docs/math.md#mutual-information-bounds).
///
/// Shapes: ``means`` and ``variances`` are [n][k], k the layer's size.
public struct LatentGaussians: Sendable, Equatable {
    public var means: [[Double]]
    public var variances: [[Double]]

    public init(means: [[Double]], variances: [[Double]]) {
        precondition(means.count == variances.count, "one variance row per mean row")
        self.means = means
        self.variances = variances
    }
}
