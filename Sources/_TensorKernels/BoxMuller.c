// The Box–Muller transform of Swift's `BoxMuller` (Tensor/BoxMuller.swift) for AVX2, four
// pairs at a time. Every operation is the Swift code's, in its order, with no fused
// multiply–add (plain multiplies and adds; contraction is off for this file), so the two give
// the same bits and a seed gives the same normal deviates on every machine.
#include "TensorKernels.h"

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define TK_AVX2 __attribute__((target("avx2,fma")))

/// fdlibm's log for normal, positive, finite x (BoxMuller.logarithm).
TK_AVX2 static inline __m256d tk_log4(__m256d x) {
    const __m256i bits = _mm256_castpd_si256(x);
    __m256i k = _mm256_sub_epi64(_mm256_and_si256(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(0x7ff)),
                                 _mm256_set1_epi64x(1023));
    __m256d m = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)),
                                                    _mm256_set1_epi64x(0x3ff0000000000000LL)));
    const __m256d large = _mm256_cmp_pd(m, _mm256_set1_pd(1.4142135623730951), _CMP_GT_OQ);
    m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), large);
    k = _mm256_sub_epi64(k, _mm256_castpd_si256(large));  // + 1 where large (the mask is −1)
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d f = _mm256_sub_pd(m, one);
    const __m256d s = _mm256_div_pd(f, _mm256_add_pd(_mm256_set1_pd(2.0), f));
    const __m256d z = _mm256_mul_pd(s, s);
    const __m256d w = _mm256_mul_pd(z, z);
#define MUL _mm256_mul_pd
#define ADD _mm256_add_pd
#define C(v) _mm256_set1_pd(v)
    const __m256d t1 = MUL(w, ADD(C(3.999999999940941908e-01), MUL(w, ADD(C(2.222219843214978396e-01), MUL(w, C(1.531383769920937332e-01))))));
    const __m256d t2 = MUL(z, ADD(C(6.666666666666735130e-01), MUL(w, ADD(C(2.857142874366239149e-01),
                               MUL(w, ADD(C(1.818357216161805012e-01), MUL(w, C(1.479819860511658591e-01))))))));
    const __m256d r = ADD(t2, t1);
    const __m256d halfSquare = MUL(MUL(C(0.5), f), f);
    // k is a small integer: to double exactly through the 1.5·2⁵² bit trick.
    const __m256d magic = C(6755399441055744.0);
    const __m256d dk = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(magic), k)), magic);
    const __m256d inner = _mm256_sub_pd(_mm256_sub_pd(halfSquare, ADD(MUL(s, ADD(halfSquare, r)), MUL(dk, C(1.90821492927058770002e-10)))), f);
    return _mm256_sub_pd(MUL(dk, C(6.93147180369123816490e-01)), inner);
}

/// fdlibm's k_sin for |x| ≤ π/4 (BoxMuller.kernelSine).
TK_AVX2 static inline __m256d tk_kernel_sin4(__m256d x) {
    const __m256d z = MUL(x, x);
    const __m256d v = MUL(z, x);
    const __m256d r = ADD(C(8.33333333332248946124e-03), MUL(z, ADD(C(-1.98412698298579493134e-04),
                          MUL(z, ADD(C(2.75573137070700676789e-06), MUL(z, ADD(C(-2.50507602534068634195e-08),
                          MUL(z, C(1.58969099521155010221e-10)))))))));
    return ADD(x, MUL(v, ADD(C(-1.66666666666666324348e-01), MUL(z, r))));
}

/// fdlibm's k_cos for |x| ≤ π/4 (BoxMuller.kernelCosine).
TK_AVX2 static inline __m256d tk_kernel_cos4(__m256d x) {
    const __m256d z = MUL(x, x);
    const __m256d r = MUL(z, ADD(C(4.16666666666666019037e-02), MUL(z, ADD(C(-1.38888888888741095749e-03),
                          MUL(z, ADD(C(2.48015872894767294178e-05), MUL(z, ADD(C(-2.75573143513906633035e-07),
                          MUL(z, ADD(C(2.08757232129817482790e-09), MUL(z, C(-1.13596475577881948265e-11))))))))))));
    const __m256d halfZ = MUL(C(0.5), z);
    const __m256d one = C(1.0);
    const __m256d w = _mm256_sub_pd(one, halfZ);
    return ADD(w, ADD(_mm256_sub_pd(_mm256_sub_pd(one, w), halfZ), MUL(z, r)));
}

/// Four pairs: (r cos 2πu₂, r sin 2πu₂) as two vectors of four.
TK_AVX2 static inline void tk_box_muller4(__m256d u1, __m256d u2, __m256d *first, __m256d *second) {
    const __m256d radius = _mm256_sqrt_pd(MUL(C(-2.0), tk_log4(u1)));
    const __m256d magic = C(6755399441055744.0);
    const __m256d shifted = ADD(MUL(C(4.0), u2), magic);
    const __m256d quadrant = _mm256_sub_pd(shifted, magic);
    const __m256d theta = MUL(_mm256_sub_pd(MUL(C(8.0), u2), MUL(C(2.0), quadrant)), C(0.78539816339744830962));
    const __m256i s = _mm256_castpd_si256(tk_kernel_sin4(theta));
    const __m256i c = _mm256_castpd_si256(tk_kernel_cos4(theta));
    const __m256i q = _mm256_castpd_si256(shifted);
    const __m256i oneBits = _mm256_set1_epi64x(1), twoBits = _mm256_set1_epi64x(2);
    const __m256i swap = _mm256_sub_epi64(_mm256_setzero_si256(), _mm256_and_si256(q, oneBits));
    const __m256i sineSign = _mm256_slli_epi64(_mm256_and_si256(q, twoBits), 62);
    const __m256i cosineSign = _mm256_slli_epi64(_mm256_and_si256(_mm256_add_epi64(q, oneBits), twoBits), 62);
    const __m256i sine = _mm256_xor_si256(_mm256_or_si256(_mm256_and_si256(c, swap), _mm256_andnot_si256(swap, s)), sineSign);
    const __m256i cosine = _mm256_xor_si256(_mm256_or_si256(_mm256_and_si256(s, swap), _mm256_andnot_si256(swap, c)), cosineSign);
    *first = MUL(radius, _mm256_castsi256_pd(cosine));
    *second = MUL(radius, _mm256_castsi256_pd(sine));
}
#undef MUL
#undef ADD
#undef C

TK_AVX2 void tk_box_muller(const double *uniforms, long pairs, float *out, long count) {
    long i = 0;
    for (; i + 4 <= pairs && 2 * i + 8 <= count; i += 4) {
        // Four interleaved pairs (u₁, u₂) → u1 = [a, b, c, d], u2 = [a′, b′, c′, d′].
        const __m256d p0 = _mm256_loadu_pd(uniforms + 2 * i), p1 = _mm256_loadu_pd(uniforms + 2 * i + 4);
        const __m256d u1 = _mm256_permute4x64_pd(_mm256_unpacklo_pd(p0, p1), 0xD8);
        const __m256d u2 = _mm256_permute4x64_pd(_mm256_unpackhi_pd(p0, p1), 0xD8);
        __m256d first, second;
        tk_box_muller4(u1, u2, &first, &second);
        const __m128 a = _mm256_cvtpd_ps(first), b = _mm256_cvtpd_ps(second);
        // Interleave back: [f0, s0, f1, s1, f2, s2, f3, s3].
        _mm_storeu_ps(out + 2 * i, _mm_unpacklo_ps(a, b));
        _mm_storeu_ps(out + 2 * i + 4, _mm_unpackhi_ps(a, b));
    }
    if (i < pairs) {
        // The last pairs through a padded copy (u₁ = 1, u₂ = 0 in the padding).
        double in[8] = {1, 0, 1, 0, 1, 0, 1, 0};
        const long rest = pairs - i;
        memcpy(in, uniforms + 2 * i, (size_t)(2 * rest) * sizeof(double));
        const __m256d p0 = _mm256_loadu_pd(in), p1 = _mm256_loadu_pd(in + 4);
        const __m256d u1 = _mm256_permute4x64_pd(_mm256_unpacklo_pd(p0, p1), 0xD8);
        const __m256d u2 = _mm256_permute4x64_pd(_mm256_unpackhi_pd(p0, p1), 0xD8);
        __m256d first, second;
        tk_box_muller4(u1, u2, &first, &second);
        float values[8];
        const __m128 a = _mm256_cvtpd_ps(first), b = _mm256_cvtpd_ps(second);
        _mm_storeu_ps(values, _mm_unpacklo_ps(a, b));
        _mm_storeu_ps(values + 4, _mm_unpackhi_ps(a, b));
        memcpy(out + 2 * i, values, (size_t)(count - 2 * i) * sizeof(float));
    }
}

#else

void tk_box_muller(const double *uniforms, long pairs, float *out, long count) { __builtin_trap(); }

#endif
