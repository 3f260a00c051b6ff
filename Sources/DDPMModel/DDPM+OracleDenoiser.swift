import Core
import NN

extension DDPM {
    /// A DDPM whose denoiser is the ``OracleDenoiser`` of `mixture`: the hyperparameters of
    /// `configuration` (T, schedule, clipping rule, …) with the reverse variance set to
    /// fixed-small (σ_t² = β̃_t), since the oracle predicts ε only and has no variance output.
    /// Evaluation only: it has no parameters to train. docs/math.md#oracle-denoiser
    ///
    /// - Throws: ``ModelError/invalidConfiguration(_:)`` unless the data are continuous (binary
    ///   and discrete data are diffused on another scale and decoded by a discretized Gaussian,
    ///   and have no mixture density) and the mixture has the configuration's dimension.
    public static func withOracleDenoiser(configuration: DDPMConfiguration, mixture: GaussianMixture) throws -> DDPM {
        guard configuration.likelihood == .continuous else {
            throw ModelError.invalidConfiguration(
                "the oracle denoiser needs continuous data, got \(configuration.likelihood.name) data")
        }
        guard mixture.dimension == configuration.dataDimension else {
            throw ModelError.invalidConfiguration(
                "the oracle's mixture has \(mixture.dimension) dimensions but the DDPM has \(configuration.dataDimension)")
        }
        var oracleConfiguration = configuration
        oracleConfiguration.variance = .fixedSmall
        let diffusion = GaussianDiffusion(schedule: configuration.schedule, timestepCount: configuration.timestepCount)
        return try DDPM(configuration: oracleConfiguration, denoiser: OracleDenoiser(mixture: mixture, diffusion: diffusion))
    }
}
