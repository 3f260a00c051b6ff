/// eˣ in Float by Cody–Waite range reduction and a degree-5 minimax polynomial (Cephes'
/// `expf`): x = n ln 2 + r with |r| ≤ ln 2 / 2, eʳ ≈ 1 + r + r² P(r), then scaled by 2ⁿ
/// through the exponent bits. Relative error below 2·10⁻⁷ (about 1.5 ulp). Written without
/// calls, traps or branches so that loops over it vectorize (libm's `expf` is a call per
/// element, and Swift's Float → Int conversion checks its range).
///
/// Inputs are clamped to [−87.33, 88.37] for the range reduction; below −87.33 (where eˣ is
/// a denormal) the result is 0, so x·σ(x) stays bounded for huge negative x.
@inline(__always)
func fastExponential(_ x: Float) -> Float {
    let clamped = x < -87.336_54 ? -87.336_54 : (x > 88.376_26 ? 88.376_26 : x)
    let (polynomial, exponent) = exponentialReduction(clamped)
    let result = polynomial * Float(bitPattern: (exponent &+ 127) << 23)
    return x < -87.336_54 ? 0 : result
}

/// log(1 + e) in Float for e in [0, 1] — the log1p(e^{−|x|}) of softplus — by Cephes' `logf`
/// polynomial: with f = e (when 1 + e < √2) or f = (1 + e)/2 − 1 = (e − 1)/2 and q = 1
/// (otherwise), log(1 + e) = q ln 2 + log1p(f), f ∈ [√½ − 1, √2 − 1], and
/// log1p(f) ≈ f − f²/2 + f³ P(f). f is formed from e without rounding 1 + e, so tiny e keeps
/// its full relative precision (log1p(e) = e − e²/2 + …). Relative error about 1 ulp; no calls
/// or branches, so loops over it vectorize (libm's `log1pf` is a call per element).
@inline(__always)
func fastLog1p(_ e: Float) -> Float {
    let large = e >= 0.414_213_56
    let f = large ? (e - 1) * 0.5 : e
    let q: Float = large ? 1 : 0
    let f2 = f * f
    var p: Float = 7.037_683_629_2e-2
    p = p * f - 1.151_461_031_0e-1
    p = p * f + 1.167_699_874_0e-1
    p = p * f - 1.242_014_084_6e-1
    p = p * f + 1.424_932_278_7e-1
    p = p * f - 1.666_805_766_5e-1
    p = p * f + 2.000_071_476_5e-1
    p = p * f - 2.499_999_399_3e-1
    p = p * f + 3.333_333_117_4e-1
    // ln 2 split as 0.693359375 − 2.12194440·10⁻⁴ (the first part exact in Float), as in Cephes.
    let y = p * f * f2 - 0.5 * f2 - q * 2.121_944_40e-4
    return f + y + q * 0.693_359_375
}

/// eˣ for x ≤ 0 down to the subnormal range: `fastExponential`'s reduction with the scale 2ⁿ
/// applied in two exact steps, 2ⁿ⁺⁶⁴ · 2⁻⁶⁴, so that results below 2⁻¹²⁶ round gradually to
/// subnormals (e⁻¹⁰⁰ = 3.7·10⁻⁴⁴) instead of flushing to 0; 0 below −103.98, where eˣ is
/// under half the smallest subnormal. Equal to `fastExponential(x)` wherever that is normal.
/// For softplus, whose value for x → −∞ is eˣ itself.
@inline(__always)
func fastExponentialWithSubnormals(_ x: Float) -> Float {
    let clamped = x < -103.972_08 ? -103.972_08 : (x > 0 ? 0 : x)
    let (polynomial, exponent) = exponentialReduction(clamped)
    let result = polynomial * Float(bitPattern: (exponent &+ 127 &+ 64) << 23) * 0x1p-64
    return x < -103.972_08 ? 0 : result
}

/// The shared core of both exponentials: for x (already clamped to the caller's range) returns
/// eʳ ≈ 1 + r + r² P(r) and n, with x = n ln 2 + r, |r| ≤ ln 2 / 2, so that eˣ = eʳ · 2ⁿ.
@inline(__always)
func exponentialReduction(_ x: Float) -> (polynomial: Float, exponent: UInt32) {
    // n = round(x / ln 2) by the 1.5·2²³ trick: after the addition the integer sits in the low
    // mantissa bits, so its bit pattern minus the constant's is n itself.
    let magic: Float = 12_582_912
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic
    let exponent = shifted.bitPattern &- magic.bitPattern
    // r = x − n ln 2, with ln 2 split in two parts so the product is exact.
    let r = x - n * 0.693_359_375 + n * 2.121_944_40e-4
    var p: Float = 1.987_569_150_0e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    return (p * r * r + r + 1, exponent)
}
