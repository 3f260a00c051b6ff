#include "TensorKernels.h"

int tk_cpu_has_avx2_fma(void) {
#if defined(__x86_64__)
    // __builtin_cpu_supports reads CPUID and, for AVX, checks that the operating system saves
    // the YMM registers (XGETBV), so a 1 here means the instructions are usable.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}
