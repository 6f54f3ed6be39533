/* check_input_mpi.c — the collective writer and reader on every rank of
 * MPI_COMM_WORLD (ctest runs it on 1 and on 3 ranks): each rank writes its
 * own contiguous rows; files read back identically on every rank; a bad
 * value in any rank's rows, or a failure on one rank only, makes EVERY rank
 * return the same error (the first bad sample in file order) without a
 * hang, and a failed write leaves no temporary file and the old file. */
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
#include "h2nn/io/input_file.h"

#define NPTS 9
#define NTRAIN 11
#define NTEST 5

static char dir[256];

static void setup_dir(void) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    snprintf(dir, sizeof dir, "/tmp/h2nn_check_input_mpi_XXXXXX");
    if (!mkdtemp(dir)) dir[0] = 0;
  }
  MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
}

static void remove_dir(void) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0 && dir[0]) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[1024];
    while (d && (e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
      }
    if (d) closedir(d);
    rmdir(dir);
  }
}

static const char *path_of(const char *name) {
  static char buf[512];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static float value(int which, int kind, int64_t s, int j) {
  return (float)((kind ? -1.0 : 1.0) * (1.0 + 100 * which + s + 0.125 * j));
}

static void my_rows(int64_t total, int64_t *r0, int64_t *r1) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int64_t q = total / size, r = total % size;
  *r0 = rank * q + (rank < r ? rank : r);
  *r1 = *r0 + q + (rank < r ? 1 : 0);
}

/* Collective write; `bad` (if which >= 0) puts value v at (which, kind,
 * sample, point) — only the owning rank has that row. */
typedef struct {
  int which, kind;
  int64_t sample;
  int point;
  float v;
} bad_value;

static int write_file(const char *path, const bad_value *bad, int nbad) {
  double pts[NPTS];
  for (int i = 0; i < NPTS; i++) pts[i] = (i + 0.5) / NPTS;
  int64_t a0, a1, b0, b1;
  my_rows(NTRAIN, &a0, &a1);
  my_rows(NTEST, &b0, &b1);
  float *buf[2][2];
  int64_t first[2] = {a0, b0}, count[2] = {a1 - a0, b1 - b0};
  for (int w = 0; w < 2; w++)
    for (int k = 0; k < 2; k++) {
      buf[w][k] = malloc(sizeof(float) * (count[w] * NPTS + 1));
      for (int64_t s = 0; s < count[w]; s++)
        for (int j = 0; j < NPTS; j++) {
          float v = value(w, k, first[w] + s, j);
          for (int b = 0; b < nbad; b++)
            if (bad[b].which == w && bad[b].kind == k && bad[b].sample == first[w] + s &&
                (bad[b].point == j || bad[b].point < 0))
              v = bad[b].v;
          buf[w][k][s * NPTS + j] = v;
        }
    }
  h2_attr at[2] = {{.name = "generator", .type = H2_ATTR_STRING, .s = "mpi-test"},
                   {.name = "batch_size", .type = H2_ATTR_INT64, .i = 32}};
  int e = h2_input_write(path, MPI_COMM_WORLD, pts, NPTS, 1, NTRAIN, NTEST, a0, a1 - a0,
                         buf[0][0], buf[0][1], b0, b1 - b0, buf[1][0], buf[1][1], at, 2);
  for (int w = 0; w < 2; w++)
    for (int k = 0; k < 2; k++) free(buf[w][k]);
  return e;
}

/* Every rank holds the same error message. */
static void assert_same_message(void) {
  const char *m = h2_error_message();
  unsigned long h = 5381;
  for (const char *c = m; *c; c++) h = h * 33 + (unsigned char)*c;
  unsigned long lo, hi;
  MPI_Allreduce(&h, &lo, 1, MPI_UNSIGNED_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&h, &hi, 1, MPI_UNSIGNED_LONG, MPI_MAX, MPI_COMM_WORLD);
  ck_assert_msg(lo == hi, "ranks disagree on the error message (this rank: %s)", m);
}

/* Collective open + scan must fail on every rank with the words given. */
static void expect_collective_error(const char *path, const char *w1, const char *w2) {
  h2_input in;
  h2_input_stats st;
  int e = h2_input_open(&in, path, MPI_COMM_WORLD);
  if (e == 0) {
    e = h2_input_scan(&in, MPI_COMM_WORLD, 2 * NPTS * sizeof(float), &st, NULL);
    h2_input_close(&in, MPI_COMM_WORLD);
  }
  ck_assert_msg(e != 0, "%s: expected an error", path);
  const char *m = h2_error_message();
  ck_assert_msg(strstr(m, path) && (!w1 || strstr(m, w1)) && (!w2 || strstr(m, w2)),
                "message '%s' lacks '%s' / '%s' / the path", m, w1 ? w1 : "", w2 ? w2 : "");
  assert_same_message();
}

START_TEST(test_collective_roundtrip) {
  setup_dir();
  const char *path = path_of("good.h5");
  ck_assert_int_eq(write_file(path, NULL, 0), 0);
  h2_input in;
  ck_assert_int_eq(h2_input_open(&in, path, MPI_COMM_WORLD), 0);
  ck_assert_int_eq(in.N, NPTS);
  ck_assert_int_eq(in.nsamples[0], NTRAIN);
  ck_assert_int_eq(in.nsamples[1], NTEST);
  float row[NPTS * NTRAIN];
  ck_assert_int_eq(h2_input_read_rows(&in, 0, 1, 0, NTRAIN, row), 0);
  for (int s = 0; s < NTRAIN; s++)
    for (int j = 0; j < NPTS; j++) ck_assert(row[s * NPTS + j] == value(0, 1, s, j));
  ck_assert_int_eq(h2_input_read_rows(&in, 1, 0, 0, NTEST, row), 0);
  for (int s = 0; s < NTEST; s++)
    for (int j = 0; j < NPTS; j++) ck_assert(row[s * NPTS + j] == value(1, 0, s, j));
  double si = 0, so = 0, mean[NPTS] = {0};
  for (int s = 0; s < NTRAIN; s++)
    for (int j = 0; j < NPTS; j++) {
      si += pow(value(0, 0, s, j), 2);
      so += pow(value(0, 1, s, j), 2);
      mean[j] += value(0, 1, s, j) / (double)NTRAIN;
    }
  h2_input_stats st;
  double om[NPTS];
  /* small chunks: several rounds per rank */
  ck_assert_int_eq(h2_input_scan(&in, MPI_COMM_WORLD, 2 * NPTS * sizeof(float), &st, om), 0);
  ck_assert(fabs(st.input_rms - sqrt(si / (NTRAIN * NPTS))) < 1e-12 * st.input_rms);
  ck_assert(fabs(st.output_rms - sqrt(so / (NTRAIN * NPTS))) < 1e-12 * st.output_rms);
  for (int j = 0; j < NPTS; j++) ck_assert(fabs(om[j] - mean[j]) < 1e-12);
  double v;
  int found;
  ck_assert_int_eq(h2_input_attr(&in, "batch_size", &v, &found), 0);
  ck_assert(found && v == 32);
  h2_input_close(&in, MPI_COMM_WORLD);
}
END_TEST

START_TEST(test_collective_bad_values) {
  /* NaN in the LAST training sample (owned by the last rank) */
  bad_value b1[1] = {{0, 0, NTRAIN - 1, 4, NAN}};
  ck_assert_int_eq(write_file(path_of("nan_last.h5"), b1, 1), 0);
  expect_collective_error(path_of("nan_last.h5"), "/train/input", "sample 10, point 4");
  /* two bad values on different ranks: the first in file order wins */
  bad_value b2[2] = {{0, 1, NTRAIN - 2, 1, INFINITY}, {0, 1, 1, 7, -INFINITY}};
  ck_assert_int_eq(write_file(path_of("inf_two.h5"), b2, 2), 0);
  expect_collective_error(path_of("inf_two.h5"), "/train/output", "sample 1, point 7");
  /* a bad test output, and a zero-norm test output */
  bad_value b3[1] = {{1, 1, NTEST - 1, -1, 0.0f}};
  ck_assert_int_eq(write_file(path_of("zero_test.h5"), b3, 1), 0);
  expect_collective_error(path_of("zero_test.h5"), "/test/output", "sample 4 has zero norm");
  /* structure errors reach all ranks too */
  expect_collective_error(path_of("missing.h5"), "no such file", NULL);
}
END_TEST

static int count_tmp(void) {
  int n = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (strstr(e->d_name, ".tmp.")) n++;
  if (d) closedir(d);
  return n;
}

START_TEST(test_collective_writer_failure) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const char *path = path_of("good.h5");
  double pts[3] = {0, 1, 2};
  float x[3] = {1, 2, 3};
  h2_input_writer w;
  ck_assert_int_eq(h2_input_writer_open(&w, path, MPI_COMM_WORLD, pts, 3, 1, 1, 1), 0);
  int st = 0;
  if (rank == size - 1) st = h2_error_set(__FILE__, __LINE__, H2_ENUM, "rank %d broke", rank);
  ck_assert_int_eq(h2_input_writer_close(&w, st), H2_ENUM);
  char want[4096]; /* the failing rank's error, on every rank, naming the file */
  snprintf(want, sizeof want, "%s not written (an existing file is intact): rank %d broke", path, size - 1);
  ck_assert_str_eq(h2_error_message(), want);
  MPI_Barrier(MPI_COMM_WORLD);
  ck_assert_int_eq(count_tmp(), 0);
  /* the old file is intact */
  h2_input in;
  ck_assert_int_eq(h2_input_open(&in, path, MPI_COMM_WORLD), 0);
  ck_assert_int_eq(in.N, NPTS);
  h2_input_close(&in, MPI_COMM_WORLD);
  /* missing directory: every rank gets the error */
  int e = h2_input_write("/nonexistent_h2nn_dir/x.h5", MPI_COMM_WORLD, pts, 3, 1, 1, 1, 0,
                         rank == 0, x, x, 0, rank == 0, x, x, NULL, 0);
  ck_assert_int_ne(e, 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "/nonexistent_h2nn_dir"));
  assert_same_message();
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("input_file_mpi");
  TCase *tc = tcase_create("input_file_mpi");
  tcase_set_timeout(tc, 120);
  tcase_add_unchecked_fixture(tc, NULL, remove_dir);
  tcase_add_test(tc, test_collective_roundtrip);
  tcase_add_test(tc, test_collective_bad_values);
  tcase_add_test(tc, test_collective_writer_failure);
  suite_add_tcase(s, tc);
  return s;
}
