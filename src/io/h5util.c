/* h5util.c — checked parallel-HDF5 wrappers (see h5util.h for the contract).
 *
 * Owns: file create/open/close with the MPI-IO driver, groups, row-block
 * dataset I/O, dataset introspection and attributes.  Every HDF5 failure is
 * turned into an h2 error whose message names the file and the object; the
 * HDF5 error stack is never printed, only its innermost description is
 * quoted. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* S_ISSOCK */
#endif
#include "h2nn/io/h5util.h"

#include "h2nn/io/h5sandbox.h"
#include "h2nn/util/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Largest number of bytes one rank moves in one H5Dwrite round. */
#define H2_H5_MAX_TRANSFER ((int64_t)256 << 20)

/* ------------------------------------------------------------------ helpers */

void h2_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct {
  char *buf;
  size_t size;
} h5_reason_ctx;

static herr_t reason_cb(unsigned n, const H5E_error2_t *e, void *data) {
  h5_reason_ctx *c = data;
  if (n == 0 && e && e->desc) snprintf(c->buf, c->size, "%s", e->desc);
  return 0;
}

/* The innermost message of HDF5's error stack (then cleared). */
static const char *h5_reason(char *buf, size_t size) {
  h5_reason_ctx c = {buf, size};
  buf[0] = 0;
  int e = errno; /* the system's reason, when the failing call left one (callers zero errno first) */
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reason_cb, &c);
  H5Eclear2(H5E_DEFAULT);
  if (!buf[0]) snprintf(buf, size, "unknown HDF5 failure");
  if (e == ENOSPC || e == EDQUOT || e == EFBIG || e == EIO || e == EROFS) {
    size_t n = strlen(buf);
    if (n + 8 < size) snprintf(buf + n, size - n, ": %s", strerror(e));
  }
  return buf;
}

/* After a failed write: MPI-IO does not keep errno, so look at the file
 * system itself and say "No space left on device" when it is (almost)
 * full, or the quota is exhausted. */
static void append_disk_reason(const char *fname, char *buf, size_t size) {
  if (strstr(buf, strerror(ENOSPC))) return;
  char dir[4096];
  h2_path_dir(fname, dir, sizeof dir);
  struct statvfs v;
  if (statvfs(dir, &v) != 0) return;
  double avail = (double)v.f_bavail * (double)v.f_frsize, total = (double)v.f_blocks * (double)v.f_frsize;
  if (avail < 1048576.0 || avail < 0.001 * total || (v.f_favail == 0 && v.f_files > 0)) {
    size_t n = strlen(buf);
    if (n + 8 < size)
      snprintf(buf + n, size - n, ": %s (%.0f bytes free on the file system of %.200s)", strerror(ENOSPC), avail, dir);
  }
}

void h2_h5_filename(hid_t obj, char *buf, size_t size) {
  if (size == 0) return;
  buf[0] = 0;
  if (obj < 0 || H5Fget_name(obj, buf, size) < 0 || !buf[0]) snprintf(buf, size, "?");
  H5Eclear2(H5E_DEFAULT);
}

static void objname(hid_t obj, char *buf, size_t size) {
  buf[0] = 0;
  if (obj < 0 || H5Iget_name(obj, buf, size) <= 0 || !buf[0]) snprintf(buf, size, "?");
  H5Eclear2(H5E_DEFAULT);
}

/* "NAME" relative to LOC, as an absolute-looking path for messages. */
static void fullname(hid_t loc, const char *name, char *buf, size_t size) {
  char base[1024];
  if (name[0] == '/') {
    snprintf(buf, size, "%s", name);
    return;
  }
  objname(loc, base, sizeof base);
  if (!strcmp(base, "?") || !strcmp(base, "/"))
    snprintf(buf, size, "/%s", name);
  else
    snprintf(buf, size, "%s/%s", base, name);
}

static hid_t mem_type(h2_h5_type t) {
  switch (t) {
    case H2_H5_F32: return H5T_NATIVE_FLOAT;
    case H2_H5_F64: return H5T_NATIVE_DOUBLE;
    case H2_H5_I64: return H5T_NATIVE_INT64;
  }
  return -1;
}

static hid_t file_type(h2_h5_type t) {
  switch (t) {
    case H2_H5_F32: return H5T_IEEE_F32LE;
    case H2_H5_F64: return H5T_IEEE_F64LE;
    case H2_H5_I64: return H5T_STD_I64LE;
  }
  return -1;
}

static size_t type_size(h2_h5_type t) { return t == H2_H5_F32 ? 4 : 8; }

const char *h2_h5_info_typename(const h2_h5_info *info) {
  switch (info->cls) {
    case H2_H5_CLASS_FLOAT:
      if (info->size == 2) return "float16";
      if (info->size == 4) return "float32";
      if (info->size == 8) return "float64";
      if (info->size == 16) return "float128";
      return "float (unusual size)";
    case H2_H5_CLASS_INTEGER:
      if (info->size == 1) return info->is_unsigned ? "uint8" : "int8";
      if (info->size == 2) return info->is_unsigned ? "uint16" : "int16";
      if (info->size == 4) return info->is_unsigned ? "uint32" : "int32";
      if (info->size == 8) return info->is_unsigned ? "uint64" : "int64";
      return "integer (unusual size)";
    case H2_H5_CLASS_STRING: return "string";
    case H2_H5_CLASS_OTHER: break;
  }
  return "non-numeric type";
}

static h2_h5_class class_of(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_FLOAT: return H2_H5_CLASS_FLOAT;
    case H5T_INTEGER: return H2_H5_CLASS_INTEGER;
    case H5T_STRING: return H2_H5_CLASS_STRING;
    default: return H2_H5_CLASS_OTHER;
  }
}

/* A numeric type's bit layout inside its bytes: HDF5's conversions trust it,
 * and a damaged one (precision or offset past the value's size, float fields
 * outside it) made H5Aread crash with SIGBUS in its bit copy (fuzzing,
 * docs/reliability.md).  0 when plausible, else -1 with a description
 * (h5util.h; also used by tools/h2nn_h5check.c). */
int h2_h5_numeric_layout(hid_t type, char *why, size_t wsize) {
  H5T_class_t c = H5Tget_class(type);
  if (c != H5T_INTEGER && c != H5T_FLOAT) return 0;
  size_t size = H5Tget_size(type), prec = H5Tget_precision(type);
  int off = H5Tget_offset(type);
  size_t bits = 8 * size;
  int bad = size == 0 || size > 16 || prec == 0 || off < 0 || (size_t)off + prec > bits;
  if (!bad && c == H5T_FLOAT) {
    size_t spos, epos, esize, mpos, msize;
    bad = H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0 || spos >= bits || esize == 0 ||
          msize == 0 || epos + esize > bits || mpos + msize > bits;
  }
  H5Eclear2(H5E_DEFAULT);
  if (!bad) return 0;
  snprintf(why, wsize, "a damaged %s type (%zu bytes, precision %zu, offset %d)",
           c == H5T_FLOAT ? "floating-point" : "integer", size, prec, off);
  return -1;
}

/* ------------------------------------------------------------------ files */

const char *h2_file_kind(unsigned m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

void h2_path_dir(const char *path, char *dir, size_t size) {
  snprintf(dir, size, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) snprintf(dir, size, ".");
  else if (slash == dir) dir[1] = 0;
  else *slash = 0;
}

/* Rank 0, before creating PATH: its directory first, one clear message naming it. */
static int check_create_path(const char *path) {
  char dir[4096];
  h2_path_dir(path, dir, sizeof dir);
  struct stat st;
  H2_CHECK(stat(dir, &st) == 0, H2_EIO, "cannot create %s: directory %s: %s", path, dir, strerror(errno));
  H2_CHECK(S_ISDIR(st.st_mode), H2_EIO, "cannot create %s: %s is not a directory", path, dir);
  H2_CHECK(access(dir, W_OK | X_OK) == 0, H2_EIO, "cannot create %s: directory %s is not writable (%s)", path, dir,
           strerror(errno));
  H2_CHECK(!(stat(path, &st) == 0 && S_ISDIR(st.st_mode)), H2_EIO, "cannot create %s: it is a directory", path);
  return 0;
}

/* Rank 0, before opening PATH: no such file, directory, permission, not HDF5. */
static int check_read_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    H2_CHECK(errno != ENOENT, H2_EINPUT, "%s: no such file", path);
    H2_FAIL(H2_EINPUT, "%s: %s", path, strerror(errno));
  }
  H2_CHECK(!S_ISDIR(st.st_mode), H2_EINPUT, "%s: is a directory, expected an HDF5 file", path);
  /* stat only: opening a FIFO would block until a writer appears */
  H2_CHECK(S_ISREG(st.st_mode), H2_EINPUT, "%s: is %s, expected a regular HDF5 file", path, h2_file_kind(st.st_mode));
  H2_CHECK(access(path, R_OK) == 0, H2_EINPUT, "%s: permission denied (%s)", path, strerror(errno));
  /* libhdf5 crashes or loops on some damaged files (docs/reliability.md):
   * a separate process decodes all of the file first, before this one
   * parses a byte of it */
  H2_TRY(h2_h5_sandbox_check(path));
  htri_t is = H5Fis_hdf5(path);
  H2_CHECK(is != 0, H2_EINPUT, "%s: not an HDF5 file (no HDF5 signature in its %lld bytes)", path,
           (long long)st.st_size);
  char r[512];
  H2_CHECK(is > 0, H2_EINPUT, "%s: cannot be read as HDF5: %s", path, h5_reason(r, sizeof r));
  /* Parallel HDF5 reads the superblock and the root group inside H5Fopen on
   * rank 0 and broadcasts them: a file damaged there fails on rank 0 while
   * the other ranks wait in the broadcast forever (a fuzzed file did that,
   * docs/reliability.md).  So rank 0 first opens the file alone with the
   * serial driver, without HDF5's file lock (h2nn's MPI-IO opens take none
   * either), and only a file that opens there is opened collectively. */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H2_CHECK(fapl >= 0, H2_EIO, "cannot open %s: %s", path, h5_reason(r, sizeof r));
#if H5_VERSION_GE(1, 10, 7)
  H5Pset_file_locking(fapl, 0, 1);
#endif
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  if (f < 0) h5_reason(r, sizeof r); /* before H5Pclose clears HDF5's error stack */
  H5Pclose(fapl);
  H2_CHECK(f >= 0, H2_EINPUT, "%s: cannot be opened as HDF5 (damaged or truncated file?): %s", path, r);
  H5Fclose(f);
  return 0;
}

int h2_h5_create(hid_t *file, const char *path, MPI_Comm comm) {
  int rank, err = 0;
  *file = -1;
  h2_h5_quiet();
  H2_MPI(MPI_Comm_rank(comm, &rank));
  H2_TRY(h2_error_sync(comm, rank == 0 ? check_create_path(path) : 0));

  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
    char r[512];
    err = h2_error_set(__FILE__, __LINE__, H2_EIO, "cannot create %s: MPI-IO file access: %s",
                       path, h5_reason(r, sizeof r));
  } else {
    errno = 0;
    *file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (*file < 0) {
      int e = errno;
      char r[512];
      h5_reason(r, sizeof r);
      err = h2_error_set(__FILE__, __LINE__, H2_EIO, "cannot create %s: %s%s%s", path, r,
                         e ? "; " : "", e ? strerror(e) : "");
    }
  }
  if (fapl >= 0) H5Pclose(fapl);
  err = h2_error_sync(comm, err);
  if (err && *file >= 0) {
    H5Fclose(*file);
    *file = -1;
  }
  return err;
}

/* The driver for reading: parallel HDF5's MPI-IO driver on COMM.  The fuzz
 * build (H2NN_FUZZ, tests/fuzz/, one rank) reads through the core driver
 * instead: the file is read into memory once at open, without MPI-IO's
 * per-open set-up.  The format's decoders (superblock, object headers,
 * messages, datasets) sit above the driver, so the fuzzers exercise the same
 * decoding as the MPI-IO driver (docs/reliability.md, "Fuzzing"). */
static herr_t read_driver(hid_t fapl, MPI_Comm comm) {
#ifdef H2NN_FUZZ
  (void)comm;
  return H5Pset_fapl_core(fapl, (size_t)1 << 16, 0);
#else
  return H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
#endif
}

int h2_h5_open_read(hid_t *file, const char *path, MPI_Comm comm) {
  int rank, err = 0;
  *file = -1;
  h2_h5_quiet();
  H2_MPI(MPI_Comm_rank(comm, &rank));
  H2_TRY(h2_error_sync(comm, rank == 0 ? check_read_path(path) : 0));

  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || read_driver(fapl, comm) < 0) {
    char r[512];
    err = h2_error_set(__FILE__, __LINE__, H2_EIO, "cannot open %s: MPI-IO file access: %s", path,
                       h5_reason(r, sizeof r));
  } else {
    *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (*file < 0) {
      char r[512];
      err = h2_error_set(__FILE__, __LINE__, H2_EINPUT,
                         "%s: cannot be opened as HDF5 (damaged or truncated file?): %s", path,
                         h5_reason(r, sizeof r));
    }
  }
  if (fapl >= 0) H5Pclose(fapl);
  err = h2_error_sync(comm, err);
  if (err && *file >= 0) {
    H5Fclose(*file);
    *file = -1;
  }
  return err;
}

int h2_h5_close(hid_t *file, MPI_Comm comm) {
  int err = 0;
  if (*file < 0) return 0;
  char fname[1024];
  h2_h5_filename(*file, fname, sizeof fname);
  errno = 0;
  if (H5Fclose(*file) < 0) {
    char r[512];
    h5_reason(r, sizeof r);
    append_disk_reason(fname, r, sizeof r);
    err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: closing the file failed: %s", fname, r);
  }
  *file = -1;
  return h2_error_sync(comm, err);
}

int h2_h5_flush(hid_t file, MPI_Comm comm) {
  int err = 0;
  errno = 0;
  if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) {
    char fname[1024], r[512];
    h5_reason(r, sizeof r);
    h2_h5_filename(file, fname, sizeof fname);
    append_disk_reason(fname, r, sizeof r);
    err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: writing the file failed: %s", fname, r);
  }
  return h2_error_sync(comm, err);
}

/* ------------------------------------------------------------------ groups */

int h2_h5_exists(hid_t loc, const char *path, int *exists) {
  char buf[1024];
  size_t len = strlen(path);
  *exists = 0;
  if (len == 0 || len >= sizeof buf) {
    char fname[1024];
    h2_h5_filename(loc, fname, sizeof fname);
    H2_FAIL(H2_EINTERNAL, "%s: bad object path '%s'", fname, path);
  }
  memcpy(buf, path, len + 1);
  /* Walk the prefixes: H5Lexists needs every parent to exist. */
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != 0) continue;
    char save = buf[i];
    buf[i] = 0;
    if (!(i == 1 && buf[0] == '/')) {
      htri_t e = H5Lexists(loc, buf, H5P_DEFAULT);
      if (e < 0) {
        char fname[1024], r[512];
        h2_h5_filename(loc, fname, sizeof fname);
        h5_reason(r, sizeof r);
        H2_FAIL(H2_EINPUT, "%s: cannot look up %s (damaged file?): %s", fname, buf, r);
      }
      if (e == 0) return 0;
    }
    buf[i] = save;
  }
  *exists = 1;
  return 0;
}

int h2_h5_group_open(hid_t loc, const char *path, hid_t *g) {
  *g = H5Gopen2(loc, path, H5P_DEFAULT);
  if (*g < 0) {
    char fname[1024], r[512];
    h2_h5_filename(loc, fname, sizeof fname);
    H2_FAIL(H2_EIO, "%s: cannot open group %s: %s", fname, path, h5_reason(r, sizeof r));
  }
  return 0;
}

void h2_h5_group_close(hid_t *g) {
  if (*g >= 0) H5Gclose(*g);
  *g = -1;
}

int h2_h5_create_groups(hid_t loc, const char *path, MPI_Comm comm) {
  char buf[1024];
  int err = 0;
  size_t len = strlen(path);
  char fname[1024];
  h2_h5_filename(loc, fname, sizeof fname);
  if (len == 0 || len >= sizeof buf) {
    err = h2_error_set(__FILE__, __LINE__, H2_EINTERNAL, "%s: bad group path '%s'", fname, path);
    return h2_error_sync(comm, err);
  }
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i <= len && !err; i++) {
    if (buf[i] != '/' && buf[i] != 0) continue;
    char save = buf[i];
    buf[i] = 0;
    if (!(i == 1 && buf[0] == '/') && buf[i - 1] != '/') {
      htri_t e = H5Lexists(loc, buf, H5P_DEFAULT);
      if (e < 0) {
        char r[512];
        err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: cannot look up group %s: %s", fname,
                           buf, h5_reason(r, sizeof r));
      } else if (e == 0) {
        hid_t g = H5Gcreate2(loc, buf, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) {
          char r[512];
          err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: cannot create group %s: %s", fname,
                             buf, h5_reason(r, sizeof r));
        } else {
          H5Gclose(g);
        }
      }
    }
    buf[i] = save;
  }
  return h2_error_sync(comm, err);
}

/* ------------------------------------------------------------------ datasets */

int h2_h5_create_dataset(hid_t loc, const char *name, h2_h5_type ftype, int ndims,
                         int64_t grows, int64_t cols, hid_t *dset, MPI_Comm comm) {
  int err = 0;
  char fname[1024], dname[1024];
  *dset = -1;
  h2_h5_filename(loc, fname, sizeof fname);
  fullname(loc, name, dname, sizeof dname);
  if ((ndims != 1 && ndims != 2) || grows < 0 || cols < 1 || (ndims == 1 && cols != 1)) {
    err = h2_error_set(__FILE__, __LINE__, H2_EINTERNAL,
                       "%s: dataset %s: bad shape (ndims %d, %lld x %lld)", fname, dname, ndims,
                       (long long)grows, (long long)cols);
    return h2_error_sync(comm, err);
  }
  hsize_t dims[2] = {(hsize_t)grows, (hsize_t)cols};
  hid_t space = H5Screate_simple(ndims, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (space < 0 || dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0 ||
      H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0) {
    char r[512];
    err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: dataset %s: %s", fname, dname,
                       h5_reason(r, sizeof r));
  } else {
    *dset = H5Dcreate2(loc, name, file_type(ftype), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (*dset < 0) {
      char r[512];
      err = h2_error_set(__FILE__, __LINE__, H2_EIO,
                         "%s: cannot create dataset %s (%lld x %lld): %s", fname, dname,
                         (long long)grows, (long long)cols, h5_reason(r, sizeof r));
    }
  }
  if (dcpl >= 0) H5Pclose(dcpl);
  if (space >= 0) H5Sclose(space);
  err = h2_error_sync(comm, err);
  if (err && *dset >= 0) {
    H5Dclose(*dset);
    *dset = -1;
  }
  return err;
}

int h2_h5_dataset_info_id(hid_t dset, h2_h5_info *info) {
  memset(info, 0, sizeof *info);
  hid_t type = H5Dget_type(dset);
  hid_t space = H5Dget_space(dset);
  int err = 0;
  char r_layout[160];
  if (type < 0 || space < 0) {
    char fname[1024], dname[1024], r[512];
    h2_h5_filename(dset, fname, sizeof fname);
    objname(dset, dname, sizeof dname);
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT,
                       "%s: dataset %s: cannot read its type or shape: %s", fname, dname,
                       h5_reason(r, sizeof r));
  } else if (h2_h5_numeric_layout(type, r_layout, sizeof r_layout) != 0) {
    char fname[1024], dname[1024];
    h2_h5_filename(dset, fname, sizeof fname);
    objname(dset, dname, sizeof dname);
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: dataset %s has %s", fname, dname, r_layout);
  } else {
    info->cls = class_of(type);
    info->size = H5Tget_size(type);
    info->is_unsigned = info->cls == H2_H5_CLASS_INTEGER && H5Tget_sign(type) == H5T_SGN_NONE;
    int nd = H5Sget_simple_extent_ndims(space);
    hsize_t dims[H5S_MAX_RANK];
    if (nd < 0 || nd > H2_H5_MAXDIMS || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
      char fname[1024], dname[1024];
      h2_h5_filename(dset, fname, sizeof fname);
      objname(dset, dname, sizeof dname);
      err = h2_error_set(__FILE__, __LINE__, H2_EINPUT,
                         "%s: dataset %s: unsupported dataspace (rank %d)", fname, dname, nd);
      H5Eclear2(H5E_DEFAULT);
    } else {
      info->ndims = nd;
      for (int i = 0; i < nd; i++) info->dims[i] = (int64_t)dims[i];
    }
  }
  if (type >= 0) H5Tclose(type);
  if (space >= 0) H5Sclose(space);
  return err;
}

int h2_h5_open_dataset(hid_t loc, const char *name, hid_t *dset) {
  char fname[1024], dname[1024];
  int exists;
  *dset = -1;
  h2_h5_filename(loc, fname, sizeof fname);
  fullname(loc, name, dname, sizeof dname);
  H2_TRY(h2_h5_exists(loc, name, &exists));
  if (!exists) H2_FAIL(H2_EINPUT, "%s: dataset %s not found", fname, dname);
  hid_t obj = H5Oopen(loc, name, H5P_DEFAULT);
  if (obj < 0) {
    char r[512];
    H2_FAIL(H2_EINPUT, "%s: cannot open %s (damaged file?): %s", fname, dname,
            h5_reason(r, sizeof r));
  }
  if (H5Iget_type(obj) != H5I_DATASET) {
    H5Oclose(obj);
    H2_FAIL(H2_EINPUT, "%s: %s is a group or other object, expected a dataset", fname, dname);
  }
  *dset = obj;
  return 0;
}

void h2_h5_close_dataset(hid_t *dset) {
  if (*dset >= 0) H5Dclose(*dset);
  *dset = -1;
}

int h2_h5_dataset_info(hid_t loc, const char *name, h2_h5_info *info, int *exists) {
  hid_t d;
  memset(info, 0, sizeof *info);
  if (exists) {
    H2_TRY(h2_h5_exists(loc, name, exists));
    if (!*exists) return 0;
  }
  H2_TRY(h2_h5_open_dataset(loc, name, &d));
  int err = h2_h5_dataset_info_id(d, info);
  H5Dclose(d);
  H2_TRY(err);
  return 0;
}

/* Rows and columns of an open 1-D/2-D dataset. */
static int rows_cols(hid_t dset, int64_t *grows, int64_t *cols, int *ndims) {
  h2_h5_info info;
  H2_TRY(h2_h5_dataset_info_id(dset, &info));
  if (info.ndims != 1 && info.ndims != 2) {
    char fname[1024], dname[1024];
    h2_h5_filename(dset, fname, sizeof fname);
    objname(dset, dname, sizeof dname);
    H2_FAIL(H2_EINPUT, "%s: dataset %s: expected 1 or 2 dimensions, found %d", fname, dname,
            info.ndims);
  }
  *ndims = info.ndims;
  *grows = info.dims[0];
  *cols = info.ndims == 2 ? info.dims[1] : 1;
  return 0;
}

/* One hyperslab transfer of rows [row0, row0+n) (n may be 0). */
static int transfer(hid_t dset, h2_h5_type mtype, int ndims, int64_t cols, int64_t row0,
                    int64_t n, void *buf, int write, hid_t dxpl, char *reason, size_t rsize) {
  hid_t fspace = H5Dget_space(dset);
  hsize_t start[2] = {(hsize_t)row0, 0}, count[2] = {(hsize_t)n, (hsize_t)cols};
  hsize_t one[2] = {1, (hsize_t)cols};
  hid_t mspace = H5Screate_simple(ndims, n > 0 ? count : one, NULL);
  herr_t s = (fspace < 0 || mspace < 0) ? -1 : 0;
  if (s >= 0) {
    if (n > 0)
      s = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    else
      s = (H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0) ? -1 : 0;
  }
  errno = 0;
  if (s >= 0) {
    if (write)
      s = H5Dwrite(dset, mem_type(mtype), mspace, fspace, dxpl, buf);
    else
      s = H5Dread(dset, mem_type(mtype), mspace, fspace, dxpl, buf);
  }
  if (s < 0) h5_reason(reason, rsize);
  if (mspace >= 0) H5Sclose(mspace);
  if (fspace >= 0) H5Sclose(fspace);
  return s < 0;
}

int h2_h5_write_rows_id(hid_t dset, h2_h5_type mtype, int64_t row0, int64_t nrows,
                        const void *buf, MPI_Comm comm) {
  int err = 0, ndims = 0;
  int64_t grows = 0, cols = 1;
  char fname[1024], dname[1024];
  h2_h5_filename(dset, fname, sizeof fname);
  objname(dset, dname, sizeof dname);
  err = rows_cols(dset, &grows, &cols, &ndims);
  if (!err && (row0 < 0 || nrows < 0 || row0 + nrows > grows))
    err = h2_error_set(__FILE__, __LINE__, H2_EINTERNAL,
                       "%s: dataset %s: rows [%lld, %lld) outside its %lld rows", fname, dname,
                       (long long)row0, (long long)(row0 + nrows), (long long)grows);
  H2_TRY(h2_error_sync(comm, err));

  int64_t rowbytes = cols * (int64_t)type_size(mtype);
  int64_t piece = H2_H5_MAX_TRANSFER / rowbytes;
  if (piece < 1) piece = 1;
  long long mine = (nrows + piece - 1) / piece, rounds = 0;
  H2_MPI(MPI_Allreduce(&mine, &rounds, 1, MPI_LONG_LONG, MPI_MAX, comm));

  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  int bad = dxpl < 0 || H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0;
  int nbad = 0;
  H2_MPI(MPI_Allreduce(&bad, &nbad, 1, MPI_INT, MPI_MAX, comm));
  if (nbad) {
    if (dxpl >= 0) H5Pclose(dxpl);
    char r[512];
    err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: dataset %s: transfer property list: %s",
                       fname, dname, h5_reason(r, sizeof r));
    return h2_error_sync(comm, err);
  }
  char reason[512] = "";
  const char *p = buf;
  for (long long r = 0; r < rounds; r++) {
    int64_t first = r * piece;
    int64_t n = first < nrows ? (nrows - first < piece ? nrows - first : piece) : 0;
    /* A rank that failed keeps taking part with empty selections. */
    if (err) n = 0;
    int f = transfer(dset, mtype, ndims, cols, row0 + (n ? first : 0), n,
                     (void *)(p + (n ? first * rowbytes : 0)), 1, dxpl, reason, sizeof reason);
    if (f) append_disk_reason(fname, reason, sizeof reason);
    if (f && !err)
      err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: writing rows [%lld, %lld) of %s: %s",
                         fname, (long long)(row0 + first), (long long)(row0 + first + n), dname,
                         reason);
  }
  H5Pclose(dxpl);
  return h2_error_sync(comm, err);
}

int h2_h5_write_rows(hid_t loc, const char *name, h2_h5_type ftype, h2_h5_type mtype,
                     int ndims, int64_t grows, int64_t cols, int64_t row0, int64_t nrows,
                     const void *buf, MPI_Comm comm) {
  hid_t d;
  H2_TRY(h2_h5_create_dataset(loc, name, ftype, ndims, grows, cols, &d, comm));
  int err = h2_h5_write_rows_id(d, mtype, row0, nrows, buf, comm);
  if (H5Dclose(d) < 0 && !err) {
    char fname[1024], r[512];
    h2_h5_filename(loc, fname, sizeof fname);
    err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: closing dataset %s: %s", fname, name,
                       h5_reason(r, sizeof r));
  }
  return h2_error_sync(comm, err);
}

int h2_h5_read_rows_id(hid_t dset, h2_h5_type mtype, int64_t row0, int64_t nrows, int64_t want_cols,
                       void *buf) {
  int ndims;
  int64_t grows, cols;
  char fname[1024], dname[1024], reason[512];
  H2_TRY(rows_cols(dset, &grows, &cols, &ndims));
  if (cols != want_cols) {
    h2_h5_filename(dset, fname, sizeof fname);
    objname(dset, dname, sizeof dname);
    if (ndims == 1)
      H2_FAIL(H2_EINPUT, "%s: dataset %s: expected %lld columns, found a 1-D dataset of %lld values", fname,
              dname, (long long)want_cols, (long long)grows);
    H2_FAIL(H2_EINPUT, "%s: dataset %s: expected %lld column%s, found %lld x %lld", fname, dname,
            (long long)want_cols, want_cols == 1 ? "" : "s", (long long)grows, (long long)cols);
  }
  if (row0 < 0 || nrows < 0 || row0 > grows || nrows > grows - row0) {
    h2_h5_filename(dset, fname, sizeof fname);
    objname(dset, dname, sizeof dname);
    H2_FAIL(H2_EINPUT, "%s: dataset %s: rows [%lld, %lld) requested, it has %lld rows", fname,
            dname, (long long)row0, (long long)(row0 + nrows), (long long)grows);
  }
  if (nrows == 0) return 0;
  int64_t rowbytes = cols * (int64_t)type_size(mtype);
  int64_t piece = H2_H5_MAX_TRANSFER / rowbytes;
  if (piece < 1) piece = 1;
  char *p = buf;
  for (int64_t first = 0; first < nrows; first += piece) {
    int64_t n = nrows - first < piece ? nrows - first : piece;
    if (transfer(dset, mtype, ndims, cols, row0 + first, n, p + first * rowbytes, 0, H5P_DEFAULT,
                 reason, sizeof reason)) {
      h2_h5_filename(dset, fname, sizeof fname);
      objname(dset, dname, sizeof dname);
      H2_FAIL(H2_EINPUT, "%s: reading rows [%lld, %lld) of dataset %s failed (damaged file?): %s",
              fname, (long long)(row0 + first), (long long)(row0 + first + n), dname, reason);
    }
  }
  return 0;
}

int h2_h5_read_rows(hid_t loc, const char *name, h2_h5_type mtype, int64_t row0, int64_t nrows,
                    int64_t cols, void *buf) {
  hid_t d;
  H2_TRY(h2_h5_open_dataset(loc, name, &d));
  int err = h2_h5_read_rows_id(d, mtype, row0, nrows, cols, buf);
  H5Dclose(d);
  H2_TRY(err);
  return 0;
}

static void shape_text(const h2_h5_info *info, char *buf, size_t size) {
  if (info->ndims == 0) {
    snprintf(buf, size, "a scalar");
    return;
  }
  size_t n = 0;
  buf[0] = 0;
  for (int i = 0; i < info->ndims && n + 24 < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? " x " : "", (long long)info->dims[i]);
}

int h2_h5_check_storage(hid_t dset, const h2_h5_info *info) {
  /* declared bytes, saturating (a hostile shape may overflow 64 bits) */
  double declared = (double)(info->size ? info->size : 1);
  for (int i = 0; i < info->ndims; i++) declared *= (double)info->dims[i];
  if (declared == 0) return 0;
  hid_t dcpl = H5Dget_create_plist(dset);
  H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
  if (dcpl >= 0) H5Pclose(dcpl);
  double stored = (double)H5Dget_storage_size(dset);
  H5Eclear2(H5E_DEFAULT);
  int bad = 0;
  if (layout == H5D_CONTIGUOUS) bad = stored < declared;
  else if (layout == H5D_CHUNKED) bad = stored == 0 || stored * 1024 < declared;
  else if (layout == H5D_COMPACT) bad = stored < declared;
  if (bad) {
    char fname[1024], dname[1024], shape[256];
    h2_h5_filename(dset, fname, sizeof fname);
    objname(dset, dname, sizeof dname);
    shape_text(info, shape, sizeof shape);
    H2_FAIL(H2_EINPUT,
            "%s: dataset %s declares %s %s values (%.3g bytes) but the file stores only %.0f bytes of "
            "it (damaged or forged file)",
            fname, dname, shape, h2_h5_info_typename(info), declared, stored);
  }
  return 0;
}

int h2_h5_read_part(hid_t loc, const char *name, h2_h5_type mtype, int64_t rows, int64_t cols, int64_t row0,
                    int64_t nrows, void *buf) {
  hid_t d;
  h2_h5_info info;
  char fname[1024], dname[1024];
  H2_TRY(h2_h5_open_dataset(loc, name, &d));
  int err = h2_h5_dataset_info_id(d, &info);
  h2_h5_filename(loc, fname, sizeof fname);
  fullname(loc, name, dname, sizeof dname);
  h2_h5_class want = mtype == H2_H5_I64 ? H2_H5_CLASS_INTEGER : H2_H5_CLASS_FLOAT;
  const char *wname = mtype == H2_H5_I64 ? "integer" : "floating-point";
  int shape_ok = info.ndims == 2 ? info.dims[0] == rows && info.dims[1] == cols
                                 : info.ndims == 1 && cols == 1 && info.dims[0] == rows;
  if (!err && info.cls != want)
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: dataset %s: expected %s values, found %s", fname,
                       dname, wname, h2_h5_info_typename(&info));
  else if (!err && !shape_ok) {
    char shape[256];
    shape_text(&info, shape, sizeof shape);
    if (cols == 1)
      err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: dataset %s: expected %lld values, found %s", fname,
                         dname, (long long)rows, shape);
    else
      err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: dataset %s: expected %lld x %lld, found %s", fname,
                         dname, (long long)rows, (long long)cols, shape);
  }
  if (!err) err = h2_h5_check_storage(d, &info);
  if (!err) err = h2_h5_read_rows_id(d, mtype, row0, nrows, cols, buf);
  H5Dclose(d);
  H2_TRY(err);
  return 0;
}

int h2_h5_read_exact(hid_t loc, const char *name, h2_h5_type mtype, int64_t rows, int64_t cols, void *buf) {
  H2_TRY(h2_h5_read_part(loc, name, mtype, rows, cols, 0, rows, buf));
  return 0;
}

/* ------------------------------------------------------------------ attributes */

static int attr_write(hid_t loc, const char *name, hid_t type, const void *value,
                      MPI_Comm comm) {
  int err = 0;
  char fname[1024], oname[1024], r[512];
  hid_t space = -1, attr = -1;
  htri_t ex = H5Aexists(loc, name);
  if (ex > 0 && H5Adelete(loc, name) < 0) ex = -1;
  if (ex >= 0) space = H5Screate(H5S_SCALAR);
  if (space >= 0) attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (ex < 0 || attr < 0 || H5Awrite(attr, type, value) < 0) {
    h2_h5_filename(loc, fname, sizeof fname);
    objname(loc, oname, sizeof oname);
    err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: cannot write attribute %s of %s: %s",
                       fname, name, oname, h5_reason(r, sizeof r));
  }
  if (attr >= 0) H5Aclose(attr);
  if (space >= 0) H5Sclose(space);
  return h2_error_sync(comm, err);
}

int h2_h5_attr_write_double(hid_t loc, const char *name, double value, MPI_Comm comm) {
  return attr_write(loc, name, H5T_NATIVE_DOUBLE, &value, comm);
}

int h2_h5_attr_write_int64(hid_t loc, const char *name, int64_t value, MPI_Comm comm) {
  return attr_write(loc, name, H5T_NATIVE_INT64, &value, comm);
}

int h2_h5_attr_write_string(hid_t loc, const char *name, const char *value, MPI_Comm comm) {
  hid_t t = H5Tcopy(H5T_C_S1);
  int err = 0;
  if (t < 0 || H5Tset_size(t, strlen(value) + 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
    char fname[1024], r[512];
    h2_h5_filename(loc, fname, sizeof fname);
    err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: string type for attribute %s: %s", fname,
                       name, h5_reason(r, sizeof r));
    if (t >= 0) H5Tclose(t);
    return h2_error_sync(comm, err);
  }
  err = attr_write(loc, name, t, value, comm);
  H5Tclose(t);
  return err;
}

/* Open attribute NAME of LOC; *attr = -1 and no error when absent. */
static int attr_open(hid_t loc, const char *name, hid_t *attr, char *where, size_t wsize) {
  char fname[1024], oname[1024];
  h2_h5_filename(loc, fname, sizeof fname);
  objname(loc, oname, sizeof oname);
  snprintf(where, wsize, "%s: attribute %s of %s", fname, name, oname);
  *attr = -1;
  htri_t ex = H5Aexists(loc, name);
  if (ex < 0) {
    char r[512];
    H2_FAIL(H2_EINPUT, "%s: cannot be looked up: %s", where, h5_reason(r, sizeof r));
  }
  if (ex == 0) return 0;
  *attr = H5Aopen(loc, name, H5P_DEFAULT);
  if (*attr < 0) {
    char r[512];
    H2_FAIL(H2_EINPUT, "%s: cannot be opened: %s", where, h5_reason(r, sizeof r));
  }
  return 0;
}

int h2_h5_attr_class(hid_t loc, const char *name, h2_h5_class *cls, int *found) {
  hid_t a;
  char where[2200];
  *found = 0;
  H2_TRY(attr_open(loc, name, &a, where, sizeof where));
  if (a < 0) return 0;
  hid_t t = H5Aget_type(a);
  *cls = t < 0 ? H2_H5_CLASS_OTHER : class_of(t);
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
  *found = 1;
  return 0;
}

/* Read a numeric scalar attribute into memory type MT. */
static int attr_read_num(hid_t loc, const char *name, hid_t mt, void *value, int *found,
                         int *is_float) {
  hid_t a;
  char where[2200], why[160];
  int err = 0;
  *found = 0;
  H2_TRY(attr_open(loc, name, &a, where, sizeof where));
  if (a < 0) return 0;
  hid_t t = H5Aget_type(a), s = H5Aget_space(a);
  h2_h5_class c = t < 0 ? H2_H5_CLASS_OTHER : class_of(t);
  hssize_t npts = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
  if (c != H2_H5_CLASS_FLOAT && c != H2_H5_CLASS_INTEGER) {
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: expected a number, found a %s", where,
                       c == H2_H5_CLASS_STRING ? "string" : "non-numeric value");
  } else if (npts != 1) {
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: expected one value, found %lld", where,
                       (long long)npts);
  } else if (h2_h5_numeric_layout(t, why, sizeof why) != 0) {
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: has %s", where, why);
  } else if (H5Aread(a, mt, value) < 0) {
    char r[512];
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: cannot be read: %s", where,
                       h5_reason(r, sizeof r));
  }
  if (is_float) *is_float = c == H2_H5_CLASS_FLOAT;
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  H5Aclose(a);
  H2_TRY(err);
  *found = 1;
  return 0;
}

int h2_h5_attr_read_double(hid_t loc, const char *name, double *value, int *found) {
  H2_TRY(attr_read_num(loc, name, H5T_NATIVE_DOUBLE, value, found, NULL));
  return 0;
}

int h2_h5_attr_read_int64(hid_t loc, const char *name, int64_t *value, int *found) {
  int is_float = 0;
  double d = 0;
  H2_TRY(attr_read_num(loc, name, H5T_NATIVE_DOUBLE, &d, found, &is_float));
  if (!*found) return 0;
  if (is_float) {
    if (!(fabs(d) < 9.2e18) || d != floor(d)) {
      char fname[1024];
      h2_h5_filename(loc, fname, sizeof fname);
      *found = 0;
      H2_FAIL(H2_EINPUT, "%s: attribute %s: expected an integer, found %g", fname, name, d);
    }
    *value = (int64_t)d;
  } else {
    H2_TRY(attr_read_num(loc, name, H5T_NATIVE_INT64, value, found, NULL));
  }
  return 0;
}

int h2_h5_attr_read_string(hid_t loc, const char *name, char *buf, size_t size, int *found) {
  hid_t a;
  char where[2200];
  int err = 0;
  *found = 0;
  if (size) buf[0] = 0;
  H2_TRY(attr_open(loc, name, &a, where, sizeof where));
  if (a < 0) return 0;
  hid_t t = H5Aget_type(a), s = H5Aget_space(a);
  hssize_t npts = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
  if (s >= 0) H5Sclose(s);
  h2_h5_class c = t < 0 ? H2_H5_CLASS_OTHER : class_of(t);
  if (t < 0 || c != H2_H5_CLASS_STRING) {
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: expected a string, found a %s", where,
                       t < 0 ? "unreadable type" : c == H2_H5_CLASS_OTHER ? "non-string value" : "number");
  } else if (npts != 1) {
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: expected one string, found %lld", where,
                       (long long)npts);
  } else if (H5Tis_variable_str(t) > 0) {
    hid_t mt = H5Tcopy(H5T_C_S1);
    char *p = NULL;
    /* same character set as the file (h5py writes UTF-8): HDF5 converts no charsets */
    if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, H5Tget_cset(t)) < 0 ||
        H5Aread(a, mt, &p) < 0) {
      char r[512];
      err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: cannot be read: %s", where,
                         h5_reason(r, sizeof r));
    } else if (size) {
      snprintf(buf, size, "%s", p ? p : "");
    }
    if (p) H5free_memory(p);
    if (mt >= 0) H5Tclose(mt);
  } else {
    size_t n = H5Tget_size(t);
    char *tmp = NULL;
    hid_t mt = H5Tcopy(t);
    err = H2_MALLOC(tmp, n + 1);
    if (!err) {
      if (mt < 0 || H5Aread(a, mt, tmp) < 0) {
        char r[512];
        err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "%s: cannot be read: %s", where,
                           h5_reason(r, sizeof r));
      } else {
        tmp[n] = 0;
        if (size) snprintf(buf, size, "%s", tmp);
      }
    }
    free(tmp);
    if (mt >= 0) H5Tclose(mt);
  }
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
  H2_TRY(err);
  *found = 1;
  return 0;
}
