extension Tensor {
    /// min(max(x, lower), upper) element by element, with the gradient passed through unchanged
    /// (straight-through): a guard for network outputs read as log-scales, which must stay where
    /// exp(·) and the likelihoods are finite.
    ///
    /// An element past a bound takes the bound's value, and the loss's gradient at the bound
    /// flows back to it as if it had not been moved, so the loss pulls it back in (a true clamp
    /// would give it no gradient and could leave it stuck outside). When no element is out of
    /// bounds the tensor itself is returned, so a run whose guards never act is bit for bit the
    /// unguarded run. Every moved element is counted by ``GuardCounter``.
    public func guarded(to bounds: ClosedRange<Float>) -> Tensor {
        var outside = 0
        for value in storage where value < bounds.lowerBound || value > bounds.upperBound { outside += 1 }
        if outside == 0 { return self }
        GuardCounter.add(outside)
        // NaN stays NaN: a guard bounds large values; it does not hide an undefined one.
        let values = storage.map { $0.isNaN ? $0 : Swift.min(Swift.max($0, bounds.lowerBound), bounds.upperBound) }
        let input = self
        return Tensor.recordOperation(shape: shape, storage: values, inputs: [self]) { output in
            input.accumulateGradient(output.gradient!, shape: output.shape)
        }
    }
}
