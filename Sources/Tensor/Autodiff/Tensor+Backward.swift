extension Tensor {
    /// Adds `incoming` (a gradient of shape `incomingShape`) to this tensor's gradient,
    /// first summing over the axes along which this tensor was broadcast to that shape.
    /// Every vector–Jacobian closure hands its result here: broadcasting is undone in this
    /// one place.
    public func accumulateGradient(_ incoming: [Float], shape incomingShape: [Int]) {
        guard requiresGradient else { return }
        let reduced: [Float]
        if incomingShape == shape || incoming.count == count && incomingShape.reduce(1, *) == count {
            reduced = incoming
        } else {
            reduced = Broadcasting.reduce(incoming, from: incomingShape, to: shape)
        }
        if gradient == nil {
            gradient = reduced
        } else {
            gradient!.withUnsafeMutableBufferPointer { g in
                reduced.withUnsafeBufferPointer { r in
                    for i in 0..<g.count { g[i] += r[i] }
                }
            }
        }
    }

    /// Removes and returns the gradient buffer, so that the caller can update it in place
    /// without a copy and store it back.
    func takeGradient() -> [Float]? {
        defer { gradient = nil }
        return gradient
    }

    /// Back-propagates from this tensor: seeds its gradient with `seed` (ones by default, so
    /// a scalar loss gets d loss / d loss = 1), then replays every recorded vector–Jacobian
    /// closure in reverse topological order. Gradients accumulate into the leaves
    /// (parameters); intermediate gradients are released as soon as they are used.
    public func backward(seed: [Float]? = nil) {
        precondition(requiresGradient, "backward() on a tensor that records no gradient")
        let order = topologicalOrder()
        accumulateGradient(seed ?? [Float](repeating: 1, count: count), shape: shape)
        for node in order.reversed() {
            guard let pullback = node.pullback, node.gradient != nil else { continue }
            pullback(node)
            // An intermediate's gradient is never read again.
            node.gradient = nil
        }
    }

    /// Nodes that require a gradient, each after all of its inputs (iterative DFS).
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            if !visited.insert(ObjectIdentifier(node)).inserted { continue }
            stack.append((node, true))
            for input in node.inputs where input.requiresGradient && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }
}
