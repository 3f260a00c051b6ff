/// The Box–Muller transform of ``RandomGenerator``, with its own logarithm and sine/cosine.
///
/// (u₁, u₂) ↦ (r cos 2πu₂, r sin 2πu₂), r = √(−2 log u₁), for u₁ ∈ (0, 1] and u₂ ∈ [0, 1).
///
/// libm's `log`, `sin` and `cos` cost a call each (≈ 40 ns a pair), differ in their last bit
/// between libraries, and keep loops scalar. These are fdlibm's kernels (Sun Microsystems,
/// 1993; the code behind most libms), written without branches or calls so that a loop over
/// them vectorizes: `log` as in fdlibm's e_log.c, and sin/cos of 2πu₂ with an *exact*
/// reduction — 8u₂ is exact, so 2πu₂ = (π/4)(8u₂ − 2q) + q π/2 with q = round(4u₂) leaves a
/// remainder in [−π/4, π/4] for fdlibm's k_sin / k_cos polynomials. Errors are within about
/// one ulp of Double (tested against libm), far below what a Float deviate keeps.
public enum BoxMuller {
    /// (r cos 2πu₂, r sin 2πu₂) with r = √(−2 log u₁), for u₁ ∈ (0, 1] and u₂ ∈ [0, 1).
    @inline(__always)
    public static func transform(_ u1: Double, _ u2: Double) -> (Double, Double) {
        let radius = squareRoot(-2 * logarithm(u1))
        let (sine, cosine) = sineAndCosineOfTurns(u2)
        return (radius * cosine, radius * sine)
    }

    /// log x for a normal, positive, finite x (fdlibm e_log.c): x = 2ᵏ m, m ∈ [√½, √2),
    /// f = m − 1, s = f/(2 + f), log(1 + f) = f − s(f − R(s²))… in the form that keeps f's bits.
    @inline(__always)
    static func logarithm(_ x: Double) -> Double {
        let bits = x.bitPattern
        var k = Int64(bitPattern: (bits >> 52) & 0x7ff) - 1023
        var m = Double(bitPattern: (bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000)
        let large = m > 1.414_213_562_373_095_1
        m = large ? m * 0.5 : m
        k = large ? k + 1 : k
        let f = m - 1
        let s = f / (2 + f)
        let z = s * s
        let w = z * z
        let t1 = w * (3.999_999_999_940_941_908e-01 + w * (2.222_219_843_214_978_396e-01 + w * 1.531_383_769_920_937_332e-01))
        let t2 = z * (6.666_666_666_666_735_130e-01 + w * (2.857_142_874_366_239_149e-01
            + w * (1.818_357_216_161_805_012e-01 + w * 1.479_819_860_511_658_591e-01)))
        let r = t2 + t1
        let halfSquare = 0.5 * f * f
        let dk = Double(k)
        return dk * 6.931_471_803_691_238_164_90e-01 - ((halfSquare - (s * (halfSquare + r) + dk * 1.908_214_929_270_587_700_02e-10)) - f)
    }

    /// (sin 2πu, cos 2πu) for u ∈ [0, 1).
    @inline(__always)
    static func sineAndCosineOfTurns(_ u: Double) -> (Double, Double) {
        // q = round(4u) by the 1.5·2⁵² trick (an exact round-to-nearest-even, no libm `rint`):
        // after the addition q sits in the low mantissa bits.
        let magic = 6_755_399_441_055_744.0
        let shifted = 4 * u + magic
        let quadrant = shifted - magic
        let theta = (8 * u - 2 * quadrant) * (Double.pi / 4)  // 8u − 2q is exact, in [−1, 1]
        let s = kernelSine(theta), c = kernelCosine(theta)
        // Rotate by q · π/2: (sin, cos) → (c, −s) → (−s, −c) → (−c, s). Selects by bit masks,
        // sign flips by the sign bit, so that nothing branches on the random quadrant.
        let q = shifted.bitPattern
        let swap = 0 &- (q & 1)                               // all ones for odd q
        let sineSign = (q & 2) << 62                          // q = 2, 3
        let cosineSign = ((q &+ 1) & 2) << 62                 // q = 1, 2
        let sBits = s.bitPattern, cBits = c.bitPattern
        let sine = Double(bitPattern: ((cBits & swap) | (sBits & ~swap)) ^ sineSign)
        let cosine = Double(bitPattern: ((sBits & swap) | (cBits & ~swap)) ^ cosineSign)
        return (sine, cosine)
    }

    /// sin x for |x| ≤ π/4 (fdlibm k_sin.c).
    @inline(__always)
    static func kernelSine(_ x: Double) -> Double {
        let z = x * x
        let v = z * x
        let r = 8.333_333_333_322_489_461_24e-03 + z * (-1.984_126_982_985_794_931_34e-04
            + z * (2.755_731_370_707_006_767_89e-06 + z * (-2.505_076_025_340_686_341_95e-08 + z * 1.589_690_995_211_550_102_21e-10)))
        return x + v * (-1.666_666_666_666_663_243_48e-01 + z * r)
    }

    /// cos x for |x| ≤ π/4 (fdlibm k_cos.c): 1 − x²/2 + x⁴ R(x²), with 1 − x²/2 split so that
    /// its rounding error is carried.
    @inline(__always)
    static func kernelCosine(_ x: Double) -> Double {
        let z = x * x
        let r = z * (4.166_666_666_666_660_190_37e-02 + z * (-1.388_888_888_887_410_957_49e-03
            + z * (2.480_158_728_947_672_941_78e-05 + z * (-2.755_731_435_139_066_330_35e-07
            + z * (2.087_572_321_298_174_827_90e-09 + z * -1.135_964_755_778_819_482_65e-11)))))
        let halfZ = 0.5 * z
        let w = 1 - halfZ
        return w + (((1 - w) - halfZ) + z * r)
    }
}

/// √x through LLVM's intrinsic: correctly rounded like `Double.squareRoot()`, which on Linux
/// goes through libm's errno-setting `sqrt` and keeps the loop around it scalar.
@_silgen_name("llvm.sqrt.f64")
private func squareRoot(_ x: Double) -> Double
