/* h5atomic.h — an HDF5 file that appears under its name only when complete.
 *
 * h2_h5_atomic_create makes PATH.tmp.<id> (id agreed by all ranks) in PATH's
 * directory; h2_h5_atomic_finish(a, err) agrees on err across the ranks,
 * closes, and renames onto PATH only if every rank succeeded — otherwise it
 * removes the temporary file.  An existing PATH is never damaged. */
#ifndef H2NN_H5ATOMIC_H
#define H2NN_H5ATOMIC_H

#include <hdf5.h>
#include <mpi.h>

typedef struct {
  hid_t file;
  MPI_Comm comm;
  char path[4096], tmp[4200];
} h2_h5_atomic;

/* Rank-local: claim a fresh temporary name PATH.tmp.<pid>.<k> next to PATH
 * (created empty with O_EXCL) into tmp; a missing or unwritable directory
 * fails with the system's reason.  Used by rank 0 of every atomic writer. */
int h2_h5_claim_tmp(const char *path, char *tmp, size_t size);

/* Collective.  `what` names the file in messages ("checkpoint", ...). */
int h2_h5_atomic_create(h2_h5_atomic *a, const char *path, const char *what, MPI_Comm comm);
/* Collective; returns the agreed status. */
int h2_h5_atomic_finish(h2_h5_atomic *a, int err);

#endif
