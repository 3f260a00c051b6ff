// Adam's update for AVX2 + FMA (see tk_adam_update in TensorKernels.h): one pass that reads
// g, m, v and w once and writes m, v and w, the square root and both divisions eight lanes at
// a time — the Swift loop (four lanes, no FMA) is bound by them, not by memory.
#include "TensorKernels.h"

// Fused multiply–adds only where written (fmaf / fma), so the reference kernel (Reference.c)
// can repeat them: the tail below states the fusions clang's default contraction made of it.
#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#define TK_AVX2 __attribute__((target("avx2,fma")))

TK_AVX2 double tk_adam_update(long count, const float *gradient, float *m, float *v, float *w, float scale,
                              float beta1, float beta2, float stepSize, float rootCorrection2, float epsilon,
                              int sumSquares, int *nonFinite) {
    // NaN and ±∞ are the floats whose exponent field is all ones: the largest exponent field
    // written, lane by lane, tells whether any was (vpmaxud on the masked bits, three per group).
    const __m256i exponent = _mm256_set1_epi32(0x7F800000);
    __m256i largest = _mm256_setzero_si256();
    const __m256 b1 = _mm256_set1_ps(beta1), c1 = _mm256_set1_ps(1 - beta1);
    const __m256 b2 = _mm256_set1_ps(beta2), c2 = _mm256_set1_ps(1 - beta2);
    const __m256 s = _mm256_set1_ps(scale), step = _mm256_set1_ps(stepSize);
    const __m256 root = _mm256_set1_ps(rootCorrection2), eps = _mm256_set1_ps(epsilon);
    __m256d low = _mm256_setzero_pd(), high = _mm256_setzero_pd();
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 raw = _mm256_loadu_ps(gradient + i);
        if (sumSquares) {
            const __m256d a = _mm256_cvtps_pd(_mm256_castps256_ps128(raw));
            const __m256d b = _mm256_cvtps_pd(_mm256_extractf128_ps(raw, 1));
            low = _mm256_fmadd_pd(a, a, low);
            high = _mm256_fmadd_pd(b, b, high);
        }
        const __m256 g = _mm256_mul_ps(raw, s);
        const __m256 mi = _mm256_fmadd_ps(b1, _mm256_loadu_ps(m + i), _mm256_mul_ps(c1, g));
        const __m256 vi = _mm256_fmadd_ps(b2, _mm256_loadu_ps(v + i), _mm256_mul_ps(_mm256_mul_ps(c2, g), g));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        const __m256 denominator = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), root), eps);
        const __m256 update = _mm256_div_ps(_mm256_mul_ps(step, mi), denominator);
        const __m256 wi = _mm256_sub_ps(_mm256_loadu_ps(w + i), update);
        _mm256_storeu_ps(w + i, wi);
        largest = _mm256_max_epu32(largest, _mm256_and_si256(_mm256_castps_si256(mi), exponent));
        largest = _mm256_max_epu32(largest, _mm256_and_si256(_mm256_castps_si256(vi), exponent));
        largest = _mm256_max_epu32(largest, _mm256_and_si256(_mm256_castps_si256(wi), exponent));
    }
    int bad = _mm256_movemask_epi8(_mm256_cmpeq_epi32(largest, exponent)) != 0;
    double total = 0;
    if (sumSquares) {
        double lanes[4];
        _mm256_storeu_pd(lanes, _mm256_add_pd(low, high));
        total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    }
    for (; i < count; i++) {
        if (sumSquares) total = fma((double)gradient[i], (double)gradient[i], total);
        const float g = gradient[i] * scale;
        const float mi = fmaf(beta1, m[i], (1 - beta1) * g);
        const float vi = fmaf(beta2, v[i], (1 - beta2) * g * g);
        m[i] = mi;
        v[i] = vi;
        w[i] -= stepSize * mi / (sqrtf(vi) / rootCorrection2 + epsilon);
        bad |= !isfinite(mi) || !isfinite(vi) || !isfinite(w[i]);
    }
    if (nonFinite != NULL) *nonFinite = bad;
    return total;
}

#else

double tk_adam_update(long count, const float *gradient, float *m, float *v, float *w, float scale,
                      float beta1, float beta2, float stepSize, float rootCorrection2, float epsilon,
                      int sumSquares, int *nonFinite) { __builtin_trap(); }

#endif
