/* check_datagen.c — docs/datasets.md §2/§3: the custom operator against a direct
 * double loop, the geometries, the named kernels and their dense product
 * against a direct loop, and the bump inputs. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/gen/datagen.h"
#include "h2nn/util/error.h"
#include "h2nn/gen/rte.h"

static double rel_l2(const double *a, const double *b, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return sqrt(num / den);
}

/* out = A q with one GEMM equals the literal formula summed in a loop, on
 * RTE mu_s inputs; A is symmetric with zero diagonal; the outputs are tiny
 * (RMS ~6e-10 at N = 320, docs/datasets.md §2). */
START_TEST(test_custom_vs_loop) {
  const int N = 320, S = 5;
  double *A = malloc(sizeof(double) * N * N), *q = malloc(sizeof(double) * N * S),
         *w = malloc(sizeof(double) * N * S), *ref = malloc(sizeof(double) * N * S);
  ck_assert_int_eq(h2_custom_matrix(N, A), 0);
  for (int s = 0; s < S; s++) h2_rte_sample_mus(3, s, N, q + s * N, NULL);
  ck_assert_int_eq(h2_custom_apply(N, A, q, S, w), 0);
  double ss = 0;
  for (int s = 0; s < S; s++)
    for (int i = 0; i < N; i++) {
      double xi = (i + 0.5) / N, acc = 0;
      for (int j = 0; j < N; j++) {
        if (j == i) continue;
        double xj = (j + 0.5) / N;
        acc += (xi + xj) * (xi + xj) / (pow(N, 5) * fabs(xi - xj)) * q[s * N + j];
      }
      ref[s * N + i] = acc;
      ss += acc * acc;
    }
  for (int k = 0; k < N * S; k++)
    ck_assert_msg(fabs(w[k] - ref[k]) <= 1e-12 * fabs(ref[k]), "entry %d: %.17g vs %.17g", k,
                  w[k], ref[k]);
  for (int i = 0; i < N; i++) {
    ck_assert(A[i * N + i] == 0.0);
    for (int j = 0; j < i; j++) ck_assert(A[i * N + j] == A[j * N + i]);
  }
  double rms = sqrt(ss / (N * S));
  ck_assert_msg(rms > 3e-10 && rms < 1.2e-9, "custom output RMS %g, expected ~6e-10", rms);
  ck_assert_int_ne(h2_custom_matrix(1, A), 0);
  free(A);
  free(q);
  free(w);
  free(ref);
}
END_TEST

/* Point counts (nearest m^d grid, m >= 2), coordinates and error cases. */
START_TEST(test_geometry) {
  int64_t c;
  ck_assert_int_eq(h2_geometry_count(H2_GEOM_GRID, 1, 100, &c), 0);
  ck_assert_int_eq(c, 100);
  ck_assert_int_eq(h2_geometry_count(H2_GEOM_GRID, 2, 1000, &c), 0);
  ck_assert_int_eq(c, 1024);
  ck_assert_int_eq(h2_geometry_count(H2_GEOM_GRID, 3, 1000, &c), 0);
  ck_assert_int_eq(c, 1000);
  ck_assert_int_eq(h2_geometry_count(H2_GEOM_GRID, 3, 30, &c), 0);
  ck_assert_int_eq(c, 27);
  ck_assert_int_eq(h2_geometry_count(H2_GEOM_GRID, 2, 2, &c), 0);
  ck_assert_int_eq(c, 4);
  ck_assert_int_eq(h2_geometry_count(H2_GEOM_GRID, 2, 1000000, &c), 0);
  ck_assert_int_eq(c, 1000000);
  ck_assert_int_eq(h2_geometry_count(H2_GEOM_RANDOM, 3, 777, &c), 0);
  ck_assert_int_eq(c, 777);
  ck_assert_int_ne(h2_geometry_count(H2_GEOM_SPHERE, 2, 100, &c), 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "sphere"));
  ck_assert_int_ne(h2_geometry_count(H2_GEOM_GRID, 4, 100, &c), 0);
  h2_geometry g;
  ck_assert_int_ne(h2_geometry_parse("cube", &g), 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "cube"));
  ck_assert_int_eq(h2_geometry_parse("sphere", &g), 0);
  ck_assert_int_eq(g, H2_GEOM_SPHERE);

  /* grid: 1-D is the RTE grid; 2-D first coordinate fastest */
  double p1[8], p2[16 * 2];
  ck_assert_int_eq(h2_geometry_points(H2_GEOM_GRID, 1, 8, 0, p1), 0);
  for (int i = 0; i < 8; i++) ck_assert(fabs(p1[i] - (i + 0.5) / 8) < 1e-15);
  ck_assert_int_eq(h2_geometry_points(H2_GEOM_GRID, 2, 16, 0, p2), 0);
  ck_assert(fabs(p2[2 * 1 + 0] - 0.375) < 1e-15 && fabs(p2[2 * 1 + 1] - 0.125) < 1e-15);
  ck_assert(fabs(p2[2 * 4 + 0] - 0.125) < 1e-15 && fabs(p2[2 * 4 + 1] - 0.375) < 1e-15);

  /* sphere: unit norm, z spread over (-1, 1), mean ~ 0 */
  const int M = 500;
  double *ps = malloc(sizeof(double) * M * 3), *pr = malloc(sizeof(double) * M * 3),
         *pr2 = malloc(sizeof(double) * M * 3);
  ck_assert_int_eq(h2_geometry_points(H2_GEOM_SPHERE, 3, M, 0, ps), 0);
  double mean[3] = {0, 0, 0};
  for (int i = 0; i < M; i++) {
    double r = sqrt(ps[3 * i] * ps[3 * i] + ps[3 * i + 1] * ps[3 * i + 1] +
                    ps[3 * i + 2] * ps[3 * i + 2]);
    ck_assert(fabs(r - 1) < 1e-14);
    for (int k = 0; k < 3; k++) mean[k] += ps[3 * i + k] / M;
  }
  for (int k = 0; k < 3; k++) ck_assert_msg(fabs(mean[k]) < 0.01, "sphere mean %g", mean[k]);

  /* random: in [0,1)^3, seeded, reproducible */
  ck_assert_int_eq(h2_geometry_points(H2_GEOM_RANDOM, 3, M, 5, pr), 0);
  ck_assert_int_eq(h2_geometry_points(H2_GEOM_RANDOM, 3, M, 5, pr2), 0);
  ck_assert_int_eq(memcmp(pr, pr2, sizeof(double) * M * 3), 0);
  ck_assert_int_eq(h2_geometry_points(H2_GEOM_RANDOM, 3, M, 6, pr2), 0);
  ck_assert_int_ne(memcmp(pr, pr2, sizeof(double) * M * 3), 0);
  double m = 0;
  for (int i = 0; i < 3 * M; i++) {
    ck_assert(pr[i] >= 0 && pr[i] < 1);
    m += pr[i] / (3 * M);
  }
  ck_assert(fabs(m - 0.5) < 0.03);
  free(ps);
  free(pr);
  free(pr2);
}
END_TEST

/* Kernel name parsing with a clear error. */
START_TEST(test_kernel_parse) {
  int k;
  ck_assert_int_eq(h2_datagen_kernel_parse("log", &k), 0);
  ck_assert_int_eq(k, H2_KERNEL_LOG);
  ck_assert_int_eq(h2_datagen_kernel_parse("gaussian", &k), 0);
  ck_assert_int_eq(k, H2_KERNEL_GAUSSIAN);
  ck_assert_int_ne(h2_datagen_kernel_parse("laplace", &k), 0);
  ck_assert_ptr_nonnull(strstr(h2_error_message(), "laplace"));
}
END_TEST

/* The dense reference product (blocked rows + GEMM) equals a direct double
 * loop for every kernel, including N large enough for several row blocks;
 * the diagonal contributes nothing. */
START_TEST(test_kernel_dense_vs_loop) {
  const char *names[3] = {"log", "inverse", "gaussian"};
  const int Ns[2] = {150, 2100}, S = 2;
  for (int t = 0; t < 2; t++) {
    const int N = Ns[t], d = t == 0 ? 2 : 3;
    double *p = malloc(sizeof(double) * N * d), *q = malloc(sizeof(double) * N * S),
           *w = malloc(sizeof(double) * N * S), *ref = malloc(sizeof(double) * N * S);
    ck_assert_int_eq(h2_geometry_points(H2_GEOM_RANDOM, d, N, 11, p), 0);
    for (int s = 0; s < S; s++) h2_datagen_bumps(p, N, d, 4, s, q + s * N);
    for (int kk = 0; kk < 3; kk++) {
      ck_assert_int_eq(h2_datagen_kernel_dense(names[kk], p, N, d, q, S, w), 0);
      for (int s = 0; s < S; s++)
        for (int i = 0; i < N; i++) {
          double acc = 0;
          for (int j = 0; j < N; j++) {
            if (j == i) continue;
            double r2 = 0;
            for (int c = 0; c < d; c++) r2 += pow(p[i * d + c] - p[j * d + c], 2);
            double r = sqrt(r2);
            double kv = kk == 0 ? -log(r) : kk == 1 ? 1.0 / r : exp(-r2 / (2 * H2_GAUSSIAN_SIGMA * H2_GAUSSIAN_SIGMA));
            acc += kv * q[s * N + j];
          }
          ref[s * N + i] = acc;
        }
      double e = rel_l2(w, ref, (int64_t)N * S);
      ck_assert_msg(e < 1e-13, "kernel %s N=%d: rel error %g", names[kk], N, e);
    }
    free(p);
    free(q);
    free(w);
    free(ref);
  }
  double p[2] = {0, 1}, q[2] = {1, 1}, w[2];
  ck_assert_int_ne(h2_datagen_kernel_dense("nope", p, 2, 1, q, 1, w), 0);
}
END_TEST

/* Bump inputs: finite, non-zero, a pure function of (seed, sample),
 * different between samples. */
START_TEST(test_bumps) {
  const int N = 400, d = 2;
  double *p = malloc(sizeof(double) * N * d), *a = malloc(sizeof(double) * N),
         *b = malloc(sizeof(double) * N);
  ck_assert_int_eq(h2_geometry_points(H2_GEOM_GRID, d, N, 0, p), 0);
  for (int s = 0; s < 50; s++) {
    h2_datagen_bumps(p, N, d, 9, s, a);
    double nrm = 0;
    for (int i = 0; i < N; i++) {
      ck_assert(isfinite(a[i]));
      nrm += a[i] * a[i];
    }
    ck_assert(nrm > 1e-6);
  }
  h2_datagen_bumps(p, N, d, 9, 7, a);
  h2_datagen_bumps(p, N, d, 9, 8, b);
  ck_assert_int_ne(memcmp(a, b, sizeof(double) * N), 0);
  h2_datagen_bumps(p, N, d, 9, 7, b);
  ck_assert_int_eq(memcmp(a, b, sizeof(double) * N), 0);
  free(p);
  free(a);
  free(b);
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("datagen");
  TCase *tc = tcase_create("datagen");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_custom_vs_loop);
  tcase_add_test(tc, test_geometry);
  tcase_add_test(tc, test_kernel_parse);
  tcase_add_test(tc, test_kernel_dense_vs_loop);
  tcase_add_test(tc, test_bumps);
  suite_add_tcase(s, tc);
  return s;
}
