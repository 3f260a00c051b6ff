// Column sums in double for AVX2 (the bias gradient of an affine layer): each column's
// additions in row order, exactly as the Swift loop does them, four columns per register.
#include "TensorKernels.h"

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__)
#include <immintrin.h>

#define TK_AVX2 __attribute__((target("avx2,fma")))

TK_AVX2 void tk_column_sums(const float *values, long rows, long columns, long ld, double *totals) {
    long j = 0;
    for (; j + 16 <= columns; j += 16) {
        __m256d t0 = _mm256_loadu_pd(totals + j), t1 = _mm256_loadu_pd(totals + j + 4);
        __m256d t2 = _mm256_loadu_pd(totals + j + 8), t3 = _mm256_loadu_pd(totals + j + 12);
        for (long i = 0; i < rows; i++) {
            const float *row = values + i * ld + j;
            t0 = _mm256_add_pd(t0, _mm256_cvtps_pd(_mm_loadu_ps(row)));
            t1 = _mm256_add_pd(t1, _mm256_cvtps_pd(_mm_loadu_ps(row + 4)));
            t2 = _mm256_add_pd(t2, _mm256_cvtps_pd(_mm_loadu_ps(row + 8)));
            t3 = _mm256_add_pd(t3, _mm256_cvtps_pd(_mm_loadu_ps(row + 12)));
        }
        _mm256_storeu_pd(totals + j, t0);
        _mm256_storeu_pd(totals + j + 4, t1);
        _mm256_storeu_pd(totals + j + 8, t2);
        _mm256_storeu_pd(totals + j + 12, t3);
    }
    for (; j < columns; j++) {
        double total = totals[j];
        for (long i = 0; i < rows; i++) total += (double)values[i * ld + j];
        totals[j] = total;
    }
}

#else

void tk_column_sums(const float *values, long rows, long columns, long ld, double *totals) { __builtin_trap(); }

#endif
