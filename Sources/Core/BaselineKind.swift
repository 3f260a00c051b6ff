/// The exact baselines `compare baseline --kind` fits (docs/math.md#exact-baselines): models of
/// discrete data whose test log-likelihood is computed exactly, in closed form, so a report can
/// show what a learned model must beat.
///
/// | kind | p(x) | parameters |
/// |---|---|---|
/// | ``uniform`` | every one of the L levels 1/L in every dimension: log p(x) = −D log L | 0 |
/// | ``pixel`` | independent per-dimension categoricals, p_d(l) = (c_{d,l} + α)/(N + αL) from the training counts | D·(L − 1) |
///
/// For binary data (L = 2) ``pixel`` is the independent Bernoulli with the same smoothing.
/// A baseline checkpoint's root attribute `model` is ``checkpointModel``; its `config` names the kind.
public enum BaselineKind: String, CaseIterable, Codable, Sendable {
    case uniform
    case pixel

    /// The `model` attribute of every baseline checkpoint (the kind is in its `config`).
    public static let checkpointModel = "baseline"

    /// The name a reader sees: "uniform", "per-pixel categorical" or, for binary data,
    /// "per-pixel Bernoulli".
    public func displayName(levels: Int) -> String {
        switch self {
        case .uniform: return "uniform"
        case .pixel: return levels == 2 ? "per-pixel Bernoulli" : "per-pixel categorical"
        }
    }
}
