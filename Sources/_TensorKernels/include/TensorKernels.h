#ifndef COMPARE_TENSOR_KERNELS_H
#define COMPARE_TENSOR_KERNELS_H
// The few loops of the Tensor engine that are compiled for AVX2 + FMA and chosen at run time.
//
// Swift cannot compile one function for AVX2 and the rest of a module for the x86-64
// baseline; C can (`__attribute__((target("avx2,fma")))`). Everything here is therefore only
// the inner loops — packing and the register-tiled micro-kernel of the matrix product, and the
// fused activations — while the engine around them (the graph, the blocking and threading of
// the product, every other operation) stays in Swift. Each function must only be called when
// `tk_cpu_has_avx2_fma()` returns 1, except the `_reference` ones (Reference.c): portable C
// that performs the same floating-point operations in the same order, for any CPU.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU (and the operating system) executes AVX2 and FMA instructions, else 0.
int tk_cpu_has_avx2_fma(void);

/// 1 when this CPU executes AVX-512F instructions and the operating system saves their state
/// (the opmask and all 32 ZMM registers: XCR0 bits 5–7, with the SSE and AVX bits 1–2), else 0.
/// The `_avx512` functions must only be called when it returns 1.
int tk_cpu_has_avx512f(void);

/// Tells the CPU that the caller is spinning (x86 `pause`), so a waiting loop costs less.
static inline void tk_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// A 64-byte-aligned buffer of at least `count` floats that belongs to the calling thread,
/// one per `slot` (0…3), kept for the thread's next call and grown when too small; NULL
/// when memory runs out. Slots 0 and 1 hold a matrix product's packed panels, slots 2 and 3 a
/// convolution's unfolded patches and their gradient (slot 2 also a group normalization's
/// recomputed pre-activations and slopes): a thread never needs more than one buffer of each
/// kind at a time.
float *tk_thread_scratch(int slot, long count);

// Multiply–adds of every matrix product since the process started (Counters.c).
void tk_count_multiply_adds(unsigned long long count);
unsigned long long tk_multiply_adds(void);

// Elements moved into bounds by Tensor.guarded(to:) since the process started (Counters.c).
void tk_count_guarded_elements(unsigned long long count);
unsigned long long tk_guarded_elements(void);

// MARK: - Matrix product C = op(A) · op(B)

/// Rows of the register tile: the micro-kernel computes a TK_GEMM_MR × TK_GEMM_NR block of C.
#define TK_GEMM_MR 6
/// Columns of the register tile (two 8-lane registers).
#define TK_GEMM_NR 16

/// Packs rows [row, row + rows) and depth [depth, depth + depthCount) of op(A) — A stored
/// row-major with leading dimension `lda`, op(A) = Aᵀ when `transpose` — into panels of
/// TK_GEMM_MR rows: panel i holds depthCount × TK_GEMM_MR floats, depth-major. Rows of the
/// last panel past `rows` are zero. `packed` holds ceil(rows / MR) · MR · depthCount floats.
void tk_gemm_pack_a(const float *a, long lda, int transpose, long row, long rows,
                    long depth, long depthCount, float *packed);

/// Packs depth [depth, depth + depthCount) and columns [column, column + columns) of op(B)
/// — B stored row-major with leading dimension `ldb`, op(B) = Bᵀ when `transpose` — into
/// panels of TK_GEMM_NR columns: panel j holds depthCount × TK_GEMM_NR floats, depth-major.
/// Columns of the last panel past `columns` are zero. `packed` must be 32-byte aligned.
void tk_gemm_pack_b(const float *b, long ldb, int transpose, long depth, long depthCount,
                    long column, long columns, float *packed);

/// C[rows × columns] (row stride `ldc`) from a packed block of A (rows × depthCount, as
/// `tk_gemm_pack_a` writes it) and packed panels of B (depthCount × columns, as
/// `tk_gemm_pack_b` writes them, 32-byte aligned):
///   accumulate = 0: C = A·B (+ bias[j] on column j when `bias` is not NULL),
///   accumulate = 1: C = C + A·B.
/// Each element's products are summed in depth order with fused multiply–adds and added to
/// its initial value once, so a result does not depend on how C is cut into blocks.
void tk_gemm_block(long rows, long columns, long depthCount, const float *packedA,
                   const float *packedB, float *c, long ldc, int accumulate, const float *bias);

/// Rows of the AVX-512 register tile: `tk_gemm_block_avx512` computes TK_GEMM_MR_AVX512 ×
/// TK_GEMM_NR_AVX512 blocks of C (24 accumulators of 16 lanes; MatrixProductAVX512.c says why).
#define TK_GEMM_MR_AVX512 12
/// Columns of the AVX-512 register tile (two 16-lane registers).
#define TK_GEMM_NR_AVX512 32

/// `tk_gemm_pack_a`, `tk_gemm_pack_b` and `tk_gemm_block` for CPUs with AVX-512F (and AVX2 +
/// FMA), on the TK_GEMM_MR_AVX512 × TK_GEMM_NR_AVX512 tile: panels of 12 rows of op(A) and of
/// 32 columns of op(B), laid out as above with the other widths (a packed B 64-byte aligned),
/// and the same contract for the block. Each element is still summed from +0 in depth order
/// with one fused multiply–add per depth, then C + sum or sum + bias: the same bits as
/// `tk_gemm_block` and `tk_gemm_block_reference`, though the tiles differ.
void tk_gemm_pack_a_avx512(const float *a, long lda, int transpose, long row, long rows,
                           long depth, long depthCount, float *packed);
void tk_gemm_pack_b_avx512(const float *b, long ldb, int transpose, long depth, long depthCount,
                           long column, long columns, float *packed);
void tk_gemm_block_avx512(long rows, long columns, long depthCount, const float *packedA,
                          const float *packedB, float *c, long ldc, int accumulate, const float *bias);

/// `tk_gemm_pack_a`, `tk_gemm_pack_b` and `tk_gemm_block` in portable C, on any CPU: the same
/// packed layouts, and in C the same bits — each element of a tile starts at +0 and takes one
/// `fmaf` per depth in depth order, then C + sum (accumulate) or sum + bias, as the AVX2 kernel.
/// A packed B needs no particular alignment here.
void tk_gemm_pack_a_reference(const float *a, long lda, int transpose, long row, long rows,
                              long depth, long depthCount, float *packed);
void tk_gemm_pack_b_reference(const float *b, long ldb, int transpose, long depth, long depthCount,
                              long column, long columns, float *packed);
void tk_gemm_block_reference(long rows, long columns, long depthCount, const float *packedA,
                             const float *packedB, float *c, long ldc, int accumulate, const float *bias);

// MARK: - Fused activations

/// The activations with a fused kernel (the order of Swift's `PointwiseActivation`).
enum tk_activation {
    TK_RELU = 0,
    TK_SIGMOID = 1,
    TK_SILU = 2,
    TK_TANH = 3,
    TK_SOFTPLUS = 4,
};

/// y[i] = f(x[i]) and, when `slopes` is not NULL, slopes[i] = f′(x[i]), for `count`
/// elements; `y` may equal `x` (in place). The formulas are those of Swift's
/// `PointwiseActivation` kernels, eight lanes at a time with fused multiply–adds.
void tk_activation(int kind, const float *x, float *y, float *slopes, long count);

/// `tk_activation` in portable C, one element at a time: the same operations as each lane of
/// the AVX2 kernel (its polynomials, clamps and fused multiply–adds, as `fmaf`), so the same
/// bits on any CPU — not those of Swift's `PointwiseActivation` loops, which do not fuse.
void tk_activation_reference(int kind, const float *x, float *y, float *slopes, long count);

// MARK: - Reductions

/// totals[j] += Σ_i values[i·ld + j] for j < columns, in double, row by row (i ascending) — the
/// order of Swift's `Tensor.columnSums`, so the same bits, four columns at a time.
void tk_column_sums(const float *values, long rows, long columns, long ld, double *totals);

// MARK: - Convolution

/// The sizes of a 2-D convolution over NHWC images x [N, height, width, channels]: a square
/// kernel, one stride and one zero padding for both axes; output pixels r = (n, i, j) in
/// row-major order are the rows of the patch matrix, whose columns run over (a, c, channel).
typedef struct {
    long height, width, channels;
    long outputHeight, outputWidth;
    long kernel, stride, padding;
} tk_convolution_shape;

/// The patches of output pixels [firstRow, firstRow + rowCount) into `patches` (rowCount ×
/// k·k·channels, row-major; columns (a, c, channel)), zeros where a patch reaches past the image.
void tk_convolution_unfold(const tk_convolution_shape *shape, const float *x, long firstRow, long rowCount, float *patches);

/// dx += the gradients of the patches of output pixels [firstRow, firstRow + rowCount)
/// (`dPatches`, rowCount × k·k·channels, row-major) added back onto the pixels they were copied
/// from, for the input rows q = n·height + ih in [firstInputRow, firstInputRow + inputRowCount)
/// only. Each pixel adds its patches' values one at a time in increasing output pixel order —
/// the order of a scatter row after row — so the sums do not depend on how the input rows are
/// shared out, nor on how the output pixels are cut into blocks.
void tk_convolution_fold(const tk_convolution_shape *shape, const float *dPatches, long firstRow, long rowCount,
                         long firstInputRow, long inputRowCount, float *dx);

// MARK: - Group normalization
//
// Loops over one example x [pixels, channels] (NHWC), vectorized across channels; each channel
// sums its pixels in pixel order. `vector` nonzero runs the AVX2 build where the CPU has it, else
// the baseline build: the same bits either way (no fused operation, no reassociation).

/// sums[c] += Σ_p x[p·channels + c], in double.
void tk_channel_sums(int vector, const float *x, long pixels, long channels, double *sums);

/// squares[c] += Σ_p (x[p·channels + c] − mean[c])², in double.
void tk_channel_squared_deviations(int vector, const float *x, long pixels, long channels, const double *mean, double *squares);

/// y[p·channels + c] = (x[p·channels + c] − mean[c]) · scale[c] + offset[c], in float (y ≠ x).
void tk_channel_affine(int vector, const float *x, long pixels, long channels, const float *mean, const float *scale,
                       const float *offset, float *y);

/// With x̂ = (x − mean[c]) · inverse[c] and dz = dy · slopes (dz = dy when `slopes` is NULL), in
/// float: sumDz[c] += Σ_p dz and sumDzXhat[c] += Σ_p dz · x̂, in double.
void tk_group_norm_gradient_sums(int vector, const float *x, const float *dy, const float *slopes, long pixels, long channels,
                                 const float *mean, const float *inverse, double *sumDz, double *sumDzXhat);

/// dx = inverse[c] · (dz · gamma[c] − meanGradient[c] − x̂ · meanProduct[c]), x̂ and dz as above,
/// in float (dx ≠ x, dy, slopes).
void tk_group_norm_input_gradient(int vector, const float *x, const float *dy, const float *slopes, long pixels, long channels,
                                  const float *mean, const float *inverse, const float *gamma, const float *meanGradient,
                                  const float *meanProduct, float *dx);

// MARK: - Normal deviates

/// The Box–Muller transform of `pairs` pairs of uniforms, u = [u₁, u₂, u₁, u₂, …] (u₁ ∈ (0, 1],
/// u₂ ∈ [0, 1)), into out[2i] = (float)(r cos 2πu₂), out[2i + 1] = (float)(r sin 2πu₂),
/// r = √(−2 log u₁), writing only the first `count` floats (count ≤ 2·pairs). The same
/// operations as Swift's `BoxMuller.transform`, four lanes at a time and with no fused
/// multiply–add: bit-identical results.
void tk_box_muller(const double *uniforms, long pairs, float *out, long count);

// MARK: - Optimizer

/// One Adam step over `count` values, with g = scale · gradient:
///   m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,  w ← w − stepSize · m / (√v / rootCorrection2 + ε),
/// as `Adam.step` in Swift (NN/Adam.swift), eight lanes at a time. Returns Σ gradient² (before
/// scaling) in double when `sumSquares` is nonzero, else 0. When `nonFinite` is not NULL, sets it
/// to 1 if any m, v or w written is a NaN or an infinity, else 0: the check that training makes
/// after every update, done on the values in registers instead of in a second pass over the state.
double tk_adam_update(long count, const float *gradient, float *m, float *v, float *w, float scale,
                      float beta1, float beta2, float stepSize, float rootCorrection2, float epsilon,
                      int sumSquares, int *nonFinite);

/// `tk_adam_update` in portable C: the same operations on every element (fused where it
/// fuses), and Σ gradient² in its order (eight running sums over the whole groups of eight,
/// then the tail), so the same bits on any CPU.
double tk_adam_update_reference(long count, const float *gradient, float *m, float *v, float *w, float scale,
                                float beta1, float beta2, float stepSize, float rootCorrection2, float epsilon,
                                int sumSquares, int *nonFinite);

#ifdef __cplusplus
}
#endif

#endif
