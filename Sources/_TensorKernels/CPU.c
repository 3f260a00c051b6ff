#include "TensorKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

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

int tk_cpu_has_avx512f(void) {
#if defined(__x86_64__)
    // Spelled out rather than __builtin_cpu_supports("avx512f"), so the test of the operating
    // system's support is visible: CPUID says the core has the instructions, XGETBV(0) that
    // the kernel saves and restores their registers on a context switch. A hypervisor or kernel
    // may leave the ZMM state off (then every AVX-512 instruction faults), so both must hold.
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned int osxsave = 1u << 27;  // CPUID.1:ECX.OSXSAVE: XGETBV is usable
    if (!(ecx & osxsave)) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned int avx512f = 1u << 16;  // CPUID.(7, 0):EBX.AVX512F
    if (!(ebx & avx512f)) return 0;
    unsigned int low, high;
    __asm__ __volatile__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    (void)high;
    // XCR0: bit 1 SSE, 2 AVX (upper YMM), 5 opmask k0–k7, 6 upper halves of ZMM0–15, 7 ZMM16–31.
    const unsigned int state = (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7);
    return (low & state) == state;
#else
    return 0;
#endif
}
