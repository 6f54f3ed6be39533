/* error.c — the error record, its propagation trace and collective agreement.
 * See error.h for the contract. */
#define _DEFAULT_SOURCE /* posix_memalign, madvise */
#include "h2nn/util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define H2_MSG_MAX 1024
#define H2_WHERE_MAX 1024

static _Thread_local char g_msg[H2_MSG_MAX];
static _Thread_local char g_where[H2_WHERE_MAX];

static const char *base_name(const char *file) {
  const char *s = strrchr(file, '/');
  return s ? s + 1 : file;
}

int h2_error_set(const char *file, int line, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_msg, sizeof g_msg, fmt, ap);
  va_end(ap);
  snprintf(g_where, sizeof g_where, "%s:%d", base_name(file), line);
  return code ? code : H2_EINTERNAL;
}

void h2_error_trace(const char *file, int line) {
  size_t n = strlen(g_where);
  if (n + 32 < sizeof g_where)
    snprintf(g_where + n, sizeof g_where - n, " <- %s:%d", base_name(file), line);
}

const char *h2_error_message(void) { return g_msg; }
const char *h2_error_where(void) { return g_where; }
void h2_error_clear(void) { g_msg[0] = 0; g_where[0] = 0; }

int h2_error_sync(MPI_Comm comm, int err) {
  int rank, in[2], out[2];
  H2_MPI(MPI_Comm_rank(comm, &rank));
  /* (code, -rank) MAXLOC-like reduction done in two steps to keep it simple. */
  in[0] = err;
  H2_MPI(MPI_Allreduce(in, out, 1, MPI_INT, MPI_MAX, comm));
  if (out[0] == 0) return 0;
  in[1] = err ? rank : 1 << 30;
  H2_MPI(MPI_Allreduce(&in[1], &out[1], 1, MPI_INT, MPI_MIN, comm));
  char buf[H2_MSG_MAX + H2_WHERE_MAX];
  if (rank == out[1]) {
    memcpy(buf, g_msg, H2_MSG_MAX);
    memcpy(buf + H2_MSG_MAX, g_where, H2_WHERE_MAX);
  }
  H2_MPI(MPI_Bcast(buf, (int)sizeof buf, MPI_CHAR, out[1], comm));
  memcpy(g_msg, buf, H2_MSG_MAX);
  memcpy(g_where, buf + H2_MSG_MAX, H2_WHERE_MAX);
  g_msg[H2_MSG_MAX - 1] = 0;
  g_where[H2_WHERE_MAX - 1] = 0;
  return out[0];
}

int h2_mpi_errors_return(MPI_Comm comm) {
  H2_MPI(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN));
  return 0;
}

void h2_mpi_abort(int mpi_code, MPI_Comm comm, const char *file, int line) {
  char s[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(mpi_code, s, &len) != MPI_SUCCESS) snprintf(s, sizeof s, "error code %d", mpi_code);
  fprintf(stderr, "h2nn: error: MPI: %s (%s:%d); aborting the job\n", s, base_name(file), line);
  fflush(stderr);
  MPI_Abort(comm, 1);
}

void h2_error_report(MPI_Comm comm, const char *prog) {
  int rank = 0;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) rank = 0; /* report anyway */
  if (rank != 0) return;
  fprintf(stderr, "%s: error: %s\n", prog, g_msg[0] ? g_msg : "unknown failure");
  if (getenv("H2NN_DEBUG")) fprintf(stderr, "%s: trace: %s\n", prog, g_where);
  fflush(stderr);
}

int h2_malloc_(void **p, size_t bytes, const char *file, int line) {
  *p = malloc(bytes ? bytes : 1);
  if (!*p)
    return h2_error_set(file, line, H2_EMEM, "out of memory allocating %zu bytes", bytes);
  return 0;
}

int h2_calloc_big_(void **p, size_t bytes, const char *file, int line) {
  const size_t huge = (size_t)2 << 20;
  if (bytes < 2 * huge) return h2_calloc_(p, bytes, file, line);
  size_t rounded = (bytes + huge - 1) / huge * huge;
  if (posix_memalign(p, huge, rounded)) {
    *p = NULL;
    return h2_error_set(file, line, H2_EMEM, "out of memory allocating %zu bytes", bytes);
  }
#ifdef MADV_HUGEPAGE
  (void)madvise(*p, rounded, MADV_HUGEPAGE); /* advice only: without THP it changes nothing */
#endif
  memset(*p, 0, rounded);
  return 0;
}

int h2_calloc_(void **p, size_t bytes, const char *file, int line) {
  *p = calloc(1, bytes ? bytes : 1);
  if (!*p)
    return h2_error_set(file, line, H2_EMEM, "out of memory allocating %zu bytes", bytes);
  return 0;
}
