// The data movement of `Tensor.convolution2D` over NHWC images: unfolding patches ("im2col")
// and folding their gradients back onto the pixels ("col2im"). Copies and additions only —
// no multiplication, nothing to fuse — so this portable C gives the same bits on any CPU and
// under every `ComputeKernels` choice; the compiler vectorizes the per-channel loops.
#include "TensorKernels.h"
#include <string.h>

#pragma STDC FP_CONTRACT OFF

static inline long tk_max(long a, long b) { return a > b ? a : b; }
static inline long tk_min(long a, long b) { return a < b ? a : b; }

void tk_convolution_fold(const tk_convolution_shape *shape, const float *dPatches, long firstRow, long rowCount,
                         long firstInputRow, long inputRowCount, float *dx) {
    const long h = shape->height, w = shape->width, channels = shape->channels;
    const long oh = shape->outputHeight, ow = shape->outputWidth;
    const long k = shape->kernel, s = shape->stride, p = shape->padding;
    const long depth = k * k * channels, endRow = firstRow + rowCount;
    for (long q = firstInputRow; q < firstInputRow + inputRowCount; q++) {
        const long n = q / h, ih = q % h;
        // Kernel rows a that put this input row into an output row i = (ih + p − a)/s: from the
        // largest (the earliest i) down, every s-th.
        long aHigh = tk_min(k - 1, ih + p);
        aHigh -= (ih + p - aHigh) % s;
        const long aLow = tk_max(0, ih + p - (oh - 1) * s);
        for (long iw = 0; iw < w; iw++) {
            float *restrict target = dx + (q * w + iw) * channels;
            long cHigh = tk_min(k - 1, iw + p);
            cHigh -= (iw + p - cHigh) % s;
            const long cLow = tk_max(0, iw + p - (ow - 1) * s);
            // The patches that copied this pixel, in increasing output pixel (row) order: a
            // larger kernel row a is an earlier output row i, then a larger column c an earlier j.
            for (long a = aHigh, i = (ih + p - aHigh) / s; a >= aLow; a -= s, i++) {
                for (long c = cHigh, j = (iw + p - cHigh) / s; c >= cLow; c -= s, j++) {
                    const long r = (n * oh + i) * ow + j;
                    if (r < firstRow || r >= endRow) continue;
                    const float *restrict source = dPatches + (r - firstRow) * depth + (a * k + c) * channels;
                    for (long e = 0; e < channels; e++) target[e] += source[e];
                }
            }
        }
    }
}

void tk_convolution_unfold(const tk_convolution_shape *shape, const float *x, long firstRow, long rowCount, float *patches) {
    const long h = shape->height, w = shape->width, channels = shape->channels;
    const long oh = shape->outputHeight, ow = shape->outputWidth;
    const long k = shape->kernel, s = shape->stride, p = shape->padding;
    const long depth = k * k * channels, stretch = k * channels;
    if (rowCount <= 0) return;
    // (n, i, j) of the first row, then advanced row by row.
    long n = firstRow / (oh * ow), i = firstRow % (oh * ow) / ow, j = firstRow % ow;
    for (long local = 0; local < rowCount; local++) {
        float *row = patches + local * depth;
        // Columns c with 0 ≤ j·s − p + c < w are one contiguous stretch of the image row.
        const long first = tk_max(0, p - j * s), last = tk_min(k, w + p - j * s);
        for (long a = 0; a < k; a++) {
            float *kernelRow = row + a * stretch;
            const long ih = i * s - p + a;
            if (ih < 0 || ih >= h || last <= first) {
                memset(kernelRow, 0, (size_t)stretch * sizeof(float));
                continue;
            }
            if (first > 0) memset(kernelRow, 0, (size_t)(first * channels) * sizeof(float));
            memcpy(kernelRow + first * channels, x + ((n * h + ih) * w + j * s - p + first) * channels,
                   (size_t)((last - first) * channels) * sizeof(float));
            if (last < k) memset(kernelRow + last * channels, 0, (size_t)((k - last) * channels) * sizeof(float));
        }
        if (++j == ow) {
            j = 0;
            if (++i == oh) { i = 0; n++; }
        }
    }
}
