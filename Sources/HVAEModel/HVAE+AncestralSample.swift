import Core
import NN
import Tensor

extension HVAE {
    /// Samples as ``sample(count:using:)`` with the weight of the latents that generated each,
    ///
    ///     log w(z*) = log p(x | z*₁) + Σᵢ log p(z*ᵢ | z*ᵢ₊₁) − Σᵢ log q(z*ᵢ | ·),
    ///
    /// q's parameters recomputed at the given latents (bottom-up: q(z₁ | x), q(zᵢ | z*ᵢ₋₁);
    /// top-down: q(zᵢ | z*ᵢ₊₁, x)), by the same pass and sum as
    /// ``logImportanceWeights(_:samples:using:)``. docs/math.md#sandwich-bounds
    public func ancestralSample(count: Int, using generator: inout RandomGenerator) -> AncestralSample {
        let (samples, latents) = configuration.architecture == .conv
            ? convolutionalSample(count: count, using: &generator)
            : perceptronSample(count: count, using: &generator)
        // Evaluated in chunks, as the weights of the lower bound, so memory stays bounded; the pass
        // draws nothing when latents are given, so the generator is not touched.
        let perChunk = Self.maximumRowsPerChunk(configuration.architecture)
        var logWeights: [Double] = []
        logWeights.reserveCapacity(count)
        GradientMode.withoutRecording {
            var start = 0
            while start < count {
                let end = Swift.min(count, start + perChunk)
                let x = samples.rows(start..<end)
                let given = latents.map { $0.rows(start..<end) }
                let pass = pass(context: context(x), given: given, using: &generator)
                logWeights += self.logWeights(of: pass, x: x)
                start = end
            }
        }
        return AncestralSample(samples: samples, generatingLogWeights: logWeights)
    }
}
