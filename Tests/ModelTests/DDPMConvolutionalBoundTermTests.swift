import Core
import DDPMModel
import NN
import Tensor
import XCTest

/// The U-Net denoiser reads and writes rows as the MLP does: the training path's L_{t−1}
/// (``DDPM/trainingBoundTerms(_:noise:timesteps:)``) equals the exact ELBO's term by term, with
/// the [ε̂ | v] channels of the learned-range variance split the same way on both paths.
final class DDPMConvolutionalBoundTermTests: XCTestCase {
    /// 4 × 4 images, every parameter redrawn at random (the zero-initialized output convolution
    /// would make ε̂ = v = 0), T = 6, two examples per t. Tolerance as in ``DDPMBoundTermTests``.
    func testUNetTrainingBoundTerms_equalELBOTerms_forFixedAndLearnedVariance() throws {
        let steps = 6, dimension = 16
        for likelihood in [Likelihood.binary, .discrete(levels: 9)] {
            for variance in [ReverseVariance.fixedSmall, .learnedRange] {
                var configuration = DDPMConfiguration(dataDimension: dimension, likelihood: likelihood)
                configuration.timestepCount = steps
                configuration.variance = variance
                configuration.loss = .vlb
                configuration.embeddingDimension = 8
                configuration.architecture = .conv
                configuration.convolution = ConvolutionalSettings(image: ImageShape(height: 4, width: 4), baseChannels: 4,
                                                                  channelMultipliers: [1, 2], residualBlocks: 1, normalizationGroups: 2)
                var generator = RandomGenerator(seed: 9)
                let model = try DDPM(configuration: configuration, using: &generator)
                XCTAssertTrue(model.denoiser is UNet)
                for (_, parameter) in model.namedParameters {
                    parameter.assign(Tensor.randomUniform(shape: parameter.shape, low: -0.4, high: 0.4, using: &generator).storage)
                }
                let batch = 2 * steps
                let timesteps = (0..<batch).map { 1 + $0 / 2 }
                let data: [Float] = (0..<(batch * dimension)).map { _ in
                    likelihood == .binary ? Float(generator.nextInt(below: 2)) : Float(-1 + 2 * Double(generator.nextInt(below: 9)) / 8)
                }
                let x = Tensor(shape: [batch, dimension], storage: data)
                assertTrainingTermsEqualELBO(model, x: x, timesteps: timesteps, using: &generator,
                                             label: "\(likelihood.name) \(variance.rawValue)", requireNonZero: true)
            }
        }
    }
}
