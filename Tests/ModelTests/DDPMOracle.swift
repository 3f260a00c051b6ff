import DDPMModel
import NN
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Independent closed forms for a DDPM whose ε-network is linear in x_t:
/// ε_θ(x_t, t) = A x_t + b_t. Then p_θ(x_{t−1} | x_t) = N(C_t x_t + d_t, σ_t² I) with
/// C_t = (c₁ r_t + c₂) I − c₁ r'_t A and d_t = −c₁ r'_t b_t (r_t = √(1/ᾱ_t), r'_t = √(1/ᾱ_t − 1)),
/// the model's marginal p(x_0) is Gaussian, and every ELBO term is a Gaussian integral.
/// Written from the formula sheet (math.md) with small dense matrices, sharing no code with
/// the model beyond the schedule's β_t.
struct DDPMOracle {
    let dimension: Int
    let steps: Int
    let betas: [Double]
    /// A (D×D) and b_t (T × D).
    let a: [[Double]]
    let offsets: [[Double]]
    let variance: ReverseVariance

    init(model: DDPM) {
        let layer = (model.denoiser as! MLP).layers[0]
        let d = model.dataDimension
        let e = model.configuration.embeddingDimension
        dimension = d
        steps = model.configuration.timestepCount
        betas = model.diffusion.betas
        variance = model.configuration.variance
        let w = layer.weight.storage, bias = layer.bias.storage
        let width = d + e
        a = (0..<d).map { i in (0..<d).map { j in Double(w[i * width + j]) } }
        var offsets: [[Double]] = []
        for t in 1...steps {
            let embedding = sinusoidalTimestepEmbedding([t * 1000 / steps], dimension: e).storage
            offsets.append((0..<d).map { i in
                var total = Double(bias[i])
                for j in 0..<e { total += Double(w[i * width + d + j]) * Double(embedding[j]) }
                return total
            })
        }
        self.offsets = offsets
    }

    var alphaBar: [Double] {
        var result: [Double] = []
        var product = 1.0
        for b in betas { product *= 1 - b; result.append(product) }
        return result
    }

    func alphaBarPrevious(_ t: Int) -> Double { t == 1 ? 1 : alphaBar[t - 2] }
    func posteriorVariance(_ t: Int) -> Double { (1 - alphaBarPrevious(t)) * betas[t - 1] / (1 - alphaBar[t - 1]) }

    /// σ_t² as the formula sheet defines it, with β̃_2 standing in at t = 1.
    func reverseVariance(_ t: Int) -> Double {
        switch variance {
        case .fixedSmall: return t == 1 ? (steps >= 2 ? posteriorVariance(2) : betas[0]) : posteriorVariance(t)
        case .fixedLarge: return t == 1 ? (steps >= 2 ? posteriorVariance(2) : betas[0]) : betas[t - 1]
        case .learnedRange: fatalError("the oracle covers fixed variances")
        }
    }

    /// (C_t, d_t).
    func reverseMap(_ t: Int) -> (c: [[Double]], d: [Double]) {
        let ab = alphaBar[t - 1], abPrevious = alphaBarPrevious(t), beta = betas[t - 1]
        let c1 = abPrevious.squareRoot() * beta / (1 - ab)
        let c2 = (1 - beta).squareRoot() * (1 - abPrevious) / (1 - ab)
        let r = (1 / ab).squareRoot(), rPrime = (1 / ab - 1).squareRoot()
        var c = [[Double]](repeating: [Double](repeating: 0, count: dimension), count: dimension)
        for i in 0..<dimension {
            for j in 0..<dimension { c[i][j] = (i == j ? c1 * r + c2 : 0) - c1 * rPrime * a[i][j] }
        }
        return (c, offsets[t - 1].map { -c1 * rPrime * $0 })
    }

    func multiply(_ m: [[Double]], _ v: [Double]) -> [Double] { m.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } } }

    /// The expected ELBO terms at x₀ given the x_t draws' standard deviations scaled by
    /// `noiseScale` (1: the true expectation; 0: every x_t at its mean).
    /// Returns (reconstruction, [L_1 … L_T]).
    func expectedTerms(x0: [Double], noiseScale: Double = 1) -> (reconstruction: Double, layers: [Double]) {
        let d = Double(dimension)
        var layers = [Double](repeating: 0, count: steps)
        let abT = alphaBar[steps - 1]
        var priorKL = 0.0
        for v in x0 { priorKL += 0.5 * (-log(1 - abT) + (1 - abT) + abT * v * v - 1) }
        layers[steps - 1] = priorKL
        var reconstruction = 0.0
        for t in 1...steps {
            let ab = alphaBar[t - 1]
            let mean = x0.map { ab.squareRoot() * $0 }
            let s2 = (1 - ab) * noiseScale * noiseScale
            let (c, offset) = reverseMap(t)
            let sigma2 = reverseVariance(t)
            if t == 1 {
                // −E log N(x₀; C x₁ + d, σ² I) = ½[D log 2πσ² + (‖x₀ − C m − d‖² + s² tr CᵀC)/σ²]
                let cm = multiply(c, mean)
                var residual = 0.0
                for i in 0..<dimension { residual += pow(x0[i] - cm[i] - offset[i], 2) }
                var trace = 0.0
                for row in c { for v in row { trace += v * v } }
                reconstruction = -0.5 * (d * log(2 * Double.pi * sigma2) + (residual + s2 * trace) / sigma2)
            } else {
                // E KL(N(c₁x₀ + c₂x_t, β̃) ‖ N(C x_t + d, σ²)) with M = c₂I − C, u = c₁x₀ − d.
                let abPrevious = alphaBarPrevious(t), beta = betas[t - 1]
                let c1 = abPrevious.squareRoot() * beta / (1 - ab)
                let c2 = (1 - beta).squareRoot() * (1 - abPrevious) / (1 - ab)
                var m = c
                for i in 0..<dimension { for j in 0..<dimension { m[i][j] = (i == j ? c2 : 0) - c[i][j] } }
                let mm = multiply(m, mean)
                var quadratic = 0.0
                for i in 0..<dimension { quadratic += pow(mm[i] + c1 * x0[i] - offset[i], 2) }
                var trace = 0.0
                for row in m { for v in row { trace += v * v } }
                quadratic += s2 * trace
                let tilde = posteriorVariance(t)
                layers[t - 2] = 0.5 * d * (log(sigma2) - log(tilde) + tilde / sigma2 - 1) + quadratic / (2 * sigma2)
            }
        }
        return (reconstruction, layers)
    }

    func expectedELBO(x0: [Double]) -> Double {
        let terms = expectedTerms(x0: x0)
        return terms.reconstruction - terms.layers.reduce(0, +)
    }

    /// log p_θ(x₀): the Gaussian marginal m_{t−1} = C_t m_t + d_t, S_{t−1} = C_t S_t C_tᵀ + σ_t² I.
    func exactLogLikelihood(x0: [Double]) -> Double {
        var m = [Double](repeating: 0, count: dimension)
        var s = (0..<dimension).map { i in (0..<dimension).map { j in i == j ? 1.0 : 0.0 } }
        for t in stride(from: steps, through: 1, by: -1) {
            let (c, offset) = reverseMap(t)
            m = zip(multiply(c, m), offset).map { $0 + $1 }
            // C S Cᵀ + σ² I
            let cs = c.map { row in (0..<dimension).map { j in (0..<dimension).reduce(0) { $0 + row[$1] * s[$1][j] } } }
            var next = cs.map { row in (0..<dimension).map { j in (0..<dimension).reduce(0) { $0 + row[$1] * c[j][$1] } } }
            for i in 0..<dimension { next[i][i] += reverseVariance(t) }
            s = next
        }
        return gaussianLogDensity(x0, mean: m, covariance: s)
    }
}

/// log N(x; μ, Σ) via a Cholesky factorization.
func gaussianLogDensity(_ x: [Double], mean: [Double], covariance: [[Double]]) -> Double {
    let n = x.count
    var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n {
        for j in 0...i {
            var sum = covariance[i][j]
            for k in 0..<j { sum -= l[i][k] * l[j][k] }
            l[i][j] = i == j ? sum.squareRoot() : sum / l[j][j]
        }
    }
    var z = [Double](repeating: 0, count: n)
    for i in 0..<n {
        var sum = x[i] - mean[i]
        for k in 0..<i { sum -= l[i][k] * z[k] }
        z[i] = sum / l[i][i]
    }
    let logDeterminant = 2 * (0..<n).reduce(0.0) { $0 + log(l[$1][$1]) }
    return -0.5 * (Double(n) * log(2 * Double.pi) + logDeterminant + z.reduce(0) { $0 + $1 * $1 })
}
