// The matrix product's inner loops for AVX-512F: packing into panels of 12 rows of A and 32
// columns of B, and a 12 × 32 micro-kernel — twenty-four 16-lane accumulators, two loads of B
// and twelve broadcasts of A per step of depth. The blocking around them is MatrixProduct.swift's,
// with this kernel's tile.
//
// Why 12 × 32. It is BLIS's Skylake-X sgemm micro-kernel (bli_sgemm_skx_asm_32x12_l2, also
// TBLIS's skx2 configuration; BLIS's Zen 4 configuration reuses the Skylake-X sgemm kernel)
// seen from a row-major C: BLIS's 32 × 12 tile of a column-major C is our 12 × 32 tile of a
// row-major one. Of the 32 ZMM registers, 24 hold the tile, 2 the step's row of B and 1 the
// broadcast of A, so nothing spills. 24 independent accumulators cover the FMA latency (4
// cycles) times the two FMA units of a Xeon with twice over, and each step makes 24 FMAs for
// 14 loads (2 vector, 12 broadcast), within the two load ports' 2 per cycle. 6 × 32 (12
// accumulators) makes half as many FMAs per load of B. 14 × 32 (28 accumulators) makes 1/6 more,
// but holds 31 of the 32 registers, which leaves no slack to a compiler allocating registers for
// intrinsics (BLIS's kernels are assembly), and pads more rows for the batches of powers of two
// that the models use (128 rows: 132 with 12, 140 with 14). With 12, the engine's row block of
// 144 rows is 12 tiles of this kernel as it is 24 of the AVX2 one. None of this is measured yet
// (the machine at hand was busy): docs/performance.md.
//
// The sums. Every element of C starts at +0 in its accumulator lane and takes one fused
// multiply–add per depth in depth order, then C + sum (accumulate) or sum + bias, once — the
// operations of the AVX2 kernel (MatrixProduct.c) and of the reference (Reference.c) — so the
// bits are theirs: the tile shape only decides which lanes compute which element, never the
// order of any element's operations. The blocks of depth are the caller's, fixed by k alone.
#include "TensorKernels.h"

#if defined(__x86_64__)
#include "Transpose.h"

// AVX2 and FMA as well: the packing reuses the 256-bit transposes of the AVX2 path.
#define TK_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define MR TK_GEMM_MR_AVX512
#define NR TK_GEMM_NR_AVX512

/// Columns of C per sweep of the row panels in `tk_gemm_block_avx512`: 8 packed panels of B,
/// 256 × 256 floats (256 KiB) at the largest depth block, which stay in L2 (1 MiB on Skylake-X
/// and Zen 4, 2 MiB on Sapphire Rapids) while every 12-row panel of A runs across them.
#define TK_AVX512_COLUMN_SWEEP 256

static inline long tk_min(long a, long b) { return a < b ? a : b; }

// MARK: - Packing

TK_AVX512 void tk_gemm_pack_a_avx512(const float *a, long lda, int transpose, long row, long rows,
                                     long depth, long depthCount, float *packed) {
    for (long panel = 0; panel < rows; panel += MR) {
        const long height = tk_min(MR, rows - panel);
        float *out = packed + panel * depthCount;
        if (!transpose) {
            // op(A)[i][p] = a[i·lda + p]: rows are contiguous in depth. A full panel goes 8
            // depths at a time through two 8 × 8 transposes: rows 0–7, then rows 8–11 with 4
            // rows of zeros, of which only the first 4 lanes are stored.
            const float *source = a + (row + panel) * lda + depth;
            long p = 0;
            if (height == MR) {
                for (; p + 8 <= depthCount; p += 8) {
                    __m256 top[8], bottom[8];
                    for (int i = 0; i < 8; i++) top[i] = _mm256_loadu_ps(source + i * lda + p);
                    for (int i = 0; i < 4; i++) bottom[i] = _mm256_loadu_ps(source + (8 + i) * lda + p);
                    bottom[4] = bottom[5] = bottom[6] = bottom[7] = _mm256_setzero_ps();
                    tk_transpose8(top);
                    tk_transpose8(bottom);
                    for (int q = 0; q < 8; q++) {
                        _mm256_storeu_ps(out + (p + q) * MR, top[q]);
                        _mm_storeu_ps(out + (p + q) * MR + 8, _mm256_castps256_ps128(bottom[q]));
                    }
                }
            }
            for (long r = 0; r < height; r++) {
                for (long q = p; q < depthCount; q++) out[q * MR + r] = source[r * lda + q];
            }
            for (long r = height; r < MR; r++) {
                for (long q = p; q < depthCount; q++) out[q * MR + r] = 0;
            }
        } else if (height == MR) {
            // op(A)[i][p] = a[p·lda + i]: MR = 8 + 4 neighbours at each depth.
            for (long p = 0; p < depthCount; p++) {
                const float *source = a + (depth + p) * lda + row + panel;
                _mm256_storeu_ps(out + p * MR, _mm256_loadu_ps(source));
                _mm_storeu_ps(out + p * MR + 8, _mm_loadu_ps(source + 8));
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

TK_AVX512 void tk_gemm_pack_b_avx512(const float *b, long ldb, int transpose, long depth, long depthCount,
                                     long column, long columns, float *packed) {
    if (!transpose) {
        // op(B)[p][j] = b[p·ldb + j]: panel by panel, NR neighbours at each depth, so that the
        // packed panels are written in order (MatrixProduct.c says why not row by row).
        for (long panel = 0; panel < columns; panel += NR) {
            const long width = tk_min(NR, columns - panel);
            float *out = packed + panel * depthCount;
            const float *source = b + depth * ldb + column + panel;
            if (width == NR) {
                for (long p = 0; p < depthCount; p++) {
                    _mm512_store_ps(out + p * NR, _mm512_loadu_ps(source + p * ldb));
                    _mm512_store_ps(out + p * NR + 16, _mm512_loadu_ps(source + p * ldb + 16));
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
    // op(B)[p][j] = b[j·ldb + p]: row j of B is column j of op(B). Full panels go through four
    // 8 × 8 transposes (8 columns × 8 depths each) per 8 depths; the rest element-wise.
    for (long panel = 0; panel < columns; panel += NR) {
        const long width = tk_min(NR, columns - panel);
        float *out = packed + panel * depthCount;
        const float *source = b + (column + panel) * ldb + depth;
        long p = 0;
        if (width == NR) {
            for (; p + 8 <= depthCount; p += 8) {
                for (int quarter = 0; quarter < 4; quarter++) {
                    __m256 r[8];
                    for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(source + (quarter * 8 + j) * ldb + p);
                    tk_transpose8(r);
                    for (int q = 0; q < 8; q++) _mm256_store_ps(out + (p + q) * NR + quarter * 8, r[q]);
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

/// The MR × (16 · halves) tile at `c` (row stride ldc) from one packed panel of A and the first
/// 16 · halves columns of one panel of B. `halves` is a constant at each (inlined) call: 2 for
/// a full tile, 1 for a last panel of at most 16 columns, whose other half is zeros that need
/// no multiplying.
TK_AVX512 __attribute__((always_inline)) static inline void
tk_kernel_12x32(long depthCount, const float *restrict a, const float *restrict b, float *restrict c, long ldc,
                int accumulate, const float *restrict bias, const int halves) {
    __m512 sums[MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) sums[r][0] = sums[r][1] = _mm512_setzero_ps();
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        if (halves == 2) _mm_prefetch((const char *)(c + r * ldc + NR - 1), _MM_HINT_T0);
    }
#pragma clang loop unroll_count(2)
    for (long p = 0; p < depthCount; p++) {
        const __m512 low = _mm512_load_ps(b);
        const __m512 high = halves == 2 ? _mm512_load_ps(b + 16) : _mm512_setzero_ps();
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            const __m512 s = _mm512_set1_ps(a[r]);
            sums[r][0] = _mm512_fmadd_ps(s, low, sums[r][0]);
            if (halves == 2) sums[r][1] = _mm512_fmadd_ps(s, high, sums[r][1]);
        }
        a += MR;
        b += NR;
    }
    if (accumulate) {
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            for (int h = 0; h < halves; h++) {
                float *target = c + r * ldc + 16 * h;
                _mm512_storeu_ps(target, _mm512_add_ps(_mm512_loadu_ps(target), sums[r][h]));
            }
        }
        return;
    }
    __m512 shift[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    if (bias) {
        for (int h = 0; h < halves; h++) shift[h] = _mm512_loadu_ps(bias + 16 * h);
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        for (int h = 0; h < halves; h++) {
            // sum + bias, as the AVX2 kernel; no addition at all without a bias (+0 + -0 would
            // turn a -0 sum into +0).
            _mm512_storeu_ps(c + r * ldc + 16 * h, bias ? _mm512_add_ps(sums[r][h], shift[h]) : sums[r][h]);
        }
    }
}

TK_AVX512 void tk_gemm_block_avx512(long rows, long columns, long depthCount, const float *packedA,
                                    const float *packedB, float *c, long ldc, int accumulate, const float *bias) {
    float tile[MR * NR] __attribute__((aligned(64)));
    // BLIS's loop order for the 32 × 12 kernel, transposed: its 12-wide micro-panel stays in L1
    // while the 32-wide ones stream from L2. Here the 12-row panel of A (12 × 256 floats, 12 KiB)
    // stays in L1 while the 32-column panels of B of one sweep (at most 256 KiB) come from L2.
    // (The AVX2 kernel's order, a panel of B in L1 against a stream of A, would keep 32 KiB of
    // B there: all of the L1 of Skylake-X and Zen 4.)
    for (long sweep = 0; sweep < columns; sweep += TK_AVX512_COLUMN_SWEEP) {
        const long sweepEnd = tk_min(columns, sweep + TK_AVX512_COLUMN_SWEEP);
        for (long i = 0; i < rows; i += MR) {
            const long height = tk_min(MR, rows - i);
            const float *panelA = packedA + i * depthCount;
            for (long j = sweep; j < sweepEnd; j += NR) {
                const long width = tk_min(NR, columns - j);
                const float *panelB = packedB + j * depthCount;
                const float *columnBias = bias ? bias + j : 0;
                float *target = c + i * ldc + j;
                if (height == MR && width == NR) {
                    tk_kernel_12x32(depthCount, panelA, panelB, target, ldc, accumulate, columnBias, 2);
                    continue;
                }
                // An edge tile: the same sums into a local tile, then the same one addition
                // each — whole halves of 16 columns with one register, the rest element by element.
                if (width <= 16) tk_kernel_12x32(depthCount, panelA, panelB, tile, NR, 0, 0, 1);
                else tk_kernel_12x32(depthCount, panelA, panelB, tile, NR, 0, 0, 2);
                for (long r = 0; r < height; r++) {
                    float *row = target + r * ldc;
                    const float *sums = tile + r * NR;
                    long q = 0;
                    for (; q + 16 <= width; q += 16) {
                        __m512 value = _mm512_load_ps(sums + q);
                        if (accumulate) value = _mm512_add_ps(_mm512_loadu_ps(row + q), value);
                        else if (columnBias) value = _mm512_add_ps(value, _mm512_loadu_ps(columnBias + q));
                        _mm512_storeu_ps(row + q, value);
                    }
#pragma clang loop vectorize(disable)
                    for (; q < width; q++) {
                        if (accumulate) row[q] = row[q] + sums[q];
                        else row[q] = columnBias ? sums[q] + columnBias[q] : sums[q];
                    }
                }
            }
        }
    }
}

#else

// Not x86-64: never called (tk_cpu_has_avx512f() is 0); present so the module links.
void tk_gemm_pack_a_avx512(const float *a, long lda, int transpose, long row, long rows, long depth,
                           long depthCount, float *packed) { __builtin_trap(); }
void tk_gemm_pack_b_avx512(const float *b, long ldb, int transpose, long depth, long depthCount,
                           long column, long columns, float *packed) { __builtin_trap(); }
void tk_gemm_block_avx512(long rows, long columns, long depthCount, const float *packedA,
                          const float *packedB, float *c, long ldc, int accumulate, const float *bias) { __builtin_trap(); }

#endif
