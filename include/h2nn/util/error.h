/* error.h — h2nn's one error path (PETSc style).
 *
 * Every function that can fail returns an int status: 0 on success, an
 * H2_E* code otherwise.  The place where the failure is detected calls
 * H2_FAIL(code, fmt, ...) which records a one-line message (plus file, line)
 * and returns the code; callers propagate with H2_TRY(expr), which appends the
 * caller's location to the trace.  Only `h2_error_*` functions touch the
 * record, which lives in thread-local storage (like errno): it is the single
 * piece of mutable state outside explicit arguments.
 *
 * Collective code ends every fallible phase with h2_error_sync(comm, err):
 * all ranks learn whether any rank failed and the first failing rank's message
 * is made known everywhere, so every rank returns the error and exits non-zero
 * without a hang.  h2_error_report() prints the message once (rank 0 of the
 * communicator) as "PROGRAM: error: MESSAGE" on stderr. */
#ifndef H2NN_ERROR_H
#define H2NN_ERROR_H

#include <mpi.h>
#include <stddef.h>

enum {
  H2_OK = 0,
  H2_EINPUT = 1,  /* bad user input: options, files, data values */
  H2_EIO = 2,     /* file system or HDF5 failure */
  H2_EMEM = 3,    /* allocation failed */
  H2_EMPI = 4,    /* MPI failure */
  H2_ENUM = 5,    /* numerical failure (singular system, NaN in training) */
  H2_EINTERNAL = 6,
  H2_EDIVERGED = 7 /* training diverged (non-finite or exploding loss / parameters): exit status 4 */
};

#if defined(__GNUC__)
#define H2_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define H2_PRINTF(a, b)
#endif

int h2_error_set(const char *file, int line, int code, const char *fmt, ...)
    H2_PRINTF(4, 5);
void h2_error_trace(const char *file, int line);
const char *h2_error_message(void);
const char *h2_error_where(void);
void h2_error_clear(void);

/* Agree across `comm` on whether any rank failed.  Returns the (max) error
 * code, or 0.  On failure every rank's record holds the message of the lowest
 * failing rank. */
int h2_error_sync(MPI_Comm comm, int err);

/* Print "prog: error: message" once (rank 0 of comm) on stderr.  With
 * H2NN_DEBUG set in the environment the file:line trace is printed too. */
void h2_error_report(MPI_Comm comm, const char *prog);

#define H2_FAIL(code, ...) return h2_error_set(__FILE__, __LINE__, (code), __VA_ARGS__)

/* Condition check (PETSc's PetscCheck): unless cond holds, record the
 * message and return code.  H2_CHECK(n > 0, H2_EINPUT, "%s: empty", path). */
#define H2_CHECK(cond, code, ...)                                      \
  do {                                                                 \
    if (!(cond)) return h2_error_set(__FILE__, __LINE__, (code), __VA_ARGS__); \
  } while (0)

#define H2_TRY(expr)                           \
  do {                                         \
    int h2_e_ = (expr);                        \
    if (h2_e_) {                               \
      h2_error_trace(__FILE__, __LINE__);      \
      return h2_e_;                            \
    }                                          \
  } while (0)

/* Checked allocation: p = h2_malloc(bytes) fails with H2_EMEM through H2_TRY. */
int h2_malloc_(void **p, size_t bytes, const char *file, int line);
int h2_calloc_(void **p, size_t bytes, const char *file, int line);
#define H2_MALLOC(p, n) h2_malloc_((void **)&(p), (size_t)(n) * sizeof(*(p)), __FILE__, __LINE__)
#define H2_CALLOC(p, n) h2_calloc_((void **)&(p), (size_t)(n) * sizeof(*(p)), __FILE__, __LINE__)

/* Zeroed allocation for the large, long-lived buffers (parameters, Adam
 * moments, activations, cached data): aligned to 2 MiB and advised as
 * transparent huge pages when large, so that sweeping them costs fewer TLB
 * misses; every page is touched here, not in the first iteration.  free()
 * releases it. */
int h2_calloc_big_(void **p, size_t bytes, const char *file, int line);
#define H2_CALLOC_BIG(p, n) h2_calloc_big_((void **)&(p), (size_t)(n) * sizeof(*(p)), __FILE__, __LINE__)

/* MPI calls.  h2nn's communicators return MPI errors as codes
 * (h2_mpi_errors_return on MPI_COMM_WORLD at start; communicators split or
 * duplicated from it inherit the handler), and every call is checked:
 * H2_MPI(call) in functions that return a status records "MPI: reason" at
 * the call and returns H2_EMPI.  In the forward/backward passes, which
 * return no status and where a rank cannot leave an exchange its
 * neighbours are in, H2_MPI_ABORT(call, comm) prints the call's location and
 * reason and aborts the job instead. */
int h2_mpi_errors_return(MPI_Comm comm);
void h2_mpi_abort(int mpi_code, MPI_Comm comm, const char *file, int line);
#define H2_MPI_ABORT(call, comm)                                     \
  do {                                                               \
    int h2_m_ = (call);                                              \
    if (h2_m_ != MPI_SUCCESS) h2_mpi_abort(h2_m_, (comm), __FILE__, __LINE__); \
  } while (0)

#define H2_MPI(call)                                                        \
  do {                                                                      \
    int h2_m_ = (call);                                                     \
    if (h2_m_ != MPI_SUCCESS) {                                             \
      char s_[MPI_MAX_ERROR_STRING];                                        \
      int l_ = 0;                                                           \
      MPI_Error_string(h2_m_, s_, &l_);                                     \
      return h2_error_set(__FILE__, __LINE__, H2_EMPI, "MPI: %s", s_);     \
    }                                                                       \
  } while (0)

#endif
