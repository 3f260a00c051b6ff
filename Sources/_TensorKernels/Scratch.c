#include "TensorKernels.h"
#include <stdlib.h>

static _Thread_local float *tk_buffers[4];
static _Thread_local long tk_capacities[4];

float *tk_thread_scratch(int slot, long count) {
    if (slot < 0 || slot > 3) return 0;
    if (count <= tk_capacities[slot]) return tk_buffers[slot];
    // Grow by half again, so that a slowly growing size does not reallocate every call.
    long capacity = count + count / 2;
    void *memory = 0;
    if (posix_memalign(&memory, 64, (size_t)capacity * sizeof(float)) != 0) return 0;
    free(tk_buffers[slot]);
    tk_buffers[slot] = memory;
    tk_capacities[slot] = capacity;
    return memory;
}
