#include "TensorKernels.h"

// The engine's count of multiply–adds in matrix products (convolutions included): one relaxed
// atomic add per product call, whichever thread makes it. Reports turn the count into the
// training FLOPs of a run (2 per multiply–add).
static unsigned long long multiply_adds = 0;

void tk_count_multiply_adds(unsigned long long count) {
    __atomic_fetch_add(&multiply_adds, count, __ATOMIC_RELAXED);
}

unsigned long long tk_multiply_adds(void) {
    return __atomic_load_n(&multiply_adds, __ATOMIC_RELAXED);
}

// The engine's count of elements a guard moved back into its bounds (Tensor.guarded(to:)):
// zero in a healthy run, so a run can say whether its guards ever acted.
static unsigned long long guarded_elements = 0;

void tk_count_guarded_elements(unsigned long long count) {
    __atomic_fetch_add(&guarded_elements, count, __ATOMIC_RELAXED);
}

unsigned long long tk_guarded_elements(void) {
    return __atomic_load_n(&guarded_elements, __ATOMIC_RELAXED);
}
