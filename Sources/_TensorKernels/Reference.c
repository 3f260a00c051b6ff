// The reference kernels (`ComputeKernels.reference`): portable C, one element at a time, that
// performs exactly the floating-point operations of the AVX2 + FMA kernels — the packed
// product (MatrixProduct.c), the fused activations (Activations.c) and Adam's update
// (Adam.c) — in the same order, so that they give the same bits on any CPU (as BLIS keeps a
// reference kernel beside each tuned one). Every fused multiply–add of a vector kernel is an
// `fmaf` here (correctly rounded by definition, in hardware or in libm), every other operation
// a plain one; nothing else may be fused, hence FP_CONTRACT OFF (on AArch64 clang would
// otherwise contract `a * b + c` into one instruction and change the rounding).
//
// Lane-wise semantics copied from x86: `_mm256_max_ps(a, b)` is `a > b ? a : b` and
// `_mm256_min_ps(a, b)` is `a < b ? a : b` (the second operand when either is NaN), a
// comparison mask is all ones or all zeros, and `blendv(a, b, mask)` picks b where the mask is set.
#include "TensorKernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

#define MR TK_GEMM_MR
#define NR TK_GEMM_NR

static inline long tk_reference_min(long a, long b) { return a < b ? a : b; }

// MARK: - Matrix product

void tk_gemm_pack_a_reference(const float *a, long lda, int transpose, long row, long rows,
                              long depth, long depthCount, float *packed) {
    for (long panel = 0; panel < rows; panel += MR) {
        const long height = tk_reference_min(MR, rows - panel);
        float *out = packed + panel * depthCount;
        for (long p = 0; p < depthCount; p++) {
            for (long r = 0; r < MR; r++) {
                const long i = row + panel + r, q = depth + p;
                out[p * MR + r] = r < height ? (transpose ? a[q * lda + i] : a[i * lda + q]) : 0;
            }
        }
    }
}

void tk_gemm_pack_b_reference(const float *b, long ldb, int transpose, long depth, long depthCount,
                              long column, long columns, float *packed) {
    for (long panel = 0; panel < columns; panel += NR) {
        const long width = tk_reference_min(NR, columns - panel);
        float *out = packed + panel * depthCount;
        for (long p = 0; p < depthCount; p++) {
            for (long j = 0; j < NR; j++) {
                const long q = depth + p, c = column + panel + j;
                out[p * NR + j] = j < width ? (transpose ? b[c * ldb + q] : b[q * ldb + c]) : 0;
            }
        }
    }
}

/// One MR × NR tile of sums from a packed panel of A and one of B: each element starts at +0
/// and takes one fused multiply–add per depth, in depth order — lane (r, j) of
/// `tk_kernel_6x16`'s accumulators.
static void tk_reference_tile(long depthCount, const float *a, const float *b, float tile[MR * NR]) {
    for (long e = 0; e < MR * NR; e++) tile[e] = 0;
    for (long p = 0; p < depthCount; p++) {
        for (long r = 0; r < MR; r++) {
            for (long j = 0; j < NR; j++) tile[r * NR + j] = fmaf(a[p * MR + r], b[p * NR + j], tile[r * NR + j]);
        }
    }
}

void tk_gemm_block_reference(long rows, long columns, long depthCount, const float *packedA,
                             const float *packedB, float *c, long ldc, int accumulate, const float *bias) {
    float tile[MR * NR];
    for (long j = 0; j < columns; j += NR) {
        const long width = tk_reference_min(NR, columns - j);
        const float *panelB = packedB + j * depthCount;
        const float *columnBias = bias ? bias + j : 0;
        for (long i = 0; i < rows; i += MR) {
            const long height = tk_reference_min(MR, rows - i);
            tk_reference_tile(depthCount, packedA + i * depthCount, panelB, tile);
            // The epilogue of the AVX2 kernel, full tile or edge alike: C + sum, or sum + bias.
            for (long r = 0; r < height; r++) {
                float *row = c + (i + r) * ldc + j;
                for (long q = 0; q < width; q++) {
                    const float sum = tile[r * NR + q];
                    if (accumulate) row[q] = row[q] + sum;
                    else row[q] = columnBias ? sum + columnBias[q] : sum;
                }
            }
        }
    }
}

// MARK: - Fused activations

static inline float tk_bits_to_float(uint32_t bits) {
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline uint32_t tk_float_to_bits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

/// `tk_exp_reduction`: e^r ≈ 1 + r + r² P(r), and 2ⁿ's biased exponent n + 127 + extraBias.
static inline float tk_reference_exp_reduction(float x, uint32_t *biasedExponent, int extraBias) {
    const float magic = 12582912.0f;
    const float shifted = fmaf(x, 1.44269504f, magic);
    const float n = shifted - magic;
    *biasedExponent = tk_float_to_bits(shifted) - tk_float_to_bits(magic) + (uint32_t)(127 + extraBias);
    float r = fmaf(-n, 0.693359375f, x);
    r = fmaf(n, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    return fmaf(p * r, r, r) + 1.0f;
}

/// `tk_exp`: eˣ, 0 below −87.33654.
static inline float tk_reference_exp(float x) {
    const float low = -87.33654f, high = 88.37626f;
    const float raised = low > x ? low : x;
    const float clamped = high < raised ? high : raised;
    uint32_t exponent;
    const float polynomial = tk_reference_exp_reduction(clamped, &exponent, 0);
    const float result = polynomial * tk_bits_to_float(exponent << 23);
    return x < low ? 0.0f : result;
}

/// `tk_exp_subnormal`: eˣ for x ≤ 0 down to the subnormals, 0 below −103.97208.
static inline float tk_reference_exp_subnormal(float x) {
    const float low = -103.97208f;
    const float raised = low > x ? low : x;
    const float clamped = 0.0f < raised ? 0.0f : raised;
    uint32_t exponent;
    const float polynomial = tk_reference_exp_reduction(clamped, &exponent, 64);
    float result = polynomial * tk_bits_to_float(exponent << 23);
    result = result * 0x1p-64f;
    return x < low ? 0.0f : result;
}

/// `tk_log1p`: log(1 + e) for e in [0, 1].
static inline float tk_reference_log1p(float e) {
    const int large = e >= 0.41421356f;
    const float f = large ? (e - 1.0f) * 0.5f : e;
    const float q = large ? 1.0f : 0.0f;
    const float f2 = f * f;
    float p = 7.0376836292e-2f;
    p = fmaf(p, f, -1.1514610310e-1f);
    p = fmaf(p, f, 1.1676998740e-1f);
    p = fmaf(p, f, -1.2420140846e-1f);
    p = fmaf(p, f, 1.4249322787e-1f);
    p = fmaf(p, f, -1.6668057665e-1f);
    p = fmaf(p, f, 2.0000714765e-1f);
    p = fmaf(p, f, -2.4999993993e-1f);
    p = fmaf(p, f, 3.3333331174e-1f);
    float y = fmaf(-0.5f, f2, (p * f) * f2);
    y = fmaf(-q, 2.12194440e-4f, y);
    return fmaf(q, 0.693359375f, f + y);
}

/// |x| by clearing the sign bit (`_mm256_andnot_ps(-0, x)`), NaNs included.
static inline float tk_reference_abs(float x) { return tk_bits_to_float(tk_float_to_bits(x) & 0x7fffffffu); }

static inline float tk_reference_logistic(float x) {
    const float e = tk_reference_exp(0.0f - tk_reference_abs(x));
    const float numerator = x >= 0.0f ? 1.0f : e;
    return numerator / (1.0f + e);
}

static inline float tk_reference_relu(float x, float *slope) {
    const int positive = x > 0.0f;
    *slope = positive ? 1.0f : 0.0f;
    return positive ? x : 0.0f;
}

static inline float tk_reference_sigmoid(float x, float *slope) {
    const float s = tk_reference_logistic(x);
    *slope = s * (1.0f - s);
    return s;
}

static inline float tk_reference_silu(float x, float *slope) {
    const float s = tk_reference_logistic(x);
    *slope = s * fmaf(x, 1.0f - s, 1.0f);
    return x * s;
}

static inline float tk_reference_tanh(float x, float *slope) {
    const float e = tk_reference_exp(-2.0f * tk_reference_abs(x));
    const float denominator = 1.0f + e;
    const float magnitude = (1.0f - e) / denominator;
    *slope = (4.0f * e) / (denominator * denominator);
    const float negative = 0.0f - magnitude;
    return x >= 0.0f ? magnitude : negative;
}

static inline float tk_reference_softplus(float x, float *slope) {
    const float e = tk_reference_exp_subnormal(0.0f - tk_reference_abs(x));
    const int nonNegative = x >= 0.0f;
    *slope = (nonNegative ? 1.0f : e) / (1.0f + e);
    const float positivePart = nonNegative ? x : 0.0f;
    return positivePart + tk_reference_log1p(e);
}

#define TK_REFERENCE_LOOP(kernel)                                                          \
    static void kernel##_map(const float *x, float *y, float *slopes, long count) {        \
        for (long i = 0; i < count; i++) {                                                  \
            float slope;                                                                    \
            const float value = kernel(x[i], &slope);                                       \
            y[i] = value;                                                                   \
            if (slopes) slopes[i] = slope;                                                  \
        }                                                                                   \
    }

TK_REFERENCE_LOOP(tk_reference_relu)
TK_REFERENCE_LOOP(tk_reference_sigmoid)
TK_REFERENCE_LOOP(tk_reference_silu)
TK_REFERENCE_LOOP(tk_reference_tanh)
TK_REFERENCE_LOOP(tk_reference_softplus)

void tk_activation_reference(int kind, const float *x, float *y, float *slopes, long count) {
    switch (kind) {
    case TK_RELU: tk_reference_relu_map(x, y, slopes, count); break;
    case TK_SIGMOID: tk_reference_sigmoid_map(x, y, slopes, count); break;
    case TK_SILU: tk_reference_silu_map(x, y, slopes, count); break;
    case TK_TANH: tk_reference_tanh_map(x, y, slopes, count); break;
    case TK_SOFTPLUS: tk_reference_softplus_map(x, y, slopes, count); break;
    default: __builtin_trap();
    }
}

// MARK: - Adam

double tk_adam_update_reference(long count, const float *gradient, float *m, float *v, float *w, float scale,
                                float beta1, float beta2, float stepSize, float rootCorrection2, float epsilon,
                                int sumSquares, int *nonFinite) {
    const float complement1 = 1 - beta1, complement2 = 1 - beta2;
    int bad = 0;
    // Σ gradient² as tk_adam_update forms it: eight running sums in double (lane l takes the
    // elements ≡ l mod 8 of the whole groups of eight), fused, combined as
    // ((s₀ + s₄) + (s₁ + s₅)) + ((s₂ + s₆) + (s₃ + s₇)); then the tail, fused, one by one.
    double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const long whole = count / 8 * 8;
    if (sumSquares) {
        for (long i = 0; i < whole; i++) {
            const double g = (double)gradient[i];
            lanes[i % 8] = fma(g, g, lanes[i % 8]);
        }
    }
    double total = 0;
    if (sumSquares) {
        total = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
        for (long i = whole; i < count; i++) {
            const double g = (double)gradient[i];
            total = fma(g, g, total);
        }
    }
    for (long i = 0; i < count; i++) {
        const float g = gradient[i] * scale;
        const float mi = fmaf(beta1, m[i], complement1 * g);
        const float vi = fmaf(beta2, v[i], (complement2 * g) * g);
        m[i] = mi;
        v[i] = vi;
        const float denominator = sqrtf(vi) / rootCorrection2 + epsilon;
        w[i] = w[i] - (stepSize * mi) / denominator;
        bad |= !isfinite(mi) || !isfinite(vi) || !isfinite(w[i]);
    }
    if (nonFinite != NULL) *nonFinite = bad;
    return total;
}
