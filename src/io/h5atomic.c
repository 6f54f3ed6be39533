/* h5atomic.c — temporary name, then rename; the output-path policy and the
 * checkpoint lock (see h5atomic.h). */
#define _GNU_SOURCE /* fallocate, fsync, kill, gethostname */
#include "h2nn/io/h5atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "h2nn/util/error.h"
#include "h2nn/io/h5util.h"

int h2_output_check(const char *path, const char *what, const char *const *inputs, int ninputs) {
  struct stat st;
  if (!path || !path[0]) H2_FAIL(H2_EINPUT, "%s: empty file name", what);
  if (stat(path, &st) == 0) {
    if (!S_ISREG(st.st_mode))
      H2_FAIL(H2_EINPUT, "%s %s: is %s, expected a regular file or a new name (refusing to replace it)", what, path,
              h2_file_kind(st.st_mode));
    for (int i = 0; i < ninputs; i++) {
      struct stat si;
      if (inputs[i] && stat(inputs[i], &si) == 0 && si.st_dev == st.st_dev && si.st_ino == st.st_ino)
        H2_FAIL(H2_EINPUT, "%s %s: is the same file as the input %s (refusing to overwrite an input)", what, path,
                inputs[i]);
    }
  } else if (errno != ENOENT) {
    H2_FAIL(H2_EINPUT, "%s %s: %s", what, path, strerror(errno));
  }
  char dir[4096];
  h2_path_dir(path, dir, sizeof dir);
  if (stat(dir, &st) != 0)
    H2_FAIL(H2_EINPUT, "%s %s: directory %s: %s", what, path, dir, strerror(errno));
  if (!S_ISDIR(st.st_mode)) H2_FAIL(H2_EINPUT, "%s %s: %s is not a directory", what, path, dir);
  if (access(dir, W_OK | X_OK) != 0)
    H2_FAIL(H2_EINPUT, "%s %s: directory %s is not writable (%s)", what, path, dir, strerror(errno));
  return 0;
}

int h2_h5_claim_tmp(const char *path, char *tmp, size_t size) {
  char dir[4096];
  struct stat st;
  h2_path_dir(path, dir, sizeof dir);
  /* never rename over a device, a FIFO or a directory (as root, a
   * --checkpoint /dev/null would replace the system's /dev/null) */
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    H2_FAIL(H2_EIO, "cannot write %s: it is %s, expected a regular file or a new name", path, h2_file_kind(st.st_mode));
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

/* Is NAME exactly "<base>.tmp.<digits>.<digits>" (the names h2_h5_claim_tmp
 * makes), or that name + ".locktest.<digits>" (Open MPI's MPI-IO, its
 * sharedfp "lockedfile" component, creates and deletes such a file when it
 * opens the temporary file: a writer killed in between leaves it behind)?
 * Sets *pid. */
static int is_our_tmp(const char *name, const char *base, long *pid) {
  size_t n = strlen(base);
  if (strncmp(name, base, n) || strncmp(name + n, ".tmp.", 5)) return 0;
  const char *p = name + n + 5, *q = p;
  while (*q >= '0' && *q <= '9') q++;
  if (q == p || *q != '.') return 0;
  *pid = strtol(p, NULL, 10);
  const char *r = ++q;
  while (*r >= '0' && *r <= '9') r++;
  if (r == q) return 0;
  if (*r == 0) return 1;
  if (strncmp(r, ".locktest.", 10)) return 0;
  const char *t = r + 10, *u = t;
  while (*u >= '0' && *u <= '9') u++;
  return u != t && *u == 0;
}

int h2_h5_remove_stale_tmp(const char *path, int exclusive) {
  char dir[4096];
  h2_path_dir(path, dir, sizeof dir);
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  DIR *d = opendir(dir);
  if (!d) return 0; /* best effort: the write itself succeeded */
  int removed = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    long pid = 0;
    if (!is_our_tmp(e->d_name, base, &pid)) continue;
    char full[8300];
    snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(full, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    /* Without the checkpoint lock another job may be writing this name right
     * now: then only a file whose writer is dead here and that has not
     * changed for 10 minutes is stale. */
    if (!exclusive) {
      int alive = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
      if (alive || time(NULL) - st.st_mtime < 600) continue;
    }
    if (unlink(full) == 0) removed++;
  }
  closedir(d);
  return removed;
}

int h2_h5_reserve(const char *tmp, double bytes, const char *what, const char *path, int *fd) {
  *fd = -1;
  if (!(bytes > 0)) return 0;
  char dir[4096];
  h2_path_dir(path, dir, sizeof dir);
  int f = open(tmp, O_RDWR | O_CLOEXEC);
  if (f < 0) H2_FAIL(H2_EIO, "cannot write %s %s: cannot open %s: %s", what, path, tmp, strerror(errno));
  /* Reserve the blocks beyond the end without changing the size (HDF5 sees
   * an ordinary file): every write of HDF5 then lands in allocated space. */
  if (fallocate(f, FALLOC_FL_KEEP_SIZE, 0, (off_t)bytes) == 0) {
    *fd = f;
    return 0;
  }
  int e = errno;
  close(f);
  struct statvfs v;
  double avail = statvfs(dir, &v) == 0 ? (double)v.f_bavail * (double)v.f_frsize : -1;
  if (e == ENOSPC || e == EDQUOT || e == EFBIG)
    H2_FAIL(H2_EIO, "cannot write %s %s: %s (it needs about %.3g MB, %.3g MB are free on the file system of %s)", what,
            path, strerror(e), bytes / 1048576.0, avail / 1048576.0, dir);
  /* no fallocate here (some network file systems): compare with the free space */
  if (avail >= 0 && avail < bytes)
    H2_FAIL(H2_EIO, "cannot write %s %s: %s (it needs about %.3g MB, %.3g MB are free on the file system of %s)", what,
            path, strerror(ENOSPC), bytes / 1048576.0, avail / 1048576.0, dir);
  return 0;
}

void h2_h5_unreserve(int *fd) {
  if (*fd < 0) return;
  /* give back the reserved blocks beyond the end: a shrinking truncate
   * frees them on every file system (grow by one byte, shrink back) */
  off_t size = lseek(*fd, 0, SEEK_END);
  if (size >= 0 && ftruncate(*fd, size + 1) == 0 && ftruncate(*fd, size) != 0) {
    /* best effort: the file is complete either way */
  }
  close(*fd);
  *fd = -1;
}

int h2_h5_atomic_create(h2_h5_atomic *a, const char *path, const char *what, MPI_Comm comm) {
  memset(a, 0, sizeof *a);
  a->file = -1;
  a->reserve_fd = -1;
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

int h2_h5_atomic_create_sized(h2_h5_atomic *a, const char *path, const char *what, double bytes, MPI_Comm comm) {
  H2_TRY(h2_h5_atomic_create(a, path, what, comm));
  int rank;
  MPI_Comm_rank(comm, &rank);
  int err = rank == 0 ? h2_h5_reserve(a->tmp, bytes, what, path, &a->reserve_fd) : 0;
  err = h2_error_sync(comm, err);
  if (err) {
    h2_h5_abandon(&a->file, a->tmp, comm);
    return err;
  }
  return 0;
}

/* fsync a file or directory by name (rank 0, after the collective close). */
static int sync_path(const char *p, int is_dir) {
  int fd = open(p, (is_dir ? O_DIRECTORY : 0) | O_RDONLY);
  if (fd < 0) return -1;
  int r = fsync(fd);
  int e = errno;
  close(fd);
  errno = e;
  /* some file systems cannot fsync a directory: not an error of ours */
  return r != 0 && !(is_dir && (errno == EINVAL || errno == EBADF)) ? -1 : 0;
}

void h2_h5_abandon(hid_t *file, const char *tmp, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (*file >= 0) {
    /* Free the abandoned file's blocks first: on a full disk HDF5's close
     * must still write its metadata, and a close that fails leaves a broken
     * file id behind (a crash in MPI_Finalize) or ranks stuck in different
     * collectives of the close. */
    if (rank == 0 && tmp[0] && truncate(tmp, 0) != 0) { /* best effort; the unlink below frees it anyway */ }
    MPI_Barrier(comm);
    errno = 0;
    H5Fclose(*file); /* quietly: the error being reported is the first one */
    H5Eclear2(H5E_DEFAULT);
    *file = -1;
  }
  MPI_Barrier(comm);
  if (rank == 0 && tmp[0]) unlink(tmp);
}

int h2_h5_atomic_finish(h2_h5_atomic *a, int err) {
  int rank;
  H2_MPI(MPI_Comm_rank(a->comm, &rank));
  err = h2_error_sync(a->comm, err);
  /* everything written before the close: a full disk shows up here, and the
   * close that follows has nothing left to fail on */
  if (!err) err = h2_h5_flush(a->file, a->comm);
  if (err) {
    if (rank == 0) h2_h5_unreserve(&a->reserve_fd);
    h2_h5_abandon(&a->file, a->tmp, a->comm);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", h2_error_message());
    err = h2_error_set(__FILE__, __LINE__, err, "%s not written (an existing file is intact): %s", a->path, msg);
    return h2_error_sync(a->comm, err);
  }
  err = h2_h5_close(&a->file, a->comm);
  if (rank == 0) h2_h5_unreserve(&a->reserve_fd);
  if (rank == 0) {
    char dir[4096];
    h2_path_dir(a->path, dir, sizeof dir);
    /* the data reach the disk before the name does, and the name before we
     * report success: a reported checkpoint survives a power loss */
    if (!err && sync_path(a->tmp, 0) != 0)
      err = h2_error_set(__FILE__, __LINE__, H2_EIO, "cannot write %s: flushing %s to disk failed: %s", a->path, a->tmp,
                         strerror(errno));
    if (!err && rename(a->tmp, a->path) != 0) {
      /* the new file is complete: keep it and say where (the old one is intact) */
      err = h2_error_set(__FILE__, __LINE__, H2_EIO,
                         "cannot rename %s onto %s: %s; the complete new file is kept as %s", a->tmp, a->path,
                         strerror(errno), a->tmp);
    } else if (!err) {
      (void)sync_path(dir, 1);
      h2_h5_remove_stale_tmp(a->path, a->exclusive);
    } else {
      unlink(a->tmp);
    }
  }
  return h2_error_sync(a->comm, err);
}

/* ------------------------------------------------------------------ lock */

int h2_lock_acquire(const char *path, h2_lock *lk) {
  snprintf(lk->path, sizeof lk->path, "%s.lock", path);
  lk->fd = -1;
  for (int attempt = 0; attempt < 100; attempt++) {
    int fd = open(lk->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) H2_FAIL(H2_EIO, "cannot lock %s: cannot create %s: %s", path, lk->path, strerror(errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, F_SETLK, &fl) != 0) {
      int e = errno;
      char who[256] = "";
      ssize_t n = pread(fd, who, sizeof who - 1, 0);
      close(fd);
      if (n > 0) {
        who[n] = 0;
        who[strcspn(who, "\n")] = 0;
      }
      if (e == EACCES || e == EAGAIN)
        H2_FAIL(H2_EINPUT, "%s is in use by another running job (%s holds %s); give this run another --checkpoint",
                path, who[0] ? who : "another process", lk->path);
      H2_FAIL(H2_EIO, "cannot lock %s (%s): %s", path, lk->path, strerror(e));
    }
    /* the lock is ours only if the name still points at this file (a
     * finishing job unlinks it after we opened it: then try again) */
    struct stat a, b;
    if (fstat(fd, &a) == 0 && stat(lk->path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      char who[256], host[128] = "?";
      gethostname(host, sizeof host - 1);
      host[sizeof host - 1] = 0;
      int n = snprintf(who, sizeof who, "pid %ld on %s\n", (long)getpid(), host);
      if (ftruncate(fd, 0) == 0 && pwrite(fd, who, (size_t)n, 0) < 0) { /* the text is only for messages */ }
      lk->fd = fd;
      return 0;
    }
    close(fd);
  }
  H2_FAIL(H2_EIO, "cannot lock %s: %s keeps being replaced", path, lk->path);
}

void h2_lock_release(h2_lock *lk) {
  if (lk->fd < 0) return;
  unlink(lk->path); /* while still holding it: a waiting job re-checks the name */
  close(lk->fd);
  lk->fd = -1;
}
