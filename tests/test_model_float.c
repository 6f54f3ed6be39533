/* test_model_float.c — the float32 training build: Chebyshev exactness at
 * float rounding level, and Adam training on a small synthetic linear
 * operator (a smooth kernel) lowering the relative error at least 10x. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/core/adam.h"
#include "h2nn/model/cheb.h"
#include "h2nn/core/kernel.h"
#include "model_common.h"

START_TEST(exact_float_1d) {
  const int N = 1000, nb = 2, p = 8;
  double *x = tm_points(N, 1, 1, 0);
  h2_model m;
  h2_model_config cfg = tm_config(16, p, 1);
  ck_assert_int_eq(h2_model_build(&m, x, N, 1, &cfg, nb, NULL), 0);
  real *par = calloc((size_t)m.nparams, sizeof(real));
  ck_assert_int_eq(h2_cheb_set_weights(&m, H2_KERNEL_LOG, par), 0);
  for (int64_t i = 0; i < (int64_t)N * nb; i++) m.zc[0][i] = (real)tm_uniform((uint64_t)i, 4);
  h2_model_forward(&m, par, nb);
  double num = 0, den = 0;
  for (int s = 0; s < N; s++)
    for (int c = 0; c < nb; c++) {
      double ref = 0;
      for (int u = 0; u < N; u++) ref += h2_kernel_eval(H2_KERNEL_LOG, m.tree.xt + s, m.tree.xt + u, 1) * m.zc[0][(int64_t)u * nb + c];
      num += (m.zc[1][(int64_t)s * nb + c] - ref) * (m.zc[1][(int64_t)s * nb + c] - ref);
      den += ref * ref;
    }
  double e = sqrt(num / den);
  fprintf(stderr, "exactness float32 1-D (N=1000, p=8): %.3e\n", e);
  ck_assert_msg(e < 2e-5, "float32 exactness %.3e (expected float rounding level)", e);
  free(par), free(x);
  h2_model_free(&m);
}
END_TEST

/* inputs: sums of 3 random bumps; outputs: the dense Gaussian-kernel product / N
 * (a local smooth operator; the long-range log kernel needs more than a few
 * hundred iterations from a Xavier start) */
static void make_samples(const double *xt, int N, int count, uint32_t stream, real *q, real *w) {
  for (int s = 0; s < count; s++)
    for (int i = 0; i < N; i++) {
      double v = 0;
      for (int b = 0; b < 3; b++) {
        double c = h2_rng_uniform(3, stream, (uint32_t)s, (uint64_t)b), a = tm_uniform((uint64_t)(s * 8 + b), stream);
        v += a * exp(-(xt[i] - c) * (xt[i] - c) / 0.005);
      }
      q[(int64_t)i * count + s] = (real)v;
    }
  for (int i = 0; i < N; i++)
    for (int s = 0; s < count; s++) {
      double v = 0;
      for (int u = 0; u < N; u++) v += h2_kernel_eval(H2_KERNEL_GAUSSIAN, xt + i, xt + u, 1) * q[(int64_t)u * count + s];
      w[(int64_t)i * count + s] = (real)(v / N);
    }
}

static double mean_error(h2_model *m, const real *par, const real *q, const real *w, int count) {
  memcpy(m->zc[0], q, sizeof(real) * (size_t)m->N * count);
  h2_model_forward(m, par, count);
  double sums[2 * 256], err = 0;
  h2_loss_partial(m, w, NULL, count, sums);
  h2_loss_finish(m, w, count, sums, count, 0, &err);
  return err / count;
}

START_TEST(training_reduces_error) {
  const int N = 96, B = 32, ntrain = 256, ntest = 64, iters = 400;
  double *x = tm_points(N, 1, 1, 0);
  h2_model m;
  h2_model_config cfg = tm_config(8, 4, 3);
  ck_assert_int_eq(h2_model_build(&m, x, N, 1, &cfg, ntrain, NULL), 0);
  real *q = malloc(sizeof(real) * N * ntrain), *w = malloc(sizeof(real) * N * ntrain);
  real *qt = malloc(sizeof(real) * N * ntest), *wt = malloc(sizeof(real) * N * ntest);
  make_samples(m.tree.xt, N, ntrain, 1, q, w);
  make_samples(m.tree.xt, N, ntest, 2, qt, wt);
  /* docs/design.md §3 normalisation: one RMS scale for inputs, one for outputs */
  double sq = 0, sw = 0;
  for (int64_t i = 0; i < (int64_t)N * ntrain; i++) sq += (double)q[i] * q[i], sw += (double)w[i] * w[i];
  real iq = (real)(1 / sqrt(sq / ((double)N * ntrain))), iw = (real)(1 / sqrt(sw / ((double)N * ntrain)));
  for (int64_t i = 0; i < (int64_t)N * ntrain; i++) q[i] *= iq, w[i] *= iw;
  for (int64_t i = 0; i < (int64_t)N * ntest; i++) qt[i] *= iq, wt[i] *= iw;
  int64_t n = m.nparams;
  real *par = calloc(n, sizeof(real)), *g = calloc(n, sizeof(real)), *mm = calloc(n, sizeof(real)), *vv = calloc(n, sizeof(real));
  h2_model_init_xavier(&m, par);
  double e0 = mean_error(&m, par, qt, wt, ntest);
  h2_adam opt = {.lr = 0.0025, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-5};
  real *bq = malloc(sizeof(real) * N * B), *bw = malloc(sizeof(real) * N * B);
  int64_t order[256];
  for (int it = 0; it < iters; it++) {
    if (it % (ntrain / B) == 0) h2_rng_shuffle(order, ntrain, 1, (uint64_t)(it / (ntrain / B)));
    for (int s = 0; s < B; s++) {
      int64_t src = order[(it % (ntrain / B)) * B + s];
      for (int i = 0; i < N; i++) bq[i * B + s] = q[i * ntrain + src], bw[i * B + s] = w[i * ntrain + src];
    }
    memcpy(m.zc[0], bq, sizeof(real) * N * B);
    h2_model_forward(&m, par, B);
    double sums[64];
    h2_loss_partial(&m, bw, NULL, B, sums);
    h2_loss_finish(&m, bw, B, sums, B, 1, NULL);
    memset(g, 0, sizeof(real) * n);
    h2_model_backward(&m, par, g, B, 0, NULL);
    h2_adam_step(&opt, par, g, mm, vv, n);
  }
  double e1 = mean_error(&m, par, qt, wt, ntest);
  fprintf(stderr, "training: test error %.4f -> %.4f after %d iterations\n", e0, e1, iters);
  ck_assert_msg(e1 * 10 <= e0, "test error only went from %.4f to %.4f", e0, e1);
  free(q), free(w), free(qt), free(wt), free(par), free(g), free(mm), free(vv), free(bq), free(bw), free(x);
  h2_model_free(&m);
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("model_float");
  TCase *tc = tcase_create("model_float");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, exact_float_1d);
  tcase_add_test(tc, training_reduces_error);
  suite_add_tcase(s, tc);
  return s;
}
