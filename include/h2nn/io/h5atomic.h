/* h5atomic.h — an HDF5 file that appears under its name only when complete,
 * the policy for output paths, and the lock of a checkpoint path.
 *
 * h2_h5_atomic_create makes PATH.tmp.<pid>.<k> (name agreed by all ranks) in
 * PATH's directory; h2_h5_atomic_finish(a, err) agrees on err across the
 * ranks, closes, fsyncs the file, renames it onto PATH only if every rank
 * succeeded, fsyncs the directory and removes stale temporary files of
 * earlier killed writers — otherwise it removes its temporary file.  An
 * existing PATH is never damaged; when only the final rename fails the
 * complete new file is kept under its temporary name, and the message says
 * where. */
#ifndef H2NN_H5ATOMIC_H
#define H2NN_H5ATOMIC_H

#include <hdf5.h>
#include <mpi.h>

typedef struct {
  hid_t file;
  MPI_Comm comm;
  int exclusive; /* the caller holds PATH's lock: every stale PATH.tmp.* is ours to remove */
  int reserve_fd; /* rank 0: the temporary file's space reservation (h2_h5_reserve), or -1 */
  char path[4096], tmp[4200];
} h2_h5_atomic;

/* Rank-local output-path policy, checked before a long run starts: PATH
 * must be a regular file or a new name (never a device, FIFO, socket or
 * directory), in an existing writable directory, and not the same file
 * (device + inode, whatever the names) as any of the ninputs inputs.
 * `what` names the option in messages ("--checkpoint"). */
int h2_output_check(const char *path, const char *what, const char *const *inputs, int ninputs);

/* Rank-local: claim a fresh temporary name PATH.tmp.<pid>.<k> next to PATH
 * (created empty with O_EXCL) into tmp; a missing or unwritable directory
 * fails with the system's reason, an existing PATH that is not a regular
 * file is refused.  Used by rank 0 of every atomic writer. */
int h2_h5_claim_tmp(const char *path, char *tmp, size_t size);

/* Rank-local: remove the files PATH.tmp.<digits>.<digits> (exactly the
 * names h2_h5_claim_tmp makes) left by killed writers.  With exclusive = 0
 * (no lock held) only those whose process is gone and that have not changed
 * for 10 minutes.  Returns how many were removed. */
int h2_h5_remove_stale_tmp(const char *path, int exclusive);

/* Collective.  `what` names the file in messages ("checkpoint", ...). */
int h2_h5_atomic_create(h2_h5_atomic *a, const char *path, const char *what, MPI_Comm comm);
/* The same, reserving about `bytes` for the file first (h2_h5_reserve): a
 * full disk is then refused here, cleanly, before HDF5 writes anything. */
int h2_h5_atomic_create_sized(h2_h5_atomic *a, const char *path, const char *what, double bytes, MPI_Comm comm);
/* Collective; returns the agreed status. */
int h2_h5_atomic_finish(h2_h5_atomic *a, int err);

/* Rank-local (rank 0): reserve `bytes` of disk space for the temporary file
 * tmp (fallocate without changing its size; where fallocate is missing, a
 * comparison with the free space).  Parallel HDF5 cannot recover from a
 * write that fails on one rank inside its collective metadata flush (ranks
 * end up in different collectives: a hang), so a full disk must be found
 * before HDF5 writes: this fails with "No space left on device", the size
 * needed and the space free.  *fd keeps the reservation until
 * h2_h5_unreserve, which gives back what the file did not use. */
int h2_h5_reserve(const char *tmp, double bytes, const char *what, const char *path, int *fd);
void h2_h5_unreserve(int *fd);

/* Collective: close an HDF5 file being abandoned after an error (its
 * temporary name tmp is truncated first, so that a full disk cannot make
 * the close fail or hang) and remove tmp (rank 0).  Never sets an error. */
void h2_h5_abandon(hid_t *file, const char *tmp, MPI_Comm comm);

/* An exclusive lock on PATH.lock (fcntl, so also over NFS), held by one
 * process for a whole run: a second job with the same checkpoint path is
 * refused with a message naming the holder (pid and host).  Rank-local
 * (rank 0); released (and the lock file removed) by h2_lock_release. */
typedef struct {
  int fd;
  char path[4200];
} h2_lock;
int h2_lock_acquire(const char *path, h2_lock *lk);
void h2_lock_release(h2_lock *lk);

#endif
