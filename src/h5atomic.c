/* h5atomic.c — temporary name, then rename (see h5atomic.h). */
#include "h2nn/h5atomic.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "h2nn/error.h"
#include "h2nn/h5util.h"

int h2_h5_atomic_create(h2_h5_atomic *a, const char *path, const char *what, MPI_Comm comm) {
  memset(a, 0, sizeof *a);
  a->file = -1;
  a->comm = comm;
  int id = (int)getpid();
  MPI_Bcast(&id, 1, MPI_INT, 0, comm);
  snprintf(a->path, sizeof a->path, "%s", path);
  snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%d", path, id);
  int err = h2_h5_create(&a->file, a->tmp, comm);
  if (err) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", h2_error_message());
    H2_FAIL(H2_EIO, "cannot write %s %s: %s", what, path, msg);
  }
  return 0;
}

int h2_h5_atomic_finish(h2_h5_atomic *a, int err) {
  int rank;
  MPI_Comm_rank(a->comm, &rank);
  err = h2_error_sync(a->comm, err);
  int cerr = h2_h5_close(&a->file, a->comm);
  if (!err) err = cerr;
  if (rank == 0) {
    if (!err && rename(a->tmp, a->path) != 0)
      err = h2_error_set(__FILE__, __LINE__, H2_EIO, "cannot rename %s onto %s", a->tmp, a->path);
    if (err) unlink(a->tmp);
  }
  return h2_error_sync(a->comm, err);
}
