#ifndef COMPARE_CMPI_H
#define COMPARE_CMPI_H
// The few MPI calls that `Distributed.MPICommunicator` needs, reached through Open MPI's
// `libmpi.so.40` loaded at run time (dlopen), never linked.
//
// Why at run time: one `compare` binary then runs both under `mpirun` and alone, and a machine
// without Open MPI (a CI runner, a laptop) builds and runs everything; only a job that is
// actually started by `mpirun` needs the library. Nothing here includes <mpi.h>, so building
// needs no MPI headers either: the handles are opaque pointers, and the predefined ones
// (MPI_COMM_WORLD, MPI_FLOAT, …) are the addresses of Open MPI's exported data symbols
// (`ompi_mpi_comm_world`, …), which is exactly what Open MPI's own <mpi.h> macros expand to.
// This ties the transport to Open MPI's ABI (libmpi.so.40: Open MPI 3.x–5.x); MPICH's
// different ABI is not supported.
//
// Every function except `cmpi_load`, `cmpi_is_loaded` and `cmpi_error_string` must be called
// only after `cmpi_load` returned 0. Those returning `int` return an MPI error code (0 is
// MPI_SUCCESS), or CMPI_NOT_LOADED; `cmpi_error_string` turns a code into text.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Returned (instead of an MPI error code) by a call made before a successful `cmpi_load`.
#define CMPI_NOT_LOADED (-1)
/// Returned by `cmpi_init` when MPI was already finalized in this process (MPI allows one
/// initialization per process).
#define CMPI_FINALIZED (-2)

/// Loads `library` (a file name for the dynamic loader or a path), or, when `library` is NULL,
/// "libmpi.so.40" and then "libmpi.so", with RTLD_NOW | RTLD_GLOBAL (Open MPI's own plugins
/// resolve symbols of libmpi), and resolves every function and handle used here. Returns 0 on
/// success (also when an earlier call succeeded), else 1 with a one-line reason in `error`
/// (NUL-terminated, at most `length` bytes). Thread-safe.
int cmpi_load(const char *library, char *error, size_t length);

/// 1 after a successful `cmpi_load`, else 0.
int cmpi_is_loaded(void);

/// Initializes MPI unless it already is (thread level MPI_THREAD_SERIALIZED: calls may come
/// from any thread, one at a time), then makes errors on the world communicator return codes
/// (MPI_ERRORS_RETURN) instead of aborting the job, so that each becomes a Swift error.
/// CMPI_FINALIZED when MPI was already finalized (it cannot be initialized twice).
int cmpi_init(void);

/// 1 when MPI was initialized and not yet finalized, else 0.
int cmpi_is_active(void);

/// This process's rank in, and the size of, MPI_COMM_WORLD.
int cmpi_rank(int *rank);
int cmpi_size(int *size);

/// MPI_Allgather of `count` floats from every rank into `receive` (size × count floats).
int cmpi_allgather_float(const float *send, int count, float *receive);

/// MPI_Sendrecv of `count` floats with rank `partner`: `send` goes to it while its `count` floats
/// arrive in `receive` (the exchange of one level of a tree reduction).
int cmpi_sendrecv_float(const float *send, int count, int partner, float *receive);

/// MPI_Allgather of `count` ints from every rank into `receive` (size × count ints).
int cmpi_allgather_int(const int *send, int count, int *receive);

/// MPI_Allgatherv of `count` doubles from this rank; rank r's `counts[r]` values land at
/// `receive + displacements[r]`.
int cmpi_allgatherv_double(const double *send, int count, double *receive, const int *counts,
                           const int *displacements);

/// MPI_Allreduce with MPI_MAX of one double: the largest `value` of all ranks, in `result`.
int cmpi_max_double(double value, double *result);

/// MPI_Bcast of `count` bytes from `root` into `buffer` on every other rank.
int cmpi_bcast_bytes(void *buffer, int count, int root);

/// MPI_Barrier on MPI_COMM_WORLD.
int cmpi_barrier(void);

/// MPI_Abort(MPI_COMM_WORLD, status): `mpirun` kills every rank and exits non-zero. Returns
/// only if MPI_Abort returned or MPI is not active; the caller must then exit by itself.
int cmpi_abort(int status);

/// The text of MPI error `code` (or of CMPI_NOT_LOADED, CMPI_FINALIZED) in `text`, NUL-terminated, at most
/// `length` bytes.
void cmpi_error_string(int code, char *text, size_t length);

/// MPI_Finalize, once: 0 when MPI is not active (never initialized, or already finalized).
int cmpi_finalize(void);

#ifdef __cplusplus
}
#endif

#endif
