/* check_input.c — docs/design.md §5 input files on one rank: writer + reader round
 * trip, the temporary-file protocol, the h5util wrappers, and one test per
 * kind of bad input asserting a non-zero status and a message that names
 * the file and the dataset. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h2nn/util/error.h"
#include "h2nn/io/h5util.h"
#include "h2nn/io/input_file.h"

static char tmpdir[256];

static void make_tmpdir(void) {
  if (tmpdir[0]) return;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/h2nn_check_input_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static const char *tpath(const char *name) {
  static char buf[8][512];
  static int k = 0;
  make_tmpdir();
  k = (k + 1) % 8;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

/* Values of the synthetic files: never zero, easy to recompute. */
static double val_in(int64_t s, int64_t j) { return 1.0 + (double)s + 0.01 * (double)j; }
static double val_out(int64_t s, int64_t j) { return -2.0 - (double)s + 0.001 * (double)j; }

/* A file layout with switches for every way it can be wrong. */
typedef struct {
  int N, d;
  h2_h5_type points_type;
  int points_ndims;                 /* 2 (N x d) or 1 (N, d must be 1) */
  int omit_points;
  int64_t rows[2];
  h2_h5_type type[2][2];
  int ndims[2][2];
  int64_t cols[2][2];               /* 0 = N */
  int64_t rows_override[2][2];      /* -1 = rows[which] */
  int omit[2][2];
  /* one injected value */
  int inj_which, inj_kind;
  int64_t inj_sample, inj_point;
  double inj_value;
  int zero_which, zero_kind;        /* make one sample all zeros */
  int64_t zero_sample;
} layout;

static layout good_layout(void) {
  layout L;
  memset(&L, 0, sizeof L);
  L.N = 12;
  L.d = 2;
  L.points_type = H2_H5_F64;
  L.points_ndims = 2;
  L.rows[0] = 7;
  L.rows[1] = 4;
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) {
      L.type[a][b] = H2_H5_F32;
      L.ndims[a][b] = 2;
      L.rows_override[a][b] = -1;
    }
  L.inj_which = -1;
  L.zero_which = -1;
  return L;
}

static void write_layout(const char *path, const layout *L) {
  MPI_Comm comm = MPI_COMM_SELF;
  hid_t f;
  ck_assert_int_eq(h2_h5_create(&f, path, comm), 0);
  if (!L->omit_points) {
    double *p = malloc(sizeof(double) * L->N * L->d);
    for (int i = 0; i < L->N; i++)
      for (int k = 0; k < L->d; k++) p[i * L->d + k] = (i + 0.5) / L->N + k;
    ck_assert_int_eq(h2_h5_write_rows(f, "points", L->points_type, H2_H5_F64, L->points_ndims,
                                      L->N, L->points_ndims == 1 ? 1 : L->d, 0, L->N, p, comm),
                     0);
    free(p);
  }
  ck_assert_int_eq(h2_h5_create_groups(f, "train", comm), 0);
  ck_assert_int_eq(h2_h5_create_groups(f, "test", comm), 0);
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) {
      if (L->omit[a][b]) continue;
      int64_t rows = L->rows_override[a][b] >= 0 ? L->rows_override[a][b] : L->rows[a];
      int64_t cols = L->cols[a][b] ? L->cols[a][b] : L->N;
      if (L->ndims[a][b] == 1) cols = 1;
      double *x = malloc(sizeof(double) * (rows * cols + 1));
      for (int64_t s = 0; s < rows; s++)
        for (int64_t j = 0; j < cols; j++) {
          double v = b == 0 ? val_in(s + 100 * a, j) : val_out(s + 100 * a, j);
          if (a == L->inj_which && b == L->inj_kind && s == L->inj_sample && j == L->inj_point)
            v = L->inj_value;
          if (a == L->zero_which && b == L->zero_kind && s == L->zero_sample) v = 0;
          x[s * cols + j] = v;
        }
      ck_assert_int_eq(h2_h5_write_rows(f, h2_input_dataset_name(a, b), L->type[a][b], H2_H5_F64,
                                        L->ndims[a][b], rows, cols, 0, rows, x, comm),
                       0);
      free(x);
    }
  ck_assert_int_eq(h2_h5_attr_write_int64(f, "leaf_size", 16, comm), 0);
  ck_assert_int_eq(h2_h5_close(&f, comm), 0);
}

/* The reader must fail on open; the message names the file and `what`. */
static void expect_open_error(const char *path, const char *what) {
  h2_input in;
  int e = h2_input_open(&in, path, MPI_COMM_SELF);
  ck_assert_msg(e != 0, "opening %s should fail", path);
  const char *m = h2_error_message();
  ck_assert_msg(strstr(m, path) != NULL, "message does not name the file: %s", m);
  ck_assert_msg(what == NULL || strstr(m, what) != NULL, "message does not name '%s': %s", what,
                m);
}

/* Open succeeds, the value scan fails naming file and every `what`. */
static void expect_scan_error(const char *path, const char *w1, const char *w2, const char *w3) {
  h2_input in;
  h2_input_stats st;
  ck_assert_int_eq(h2_input_open(&in, path, MPI_COMM_SELF), 0);
  int e = h2_input_scan(&in, MPI_COMM_SELF, 0, &st, NULL);
  const char *m = h2_error_message();
  ck_assert_msg(e != 0, "scan of %s should fail", path);
  ck_assert_msg(strstr(m, path) != NULL, "message does not name the file: %s", m);
  const char *w[3] = {w1, w2, w3};
  for (int k = 0; k < 3; k++)
    ck_assert_msg(!w[k] || strstr(m, w[k]), "message lacks '%s': %s", w[k], m);
  /* the scan with a small chunk (one row at a time) finds the same error */
  e = h2_input_scan(&in, MPI_COMM_SELF, 1, &st, NULL);
  ck_assert_int_ne(e, 0);
  for (int k = 0; k < 3; k++) ck_assert(!w[k] || strstr(h2_error_message(), w[k]));
  h2_input_close(&in, MPI_COMM_SELF);
}

/* ------------------------------------------------------------ good files */

/* h2_input_write (1 rank) then h2_input_open/read_rows/scan/attr give back
 * exactly what was written; stats are the RMS of the /train datasets and the mean of
 * /train/output per point, independent of the chunk size. */
START_TEST(test_roundtrip) {
  const int N = 10, d = 3, ntr = 6, nte = 3;
  double pts[30];
  float tin[60], tout[60], ein[30], eout[30];
  for (int i = 0; i < N * d; i++) pts[i] = 0.1 * i - 1;
  for (int k = 0; k < ntr * N; k++) {
    tin[k] = (float)(0.5 + 0.25 * k);
    tout[k] = (float)(1.0 - 0.125 * k);
  }
  for (int k = 0; k < nte * N; k++) {
    ein[k] = (float)(3.0 + k);
    eout[k] = (float)(-1.0 - k);
  }
  h2_attr attrs[4] = {{.name = "generator", .type = H2_ATTR_STRING, .s = "unit"},
                      {.name = "leaf_size", .type = H2_ATTR_INT64, .i = 16},
                      {.name = "lr", .type = H2_ATTR_DOUBLE, .d = 0.001},
                      {.name = "seed", .type = H2_ATTR_INT64, .i = 42}};
  const char *path = tpath("roundtrip.h5");
  ck_assert_int_eq(h2_input_write(path, MPI_COMM_SELF, pts, N, d, ntr, nte, 0, ntr, tin, tout, 0,
                                  nte, ein, eout, attrs, 4),
                   0);
  h2_input in;
  ck_assert_int_eq(h2_input_open(&in, path, MPI_COMM_SELF), 0);
  ck_assert_int_eq(in.N, N);
  ck_assert_int_eq(in.d, d);
  ck_assert_int_eq(in.nsamples[0], ntr);
  ck_assert_int_eq(in.nsamples[1], nte);
  for (int i = 0; i < N * d; i++) ck_assert(in.points[i] == pts[i]);
  float buf[60];
  ck_assert_int_eq(h2_input_read_rows(&in, H2_INPUT_TRAIN, H2_INPUT_IN, 2, 3, buf), 0);
  ck_assert_int_eq(memcmp(buf, tin + 2 * N, sizeof(float) * 3 * N), 0);
  ck_assert_int_eq(h2_input_read_rows(&in, H2_INPUT_TRAIN, H2_INPUT_OUT, 0, ntr, buf), 0);
  ck_assert_int_eq(memcmp(buf, tout, sizeof(float) * ntr * N), 0);
  ck_assert_int_eq(h2_input_read_rows(&in, H2_INPUT_TEST, H2_INPUT_IN, 0, nte, buf), 0);
  ck_assert_int_eq(memcmp(buf, ein, sizeof(float) * nte * N), 0);
  ck_assert_int_eq(h2_input_read_rows(&in, H2_INPUT_TEST, H2_INPUT_OUT, 2, 1, buf), 0);
  ck_assert_int_eq(memcmp(buf, eout + 2 * N, sizeof(float) * N), 0);
  /* out of range */
  ck_assert_int_ne(h2_input_read_rows(&in, H2_INPUT_TEST, H2_INPUT_OUT, 2, 2, buf), 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "/test/output"));

  double si = 0, so = 0, mean[10] = {0};
  for (int k = 0; k < ntr * N; k++) {
    si += (double)tin[k] * tin[k];
    so += (double)tout[k] * tout[k];
    mean[k % N] += tout[k] / (double)ntr;
  }
  for (size_t chunk = 0; chunk <= 64; chunk += 64) {
    h2_input_stats st;
    double om[10];
    ck_assert_int_eq(h2_input_scan(&in, MPI_COMM_SELF, chunk ? chunk : 0, &st, om), 0);
    ck_assert(fabs(st.input_rms - sqrt(si / (ntr * N))) < 1e-12 * st.input_rms);
    ck_assert(fabs(st.output_rms - sqrt(so / (ntr * N))) < 1e-12 * st.output_rms);
    ck_assert_int_eq(st.entries, ntr * N);
    for (int j = 0; j < N; j++) ck_assert(fabs(om[j] - mean[j]) < 1e-12);
  }
  double v;
  int found;
  ck_assert_int_eq(h2_input_attr(&in, "leaf_size", &v, &found), 0);
  ck_assert(found && v == 16);
  ck_assert_int_eq(h2_input_attr(&in, "lr", &v, &found), 0);
  ck_assert(found && v == 0.001);
  /* a string where a number is expected is refused, naming the attribute */
  ck_assert_int_ne(h2_input_attr(&in, "generator", &v, &found), 0);
  ck_assert_int_eq(found, 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "generator"));
  ck_assert_int_eq(h2_input_attr(&in, "rank", &v, &found), 0);
  ck_assert_int_eq(found, 0);
  char s[32];
  ck_assert_int_eq(h2_h5_attr_read_string(in.file, "generator", s, sizeof s, &found), 0);
  ck_assert(found);
  ck_assert_str_eq(s, "unit");
  h2_input_close(&in, MPI_COMM_SELF);
}
END_TEST

/* The streaming writer with rows written in several calls; a 1-D /points
 * is accepted as d = 1; predict mode needs only /points and /test/input. */
START_TEST(test_streaming_and_variants) {
  const int N = 5;
  double pts[5] = {0, 1, 2, 3, 4};
  float a[15], b[15];
  for (int k = 0; k < 15; k++) {
    a[k] = (float)(k + 1);
    b[k] = (float)(-k - 1);
  }
  const char *path = tpath("stream.h5");
  h2_input_writer w;
  ck_assert_int_eq(h2_input_writer_open(&w, path, MPI_COMM_SELF, pts, N, 1, 3, 2), 0);
  ck_assert_int_eq(h2_input_writer_rows(&w, 0, 1, 2, a + N, b + N), 0);
  ck_assert_int_eq(h2_input_writer_rows(&w, 0, 0, 1, a, b), 0);
  ck_assert_int_eq(h2_input_writer_rows(&w, 1, 0, 0, NULL, NULL), 0);
  ck_assert_int_eq(h2_input_writer_rows(&w, 1, 0, 2, a, b), 0);
  ck_assert_int_ne(h2_input_writer_rows(&w, 1, 1, 2, a, b), 0); /* beyond the set */
  ck_assert_int_eq(h2_input_writer_close(&w, 0), 0);
  h2_input in;
  ck_assert_int_eq(h2_input_open(&in, path, MPI_COMM_SELF), 0);
  float r[15];
  ck_assert_int_eq(h2_input_read_rows(&in, 0, 0, 0, 3, r), 0);
  ck_assert_int_eq(memcmp(r, a, sizeof(float) * 15), 0);
  h2_input_close(&in, MPI_COMM_SELF);

  layout L = good_layout();
  L.d = 1;
  L.points_ndims = 1;
  path = tpath("points1d.h5");
  write_layout(path, &L);
  ck_assert_int_eq(h2_input_open(&in, path, MPI_COMM_SELF), 0);
  ck_assert_int_eq(in.d, 1);
  ck_assert_int_eq(in.N, L.N);
  ck_assert(fabs(in.points[3] - 3.5 / L.N) < 1e-15);
  h2_input_close(&in, MPI_COMM_SELF);

  L = good_layout();
  L.omit[0][0] = L.omit[0][1] = L.omit[1][1] = 1;
  path = tpath("predict.h5");
  write_layout(path, &L);
  expect_open_error(path, "/train/input");
  ck_assert_int_eq(h2_input_open_flags(&in, path, MPI_COMM_SELF, H2_INPUT_PREDICT), 0);
  ck_assert(in.present[1][0] && !in.present[1][1] && !in.present[0][0]);
  h2_input_stats st;
  ck_assert_int_eq(h2_input_scan(&in, MPI_COMM_SELF, 0, &st, NULL), 0);
  h2_input_close(&in, MPI_COMM_SELF);
}
END_TEST

static int count_tmp_files(void) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp.")) n++;
  closedir(d);
  return n;
}

/* A failed write (any rank reporting failure) removes the temporary file
 * and leaves an existing file untouched; success replaces it atomically. */
START_TEST(test_writer_failure_keeps_old_file) {
  const char *path = tpath("keep.h5");
  layout L = good_layout();
  write_layout(path, &L);
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  long size0 = ftell(f);
  fclose(f);
  double pts[4] = {0, 1, 2, 3};
  float x[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  h2_input_writer w;
  ck_assert_int_eq(h2_input_writer_open(&w, path, MPI_COMM_SELF, pts, 4, 1, 1, 1), 0);
  ck_assert_int_eq(count_tmp_files(), 1);
  ck_assert_int_eq(h2_input_writer_rows(&w, 0, 0, 1, x, x), 0);
  h2_error_set(__FILE__, __LINE__, H2_ENUM, "simulated failure");
  ck_assert_int_eq(h2_input_writer_close(&w, H2_ENUM), H2_ENUM);
  /* the first error, prefixed with the file and what became of it */
  char want[4096];
  snprintf(want, sizeof want, "%s not written (an existing file is intact): simulated failure", path);
  ck_assert_str_eq(h2_error_message(), want);
  ck_assert_int_eq(count_tmp_files(), 0);
  h2_input in;
  ck_assert_int_eq(h2_input_open(&in, path, MPI_COMM_SELF), 0);
  ck_assert_int_eq(in.N, L.N); /* still the old file */
  h2_input_close(&in, MPI_COMM_SELF);
  f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  ck_assert_int_eq(ftell(f), size0);
  fclose(f);
  /* success replaces it */
  ck_assert_int_eq(h2_input_write(path, MPI_COMM_SELF, pts, 4, 1, 1, 1, 0, 1, x, x, 0, 1, x, x,
                                  NULL, 0),
                   0);
  ck_assert_int_eq(h2_input_open(&in, path, MPI_COMM_SELF), 0);
  ck_assert_int_eq(in.N, 4);
  h2_input_close(&in, MPI_COMM_SELF);
  ck_assert_int_eq(count_tmp_files(), 0);
}
END_TEST

/* An unwritable (here: missing) directory gives one error naming it. */
START_TEST(test_writer_bad_directory) {
  double pts[2] = {0, 1};
  float x[2] = {1, 1};
  const char *path = "/nonexistent_h2nn_dir/sub/out.h5";
  int e = h2_input_write(path, MPI_COMM_SELF, pts, 2, 1, 1, 1, 0, 1, x, x, 0, 1, x, x, NULL, 0);
  ck_assert_int_ne(e, 0);
  ck_assert_msg(strstr(h2_error_message(), "/nonexistent_h2nn_dir/sub"), "%s",
                h2_error_message());
  hid_t f;
  ck_assert_int_ne(h2_h5_create(&f, path, MPI_COMM_SELF), 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "/nonexistent_h2nn_dir/sub"));
}
END_TEST

/* h5util: nested groups, dataset info, int64 data, attributes of every
 * type (replace, found flag, type errors), row-range checks. */
START_TEST(test_h5util) {
  MPI_Comm c = MPI_COMM_SELF;
  const char *path = tpath("util.h5");
  hid_t f;
  ck_assert_int_eq(h2_h5_create(&f, path, c), 0);
  ck_assert_int_eq(h2_h5_create_groups(f, "/model/far/level_3", c), 0);
  ck_assert_int_eq(h2_h5_create_groups(f, "model/far", c), 0); /* exists: fine */
  int64_t iv[6] = {1, 2, 3, 4, 5, 6};
  ck_assert_int_eq(h2_h5_write_rows(f, "/model/far/level_3/col", H2_H5_I64, H2_H5_I64, 1, 6, 1,
                                    0, 6, iv, c),
                   0);
  double dv[6] = {1.5, 2.5, 3.5, 4.5, 5.5, 6.5};
  ck_assert_int_eq(h2_h5_write_rows(f, "/model/W", H2_H5_F32, H2_H5_F64, 2, 3, 2, 0, 3, dv, c), 0);
  hid_t g = H5Gopen2(f, "/model", H5P_DEFAULT);
  ck_assert_int_eq(h2_h5_attr_write_double(g, "input_scale", 0.5, c), 0);
  ck_assert_int_eq(h2_h5_attr_write_double(g, "input_scale", 0.25, c), 0); /* replace */
  ck_assert_int_eq(h2_h5_attr_write_int64(g, "N", 1 << 20, c), 0);
  ck_assert_int_eq(h2_h5_attr_write_string(g, "activation", "relu", c), 0);
  double x;
  int64_t n;
  int found;
  char s[8];
  ck_assert_int_eq(h2_h5_attr_read_double(g, "input_scale", &x, &found), 0);
  ck_assert(found && x == 0.25);
  ck_assert_int_eq(h2_h5_attr_read_int64(g, "N", &n, &found), 0);
  ck_assert(found && n == 1 << 20);
  ck_assert_int_eq(h2_h5_attr_read_double(g, "N", &x, &found), 0);
  ck_assert(found && x == 1 << 20);
  ck_assert_int_eq(h2_h5_attr_read_string(g, "activation", s, sizeof s, &found), 0);
  ck_assert(found);
  ck_assert_str_eq(s, "relu");
  ck_assert_int_eq(h2_h5_attr_read_double(g, "missing", &x, &found), 0);
  ck_assert_int_eq(found, 0);
  ck_assert_int_ne(h2_h5_attr_read_double(g, "activation", &x, &found), 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "activation"));
  ck_assert_ptr_nonnull(strstr(h2_error_message(), path));
  ck_assert_int_ne(h2_h5_attr_read_int64(g, "input_scale", &n, &found), 0);
  H5Gclose(g);
  ck_assert_int_eq(h2_h5_close(&f, c), 0);
  ck_assert(f < 0);

  ck_assert_int_eq(h2_h5_open_read(&f, path, c), 0);
  h2_h5_info info;
  int exists;
  ck_assert_int_eq(h2_h5_dataset_info(f, "/model/W", &info, &exists), 0);
  ck_assert(exists && info.cls == H2_H5_CLASS_FLOAT && info.size == 4 && info.ndims == 2);
  ck_assert(info.dims[0] == 3 && info.dims[1] == 2);
  ck_assert_str_eq(h2_h5_info_typename(&info), "float32");
  ck_assert_int_eq(h2_h5_dataset_info(f, "/model/nope/deeper", &info, &exists), 0);
  ck_assert_int_eq(exists, 0);
  ck_assert_int_ne(h2_h5_dataset_info(f, "/model/nope", &info, NULL), 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "/model/nope"));
  ck_assert_int_ne(h2_h5_dataset_info(f, "/model/far", &info, NULL), 0); /* a group */
  int64_t got[6];
  ck_assert_int_eq(h2_h5_read_rows(f, "/model/far/level_3/col", H2_H5_I64, 2, 3, 1, got), 0);
  ck_assert(got[0] == 3 && got[2] == 5);
  float fw[2];
  ck_assert_int_eq(h2_h5_read_rows(f, "/model/W", H2_H5_F32, 2, 1, 2, fw), 0);
  ck_assert(fw[0] == 5.5f && fw[1] == 6.5f);
  ck_assert_int_ne(h2_h5_read_rows(f, "/model/W", H2_H5_F32, 2, 2, 2, fw), 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "/model/W"));
  /* the column count is checked: a 3 x 2 dataset read as one column would overrun the buffer */
  ck_assert_int_ne(h2_h5_read_rows(f, "/model/W", H2_H5_F32, 0, 1, 1, fw), 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "column"));
  float f6[6];
  ck_assert_int_ne(h2_h5_read_exact(f, "/model/W", H2_H5_F32, 6, 1, f6), 0); /* 6 values, but 3 x 2 */
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "3 x 2"));
  ck_assert_int_eq(h2_h5_read_exact(f, "/model/W", H2_H5_F32, 3, 2, f6), 0);
  ck_assert_int_ne(h2_h5_read_exact(f, "/model/W", H2_H5_I64, 3, 2, got), 0); /* float, not integer */
  ck_assert_int_eq(h2_h5_close(&f, c), 0);
}
END_TEST

/* ------------------------------------------------------------ bad files */

START_TEST(test_bad_missing_file) {
  const char *path = tpath("does_not_exist.h5");
  expect_open_error(path, "no such file");
}
END_TEST

START_TEST(test_bad_not_hdf5) {
  const char *path = tpath("text.h5");
  FILE *f = fopen(path, "w");
  fprintf(f, "points,train,test\n1,2,3\n");
  fclose(f);
  expect_open_error(path, "not an HDF5 file");
  /* an empty file too */
  path = tpath("empty.h5");
  f = fopen(path, "w");
  fclose(f);
  expect_open_error(path, "not an HDF5 file");
}
END_TEST

START_TEST(test_bad_truncated) {
  const char *path = tpath("truncated.h5");
  layout L = good_layout();
  L.rows[0] = 200;
  write_layout(path, &L);
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  ck_assert_int_eq(truncate(path, size / 2), 0);
  expect_open_error(path, "truncated");
}
END_TEST

/* Damaged metadata (bytes overwritten at many places of a good file): the
 * reader never crashes, and when it fails the message names the file. */
START_TEST(test_bad_damaged) {
  const char *good = tpath("damaged_src.h5"), *path = tpath("damaged.h5");
  layout L = good_layout();
  write_layout(good, &L);
  FILE *f = fopen(good, "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *bytes = malloc(size);
  ck_assert_int_eq(fread(bytes, 1, size, f), size);
  fclose(f);
  int failures = 0;
  for (long off = 40; off + 16 < size && off < 4096; off += 61) {
    unsigned char save[16];
    memcpy(save, bytes + off, 16);
    memset(bytes + off, 0xA5, 16);
    f = fopen(path, "wb");
    fwrite(bytes, 1, size, f);
    fclose(f);
    memcpy(bytes + off, save, 16);
    h2_input in;
    h2_input_stats st;
    int e = h2_input_open(&in, path, MPI_COMM_SELF);
    if (!e) {
      e = h2_input_scan(&in, MPI_COMM_SELF, 0, &st, NULL);
      h2_input_close(&in, MPI_COMM_SELF);
    }
    if (e) {
      failures++;
      ck_assert_msg(strstr(h2_error_message(), path), "offset %ld: %s", off, h2_error_message());
    }
  }
  ck_assert_msg(failures > 0, "no corruption was detected at all");
  free(bytes);
}
END_TEST

START_TEST(test_bad_missing_dataset) {
  const char *path = tpath("missing_dataset.h5");
  layout L = good_layout();
  L.omit[1][1] = 1;
  write_layout(path, &L);
  expect_open_error(path, "/test/output");
  L = good_layout();
  L.omit_points = 1;
  path = tpath("missing_points.h5");
  write_layout(path, &L);
  expect_open_error(path, "/points");
}
END_TEST

START_TEST(test_bad_dtype) {
  const char *path = tpath("float64_samples.h5");
  layout L = good_layout();
  L.type[0][0] = H2_H5_F64;
  write_layout(path, &L);
  expect_open_error(path, "/train/input: expected float32, found float64");
  L = good_layout();
  L.type[1][1] = H2_H5_I64;
  path = tpath("int_samples.h5");
  write_layout(path, &L);
  expect_open_error(path, "/test/output: expected float32, found int64");
  L = good_layout();
  L.points_type = H2_H5_F32;
  path = tpath("float32_points.h5");
  write_layout(path, &L);
  expect_open_error(path, "/points: expected float64, found float32");
}
END_TEST

START_TEST(test_bad_rank) {
  const char *path = tpath("rank1_output.h5");
  layout L = good_layout();
  L.ndims[0][1] = 1;
  write_layout(path, &L);
  expect_open_error(path, "/train/output: expected 2 dimensions");
}
END_TEST

START_TEST(test_bad_shape) {
  /* sample columns disagree with the number of points */
  const char *path = tpath("columns.h5");
  layout L = good_layout();
  L.cols[1][0] = L.N - 1;
  write_layout(path, &L);
  expect_open_error(path, "/test/input");
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "expected 12 columns"));
  /* points of dimension 4 */
  L = good_layout();
  L.d = 4;
  path = tpath("dim4.h5");
  write_layout(path, &L);
  expect_open_error(path, "/points");
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "d in 1..3"));
  /* input and output of a set with different sample counts */
  L = good_layout();
  L.rows_override[0][1] = L.rows[0] - 1;
  path = tpath("rows.h5");
  write_layout(path, &L);
  expect_open_error(path, "/train/output has 6 samples but /train/input has 7");
}
END_TEST

START_TEST(test_bad_nan) {
  const char *path = tpath("nan.h5");
  layout L = good_layout();
  L.inj_which = 0;
  L.inj_kind = 0;
  L.inj_sample = 3;
  L.inj_point = 5;
  L.inj_value = NAN;
  write_layout(path, &L);
  expect_scan_error(path, "/train/input", "sample 3, point 5", "NaN");
}
END_TEST

START_TEST(test_bad_inf) {
  const char *path = tpath("inf.h5");
  layout L = good_layout();
  L.inj_which = 1;
  L.inj_kind = 1;
  L.inj_sample = 2;
  L.inj_point = 11;
  L.inj_value = -INFINITY;
  write_layout(path, &L);
  expect_scan_error(path, "/test/output", "sample 2, point 11", "infinite");
  /* a float64 value too large for float32 becomes inf in the file */
  L.inj_value = 1e300;
  path = tpath("overflow.h5");
  write_layout(path, &L);
  expect_scan_error(path, "/test/output", "sample 2, point 11", "infinite");
}
END_TEST

START_TEST(test_bad_zero_norm) {
  const char *path = tpath("zero.h5");
  layout L = good_layout();
  L.zero_which = 0;
  L.zero_kind = 1;
  L.zero_sample = 4;
  write_layout(path, &L);
  expect_scan_error(path, "/train/output", "sample 4", "zero norm");
  /* a zero INPUT sample is legal */
  L = good_layout();
  L.zero_which = 0;
  L.zero_kind = 0;
  L.zero_sample = 4;
  path = tpath("zero_input.h5");
  write_layout(path, &L);
  h2_input in;
  h2_input_stats st;
  ck_assert_int_eq(h2_input_open(&in, path, MPI_COMM_SELF), 0);
  ck_assert_int_eq(h2_input_scan(&in, MPI_COMM_SELF, 0, &st, NULL), 0);
  h2_input_close(&in, MPI_COMM_SELF);
}
END_TEST

START_TEST(test_bad_empty_sets) {
  const char *path = tpath("empty_train.h5");
  layout L = good_layout();
  L.rows[0] = 0;
  write_layout(path, &L);
  expect_open_error(path, "/train/input is empty");
  L = good_layout();
  L.rows[1] = 0;
  path = tpath("empty_test.h5");
  write_layout(path, &L);
  expect_open_error(path, "/test/input is empty");
}
END_TEST

/* Remove the scratch directory once all tests ran. */
static void remove_tmpdir(void) {
  if (!tmpdir[0]) return;
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  char p[1024];
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
      unlink(p);
    }
  if (d) closedir(d);
  rmdir(tmpdir);
  tmpdir[0] = 0;
}

Suite *h2nn_suite(void) {
  Suite *s = suite_create("input_file");
  TCase *tc = tcase_create("input_file");
  tcase_set_timeout(tc, 120);
  tcase_add_unchecked_fixture(tc, NULL, remove_tmpdir);
  tcase_add_test(tc, test_roundtrip);
  tcase_add_test(tc, test_streaming_and_variants);
  tcase_add_test(tc, test_writer_failure_keeps_old_file);
  tcase_add_test(tc, test_writer_bad_directory);
  tcase_add_test(tc, test_h5util);
  tcase_add_test(tc, test_bad_missing_file);
  tcase_add_test(tc, test_bad_not_hdf5);
  tcase_add_test(tc, test_bad_truncated);
  tcase_add_test(tc, test_bad_damaged);
  tcase_add_test(tc, test_bad_missing_dataset);
  tcase_add_test(tc, test_bad_dtype);
  tcase_add_test(tc, test_bad_rank);
  tcase_add_test(tc, test_bad_shape);
  tcase_add_test(tc, test_bad_nan);
  tcase_add_test(tc, test_bad_inf);
  tcase_add_test(tc, test_bad_zero_norm);
  tcase_add_test(tc, test_bad_empty_sets);
  suite_add_tcase(s, tc);
  return s;
}
