// The fused activations of Swift's `PointwiseActivation` (Tensor+Activations.swift), eight
// lanes at a time for AVX2 + FMA: the same formulas, the same polynomials (Cephes' expf and
// logf, as in FastExponential.swift) and the same clamps, with fused multiply–adds where the
// Swift code rounds twice — so results agree with the Swift kernels to an ulp or two, not
// bit for bit (the tests compare both against their definitions and against each other).
#include "TensorKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define TK_AVX2 __attribute__((target("avx2,fma")))

/// e^r ≈ 1 + r + r² P(r) and 2ⁿ's biased exponent n + 127 + extraBias, for x = n ln 2 + r
/// (x already clamped by the caller): `exponentialReduction` of FastExponential.swift.
TK_AVX2 static inline __m256 tk_exp_reduction(__m256 x, __m256i *biasedExponent, int extraBias) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504f), magic);
    const __m256 n = _mm256_sub_ps(shifted, magic);
    *biasedExponent = _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_castps_si256(magic)),
                                       _mm256_set1_epi32(127 + extraBias));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    return _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
}

/// `fastExponential`: eˣ, 0 below −87.33654 (where eˣ would be subnormal).
TK_AVX2 static inline __m256 tk_exp(__m256 x) {
    const __m256 low = _mm256_set1_ps(-87.33654f), high = _mm256_set1_ps(88.37626f);
    // Operands in this order let a NaN through, as the Swift comparisons do.
    const __m256 clamped = _mm256_min_ps(high, _mm256_max_ps(low, x));
    __m256i exponent;
    const __m256 polynomial = tk_exp_reduction(clamped, &exponent, 0);
    const __m256 result = _mm256_mul_ps(polynomial, _mm256_castsi256_ps(_mm256_slli_epi32(exponent, 23)));
    return _mm256_andnot_ps(_mm256_cmp_ps(x, low, _CMP_LT_OQ), result);
}

/// `fastExponentialWithSubnormals`: eˣ for x ≤ 0 down to the subnormal range (2ⁿ applied as
/// 2ⁿ⁺⁶⁴ · 2⁻⁶⁴), 0 below −103.97208.
TK_AVX2 static inline __m256 tk_exp_subnormal(__m256 x) {
    const __m256 low = _mm256_set1_ps(-103.97208f);
    const __m256 clamped = _mm256_min_ps(_mm256_setzero_ps(), _mm256_max_ps(low, x));
    __m256i exponent;
    const __m256 polynomial = tk_exp_reduction(clamped, &exponent, 64);
    __m256 result = _mm256_mul_ps(polynomial, _mm256_castsi256_ps(_mm256_slli_epi32(exponent, 23)));
    result = _mm256_mul_ps(result, _mm256_set1_ps(0x1p-64f));
    return _mm256_andnot_ps(_mm256_cmp_ps(x, low, _CMP_LT_OQ), result);
}

/// `fastLog1p`: log(1 + e) for e in [0, 1].
TK_AVX2 static inline __m256 tk_log1p(__m256 e) {
    const __m256 one = _mm256_set1_ps(1.0f), half = _mm256_set1_ps(0.5f);
    const __m256 large = _mm256_cmp_ps(e, _mm256_set1_ps(0.41421356f), _CMP_GE_OQ);
    const __m256 f = _mm256_blendv_ps(e, _mm256_mul_ps(_mm256_sub_ps(e, one), half), large);
    const __m256 q = _mm256_and_ps(large, one);
    const __m256 f2 = _mm256_mul_ps(f, f);
    __m256 p = _mm256_set1_ps(7.0376836292e-2f);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-1.1514610310e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.1676998740e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-1.2420140846e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.4249322787e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-1.6668057665e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.0000714765e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-2.4999993993e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(3.3333331174e-1f));
    __m256 y = _mm256_fnmadd_ps(half, f2, _mm256_mul_ps(_mm256_mul_ps(p, f), f2));
    y = _mm256_fnmadd_ps(q, _mm256_set1_ps(2.12194440e-4f), y);
    return _mm256_fmadd_ps(q, _mm256_set1_ps(0.693359375f), _mm256_add_ps(f, y));
}

TK_AVX2 static inline __m256 tk_abs(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }

/// σ(x) = (x ≥ 0 ? 1 : e) / (1 + e) with e = e^{−|x|}: stable on both sides.
TK_AVX2 static inline __m256 tk_logistic(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = tk_exp(_mm256_sub_ps(_mm256_setzero_ps(), tk_abs(x)));
    const __m256 numerator = _mm256_blendv_ps(e, one, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
    return _mm256_div_ps(numerator, _mm256_add_ps(one, e));
}

TK_AVX2 static inline __m256 tk_relu(__m256 x, __m256 *slope) {
    const __m256 positive = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
    *slope = _mm256_and_ps(positive, _mm256_set1_ps(1.0f));
    return _mm256_and_ps(positive, x);
}

TK_AVX2 static inline __m256 tk_sigmoid(__m256 x, __m256 *slope) {
    const __m256 s = tk_logistic(x);
    *slope = _mm256_mul_ps(s, _mm256_sub_ps(_mm256_set1_ps(1.0f), s));
    return s;
}

/// x σ(x); slope σ (1 + x (1 − σ)).
TK_AVX2 static inline __m256 tk_silu(__m256 x, __m256 *slope) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 s = tk_logistic(x);
    *slope = _mm256_mul_ps(s, _mm256_fmadd_ps(x, _mm256_sub_ps(one, s), one));
    return _mm256_mul_ps(x, s);
}

/// sign(x) (1 − e)/(1 + e) with e = e^{−2|x|}; slope 4e/(1 + e)².
TK_AVX2 static inline __m256 tk_tanh(__m256 x, __m256 *slope) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = tk_exp(_mm256_mul_ps(_mm256_set1_ps(-2.0f), tk_abs(x)));
    const __m256 denominator = _mm256_add_ps(one, e);
    const __m256 magnitude = _mm256_div_ps(_mm256_sub_ps(one, e), denominator);
    *slope = _mm256_div_ps(_mm256_mul_ps(_mm256_set1_ps(4.0f), e), _mm256_mul_ps(denominator, denominator));
    const __m256 negative = _mm256_sub_ps(_mm256_setzero_ps(), magnitude);
    return _mm256_blendv_ps(negative, magnitude, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
}

/// max(x, 0) + log1p(e) with e = e^{−|x|} kept down to subnormals; slope σ(x).
TK_AVX2 static inline __m256 tk_softplus(__m256 x, __m256 *slope) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    const __m256 e = tk_exp_subnormal(_mm256_sub_ps(zero, tk_abs(x)));
    const __m256 nonNegative = _mm256_cmp_ps(x, zero, _CMP_GE_OQ);
    *slope = _mm256_div_ps(_mm256_blendv_ps(e, one, nonNegative), _mm256_add_ps(one, e));
    const __m256 positivePart = _mm256_blendv_ps(zero, x, nonNegative);
    return _mm256_add_ps(positivePart, tk_log1p(e));
}

/// The loop of one activation: eight elements at a time, the last few through a padded copy.
#define TK_ACTIVATION_LOOP(kernel)                                                          \
    TK_AVX2 static void kernel##_map(const float *x, float *y, float *slopes, long count) { \
        long i = 0;                                                                         \
        __m256 slope;                                                                       \
        if (slopes) {                                                                       \
            for (; i + 8 <= count; i += 8) {                                                \
                const __m256 value = kernel(_mm256_loadu_ps(x + i), &slope);                \
                _mm256_storeu_ps(y + i, value);                                             \
                _mm256_storeu_ps(slopes + i, slope);                                        \
            }                                                                               \
        } else {                                                                            \
            for (; i + 8 <= count; i += 8) {                                                \
                _mm256_storeu_ps(y + i, kernel(_mm256_loadu_ps(x + i), &slope));            \
            }                                                                               \
        }                                                                                   \
        if (i < count) {                                                                    \
            float in[8] = {0}, out[8], outSlopes[8];                                        \
            const long rest = count - i;                                                    \
            memcpy(in, x + i, (size_t)rest * sizeof(float));                                \
            _mm256_storeu_ps(out, kernel(_mm256_loadu_ps(in), &slope));                     \
            _mm256_storeu_ps(outSlopes, slope);                                             \
            memcpy(y + i, out, (size_t)rest * sizeof(float));                               \
            if (slopes) memcpy(slopes + i, outSlopes, (size_t)rest * sizeof(float));        \
        }                                                                                   \
    }

TK_ACTIVATION_LOOP(tk_relu)
TK_ACTIVATION_LOOP(tk_sigmoid)
TK_ACTIVATION_LOOP(tk_silu)
TK_ACTIVATION_LOOP(tk_tanh)
TK_ACTIVATION_LOOP(tk_softplus)

void tk_activation(int kind, const float *x, float *y, float *slopes, long count) {
    switch (kind) {
    case TK_RELU: tk_relu_map(x, y, slopes, count); break;
    case TK_SIGMOID: tk_sigmoid_map(x, y, slopes, count); break;
    case TK_SILU: tk_silu_map(x, y, slopes, count); break;
    case TK_TANH: tk_tanh_map(x, y, slopes, count); break;
    case TK_SOFTPLUS: tk_softplus_map(x, y, slopes, count); break;
    default: __builtin_trap();
    }
}

#else

void tk_activation(int kind, const float *x, float *y, float *slopes, long count) { __builtin_trap(); }

#endif
