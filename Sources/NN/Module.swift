import Tensor

/// A component with trainable parameters, found by reflection under dotted keys.
///
/// Every stored property that is a parameter ``Tensor`` (one that requires gradients), a
/// nested ``Module``, or an array of either contributes: a property `encoder` holding an
/// ``MLP`` whose `layers[0]` is a ``Linear`` yields the key `encoder.layers.0.weight`.
/// These keys name the parameters in checkpoints and in the optimizer's state.
public protocol Module: AnyObject {}

extension Module {
    /// Every parameter with its dotted key, in declaration order.
    public var namedParameters: [(key: String, tensor: Tensor)] {
        var result: [(key: String, tensor: Tensor)] = []
        collectParameters(of: self, prefix: "", into: &result)
        return result
    }

    /// The total number of scalar parameters.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.tensor.count } }

    /// Forgets every parameter's accumulated gradient.
    public func zeroGradients() { for (_, p) in namedParameters { p.zeroGradient() } }
}

private func collectParameters(of value: Any, prefix: String, into result: inout [(key: String, tensor: Tensor)]) {
    func join(_ label: String) -> String { prefix.isEmpty ? label : prefix + "." + label }
    if let tensor = value as? Tensor {
        if tensor.requiresGradient { result.append((prefix, tensor)) }
        return
    }
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .optional:
        if let wrapped = mirror.children.first { collectParameters(of: wrapped.value, prefix: prefix, into: &result) }
    case .collection:
        for (index, child) in mirror.children.enumerated() where child.value is Tensor || child.value is Module || isContainer(child.value) {
            collectParameters(of: child.value, prefix: join(String(index)), into: &result)
        }
    case .class, .struct:
        var current: Mirror? = mirror
        var levels: [Mirror] = []
        while let m = current { levels.insert(m, at: 0); current = m.superclassMirror }
        for level in levels {
            for child in level.children {
                guard let label = child.label else { continue }
                let v = child.value
                if v is Tensor || v is Module || isContainer(v) {
                    collectParameters(of: v, prefix: join(label), into: &result)
                }
            }
        }
    default:
        return
    }
}

/// Arrays and optionals of modules or tensors: the only containers searched for parameters
/// (so plain numeric arrays such as a noise schedule are never walked).
private func isContainer(_ value: Any) -> Bool {
    if value is [Module] || value is [Tensor] { return true }
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional, let wrapped = mirror.children.first {
        return wrapped.value is Tensor || wrapped.value is Module || isContainer(wrapped.value)
    }
    return false
}
