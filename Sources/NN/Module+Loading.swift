import Core

extension Module {
    /// Overwrites every parameter with its stored value: the one loader of checkpoints, for
    /// evaluation, sampling, reports and resumed training alike (mlx-swift's
    /// `update(parameters:verify:)`).
    ///
    /// Every parameter of the module must be stored, under its ``namedParameters`` key, with the
    /// same shape; with `strict` (the default) a stored key the module does not have is an error
    /// too, so a checkpoint of another architecture cannot load by accident. Nothing is assigned
    /// unless everything fits.
    ///
    /// - Throws: ``ModelError/invalidState(_:)`` naming the first key that does not fit.
    public func load(_ stored: [NamedTensor], strict: Bool = true) throws {
        let byKey = Dictionary(stored.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let expected = namedParameters
        for (key, tensor) in expected {
            guard let saved = byKey[key] else { throw ModelError.invalidState("the checkpoint has no parameter '\(key)'") }
            guard saved.shape == tensor.shape, saved.values.count == tensor.count else {
                throw ModelError.invalidState("parameter '\(key)' has shape \(saved.shape) in the checkpoint, the model needs \(tensor.shape)")
            }
        }
        if strict {
            let keys = Set(expected.map(\.key))
            if let extra = stored.first(where: { !keys.contains($0.key) }) {
                throw ModelError.invalidState("the checkpoint has a parameter '\(extra.key)' this model does not")
            }
        }
        for (key, tensor) in expected { tensor.assign(byKey[key]!.values) }
    }
}
