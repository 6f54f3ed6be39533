/* check_genfile.c — validates the files h2nn_gen wrote in the gen_cli test
 * (directory $H2NN_GEN_DIR): layout and provenance attributes, the value
 * scan, and the contents recomputed independently of the generator: RTE
 * samples re-drawn and re-solved by global sample index (train row t is
 * sample t, test row t is sample ntrain + t), custom outputs = A q, kernel
 * outputs = the dense reference product. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/gen/datagen.h"
#include "h2nn/util/error.h"
#include "h2nn/io/h5util.h"
#include "h2nn/io/input_file.h"
#include "h2nn/gen/rte.h"

static const char *gen_path(const char *name) {
  static char buf[4096];
  const char *dir = getenv("H2NN_GEN_DIR");
  ck_assert_msg(dir != NULL, "H2NN_GEN_DIR is not set (run through ctest)");
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static void open_checked(h2_input *in, const char *name, int64_t N, int d, int64_t ntrain,
                         int64_t ntest) {
  const char *path = gen_path(name);
  int e = h2_input_open(in, path, MPI_COMM_SELF);
  ck_assert_msg(e == 0, "%s: %s", path, h2_error_message());
  ck_assert_int_eq(in->N, N);
  ck_assert_int_eq(in->d, d);
  ck_assert_int_eq(in->nsamples[0], ntrain);
  ck_assert_int_eq(in->nsamples[1], ntest);
  h2_input_stats st;
  ck_assert_int_eq(h2_input_scan(in, MPI_COMM_SELF, 0, &st, NULL), 0);
  ck_assert(st.input_rms > 0 && st.output_rms > 0);
}

static void check_attr_str(h2_input *in, const char *name, const char *want) {
  char s[64];
  int found;
  ck_assert_int_eq(h2_h5_attr_read_string(in->file, name, s, sizeof s, &found), 0);
  ck_assert_msg(found, "attribute %s missing", name);
  ck_assert_str_eq(s, want);
}

static void check_attr_num(h2_input *in, const char *name, double want) {
  double v;
  int found;
  ck_assert_int_eq(h2_input_attr(in, name, &v, &found), 0);
  ck_assert_msg(found && v == want, "attribute %s = %g, expected %g", name, v, want);
}

/* |a - b| within float rounding of b (relative to the row's max). */
static void close_rows(const float *got, const double *want, int64_t N, double rtol,
                       const char *what, int64_t row) {
  double mx = 0;
  for (int64_t j = 0; j < N; j++) mx = fmax(mx, fabs(want[j]));
  for (int64_t j = 0; j < N; j++)
    ck_assert_msg(fabs(got[j] - want[j]) <= rtol * mx, "%s row %lld point %lld: %.9g vs %.9g",
                  what, (long long)row, (long long)j, got[j], want[j]);
}

START_TEST(test_rte_file) {
  h2_input in;
  const int N = 64;
  open_checked(&in, "rte.h5", N, 1, 20, 10);
  check_attr_str(&in, "generator", "rte");
  check_attr_num(&in, "n", N);
  check_attr_num(&in, "samples", 30);
  check_attr_num(&in, "generator_seed", 5);
  for (int i = 0; i < N; i++) ck_assert(fabs(in.points[i] - (i + 0.5) / N) < 1e-15);
  h2_rte_ws ws;
  ck_assert_int_eq(h2_rte_ws_init(&ws, N), 0);
  double mu[64], u[64];
  float q[64], w[64];
  const int rows[5][2] = {{0, 0}, {0, 7}, {0, 19}, {1, 0}, {1, 9}};
  for (int k = 0; k < 5; k++) {
    int which = rows[k][0], r = rows[k][1];
    int64_t g = which == 0 ? r : 20 + r;
    h2_rte_sample_mus(5, g, N, mu, NULL);
    ck_assert_int_eq(h2_rte_solve(&ws, mu, u), 0);
    ck_assert_int_eq(h2_input_read_rows(&in, which, H2_INPUT_IN, r, 1, q), 0);
    ck_assert_int_eq(h2_input_read_rows(&in, which, H2_INPUT_OUT, r, 1, w), 0);
    close_rows(q, mu, N, 1e-7, "rte input", g);
    close_rows(w, u, N, 1e-7, "rte output", g);
  }
  h2_rte_ws_free(&ws);
  h2_input_close(&in, MPI_COMM_SELF);
}
END_TEST

START_TEST(test_custom_file) {
  h2_input in;
  const int N = 80, S = 24, ntrain = 16;
  open_checked(&in, "custom.h5", N, 1, ntrain, S - ntrain);
  check_attr_str(&in, "generator", "custom");
  check_attr_num(&in, "generator_seed", 2);
  double *A = malloc(sizeof(double) * N * N), *mu = malloc(sizeof(double) * N * S),
         *w = malloc(sizeof(double) * N * S);
  float *q = malloc(sizeof(float) * N), *o = malloc(sizeof(float) * N);
  ck_assert_int_eq(h2_custom_matrix(N, A), 0);
  for (int g = 0; g < S; g++) h2_rte_sample_mus(2, g, N, mu + g * N, NULL);
  ck_assert_int_eq(h2_custom_apply(N, A, mu, S, w), 0);
  for (int g = 0; g < S; g++) {
    int which = g < ntrain ? 0 : 1, r = g < ntrain ? g : g - ntrain;
    ck_assert_int_eq(h2_input_read_rows(&in, which, H2_INPUT_IN, r, 1, q), 0);
    ck_assert_int_eq(h2_input_read_rows(&in, which, H2_INPUT_OUT, r, 1, o), 0);
    close_rows(q, mu + g * N, N, 1e-7, "custom input", g);
    close_rows(o, w + g * N, N, 1e-6, "custom output", g);
  }
  free(A);
  free(mu);
  free(w);
  free(q);
  free(o);
  h2_input_close(&in, MPI_COMM_SELF);
}
END_TEST

static void check_kernel_file(const char *name, const char *kernel, const char *geometry,
                              int dim, int64_t N, int S, int ntrain, uint64_t seed) {
  h2_input in;
  open_checked(&in, name, N, dim, ntrain, S - ntrain);
  check_attr_str(&in, "generator", "kernel");
  check_attr_str(&in, "kernel", kernel);
  check_attr_str(&in, "geometry", geometry);
  check_attr_num(&in, "dim", dim);
  check_attr_num(&in, "n", (double)N);
  check_attr_num(&in, "generator_seed", (double)seed);
  h2_geometry g;
  ck_assert_int_eq(h2_geometry_parse(geometry, &g), 0);
  double *p = malloc(sizeof(double) * N * dim), *q = malloc(sizeof(double) * N * S),
         *w = malloc(sizeof(double) * N * S);
  float *fq = malloc(sizeof(float) * N), *fw = malloc(sizeof(float) * N);
  ck_assert_int_eq(h2_geometry_points(g, dim, N, seed, p), 0);
  for (int64_t i = 0; i < N * dim; i++) ck_assert(in.points[i] == p[i]);
  for (int s = 0; s < S; s++) h2_datagen_bumps(p, (int)N, dim, seed, s, q + s * N);
  ck_assert_int_eq(h2_datagen_kernel_dense(kernel, p, (int)N, dim, q, S, w), 0);
  for (int s = 0; s < S; s++) {
    int which = s < ntrain ? 0 : 1, r = s < ntrain ? s : s - ntrain;
    ck_assert_int_eq(h2_input_read_rows(&in, which, H2_INPUT_IN, r, 1, fq), 0);
    ck_assert_int_eq(h2_input_read_rows(&in, which, H2_INPUT_OUT, r, 1, fw), 0);
    close_rows(fq, q + s * N, N, 1e-7, name, s);
    /* the generator may use the H2 approximation (~1e-6) instead of dense */
    double num = 0, den = 0;
    for (int64_t j = 0; j < N; j++) {
      num += (fw[j] - w[s * N + j]) * (fw[j] - w[s * N + j]);
      den += w[s * N + j] * w[s * N + j];
    }
    ck_assert_msg(sqrt(num / den) < 1e-5, "%s sample %d: output rel error %g", name, s,
                  sqrt(num / den));
  }
  free(p);
  free(q);
  free(w);
  free(fq);
  free(fw);
  h2_input_close(&in, MPI_COMM_SELF);
}

START_TEST(test_kernel_files) {
  check_kernel_file("kernel_grid.h5", "log", "grid", 2, 196, 12, 8, 3);
  check_kernel_file("kernel_sphere.h5", "gaussian", "sphere", 3, 150, 9, 4, 4);
  check_kernel_file("kernel_random.h5", "inverse", "random", 3, 120, 8, 5, 6);
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("genfile");
  TCase *tc = tcase_create("genfile");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_rte_file);
  tcase_add_test(tc, test_custom_file);
  tcase_add_test(tc, test_kernel_files);
  suite_add_tcase(s, tc);
  return s;
}
