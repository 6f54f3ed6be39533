/* input_file.c — docs/design.md §5 input files: the collective writer used by the
 * generators (temporary file + rename) and the reader/validator used by
 * h2nn_mpi (structure on open, values in a streaming scan).  See
 * input_file.h for the contract. */
#define _POSIX_C_SOURCE 200809L
#include "h2nn/io/input_file.h"

#include "h2nn/util/error.h"
#include "h2nn/io/h5atomic.h"
#include "h2nn/io/h5util.h"
#include "h2nn/util/split.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const dset_names[2][2] = {{"/train/input", "/train/output"},
                                             {"/test/input", "/test/output"}};

const char *h2_input_dataset_name(int which, int kind) {
  if (which < 0 || which > 1 || kind < 0 || kind > 1) return "?";
  return dset_names[which][kind];
}

/* ================================================================== writer */

static void writer_release(h2_input_writer *w) {
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) h2_h5_close_dataset(&w->dset[a][b]);
}

static int writer_check(const char *path, int64_t N, int d, int64_t ntrain, int64_t ntest, size_t path_max) {
  H2_CHECK(path && path[0] && strlen(path) < path_max - 32, H2_EINPUT, "input file: bad output path '%s'",
           path ? path : "");
  H2_CHECK(N >= 1 && d >= 1 && d <= 3 && ntrain >= 0 && ntest >= 0, H2_EINPUT,
           "%s: bad layout: N = %lld, d = %d, %lld train, %lld test samples", path, (long long)N, d, (long long)ntrain,
           (long long)ntest);
  return 0;
}

/* Collective: /points (rank 0's copy), the groups and the four sample datasets. */
static int writer_layout(h2_input_writer *w, const double *points) {
  int rank;
  H2_MPI(MPI_Comm_rank(w->comm, &rank));
  hid_t f = w->file.file;
  H2_TRY(h2_h5_write_rows(f, "points", H2_H5_F64, H2_H5_F64, 2, w->N, w->d, 0, rank == 0 ? w->N : 0, points, w->comm));
  H2_TRY(h2_h5_create_groups(f, "train", w->comm));
  H2_TRY(h2_h5_create_groups(f, "test", w->comm));
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++)
      H2_TRY(h2_h5_create_dataset(f, dset_names[a][b], H2_H5_F32, 2, w->nsamples[a], w->N, &w->dset[a][b], w->comm));
  return 0;
}

int h2_input_writer_open(h2_input_writer *w, const char *path, MPI_Comm comm,
                         const double *points, int64_t N, int d, int64_t ntrain, int64_t ntest) {
  memset(w, 0, sizeof *w);
  w->comm = comm;
  w->file.file = -1;
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) w->dset[a][b] = -1;
  H2_TRY(h2_error_sync(comm, writer_check(path, N, d, ntrain, ntest, sizeof w->file.path)));
  w->N = N;
  w->d = d;
  w->nsamples[0] = ntrain;
  w->nsamples[1] = ntest;
  /* the file's space is reserved first: a full disk is refused here, before HDF5 writes (h5atomic.h) */
  double bytes = 8.0 * (double)N * d + 8.0 * (double)N * (double)(ntrain + ntest);
  H2_TRY(h2_h5_atomic_create_sized(&w->file, path, "input file", 1.05 * bytes + 1048576.0, comm));
  w->path = w->file.path;
  int err = writer_layout(w, points);
  if (err) return h2_input_writer_close(w, err);
  return 0;
}

static int writer_rows_check(const h2_input_writer *w, int which, int64_t first, int64_t count) {
  H2_CHECK(w->file.file >= 0, H2_EINTERNAL, "%s: writer is not open", w->path);
  H2_CHECK(which >= 0 && which <= 1 && first >= 0 && count >= 0 && first + count <= w->nsamples[which],
           H2_EINTERNAL, "%s: rows [%lld, %lld) of set %d outside its %lld samples", w->path, (long long)first,
           (long long)(first + count), which, (long long)(which == 0 || which == 1 ? w->nsamples[which] : -1));
  return 0;
}

int h2_input_writer_rows(h2_input_writer *w, int which, int64_t first, int64_t count,
                         const float *input, const float *output) {
  H2_TRY(h2_error_sync(w->comm, writer_rows_check(w, which, first, count)));
  H2_TRY(h2_h5_write_rows_id(w->dset[which][0], H2_H5_F32, first, count, input, w->comm));
  H2_TRY(h2_h5_write_rows_id(w->dset[which][1], H2_H5_F32, first, count, output, w->comm));
  return 0;
}

int h2_input_writer_attrs(h2_input_writer *w, const h2_attr *attrs, int nattrs) {
  for (int k = 0; k < nattrs; k++) {
    const h2_attr *a = &attrs[k];
    switch (a->type) {
      case H2_ATTR_DOUBLE:
        H2_TRY(h2_h5_attr_write_double(w->file.file, a->name, a->d, w->comm));
        break;
      case H2_ATTR_INT64:
        H2_TRY(h2_h5_attr_write_int64(w->file.file, a->name, a->i, w->comm));
        break;
      case H2_ATTR_STRING:
        H2_TRY(h2_h5_attr_write_string(w->file.file, a->name, a->s ? a->s : "", w->comm));
        break;
      default:
        H2_FAIL(H2_EINTERNAL, "%s: attribute %s has an unknown type", w->path, a->name);
    }
  }
  return 0;
}

int h2_input_writer_close(h2_input_writer *w, int status) {
  int err = h2_error_sync(w->comm, status);
  if (w->file.file < 0) return err; /* already released */
  writer_release(w);
  return h2_h5_atomic_finish(&w->file, err);
}

static int write_all(h2_input_writer *w, int64_t train_first, int64_t train_count, const float *train_in,
                     const float *train_out, int64_t test_first, int64_t test_count, const float *test_in,
                     const float *test_out, const h2_attr *attrs, int nattrs) {
  H2_TRY(h2_input_writer_rows(w, 0, train_first, train_count, train_in, train_out));
  H2_TRY(h2_input_writer_rows(w, 1, test_first, test_count, test_in, test_out));
  H2_TRY(h2_input_writer_attrs(w, attrs, nattrs));
  return 0;
}

int h2_input_write(const char *path, MPI_Comm comm, const double *points, int64_t N, int d,
                   int64_t ntrain, int64_t ntest, int64_t train_first, int64_t train_count,
                   const float *train_in, const float *train_out, int64_t test_first,
                   int64_t test_count, const float *test_in, const float *test_out,
                   const h2_attr *attrs, int nattrs) {
  h2_input_writer w;
  H2_TRY(h2_input_writer_open(&w, path, comm, points, N, d, ntrain, ntest));
  int err = write_all(&w, train_first, train_count, train_in, train_out, test_first, test_count, test_in, test_out,
                      attrs, nattrs);
  H2_TRY(h2_input_writer_close(&w, err));
  return 0;
}

/* ================================================================== reader */

static void reader_release(h2_input *in) {
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) h2_h5_close_dataset(&in->dset[a][b]);
  free(in->points);
  in->points = NULL;
}

void h2_input_close(h2_input *in, MPI_Comm comm) {
  reader_release(in);
  if (in->file >= 0) {
    H5Fclose(in->file);
    H2_MPI_ABORT(MPI_Barrier(comm), comm); /* (no status to return from a release) */
  }
  in->file = -1;
}

/* Structure of /points: sets in->N, in->d. */
static int check_points(h2_input *in) {
  h2_h5_info info;
  int exists;
  const char *f = in->path;
  H2_TRY(h2_h5_dataset_info(in->file, "/points", &info, &exists));
  if (!exists)
    H2_FAIL(H2_EINPUT, "%s: dataset /points not found (expected float64 N x d point coordinates)",
            f);
  if (info.cls != H2_H5_CLASS_FLOAT || info.size != 8)
    H2_FAIL(H2_EINPUT, "%s: dataset /points: expected float64, found %s", f,
            h2_h5_info_typename(&info));
  if (info.ndims == 1) {
    in->N = info.dims[0];
    in->d = 1;
  } else if (info.ndims == 2) {
    in->N = info.dims[0];
    if (info.dims[1] < 1 || info.dims[1] > 3)
      H2_FAIL(H2_EINPUT,
              "%s: dataset /points: expected N x d with d in 1..3, found %lld x %lld", f,
              (long long)info.dims[0], (long long)info.dims[1]);
    in->d = (int)info.dims[1];
  } else {
    H2_FAIL(H2_EINPUT, "%s: dataset /points: expected 2 dimensions (N x d), found %d", f,
            info.ndims);
  }
  if (in->N < 1) H2_FAIL(H2_EINPUT, "%s: dataset /points is empty (0 points)", f);
  if (in->N > INT32_MAX)
    H2_FAIL(H2_EINPUT, "%s: dataset /points: %lld points, at most %d supported", f,
            (long long)in->N, INT32_MAX);
  return 0;
}

static int check_samples(h2_input *in, int which, int kind, int required) {
  h2_h5_info info;
  int exists;
  const char *f = in->path, *name = dset_names[which][kind];
  H2_TRY(h2_h5_dataset_info(in->file, name, &info, &exists));
  if (!exists) {
    if (required)
      H2_FAIL(H2_EINPUT, "%s: dataset %s not found (expected float32 samples x %lld)", f, name,
              (long long)in->N);
    return 0;
  }
  if (info.cls != H2_H5_CLASS_FLOAT || info.size != 4)
    H2_FAIL(H2_EINPUT, "%s: dataset %s: expected float32, found %s", f, name,
            h2_h5_info_typename(&info));
  if (info.ndims != 2)
    H2_FAIL(H2_EINPUT, "%s: dataset %s: expected 2 dimensions (samples x N), found %d", f, name,
            info.ndims);
  if (info.dims[1] != in->N)
    H2_FAIL(H2_EINPUT,
            "%s: dataset %s: expected %lld columns (one per point of /points), found %lld x %lld",
            f, name, (long long)in->N, (long long)info.dims[0], (long long)info.dims[1]);
  H2_TRY(h2_h5_open_dataset(in->file, name, &in->dset[which][kind]));
  in->present[which][kind] = 1;
  /* a few-KB file declaring 1e12 samples is refused here, not scanned */
  H2_TRY(h2_h5_check_storage(in->dset[which][kind], &info));
  if (kind == H2_INPUT_OUT && in->present[which][0] && info.dims[0] != in->nsamples[which])
    H2_FAIL(H2_EINPUT, "%s: dataset %s has %lld samples but %s has %lld", f, name,
            (long long)info.dims[0], dset_names[which][0], (long long)in->nsamples[which]);
  in->nsamples[which] = info.dims[0];
  if (info.dims[0] == 0 && (required || which == H2_INPUT_TRAIN))
    H2_FAIL(H2_EINPUT, "%s: dataset %s is empty (0 samples), expected at least one %s sample", f,
            name, which == H2_INPUT_TRAIN ? "training" : "test");
  return 0;
}

static int check_structure(h2_input *in, unsigned flags) {
  int predict = (flags & H2_INPUT_PREDICT) != 0;
  H2_TRY(check_points(in));
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) {
      int required = !predict || (a == H2_INPUT_TEST && b == H2_INPUT_IN);
      H2_TRY(check_samples(in, a, b, required));
    }
  if (in->present[0][1] && !in->present[0][0])
    H2_FAIL(H2_EINPUT, "%s: dataset /train/output is present but /train/input is not", in->path);
  return 0;
}

static int read_points(h2_input *in) {
  H2_TRY(H2_MALLOC(in->points, (size_t)in->N * in->d));
  H2_TRY(h2_h5_read_exact(in->file, "/points", H2_H5_F64, in->N, in->d, in->points));
  for (int64_t i = 0; i < in->N; i++)
    for (int k = 0; k < in->d; k++) {
      double x = in->points[i * in->d + k];
      if (!isfinite(x))
        H2_FAIL(H2_EINPUT, "%s: dataset /points: point %lld, coordinate %d is %s", in->path,
                (long long)i, k, isnan(x) ? "NaN" : "infinite");
    }
  return 0;
}

/* Collective: the structure, then /points, read by rank 0 and broadcast
 * (one reader, not P). */
static int open_phases(h2_input *in, MPI_Comm comm, unsigned flags) {
  int rank;
  H2_MPI(MPI_Comm_rank(comm, &rank));
  H2_TRY(h2_error_sync(comm, check_structure(in, flags)));
  H2_TRY(h2_error_sync(comm, rank == 0 ? read_points(in) : H2_MALLOC(in->points, (size_t)in->N * in->d)));
  for (int64_t off = 0, n = in->N * in->d; n > 0;) {
    int c = n > (1 << 26) ? (1 << 26) : (int)n;
    H2_MPI(MPI_Bcast(in->points + off, c, MPI_DOUBLE, 0, comm));
    off += c;
    n -= c;
  }
  return 0;
}

int h2_input_open_flags(h2_input *in, const char *path, MPI_Comm comm, unsigned flags) {
  memset(in, 0, sizeof *in);
  in->file = -1;
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) in->dset[a][b] = -1;
  snprintf(in->path, sizeof in->path, "%s", path);
  H2_TRY(h2_h5_open_read(&in->file, path, comm));
  int err = h2_error_sync(comm, open_phases(in, comm, flags));
  if (err) {
    h2_input_close(in, comm);
    H2_TRY(err);
  }
  return 0;
}

int h2_input_open(h2_input *in, const char *path, MPI_Comm comm) {
  H2_TRY(h2_input_open_flags(in, path, comm, 0));
  return 0;
}

int h2_input_read_rows(h2_input *in, int which, int kind, int64_t first, int64_t count,
                       float *out) {
  if (which < 0 || which > 1 || kind < 0 || kind > 1)
    H2_FAIL(H2_EINTERNAL, "%s: bad dataset selector (%d, %d)", in->path, which, kind);
  if (!in->present[which][kind])
    H2_FAIL(H2_EINPUT, "%s: dataset %s is not present", in->path, dset_names[which][kind]);
  if (first < 0 || count < 0 || first + count > in->nsamples[which])
    H2_FAIL(H2_EINPUT, "%s: dataset %s: samples [%lld, %lld) requested, it has %lld", in->path,
            dset_names[which][kind], (long long)first, (long long)(first + count),
            (long long)in->nsamples[which]);
  H2_TRY(h2_h5_read_rows_id(in->dset[which][kind], H2_H5_F32, first, count, in->N, out));
  return 0;
}

/* Scan this rank's rows of one dataset.  sums[0] += sum of squares;
 * colsum (may be NULL) += per-point sums. */
static int scan_dataset(h2_input *in, int which, int kind, int64_t r0, int64_t r1,
                        int64_t chunk, float *buf, double *sumsq, double *colsum) {
  const int64_t N = in->N;
  const char *name = dset_names[which][kind];
  for (int64_t s0 = r0; s0 < r1; s0 += chunk) {
    int64_t n = r1 - s0 < chunk ? r1 - s0 : chunk;
    H2_TRY(h2_input_read_rows(in, which, kind, s0, n, buf));
    for (int64_t r = 0; r < n; r++) {
      const float *x = buf + r * N;
      double ss = 0;
      for (int64_t j = 0; j < N; j++) ss += (double)x[j] * (double)x[j];
      if (!isfinite(ss)) {
        for (int64_t j = 0; j < N; j++)
          if (!isfinite(x[j]))
            H2_FAIL(H2_EINPUT, "%s: dataset %s: sample %lld, point %lld is %s", in->path, name,
                    (long long)(s0 + r), (long long)j, isnan(x[j]) ? "NaN" : "infinite");
      }
      if (kind == H2_INPUT_OUT && ss == 0)
        H2_FAIL(H2_EINPUT,
                "%s: dataset %s: sample %lld has zero norm (all %lld values are 0); the "
                "relative error is undefined for it",
                in->path, name, (long long)(s0 + r), (long long)N);
      *sumsq += ss;
      if (colsum)
        for (int64_t j = 0; j < N; j++) colsum[j] += x[j];
    }
  }
  return 0;
}

/* The scan of h2_input_scan with its buffers: buf (chunk x N), colsum (N or NULL). */
static int scan_phases(h2_input *in, MPI_Comm comm, int64_t chunk, float *buf, double *colsum, h2_input_stats *stats,
                       double *output_mean) {
  int rank, size;
  H2_MPI(MPI_Comm_rank(comm, &rank));
  H2_MPI(MPI_Comm_size(comm, &size));
  const int64_t N = in->N;
  double sums[2] = {0, 0}, tot[2];
  /* One dataset at a time, synchronised, so that the error reported is the
   * first bad value in file order (the lowest failing rank has the lowest
   * rows). */
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) {
      if (!in->present[a][b]) continue;
      int64_t r0, r1;
      h2_split_rows(in->nsamples[a], rank, size, &r0, &r1);
      double ss = 0;
      H2_TRY(h2_error_sync(comm, scan_dataset(in, a, b, r0, r1, chunk, buf, &ss,
                                              (a == H2_INPUT_TRAIN && b == H2_INPUT_OUT) ? colsum : NULL)));
      if (a == H2_INPUT_TRAIN) sums[b] = ss;
    }
  H2_MPI(MPI_Allreduce(sums, tot, 2, MPI_DOUBLE, MPI_SUM, comm));
  if (colsum) H2_MPI(MPI_Allreduce(colsum, output_mean, (int)N, MPI_DOUBLE, MPI_SUM, comm));
  double cnt = (double)in->nsamples[0] * (double)N;
  stats->entries = in->nsamples[0] * N;
  stats->input_rms = cnt > 0 ? sqrt(tot[0] / cnt) : 0;
  stats->output_rms = cnt > 0 ? sqrt(tot[1] / cnt) : 0;
  if (output_mean)
    for (int64_t j = 0; j < N; j++) output_mean[j] = in->nsamples[0] > 0 ? output_mean[j] / (double)in->nsamples[0] : 0;
  return 0;
}

int h2_input_scan(h2_input *in, MPI_Comm comm, size_t chunk_bytes, h2_input_stats *stats,
                  double *output_mean) {
  memset(stats, 0, sizeof *stats);
  if (chunk_bytes == 0) chunk_bytes = (size_t)64 << 20;
  const int64_t N = in->N;
  int64_t chunk = (int64_t)(chunk_bytes / ((size_t)N * sizeof(float)));
  if (chunk < 1) chunk = 1;
  int64_t maxrows = in->nsamples[0] > in->nsamples[1] ? in->nsamples[0] : in->nsamples[1];
  if (chunk > maxrows) chunk = maxrows > 0 ? maxrows : 1;
  float *buf = NULL;
  double *colsum = NULL;
  int err = H2_MALLOC(buf, (size_t)chunk * N);
  if (!err && output_mean) err = H2_CALLOC(colsum, N);
  err = h2_error_sync(comm, err);
  if (!err) err = scan_phases(in, comm, chunk, buf, colsum, stats, output_mean);
  free(buf);
  free(colsum);
  H2_TRY(h2_error_sync(comm, err));
  return 0;
}

int h2_input_attr(h2_input *in, const char *name, double *value, int *found) {
  h2_h5_class cls;
  *found = 0;
  H2_TRY(h2_h5_attr_class(in->file, name, &cls, found));
  if (!*found) return 0;
  if (cls != H2_H5_CLASS_FLOAT && cls != H2_H5_CLASS_INTEGER) {
    *found = 0;
    H2_FAIL(H2_EINPUT, "%s: root attribute %s (an option's default): expected a number, found a %s", in->path,
            name, cls == H2_H5_CLASS_STRING ? "string" : "non-numeric value");
  }
  H2_TRY(h2_h5_attr_read_double(in->file, name, value, found));
  if (!isfinite(*value)) {
    *found = 0;
    H2_FAIL(H2_EINPUT, "%s: root attribute %s = %g: expected a finite number", in->path, name, *value);
  }
  return 0;
}
