import Core
import Store

extension GaussianMixture {
    /// The density a dataset file stores under `/density` (``LoadedDataset/densityParameters``,
    /// family ``DatasetMetadata/densityFamily``), read back as a mixture for the oracle denoiser
    /// (docs/math.md#oracle-denoiser):
    ///
    /// - `gaussian-mixture` (`gmm2d`): `means` [K, D], `standard_deviations` [K], `weights` [K];
    /// - `gaussian` (`gaussian`): `mean` [D], `covariance` [D, D] — one full-covariance component.
    ///
    /// - Throws: ``PipelineError`` with one line for any other family (the checkerboard's
    ///   `uniform-on-squares`), no density, or parameters that are missing, misshapen or not a density.
    public init(densityFamily: String?, parameters: [NamedArray]) throws {
        guard let family = densityFamily else {
            throw PipelineError("the dataset stores no density; the oracle needs a 'gaussian-mixture' or 'gaussian' density")
        }
        func parameter(_ name: String, rank: Int) throws -> NamedArray {
            guard let found = parameters.first(where: { $0.name == name }) else {
                throw PipelineError("the '\(family)' density lacks its parameter /density/\(name)")
            }
            guard found.shape.count == rank, found.values.count == found.shape.reduce(1, *) else {
                throw PipelineError("/density/\(name) has shape \(found.shape); expected \(rank) axes")
            }
            return found
        }
        do {
            switch family {
            case "gaussian-mixture":
                let means = try parameter("means", rank: 2)
                let deviations = try parameter("standard_deviations", rank: 1)
                let weights = try parameter("weights", rank: 1)
                let (count, dimension) = (means.shape[0], means.shape[1])
                let rows = (0..<count).map { Array(means.values[($0 * dimension)..<(($0 + 1) * dimension)]) }
                try self.init(means: rows, standardDeviations: deviations.values, weights: weights.values)
            case "gaussian":
                let mean = try parameter("mean", rank: 1)
                let covariance = try parameter("covariance", rank: 2)
                let dimension = mean.values.count
                guard covariance.shape == [dimension, dimension] else {
                    throw PipelineError("/density/covariance has shape \(covariance.shape); expected [\(dimension), \(dimension)]")
                }
                let rows = (0..<dimension).map { Array(covariance.values[($0 * dimension)..<(($0 + 1) * dimension)]) }
                try self.init(mean: mean.values, covariance: rows)
            default:
                throw PipelineError("the dataset's density is '\(family)', not a Gaussian mixture ('gaussian-mixture' or 'gaussian')")
            }
        } catch let error as GaussianMixture.InvalidParameters {
            throw PipelineError(error.description)
        }
    }
}
