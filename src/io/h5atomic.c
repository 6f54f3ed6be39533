/* h5atomic.c — temporary name, then rename (see h5atomic.h). */
#include "h2nn/io/h5atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "h2nn/util/error.h"
#include "h2nn/io/h5util.h"

int h2_h5_claim_tmp(const char *path, char *tmp, size_t size) {
  char dir[4096];
  h2_path_dir(path, dir, sizeof dir);
  for (int k = 0; k < 1000; k++) {
    snprintf(tmp, size, "%s.tmp.%ld.%d", path, (long)getpid(), k);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      close(fd);
      return 0;
    }
    if (errno != EEXIST)
      H2_FAIL(H2_EIO, "cannot write %s: cannot create a file in directory %s: %s", path, dir, strerror(errno));
  }
  H2_FAIL(H2_EIO, "cannot write %s: no free temporary name %s.tmp.*", path, path);
}

int h2_h5_atomic_create(h2_h5_atomic *a, const char *path, const char *what, MPI_Comm comm) {
  memset(a, 0, sizeof *a);
  a->file = -1;
  a->comm = comm;
  int rank;
  H2_MPI(MPI_Comm_rank(comm, &rank));
  snprintf(a->path, sizeof a->path, "%s", path);
  int err = rank == 0 ? h2_h5_claim_tmp(path, a->tmp, sizeof a->tmp) : 0;
  if (err) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", h2_error_message());
    err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: %s", what, msg);
  }
  H2_TRY(h2_error_sync(comm, err));
  H2_MPI(MPI_Bcast(a->tmp, (int)sizeof a->tmp, MPI_CHAR, 0, comm));
  err = h2_h5_create(&a->file, a->tmp, comm);
  if (err) {
    if (rank == 0) unlink(a->tmp);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", h2_error_message());
    H2_FAIL(H2_EIO, "cannot write %s %s: %s", what, path, msg);
  }
  return 0;
}

int h2_h5_atomic_finish(h2_h5_atomic *a, int err) {
  int rank;
  H2_MPI(MPI_Comm_rank(a->comm, &rank));
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
