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
 *   huge_declared    /train/input declared 1e12 x N, chunked, with no data stored (a small file)
 *   uint8_samples    /train/input stored as uint8
 *   attr_string_leaf_size  root attribute leaf_size = "40" (a string)
 *   attr_string_lr   root attribute lr = "0.01" (a string)
 *   attr_compound_rank     root attribute rank of a compound type
 * The samples are the same in every file (the generator restarts per file;
 * the bad values sit in late samples, on the last ranks of a row split).
 * Run on one rank (mpiexec -n 1, or as a singleton).
 *
 *   h2nn_mkinput --ckpt CASE IN.h5 OUT.h5
 *
 * copies the checkpoint IN.h5 to OUT.h5 and damages it in one way (CASE):
 *   activation_array   /model activation: an array of two strings
 *   activation_vlen    /model activation as h5py writes it: variable-length UTF-8 (VALID)
 *   points_extra_cols  /model/points N x (d + 2)
 *   points_2n_rows     /model/points 2N x d
 *   output_mean_2d     /model/output_mean N x 2
 *   history_2d         /history/train_loss n x 2
 *   history_scalar     /history/iteration a scalar
 *   step_negative      /optimizer step = -5
 *   n_huge             /model N = 2^32 + N
 *   leaf_size_0        /model leaf_size = 0
 *   leaf_size_neg      /model leaf_size = -1
 *   leaf_size_string   /model leaf_size = "40"
 *   close_hidden_neg   /model close_hidden = -1
 *   output_scale_inf   /model output_scale = Inf
 *   nan_weights        /model/close/layer_1/W all NaN
 *   inf_leaf_v         /model/leaf_V[0] = Inf
 *   adam_v_negative    /optimizer/v/close/layer_1/W[0] = -1 */
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
  if (strcmp(cse, "attr_string_leaf_size") == 0) H2_TRY(h2_h5_attr_write_string(f, "leaf_size", "40", comm));
  if (strcmp(cse, "attr_string_lr") == 0) H2_TRY(h2_h5_attr_write_string(f, "lr", "0.01", comm));
  if (strcmp(cse, "attr_compound_rank") == 0) {
    typedef struct { int a; double b; } pair;
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(pair));
    H5Tinsert(t, "a", HOFFSET(pair, a), H5T_NATIVE_INT);
    H5Tinsert(t, "b", HOFFSET(pair, b), H5T_NATIVE_DOUBLE);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t at = H5Acreate2(f, "rank", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    pair v = {4, 2.0};
    if (at < 0 || H5Awrite(at, t, &v) < 0) H2_FAIL(H2_EIO, "%s: cannot write the compound attribute", path);
    H5Aclose(at), H5Sclose(sp), H5Tclose(t);
  }
  if (strcmp(cse, "attr_iterations") == 0) {
    H2_TRY(h2_h5_attr_write_int64(f, "iterations", 7, comm));
    H2_TRY(h2_h5_attr_write_int64(f, "batch_size", 8, comm));
  }
  H2_TRY(h2_h5_close(&f, comm));
  /* reopened with the serial driver: parallel HDF5 allocates chunked
   * datasets at creation, which for 1e12 rows would fill the disk */
  f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) H2_FAIL(H2_EIO, "%s: cannot reopen", path);
  if (strcmp(cse, "huge_declared") == 0 || strcmp(cse, "uint8_samples") == 0) {
    /* replace /train/input: declared 1e12 x N and never written, or uint8 */
    H5Ldelete(f, "train/input", H5P_DEFAULT);
    int huge = strcmp(cse, "huge_declared") == 0;
    hsize_t dims[2] = {huge ? (hsize_t)1000000000000ULL : NTRAIN, (hsize_t)N};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk[2] = {1, (hsize_t)N}; /* chunked: the declared size takes no file space */
    if (huge) H5Pset_chunk(dcpl, 2, chunk);
    hid_t d = H5Dcreate2(f, "train/input", huge ? H5T_IEEE_F32LE : H5T_STD_U8LE, sp, H5P_DEFAULT, dcpl,
                         H5P_DEFAULT);
    H5Pclose(dcpl);
    if (sp < 0 || d < 0) H2_FAIL(H2_EIO, "%s: cannot create the %s /train/input", path, cse);
    if (!huge) {
      unsigned char *u = calloc((size_t)(NTRAIN * N), 1);
      for (int64_t i = 0; i < NTRAIN * N; i++) u[i] = (unsigned char)(1 + i % 200);
      H5Dwrite(d, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, u);
      free(u);
    }
    H5Dclose(d);
    H5Sclose(sp);
  }
  if (H5Fclose(f) < 0) H2_FAIL(H2_EIO, "%s: closing failed", path);
  free(x), free(tq), free(tw), free(sq), free(sw);
  return 0;
}

/* ------------------------------------------------------------ damaged checkpoints */

static int copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = a ? fopen(to, "wb") : NULL;
  if (!a || !b) {
    if (a) fclose(a);
    H2_FAIL(H2_EIO, "cannot copy %s to %s", from, to);
  }
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, n, b);
  fclose(a);
  return fclose(b) ? h2_error_set(__FILE__, __LINE__, H2_EIO, "cannot write %s", to) : 0;
}

static int set_attr(hid_t loc, const char *name, hid_t type, const void *v) {
  if (H5Aexists(loc, name) > 0) H5Adelete(loc, name);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  int bad = a < 0 || H5Awrite(a, type, v) < 0;
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  if (bad) H2_FAIL(H2_EIO, "cannot write attribute %s", name);
  return 0;
}

/* Replace dataset NAME by a float64 one of the given shape (values 0.5). */
static int replace_f64(hid_t f, const char *name, int ndims, hsize_t r, hsize_t c) {
  H5Ldelete(f, name, H5P_DEFAULT);
  hsize_t dims[2] = {r, c};
  hid_t sp = ndims ? H5Screate_simple(ndims, dims, NULL) : H5Screate(H5S_SCALAR);
  hid_t d = H5Dcreate2(f, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  size_t n = ndims == 0 ? 1 : ndims == 1 ? r : r * c;
  double *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = 0.5 + (double)i / (double)n;
  int bad = d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0;
  free(v);
  if (d >= 0) H5Dclose(d);
  H5Sclose(sp);
  if (bad) H2_FAIL(H2_EIO, "cannot replace dataset %s", name);
  return 0;
}

/* Overwrite element 0 (or all elements) of a float32 dataset. */
static int poke_f32(hid_t f, const char *name, float value, int all) {
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  if (d < 0) H2_FAIL(H2_EIO, "no dataset %s", name);
  hid_t sp = H5Dget_space(d);
  hssize_t n = H5Sget_simple_extent_npoints(sp);
  float *v = malloc((size_t)n * sizeof *v);
  int bad = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0;
  for (hssize_t i = 0; i < (all ? n : 1); i++) v[i] = value;
  bad = bad || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0;
  free(v);
  H5Sclose(sp);
  H5Dclose(d);
  if (bad) H2_FAIL(H2_EIO, "cannot rewrite dataset %s", name);
  return 0;
}

static int mutate_ckpt(const char *cse, const char *in, const char *out) {
  H2_TRY(copy_file(in, out));
  h2_h5_quiet();
  hid_t f = H5Fopen(out, H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) H2_FAIL(H2_EIO, "cannot open %s", out);
  hid_t m = H5Gopen2(f, "/model", H5P_DEFAULT), o = H5Gopen2(f, "/optimizer", H5P_DEFAULT);
  int64_t N = 0, d = 0, v;
  int found, err = 0;
  H2_TRY(h2_h5_attr_read_int64(m, "N", &N, &found));
  H2_TRY(h2_h5_attr_read_int64(m, "d", &d, &found));
  double inf = INFINITY;
  if (!strcmp(cse, "activation_array") || !strcmp(cse, "activation_vlen")) {
    H5Adelete(m, "activation");
    hid_t t = H5Tcopy(H5T_C_S1);
    if (!strcmp(cse, "activation_vlen")) {
      H5Tset_size(t, H5T_VARIABLE);
      H5Tset_cset(t, H5T_CSET_UTF8);
      const char *val = "relu";
      err = set_attr(m, "activation", t, &val);
    } else {
      H5Tset_size(t, 5);
      hsize_t two = 2;
      hid_t sp = H5Screate_simple(1, &two, NULL);
      hid_t a = H5Acreate2(m, "activation", t, sp, H5P_DEFAULT, H5P_DEFAULT);
      const char vals[10] = "relu\0tanh";
      err = a < 0 || H5Awrite(a, t, vals) < 0;
      if (a >= 0) H5Aclose(a);
      H5Sclose(sp);
    }
    H5Tclose(t);
  } else if (!strcmp(cse, "points_extra_cols")) err = replace_f64(f, "/model/points", 2, (hsize_t)N, (hsize_t)d + 2);
  else if (!strcmp(cse, "points_2n_rows")) err = replace_f64(f, "/model/points", 2, 2 * (hsize_t)N, (hsize_t)d);
  else if (!strcmp(cse, "output_mean_2d")) err = replace_f64(f, "/model/output_mean", 2, (hsize_t)N, 2);
  else if (!strcmp(cse, "history_2d") || !strcmp(cse, "history_scalar")) {
    h2_h5_info info;
    H2_TRY(h2_h5_dataset_info(f, "/history/train_loss", &info, NULL));
    if (!strcmp(cse, "history_2d")) err = replace_f64(f, "/history/train_loss", 2, (hsize_t)info.dims[0], 2);
    else err = replace_f64(f, "/history/iteration", 0, 0, 0);
  } else if (!strcmp(cse, "step_negative")) {
    v = -5;
    err = set_attr(o, "step", H5T_NATIVE_INT64, &v);
  } else if (!strcmp(cse, "n_huge")) {
    v = ((int64_t)1 << 32) + N;
    err = set_attr(m, "N", H5T_NATIVE_INT64, &v);
  } else if (!strcmp(cse, "leaf_size_0") || !strcmp(cse, "leaf_size_neg")) {
    v = !strcmp(cse, "leaf_size_0") ? 0 : -1;
    err = set_attr(m, "leaf_size", H5T_NATIVE_INT64, &v);
  } else if (!strcmp(cse, "leaf_size_string")) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 3);
    err = set_attr(m, "leaf_size", t, "40");
    H5Tclose(t);
  } else if (!strcmp(cse, "close_hidden_neg")) {
    v = -1;
    err = set_attr(m, "close_hidden", H5T_NATIVE_INT64, &v);
  } else if (!strcmp(cse, "output_scale_inf")) err = set_attr(m, "output_scale", H5T_NATIVE_DOUBLE, &inf);
  else if (!strcmp(cse, "nan_weights")) err = poke_f32(f, "/model/close/layer_1/W", NAN, 1);
  else if (!strcmp(cse, "inf_leaf_v")) err = poke_f32(f, "/model/leaf_V", INFINITY, 0);
  else if (!strcmp(cse, "adam_v_negative")) err = poke_f32(f, "/optimizer/v/close/layer_1/W", -1.0f, 0);
  else err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "unknown checkpoint case '%s'", cse);
  H5Gclose(m), H5Gclose(o);
  if (H5Fclose(f) < 0 && !err) err = h2_error_set(__FILE__, __LINE__, H2_EIO, "closing %s failed", out);
  if (err && !h2_error_message()[0]) err = h2_error_set(__FILE__, __LINE__, H2_EIO, "%s: mutation %s failed", out, cse);
  return err;
}

int main(int argc, char **argv) {
  static const char *const cases[] = {"good", "attr_iterations", "no_test_output", "f64_samples",
                                      "rank1_samples", "n_mismatch", "nan_train_input",
                                      "inf_test_output", "zero_output", "empty_train", "huge_declared",
                                      "uint8_samples", "attr_string_leaf_size", "attr_string_lr",
                                      "attr_compound_rank"};
  const size_t ncases = sizeof cases / sizeof *cases;
  MPI_Init(&argc, &argv);
  if (argc == 5 && !strcmp(argv[1], "--ckpt")) {
    int err = mutate_ckpt(argv[2], argv[3], argv[4]);
    if (err) fprintf(stderr, "h2nn_mkinput: error: %s\n", h2_error_message());
    MPI_Finalize();
    return err ? 1 : 0;
  }
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
