// The per-example loops of `Tensor.groupNormalization` over NHWC data [pixels, channels]:
// per-channel sums over the pixels (in double, pixel after pixel) and per-channel affine maps.
// Every element takes the same operations in the same order whichever way the compiler
// vectorizes across channels (nothing is fused: FP_CONTRACT OFF; no sum is reassociated), so
// the AVX2 build of each loop gives the bits of the baseline one, on any CPU and under every
// `ComputeKernels` choice. Sixteen channels at a time keep their running sums in registers
// over all pixels; the loops are written once and compiled twice (baseline, AVX2), the first
// argument choosing (Swift passes whether the AVX2 kernels are selected, so that the reference
// kernels run — and the tests compare — the baseline build).
#include "TensorKernels.h"

#pragma STDC FP_CONTRACT OFF

#define TK_INLINE static inline __attribute__((always_inline))
#define TK_CHUNK 16

TK_INLINE void tk_channel_sums_body(const float *x, long pixels, long channels, double *sums) {
    long c0 = 0;
    for (; c0 + TK_CHUNK <= channels; c0 += TK_CHUNK) {
        double acc[TK_CHUNK];
        for (int e = 0; e < TK_CHUNK; e++) acc[e] = sums[c0 + e];
        for (long p = 0; p < pixels; p++) {
            const float *row = x + p * channels + c0;
            for (int e = 0; e < TK_CHUNK; e++) acc[e] += (double)row[e];
        }
        for (int e = 0; e < TK_CHUNK; e++) sums[c0 + e] = acc[e];
    }
    for (; c0 < channels; c0++) {
        double acc = sums[c0];
        for (long p = 0; p < pixels; p++) acc += (double)x[p * channels + c0];
        sums[c0] = acc;
    }
}

TK_INLINE void tk_channel_squared_deviations_body(const float *x, long pixels, long channels, const double *mean,
                                                  double *squares) {
    long c0 = 0;
    for (; c0 + TK_CHUNK <= channels; c0 += TK_CHUNK) {
        double acc[TK_CHUNK], m[TK_CHUNK];
        for (int e = 0; e < TK_CHUNK; e++) { acc[e] = squares[c0 + e]; m[e] = mean[c0 + e]; }
        for (long p = 0; p < pixels; p++) {
            const float *row = x + p * channels + c0;
            for (int e = 0; e < TK_CHUNK; e++) {
                const double d = (double)row[e] - m[e];
                acc[e] += d * d;
            }
        }
        for (int e = 0; e < TK_CHUNK; e++) squares[c0 + e] = acc[e];
    }
    for (; c0 < channels; c0++) {
        double acc = squares[c0];
        for (long p = 0; p < pixels; p++) {
            const double d = (double)x[p * channels + c0] - mean[c0];
            acc += d * d;
        }
        squares[c0] = acc;
    }
}

TK_INLINE void tk_channel_affine_body(const float *restrict x, long pixels, long channels, const float *mean,
                                      const float *scale, const float *offset, float *restrict y) {
    for (long p = 0; p < pixels; p++) {
        const float *row = x + p * channels;
        float *out = y + p * channels;
        for (long c = 0; c < channels; c++) out[c] = (row[c] - mean[c]) * scale[c] + offset[c];
    }
}

TK_INLINE void tk_group_norm_gradient_sums_body(const float *x, const float *dy, const float *slopes, long pixels,
                                                long channels, const float *mean, const float *inverse, double *sumDz,
                                                double *sumDzXhat) {
    long c0 = 0;
    for (; c0 + TK_CHUNK <= channels; c0 += TK_CHUNK) {
        double a[TK_CHUNK], b[TK_CHUNK];
        float m[TK_CHUNK], r[TK_CHUNK];
        for (int e = 0; e < TK_CHUNK; e++) {
            a[e] = sumDz[c0 + e]; b[e] = sumDzXhat[c0 + e]; m[e] = mean[c0 + e]; r[e] = inverse[c0 + e];
        }
        for (long p = 0; p < pixels; p++) {
            const long offset = p * channels + c0;
            for (int e = 0; e < TK_CHUNK; e++) {
                const float normalized = (x[offset + e] - m[e]) * r[e];
                const double d = (double)(slopes ? dy[offset + e] * slopes[offset + e] : dy[offset + e]);
                a[e] += d;
                b[e] += d * (double)normalized;
            }
        }
        for (int e = 0; e < TK_CHUNK; e++) { sumDz[c0 + e] = a[e]; sumDzXhat[c0 + e] = b[e]; }
    }
    for (; c0 < channels; c0++) {
        double a = sumDz[c0], b = sumDzXhat[c0];
        for (long p = 0; p < pixels; p++) {
            const long offset = p * channels + c0;
            const float normalized = (x[offset] - mean[c0]) * inverse[c0];
            const double d = (double)(slopes ? dy[offset] * slopes[offset] : dy[offset]);
            a += d;
            b += d * (double)normalized;
        }
        sumDz[c0] = a; sumDzXhat[c0] = b;
    }
}

/// The two loops above with and without slopes, so that the test on `slopes` leaves the inner loop.
TK_INLINE void tk_group_norm_gradient_sums_split(const float *x, const float *dy, const float *slopes, long pixels,
                                                 long channels, const float *mean, const float *inverse, double *sumDz,
                                                 double *sumDzXhat) {
    if (slopes) tk_group_norm_gradient_sums_body(x, dy, slopes, pixels, channels, mean, inverse, sumDz, sumDzXhat);
    else tk_group_norm_gradient_sums_body(x, dy, 0, pixels, channels, mean, inverse, sumDz, sumDzXhat);
}

TK_INLINE void tk_group_norm_input_gradient_body(const float *restrict x, const float *restrict dy, const float *restrict slopes,
                                                 long pixels, long channels, const float *mean, const float *inverse,
                                                 const float *gamma, const float *meanGradient, const float *meanProduct,
                                                 float *restrict dx) {
    for (long p = 0; p < pixels; p++) {
        const long offset = p * channels;
        for (long c = 0; c < channels; c++) {
            const float normalized = (x[offset + c] - mean[c]) * inverse[c];
            const float dz = slopes ? dy[offset + c] * slopes[offset + c] : dy[offset + c];
            dx[offset + c] = inverse[c] * (dz * gamma[c] - meanGradient[c] - normalized * meanProduct[c]);
        }
    }
}

TK_INLINE void tk_group_norm_input_gradient_split(const float *x, const float *dy, const float *slopes, long pixels,
                                                  long channels, const float *mean, const float *inverse, const float *gamma,
                                                  const float *meanGradient, const float *meanProduct, float *dx) {
    if (slopes) tk_group_norm_input_gradient_body(x, dy, slopes, pixels, channels, mean, inverse, gamma, meanGradient, meanProduct, dx);
    else tk_group_norm_input_gradient_body(x, dy, 0, pixels, channels, mean, inverse, gamma, meanGradient, meanProduct, dx);
}

#if defined(__x86_64__)
#define TK_AVX2 __attribute__((target("avx2")))
static int tk_use_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = tk_cpu_has_avx2_fma();
    return cached;
}
/// `name`, compiled for AVX2 and for the baseline from the same inline `body`: the AVX2 build when
/// `vector` is nonzero and the CPU has it (the same bits either way).
#define TK_DISPATCH(name, body, params, args)                                                      \
    TK_AVX2 static void name##_avx2 params { body args; }                                          \
    static void name##_baseline params { body args; }                                              \
    void name(int vector, TK_UNPAREN params) {                                                     \
        if (vector && tk_use_avx2()) name##_avx2 args; else name##_baseline args;                  \
    }
#else
#define TK_DISPATCH(name, body, params, args) void name(int vector, TK_UNPAREN params) { body args; }
#endif
#define TK_UNPAREN(...) __VA_ARGS__

TK_DISPATCH(tk_channel_sums, tk_channel_sums_body,
            (const float *x, long pixels, long channels, double *sums),
            (x, pixels, channels, sums))
TK_DISPATCH(tk_channel_squared_deviations, tk_channel_squared_deviations_body,
            (const float *x, long pixels, long channels, const double *mean, double *squares),
            (x, pixels, channels, mean, squares))
TK_DISPATCH(tk_channel_affine, tk_channel_affine_body,
            (const float *x, long pixels, long channels, const float *mean, const float *scale, const float *offset, float *y),
            (x, pixels, channels, mean, scale, offset, y))
TK_DISPATCH(tk_group_norm_gradient_sums, tk_group_norm_gradient_sums_split,
            (const float *x, const float *dy, const float *slopes, long pixels, long channels, const float *mean,
             const float *inverse, double *sumDz, double *sumDzXhat),
            (x, dy, slopes, pixels, channels, mean, inverse, sumDz, sumDzXhat))
TK_DISPATCH(tk_group_norm_input_gradient, tk_group_norm_input_gradient_split,
            (const float *x, const float *dy, const float *slopes, long pixels, long channels, const float *mean,
             const float *inverse, const float *gamma, const float *meanGradient, const float *meanProduct, float *dx),
            (x, dy, slopes, pixels, channels, mean, inverse, gamma, meanGradient, meanProduct, dx))
