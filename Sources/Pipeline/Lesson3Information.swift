import Core
import Evaluation
import Foundation
import NN

import Tensor

/// What lesson 3 measures about the latents of trained runs: the InfoNCE lower bound on
/// I(x0; z_top) per example, and for a DDPM on continuous data the profile of both bounds on
/// I(x0; x_t) over t (docs/math.md#mutual-information-bounds). The models are asked for their
/// Gaussian posteriors through ``NN/LatentVariableModel/latentPosterior(layer:of:)``.
struct Lesson3Information {
    /// Per run: the InfoNCE terms for its top latent, `nil` where its posterior has no closed form.
    var topLatentLowerBoundTerms: [[Double]?] = []
    /// The profile over t of the first DDPM on continuous data.
    var diffusionProfile: InformationProfile?

    /// `exampleCounts[i]`: the first n test examples of run i (those its evaluation used). Each
    /// run draws its noise from a generator seeded with `seed`.
    init(runs: [LoadedRun], exampleCounts: [Int], seed: UInt64) {
        for (run, n) in zip(runs, exampleCounts) {
            let dimension = run.dataset.dimension
            let x = Tensor(shape: [n, dimension], storage: Array(run.dataset.test.prefix(n * dimension)))
            var generator = RandomGenerator(seed: seed)
            func noise(_ gaussians: LatentGaussians) -> [[Double]] {
                gaussians.means.map { row in row.map { _ in generator.nextNormal() } }
            }
            let model = run.model
            if model.kind == .ddpm && model.likelihood == .continuous {
                let T = model.latentLayerCount
                let steps = T <= 100 ? Array(1...T) : Array(Set((0...40).map { Int((pow(Double(T), Double($0) / 40)).rounded()) })).sorted()
                var lower: [MeanEstimate] = [], upper: [MeanEstimate] = []
                for t in steps {
                    guard let q = model.latentPosterior(layer: t, of: x) else { continue }
                    lower.append(MeanEstimate(informationLowerBoundTerms(means: q.means, variances: q.variances, noise: noise(q))))
                    upper.append(MeanEstimate(zip(q.means, q.variances).map { gaussianKLToStandardNormal(mean: $0, variance: $1) }))
                }
                if diffusionProfile == nil {
                    diffusionProfile = InformationProfile(label: "DDPM (T = \(T))", steps: steps, lower: lower, upper: upper)
                }
            }
            if model.kind != .ddpm || model.likelihood == .continuous,
               let q = model.latentPosterior(layer: model.latentLayerCount, of: x) {
                topLatentLowerBoundTerms.append(informationLowerBoundTerms(means: q.means, variances: q.variances, noise: noise(q)))
            } else {
                topLatentLowerBoundTerms.append(nil)
            }
        }
    }
}
