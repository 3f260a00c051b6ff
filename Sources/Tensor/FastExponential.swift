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
    // n = round(x / ln 2) by the 1.5·2²³ trick: after the addition the integer sits in the low
    // mantissa bits, so its bit pattern minus the constant's is n itself.
    let magic: Float = 12_582_912
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    let exponent = shifted.bitPattern &- magic.bitPattern
    // r = x − n ln 2, with ln 2 split in two parts so the product is exact.
    let r = clamped - n * 0.693_359_375 + n * 2.121_944_40e-4
    var p: Float = 1.987_569_150_0e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let polynomial = p * r * r + r + 1
    let result = polynomial * Float(bitPattern: (exponent &+ 127) << 23)
    return x < -87.336_54 ? 0 : result
}
