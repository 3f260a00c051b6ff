// The matrix product's inner loops for AVX2 + FMA (the blocking and threading around them are
// in Swift, `MatrixProduct.swift`): packing of A and B into register-tile panels, and the
// 6 × 16 micro-kernel of BLIS's Haswell / Zen sgemm — twelve 8-lane accumulators, one
// broadcast of A and two loads of B per step of depth.
#include "TensorKernels.h"

#if defined(__x86_64__)
#include "Transpose.h"

#define MR TK_GEMM_MR
#define NR TK_GEMM_NR

static inline long tk_min(long a, long b) { return a < b ? a : b; }

// MARK: - Packing

TK_AVX2 void tk_gemm_pack_a(const float *a, long lda, int transpose, long row, long rows,
                            long depth, long depthCount, float *packed) {
    // Stores of the 6 floats of one depth in a full panel: 8 lanes, the last 2 of which the
    // next depth's store overwrites; the last depth of a group of 8 stores 4 + 2 lanes instead
    // (a masked store is microcoded on AMD's cores: it took a seventh of this function).
    for (long panel = 0; panel < rows; panel += MR) {
        const long height = tk_min(MR, rows - panel);
        float *out = packed + panel * depthCount;
        if (!transpose) {
            // op(A)[i][p] = a[i·lda + p]: rows are contiguous in depth. A full panel goes 8
            // depths at a time through an 8 × 8 transpose (6 rows and 2 of zeros).
            const float *source = a + (row + panel) * lda + depth;
            long p = 0;
            if (height == MR) {
                for (; p + 8 <= depthCount; p += 8) {
                    __m256 r[8];
                    for (int i = 0; i < MR; i++) r[i] = _mm256_loadu_ps(source + i * lda + p);
                    r[6] = r[7] = _mm256_setzero_ps();
                    tk_transpose8(r);
                    for (int q = 0; q < 7; q++) _mm256_storeu_ps(out + (p + q) * MR, r[q]);
                    _mm_storeu_ps(out + (p + 7) * MR, _mm256_castps256_ps128(r[7]));
                    _mm_storel_pi((__m64 *)(out + (p + 7) * MR + 4), _mm256_extractf128_ps(r[7], 1));
                }
            }
            for (long r = 0; r < height; r++) {
                for (long q = p; q < depthCount; q++) out[q * MR + r] = source[r * lda + q];
            }
            for (long r = height; r < MR; r++) {
                for (long q = p; q < depthCount; q++) out[q * MR + r] = 0;
            }
        } else if (height == MR) {
            // op(A)[i][p] = a[p·lda + i]: MR = 4 + 2 neighbours at each depth.
            for (long p = 0; p < depthCount; p++) {
                const float *source = a + (depth + p) * lda + row + panel;
                _mm_storeu_ps(out + p * MR, _mm_loadu_ps(source));
                _mm_storel_pi((__m64 *)(out + p * MR + 4), _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(source + 4)));
            }
        } else {
            for (long p = 0; p < depthCount; p++) {
                const float *source = a + (depth + p) * lda + row + panel;
                long r = 0;
                for (; r < height; r++) out[p * MR + r] = source[r];
                for (; r < MR; r++) out[p * MR + r] = 0;
            }
        }
    }
}

TK_AVX2 void tk_gemm_pack_b(const float *b, long ldb, int transpose, long depth, long depthCount,
                            long column, long columns, float *packed) {
    if (!transpose) {
        // op(B)[p][j] = b[p·ldb + j]: panel by panel, NR neighbours at each depth, so that the
        // packed panels are written in order. (Row by row, reading B in order but writing to
        // every panel at once, measured 1.8 times slower: the panels' rows lie 16·depth floats
        // apart, a multiple of 4 KiB that maps them all onto the same L1 sets.)
        for (long panel = 0; panel < columns; panel += NR) {
            const long width = tk_min(NR, columns - panel);
            float *out = packed + panel * depthCount;
            const float *source = b + depth * ldb + column + panel;
            if (width == NR) {
                for (long p = 0; p < depthCount; p++) {
                    _mm256_store_ps(out + p * NR, _mm256_loadu_ps(source + p * ldb));
                    _mm256_store_ps(out + p * NR + 8, _mm256_loadu_ps(source + p * ldb + 8));
                }
            } else {
                for (long p = 0; p < depthCount; p++) {
                    long j = 0;
                    for (; j < width; j++) out[p * NR + j] = source[p * ldb + j];
                    for (; j < NR; j++) out[p * NR + j] = 0;
                }
            }
        }
        return;
    }
    // op(B)[p][j] = b[j·ldb + p]: row j of B is column j of op(B). Full panels go through
    // 8 × 8 transposes (8 columns × 8 depths at a time); the rest element-wise.
    for (long panel = 0; panel < columns; panel += NR) {
        const long width = tk_min(NR, columns - panel);
        float *out = packed + panel * depthCount;
        const float *source = b + (column + panel) * ldb + depth;
        long p = 0;
        if (width == NR) {
            for (; p + 8 <= depthCount; p += 8) {
                for (int half = 0; half < 2; half++) {
                    __m256 r[8];
                    for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(source + (half * 8 + j) * ldb + p);
                    tk_transpose8(r);
                    for (int q = 0; q < 8; q++) _mm256_store_ps(out + (p + q) * NR + half * 8, r[q]);
                }
            }
        }
        for (; p < depthCount; p++) {
            long j = 0;
            for (; j < width; j++) out[p * NR + j] = source[j * ldb + p];
            for (; j < NR; j++) out[p * NR + j] = 0;
        }
    }
}

// MARK: - Micro-kernel

/// The MR × NR tile at `c` (row stride ldc) from one packed panel of A and one of B.
TK_AVX2 static inline void tk_kernel_6x16(long depthCount, const float *restrict a, const float *restrict b,
                                          float *restrict c, long ldc, int accumulate, const float *restrict bias) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int r = 0; r < MR; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + NR - 1), _MM_HINT_T0);
    }
#pragma clang loop unroll_count(4)
    for (long p = 0; p < depthCount; p++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 s;
        s = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(s, b0, c00); c01 = _mm256_fmadd_ps(s, b1, c01);
        s = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(s, b0, c10); c11 = _mm256_fmadd_ps(s, b1, c11);
        s = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(s, b0, c20); c21 = _mm256_fmadd_ps(s, b1, c21);
        s = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(s, b0, c30); c31 = _mm256_fmadd_ps(s, b1, c31);
        s = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(s, b0, c40); c41 = _mm256_fmadd_ps(s, b1, c41);
        s = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(s, b0, c50); c51 = _mm256_fmadd_ps(s, b1, c51);
        a += MR;
        b += NR;
    }
    if (accumulate) {
#define TK_STORE(row, low, high)                                                                    \
    _mm256_storeu_ps(c + (row) * ldc, _mm256_add_ps(_mm256_loadu_ps(c + (row) * ldc), low));       \
    _mm256_storeu_ps(c + (row) * ldc + 8, _mm256_add_ps(_mm256_loadu_ps(c + (row) * ldc + 8), high));
        TK_STORE(0, c00, c01) TK_STORE(1, c10, c11) TK_STORE(2, c20, c21)
        TK_STORE(3, c30, c31) TK_STORE(4, c40, c41) TK_STORE(5, c50, c51)
#undef TK_STORE
    } else {
        if (bias) {
            const __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
            c00 = _mm256_add_ps(c00, b0); c01 = _mm256_add_ps(c01, b1);
            c10 = _mm256_add_ps(c10, b0); c11 = _mm256_add_ps(c11, b1);
            c20 = _mm256_add_ps(c20, b0); c21 = _mm256_add_ps(c21, b1);
            c30 = _mm256_add_ps(c30, b0); c31 = _mm256_add_ps(c31, b1);
            c40 = _mm256_add_ps(c40, b0); c41 = _mm256_add_ps(c41, b1);
            c50 = _mm256_add_ps(c50, b0); c51 = _mm256_add_ps(c51, b1);
        }
#define TK_STORE(row, low, high)                          \
    _mm256_storeu_ps(c + (row) * ldc, low);               \
    _mm256_storeu_ps(c + (row) * ldc + 8, high);
        TK_STORE(0, c00, c01) TK_STORE(1, c10, c11) TK_STORE(2, c20, c21)
        TK_STORE(3, c30, c31) TK_STORE(4, c40, c41) TK_STORE(5, c50, c51)
#undef TK_STORE
    }
}

TK_AVX2 void tk_gemm_block(long rows, long columns, long depthCount, const float *packedA,
                           const float *packedB, float *c, long ldc, int accumulate, const float *bias) {
    float tile[MR * NR] __attribute__((aligned(32)));
    for (long j = 0; j < columns; j += NR) {
        const long width = tk_min(NR, columns - j);
        const float *panelB = packedB + j * depthCount;
        const float *columnBias = bias ? bias + j : 0;
        for (long i = 0; i < rows; i += MR) {
            const long height = tk_min(MR, rows - i);
            const float *panelA = packedA + i * depthCount;
            float *target = c + i * ldc + j;
            if (height == MR && width == NR) {
                tk_kernel_6x16(depthCount, panelA, panelB, target, ldc, accumulate, columnBias);
                continue;
            }
            // An edge tile: the same sums into a local tile, then the same one addition each —
            // whole rows of 16 with two registers, narrower ones element by element.
            tk_kernel_6x16(depthCount, panelA, panelB, tile, NR, 0, 0);
            for (long r = 0; r < height; r++) {
                float *row = target + r * ldc;
                const float *sums = tile + r * NR;
                if (width == NR) {
                    __m256 low = _mm256_load_ps(sums), high = _mm256_load_ps(sums + 8);
                    if (accumulate) {
                        low = _mm256_add_ps(_mm256_loadu_ps(row), low);
                        high = _mm256_add_ps(_mm256_loadu_ps(row + 8), high);
                    } else if (columnBias) {
                        low = _mm256_add_ps(low, _mm256_loadu_ps(columnBias));
                        high = _mm256_add_ps(high, _mm256_loadu_ps(columnBias + 8));
                    }
                    _mm256_storeu_ps(row, low);
                    _mm256_storeu_ps(row + 8, high);
                    continue;
                }
#pragma clang loop vectorize(disable)
                for (long q = 0; q < width; q++) {
                    if (accumulate) row[q] = row[q] + sums[q];
                    else row[q] = columnBias ? sums[q] + columnBias[q] : sums[q];
                }
            }
        }
    }
}

#else

// Not x86-64: never called (tk_cpu_has_avx2_fma() is 0); present so the module links.
void tk_gemm_pack_a(const float *a, long lda, int transpose, long row, long rows, long depth,
                    long depthCount, float *packed) { __builtin_trap(); }
void tk_gemm_pack_b(const float *b, long ldb, int transpose, long depth, long depthCount,
                    long column, long columns, float *packed) { __builtin_trap(); }
void tk_gemm_block(long rows, long columns, long depthCount, const float *packedA,
                   const float *packedB, float *c, long ldc, int accumulate, const float *bias) { __builtin_trap(); }

#endif
