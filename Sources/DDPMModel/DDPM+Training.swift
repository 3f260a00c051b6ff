import Core
import NN
import Tensor

extension DDPM {
    /// The training objective for one batch `x` [batch, D], one uniformly drawn t per example:
    /// - `.simple`: mean over batch and dimensions of (ε − ε̂)²;
    /// - `.vlb`: mean over the batch of T · L_{t−1}(x) (nats; L_0 at t = 1);
    /// - `.hybrid`: simple + (T/1000) · mean of L_{t−1}/D with ε̂ stopped inside the KL, i.e.
    ///   λ = 0.001 on Σ_t L_t, so only the variance learns from it (Nichol & Dhariwal).
    public func trainingLoss(_ x: Tensor, step: Int, using generator: inout RandomGenerator) -> Tensor {
        let batch = x.shape[0], dimension = dataDimension, steps = configuration.timestepCount
        let x0 = trainingScale(x)
        let timesteps = (0..<batch).map { _ in 1 + generator.nextInt(below: steps) }
        let noise = Tensor.randomNormal(shape: [batch, dimension], using: &generator)
        let xt = diffusion.qSample(start: x0, noise: noise, at: timesteps)
        let output = network(xt, timesteps: timesteps)
        let epsilon = configuration.variance == .learnedRange ? output.slice(axis: 1, 0..<dimension) : output
        let simple = Tensor.meanSquaredError(epsilon, noise)  // (ε̂ − ε)² averaged, fused: the same bits
        if configuration.loss == .simple { return simple }

        let boundTerms = variationalBoundTerms(x0: x0, xt: xt, timesteps: timesteps, output: output,
                                               stopMeanGradient: configuration.loss == .hybrid)
        if configuration.loss == .vlb { return boundTerms.sum(axis: 1).mean() * Float(steps) }
        return simple + boundTerms.mean() * Float(Double(steps) / 1000)
    }

    /// The training path's L_{t−1} per element [batch, D] at given noise: x_t = q_sample(x_0, ε, t)
    /// in Float32, one network call, then ``ReverseProcess/boundTerm(start:xt:epsilon:interpolation:at:)``,
    /// exactly as inside ``trainingLoss(_:step:using:)``. `x` [batch, D] is on the dataset's scale,
    /// `noise` [batch, D], `timesteps` one t ∈ 1…T per row. Tests hold it against the terms of
    /// ``elbo(_:fillNoise:)`` at the same x_0, ε and t. docs/math.md#per-timestep-bound-term
    public func trainingBoundTerms(_ x: Tensor, noise: Tensor, timesteps: [Int]) -> Tensor {
        precondition(timesteps.allSatisfy { (1...configuration.timestepCount).contains($0) }, "timesteps must lie in 1…T")
        let x0 = trainingScale(x)
        let xt = diffusion.qSample(start: x0, noise: noise, at: timesteps)
        return variationalBoundTerms(x0: x0, xt: xt, timesteps: timesteps, output: network(xt, timesteps: timesteps),
                                     stopMeanGradient: false)
    }

    /// Data on the diffusion scale as Float32: binary {0, 1} → {−1, 1} (exact in Float); other
    /// data as they are, cut from the graph.
    func trainingScale(_ x: Tensor) -> Tensor {
        likelihood == .binary ? Tensor(shape: x.shape, storage: x.storage.map { 2 * $0 - 1 }) : x.detached()
    }

    /// L_{t−1} per element [batch, D] for each row's t from the network output [batch, D or 2D]
    /// (ε̂, then v for learned-range); with `stopMeanGradient` no gradient reaches ε̂ (hybrid).
    func variationalBoundTerms(x0: Tensor, xt: Tensor, timesteps: [Int], output: Tensor, stopMeanGradient: Bool) -> Tensor {
        let dimension = dataDimension
        var epsilon = configuration.variance == .learnedRange ? output.slice(axis: 1, 0..<dimension) : output
        if stopMeanGradient { epsilon = epsilon.detached() }
        let interpolation = configuration.variance == .learnedRange ? output.slice(axis: 1, dimension..<(2 * dimension)) : nil
        return reverseProcess.boundTerm(start: x0, xt: xt, epsilon: epsilon, interpolation: interpolation, at: timesteps)
    }
}
