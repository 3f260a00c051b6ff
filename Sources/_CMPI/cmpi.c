// Open MPI reached through dlopen/dlsym: see include/_CMPI.h for why.
#include "_CMPI.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// Opaque handles: in Open MPI every handle is a pointer to a struct that only the library knows.
typedef void *cmpi_comm;
typedef void *cmpi_datatype;
typedef void *cmpi_op;
typedef void *cmpi_errhandler;

// MPI_THREAD_SERIALIZED in Open MPI's <mpi.h> (the enum SINGLE, FUNNELED, SERIALIZED, MULTIPLE).
enum { CMPI_THREAD_SERIALIZED = 2 };
// MPI_MAX_ERROR_STRING in Open MPI: MPI_Error_string writes at most this many bytes.
enum { CMPI_MAX_ERROR_STRING = 256 };

static struct {
    int (*init_thread)(int *, char ***, int, int *);
    int (*initialized)(int *);
    int (*finalized)(int *);
    int (*comm_rank)(cmpi_comm, int *);
    int (*comm_size)(cmpi_comm, int *);
    int (*allgather)(const void *, int, cmpi_datatype, void *, int, cmpi_datatype, cmpi_comm);
    int (*allgatherv)(const void *, int, cmpi_datatype, void *, const int *, const int *, cmpi_datatype, cmpi_comm);
    int (*allreduce)(const void *, void *, int, cmpi_datatype, cmpi_op, cmpi_comm);
    int (*sendrecv)(const void *, int, cmpi_datatype, int, int, void *, int, cmpi_datatype, int, int, cmpi_comm, void *);
    int (*bcast)(void *, int, cmpi_datatype, int, cmpi_comm);
    int (*barrier)(cmpi_comm);
    int (*abort)(cmpi_comm, int);
    int (*error_string)(int, char *, int *);
    int (*comm_set_errhandler)(cmpi_comm, cmpi_errhandler);
    int (*finalize)(void);
    cmpi_comm world;
    cmpi_datatype float_type, double_type, byte_type, int_type;
    cmpi_op max;
    cmpi_errhandler errors_return;
} mpi;

static void *library_handle;  // non-NULL exactly when every symbol above was resolved
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/// Resolves `name` into `*slot`; on failure writes the reason and returns 1.
static int resolve(void *handle, const char *library, const char *name, void **slot, char *error, size_t length) {
    *slot = dlsym(handle, name);
    if (*slot != NULL) return 0;
    snprintf(error, length, "%s has no symbol %s (it is not Open MPI's libmpi.so.40?)", library, name);
    return 1;
}

static int load_from(const char *library, char *error, size_t length) {
    void *handle = dlopen(library, RTLD_NOW | RTLD_GLOBAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        snprintf(error, length, "%s", reason != NULL ? reason : library);
        return 1;
    }
    struct { const char *name; void **slot; } symbols[] = {
        {"MPI_Init_thread", (void **)&mpi.init_thread},
        {"MPI_Initialized", (void **)&mpi.initialized},
        {"MPI_Finalized", (void **)&mpi.finalized},
        {"MPI_Comm_rank", (void **)&mpi.comm_rank},
        {"MPI_Comm_size", (void **)&mpi.comm_size},
        {"MPI_Allgather", (void **)&mpi.allgather},
        {"MPI_Allgatherv", (void **)&mpi.allgatherv},
        {"MPI_Allreduce", (void **)&mpi.allreduce},
        {"MPI_Sendrecv", (void **)&mpi.sendrecv},
        {"MPI_Bcast", (void **)&mpi.bcast},
        {"MPI_Barrier", (void **)&mpi.barrier},
        {"MPI_Abort", (void **)&mpi.abort},
        {"MPI_Error_string", (void **)&mpi.error_string},
        {"MPI_Comm_set_errhandler", (void **)&mpi.comm_set_errhandler},
        {"MPI_Finalize", (void **)&mpi.finalize},
        // Data symbols: their addresses are the predefined handles.
        {"ompi_mpi_comm_world", &mpi.world},
        {"ompi_mpi_float", &mpi.float_type},
        {"ompi_mpi_double", &mpi.double_type},
        {"ompi_mpi_byte", &mpi.byte_type},
        {"ompi_mpi_int", &mpi.int_type},
        {"ompi_mpi_op_max", &mpi.max},
        {"ompi_mpi_errors_return", &mpi.errors_return},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        if (resolve(handle, library, symbols[i].name, symbols[i].slot, error, length) != 0) {
            dlclose(handle);
            memset(&mpi, 0, sizeof mpi);
            return 1;
        }
    }
    library_handle = handle;
    return 0;
}

int cmpi_load(const char *library, char *error, size_t length) {
    if (length > 0) error[0] = '\0';
    pthread_mutex_lock(&load_lock);
    int status = 0;
    if (library_handle == NULL) {
        if (library != NULL) {
            status = load_from(library, error, length);
        } else {
            // libmpi.so.40 is what the runtime package installs; libmpi.so (the development
            // link) is the fallback for an installation that renamed or rebuilt the library.
            // The first reason is kept: it is about the name that should have worked.
            status = load_from("libmpi.so.40", error, length);
            if (status != 0) {
                char ignored[CMPI_MAX_ERROR_STRING];
                status = load_from("libmpi.so", ignored, sizeof ignored);
                if (status == 0 && length > 0) error[0] = '\0';
            }
        }
    }
    pthread_mutex_unlock(&load_lock);
    return status;
}

int cmpi_is_loaded(void) {
    pthread_mutex_lock(&load_lock);
    int loaded = library_handle != NULL;
    pthread_mutex_unlock(&load_lock);
    return loaded;
}

int cmpi_init(void) {
    if (!cmpi_is_loaded()) return CMPI_NOT_LOADED;
    int initialized = 0, finalized = 0;
    int code = mpi.initialized(&initialized);
    if (code != 0) return code;
    if (!initialized) {
        int provided = 0;
        code = mpi.init_thread(NULL, NULL, CMPI_THREAD_SERIALIZED, &provided);
        if (code != 0) return code;
    } else {
        code = mpi.finalized(&finalized);
        if (code != 0) return code;
        if (finalized) return CMPI_FINALIZED;
    }
    return mpi.comm_set_errhandler(mpi.world, mpi.errors_return);
}

int cmpi_is_active(void) {
    if (!cmpi_is_loaded()) return 0;
    int initialized = 0, finalized = 0;
    if (mpi.initialized(&initialized) != 0 || !initialized) return 0;
    if (mpi.finalized(&finalized) != 0 || finalized) return 0;
    return 1;
}

int cmpi_rank(int *rank) {
    if (!cmpi_is_loaded()) return CMPI_NOT_LOADED;
    return mpi.comm_rank(mpi.world, rank);
}

int cmpi_size(int *size) {
    if (!cmpi_is_loaded()) return CMPI_NOT_LOADED;
    return mpi.comm_size(mpi.world, size);
}

int cmpi_allgather_float(const float *send, int count, float *receive) {
    if (!cmpi_is_loaded()) return CMPI_NOT_LOADED;
    return mpi.allgather(send, count, mpi.float_type, receive, count, mpi.float_type, mpi.world);
}

int cmpi_allgather_int(const int *send, int count, int *receive) {
    if (!cmpi_is_loaded()) return CMPI_NOT_LOADED;
    return mpi.allgather(send, count, mpi.int_type, receive, count, mpi.int_type, mpi.world);
}

int cmpi_allgatherv_double(const double *send, int count, double *receive, const int *counts,
                           const int *displacements) {
    if (!cmpi_is_loaded()) return CMPI_NOT_LOADED;
    return mpi.allgatherv(send, count, mpi.double_type, receive, counts, displacements, mpi.double_type, mpi.world);
}

int cmpi_sendrecv_float(const float *send, int count, int partner, float *receive) {
    if (!cmpi_is_loaded()) return CMPI_NOT_LOADED;
    // Tag 0 both ways; a NULL status is Open MPI's MPI_STATUS_IGNORE.
    return mpi.sendrecv(send, count, mpi.float_type, partner, 0, receive, count, mpi.float_type, partner, 0, mpi.world, NULL);
}

int cmpi_max_double(double value, double *result) {
    if (!cmpi_is_loaded()) return CMPI_NOT_LOADED;
    return mpi.allreduce(&value, result, 1, mpi.double_type, mpi.max, mpi.world);
}

int cmpi_bcast_bytes(void *buffer, int count, int root) {
    if (!cmpi_is_loaded()) return CMPI_NOT_LOADED;
    return mpi.bcast(buffer, count, mpi.byte_type, root, mpi.world);
}

int cmpi_barrier(void) {
    if (!cmpi_is_loaded()) return CMPI_NOT_LOADED;
    return mpi.barrier(mpi.world);
}

int cmpi_abort(int status) {
    if (!cmpi_is_active()) return CMPI_NOT_LOADED;
    return mpi.abort(mpi.world, status);
}

void cmpi_error_string(int code, char *text, size_t length) {
    if (length == 0) return;
    if (code == CMPI_NOT_LOADED) {
        snprintf(text, length, "MPI is not loaded and initialized (or was already finalized)");
        return;
    }
    if (code == CMPI_FINALIZED) {
        snprintf(text, length, "MPI was already finalized in this process and cannot be initialized again");
        return;
    }
    char buffer[CMPI_MAX_ERROR_STRING + 1];
    int written = 0;
    if (!cmpi_is_loaded() || mpi.error_string(code, buffer, &written) != 0) {
        snprintf(text, length, "MPI error code %d", code);
        return;
    }
    if (written < 0) written = 0;
    if (written > CMPI_MAX_ERROR_STRING) written = CMPI_MAX_ERROR_STRING;
    buffer[written] = '\0';
    snprintf(text, length, "%s (MPI error code %d)", buffer, code);
}

int cmpi_finalize(void) {
    // MPI_Finalize may be called once; a second call (or one without MPI_Init) is an error, so
    // "already done" is checked first and answered with success.
    static pthread_mutex_t finalize_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&finalize_lock);
    int code = cmpi_is_active() ? mpi.finalize() : 0;
    pthread_mutex_unlock(&finalize_lock);
    return code;
}
