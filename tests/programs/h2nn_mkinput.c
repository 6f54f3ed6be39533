/* h2nn_mkinput — writes small h2nn input files (docs/design.md §5), good or broken in
 * exactly one way, for the program tests (the scripts next to it).
 *
 *   h2nn_mkinput N CASE=OUT.h5 [CASE=OUT.h5 ...]
 *
 * Each file: N points on a uniform 1-D grid, 48 train and 24 test
 * samples; inputs are random bumps, outputs a smooth linear operator applied
 * to them plus 1 (never zero).  CASE:
 *   good             the valid layout
 *   attr_iterations  valid, with root attributes iterations=7, batch_size=8
 *   no_test_output   /test/output missing
 *   f64_samples      /train/input stored as float64
 *   rank1_samples    /train/input stored as a 1-D dataset
 *   n_mismatch       /points has N+1 rows, the samples N columns
 *   nan_train_input  /train/input sample 40, point 5 is NaN
 *   inf_test_output  /test/output sample 20, point 7 is +Inf
 *   zero_output      /train/output sample 30 is all zeros
 *   empty_train      /train/input and /train/output have 0 samples
 * The samples are the same in every file (the generator restarts per file;
 * the bad values sit in late samples, on the last ranks of a row split).
 * Run on one rank (mpiexec -n 1, or as a singleton). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "h2nn/util/error.h"
#include "h2nn/io/h5util.h"

#define NTRAIN 48
#define NTEST 24

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static double urand(void) { /* xorshift64*: reproducible, no dependency */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

/* Fill rows x N of inputs q (two Gaussian bumps) and outputs w = 1 + K q. */
static void make_samples(int64_t rows, int64_t N, const double *x, float *q, float *w) {
  for (int64_t s = 0; s < rows; s++) {
    double c1 = 0.2 + 0.6 * urand(), c2 = 0.2 + 0.6 * urand(), r = 0.1 + 0.2 * urand();
    for (int64_t i = 0; i < N; i++) {
      double a = (x[i] - c1) / 0.05, b = (x[i] - c2) / 0.05;
      q[s * N + i] = (float)(r * (exp(-0.5 * a * a) + exp(-0.5 * b * b)));
    }
    for (int64_t i = 0; i < N; i++) {
      double acc = 1.0;
      for (int64_t j = 0; j < N; j++) acc += exp(-fabs(x[i] - x[j]) * 4.0) * q[s * N + j] / N;
      w[s * N + i] = (float)acc;
    }
  }
}

static int write2(hid_t f, const char *name, h2_h5_type ftype, int ndims, int64_t rows,
                  int64_t cols, const float *buf, MPI_Comm comm) {
  if (ndims == 1)
    return h2_h5_write_rows(f, name, ftype, H2_H5_F32, 1, rows * cols, 1, 0, rows * cols, buf, comm);
  return h2_h5_write_rows(f, name, ftype, H2_H5_F32, 2, rows, cols, 0, rows, buf, comm);
}

static int make(const char *cse, const char *path, int64_t N, MPI_Comm comm) {
  rng_state = 0x9e3779b97f4a7c15ULL;
  int64_t npts = strcmp(cse, "n_mismatch") == 0 ? N + 1 : N;
  int64_t ntrain = strcmp(cse, "empty_train") == 0 ? 0 : NTRAIN;
  double *x = malloc((size_t)npts * sizeof *x);
  float *tq = malloc((size_t)(NTRAIN * N) * sizeof *tq), *tw = malloc((size_t)(NTRAIN * N) * sizeof *tw);
  float *sq = malloc((size_t)(NTEST * N) * sizeof *sq), *sw = malloc((size_t)(NTEST * N) * sizeof *sw);
  if (!x || !tq || !tw || !sq || !sw) H2_FAIL(H2_EMEM, "out of memory");
  for (int64_t i = 0; i < npts; i++) x[i] = (i + 0.5) / (double)npts;
  make_samples(NTRAIN, N, x, tq, tw);
  make_samples(NTEST, N, x, sq, sw);
  if (strcmp(cse, "nan_train_input") == 0) tq[40 * N + 5] = NAN;
  if (strcmp(cse, "inf_test_output") == 0) sw[20 * N + 7] = INFINITY;
  if (strcmp(cse, "zero_output") == 0) memset(tw + 30 * N, 0, (size_t)N * sizeof *tw);

  hid_t f = -1;
  H2_TRY(h2_h5_create(&f, path, comm));
  H2_TRY(h2_h5_create_groups(f, "train", comm));
  H2_TRY(h2_h5_create_groups(f, "test", comm));
  H2_TRY(h2_h5_write_rows(f, "points", H2_H5_F64, H2_H5_F64, 2, npts, 1, 0, npts, x, comm));
  h2_h5_type tin = strcmp(cse, "f64_samples") == 0 ? H2_H5_F64 : H2_H5_F32;
  int din = strcmp(cse, "rank1_samples") == 0 ? 1 : 2;
  H2_TRY(write2(f, "train/input", tin, din, ntrain, N, tq, comm));
  H2_TRY(write2(f, "train/output", H2_H5_F32, 2, ntrain, N, tw, comm));
  H2_TRY(write2(f, "test/input", H2_H5_F32, 2, NTEST, N, sq, comm));
  if (strcmp(cse, "no_test_output") != 0)
    H2_TRY(write2(f, "test/output", H2_H5_F32, 2, NTEST, N, sw, comm));
  H2_TRY(h2_h5_attr_write_string(f, "generator", "h2nn_mkinput", comm));
  if (strcmp(cse, "attr_iterations") == 0) {
    H2_TRY(h2_h5_attr_write_int64(f, "iterations", 7, comm));
    H2_TRY(h2_h5_attr_write_int64(f, "batch_size", 8, comm));
  }
  H2_TRY(h2_h5_close(&f, comm));
  free(x), free(tq), free(tw), free(sq), free(sw);
  return 0;
}

int main(int argc, char **argv) {
  static const char *const cases[] = {"good", "attr_iterations", "no_test_output", "f64_samples",
                                      "rank1_samples", "n_mismatch", "nan_train_input",
                                      "inf_test_output", "zero_output", "empty_train"};
  const size_t ncases = sizeof cases / sizeof *cases;
  MPI_Init(&argc, &argv);
  long n = argc >= 3 ? strtol(argv[1], NULL, 10) : 0;
  int ok = n >= 4;
  for (int a = 2; a < argc && ok; a++) {
    const char *eq = strchr(argv[a], '=');
    int known = 0;
    for (size_t k = 0; eq && eq[1] && k < ncases; k++)
      known |= strlen(cases[k]) == (size_t)(eq - argv[a]) && strncmp(argv[a], cases[k], eq - argv[a]) == 0;
    ok = known;
  }
  if (!ok) {
    fprintf(stderr, "usage: h2nn_mkinput N CASE=OUT.h5 [CASE=OUT.h5 ...] (N >= 4); CASE is one of:");
    for (size_t k = 0; k < ncases; k++) fprintf(stderr, " %s", cases[k]);
    fprintf(stderr, "\n");
    MPI_Finalize();
    return 2;
  }
  int err = 0;
  for (int a = 2; a < argc && !err; a++) {
    char cse[64];
    const char *eq = strchr(argv[a], '=');
    snprintf(cse, sizeof cse, "%.*s", (int)(eq - argv[a]), argv[a]);
    err = make(cse, eq + 1, (int64_t)n, MPI_COMM_SELF);
    if (err) fprintf(stderr, "h2nn_mkinput: error: %s: %s\n", argv[a], h2_error_message());
  }
  MPI_Finalize();
  return err ? 1 : 0;
}
