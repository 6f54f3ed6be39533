/* test_model.c — the network in double precision: backward against finite
 * differences for every parameter group and the input (zeta 1 and 3, ragged
 * leaves, 1-D and 2-D, hidden layers wider than the outputs), forward exactness against the dense kernel product
 * with Chebyshev H2 weights (docs/design.md §6), Adam against hand-computed values. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/core/adam.h"
#include "h2nn/model/cheb.h"
#include "h2nn/core/kernel.h"
#include "h2nn/util/error.h"
#include "model_common.h"

/* loss(params, q) with target t: forward + loss */
static double eval_loss(h2_model *m, const real *params, const real *q, const real *t, int nb) {
  memcpy(m->zc[0], q, sizeof(real) * (size_t)m->N * nb);
  h2_model_forward(m, params, nb);
  double sums[64];
  h2_loss_partial(m, t, NULL, nb, sums);
  return h2_loss_finish(m, t, nb, sums, nb, 0, NULL);
}

typedef struct {
  const char *name;
  int64_t off, len;
} group;

/* Central difference of the loss in one coordinate v (a parameter or an
 * input), with the half step beside it. *err bounds the quotient's own
 * error: the two steps' difference (truncation) plus the loss's rounding
 * divided by the step, ~1e-14 |loss| / h (a few ulps of the loss, through
 * summation orders that differ between BLAS kernels; it dominates for
 * gradients far below the typical ones). With ReLU the loss is only piecewise smooth: a step
 * that straddles a kink gives a quotient that is no derivative, recognised
 * by the two steps disagreeing grossly; such a trial returns NAN. */
static double central_diff(h2_model *m, real *p, real *q, real *t, int nb, real *v, double h, double *err) {
  real save = *v;
  double fd[2], lmax = 0;
  for (int s = 0; s < 2; s++) {
    double hs = s ? h / 2 : h;
    *v = save + hs;
    double lp = eval_loss(m, p, q, t, nb);
    *v = save - hs;
    double lm = eval_loss(m, p, q, t, nb);
    fd[s] = (lp - lm) / (2 * hs);
    lmax = fmax(lmax, fmax(fabs(lp), fabs(lm)));
  }
  *v = save;
  double noise = 1e-14 * lmax / (h / 2), step = fabs(fd[0] - fd[1]);
  *err = step + noise;
  if (step > 1e-3 * (fabs(fd[0]) + fabs(fd[1])) + 10 * noise) return NAN;
  return fd[0];
}

/* the analytic derivative g against the quotient fd: 1e-5 relative, beyond
 * the quotient's own error bound est */
static double fd_mismatch(double fd, double g, double est) {
  double d = fabs(fd - g) - est;
  return d <= 0 ? 0 : d / (fabs(fd) + fabs(g) + 1e-7);
}

/* hidden: width of the hidden layers of every map (0: the box's own width) */
static void gradcheck(int N, int d, int leaf, int rank, int zeta, int act, int hidden) {
  double *x = tm_points(N, d, 0, 5);
  h2_model m;
  h2_model_config cfg = tm_config(leaf, rank, zeta);
  cfg.activation = act;
  cfg.close_hidden = cfg.far_hidden = hidden;
  const int nb = 3;
  ck_assert_int_eq(h2_model_build(&m, x, N, d, &cfg, nb, NULL), 0);
  ck_assert_msg(m.has_far && m.L - m.lmin >= 2, "test needs several far levels (L=%d lmin=%d)", m.L, m.lmin);
  if (hidden > leaf) ck_assert_msg(m.dscr[1] != NULL, "hidden %d > leaf %d needs a second hidden-gradient buffer", hidden, leaf);
  real *p = calloc((size_t)m.nparams, sizeof(real)), *g = calloc((size_t)m.nparams, sizeof(real));
  ck_assert_int_eq(h2_model_init_xavier(&m, p), 0);
  /* non-zero biases so ReLUs sit at varied places */
  for (int64_t i = 0; i < m.nparams; i++)
    if (p[i] == 0) p[i] = 0.1 * tm_uniform((uint64_t)i, 3);
  real *q = malloc(sizeof(real) * (size_t)N * nb), *t = malloc(sizeof(real) * (size_t)N * nb);
  for (int64_t i = 0; i < (int64_t)N * nb; i++) q[i] = tm_uniform((uint64_t)i, 1), t[i] = tm_uniform((uint64_t)i, 2);
  /* analytic */
  memcpy(m.zc[0], q, sizeof(real) * (size_t)N * nb);
  h2_model_forward(&m, p, nb);
  double sums[64];
  h2_loss_partial(&m, t, NULL, nb, sums);
  h2_loss_finish(&m, t, nb, sums, nb, 1, NULL);
  h2_model_backward(&m, p, g, nb, 1, NULL);
  real *dq = malloc(sizeof(real) * (size_t)N * nb);
  memcpy(dq, m.dq, sizeof(real) * (size_t)N * nb);

  group groups[64];
  int ng = 0;
  for (int k = 1; k <= zeta; k++) {
    groups[ng++] = (group){"close W", m.off_close + BS_WOFF(&m.close, k, 0), BS_BOFF(&m.close, k, 0) - BS_WOFF(&m.close, k, 0)};
    groups[ng++] = (group){"close b", m.off_close + BS_BOFF(&m.close, k, 0), m.close.nrows};
  }
  for (int l = m.lmin; l <= m.L; l++) {
    h2_bsmap *f = &m.far[l];
    if (!f->active) continue;
    for (int k = 1; k <= zeta; k++) {
      groups[ng++] = (group){"far W", m.off_far[l] + BS_WOFF(f, k, 0), BS_BOFF(f, k, 0) - BS_WOFF(f, k, 0)};
      groups[ng++] = (group){"far b", m.off_far[l] + BS_BOFF(f, k, 0), (int64_t)f->nrows * BS_W(f, k, 0)};
    }
  }
  groups[ng++] = (group){"leaf V", m.off_V, m.n_params_V};
  groups[ng++] = (group){"leaf U", m.off_U, m.n_params_V};
  for (int l = m.lmin + 1; l <= m.L; l++) {
    groups[ng++] = (group){"transfer T", m.off_T[l], (int64_t)(1 << l) * rank * rank};
    groups[ng++] = (group){"transfer S", m.off_S[l], (int64_t)(1 << l) * rank * rank};
  }
  const double h = 1e-6;
  for (int gi = 0; gi < ng; gi++) {
    double worst = 0;
    int valid = 0;
    for (int trial = 0; trial < 12; trial++) {
      int64_t i = groups[gi].off + (int64_t)(h2_rng_uniform(1, 9, (uint32_t)gi, (uint64_t)trial) * groups[gi].len);
      double est, fd = central_diff(&m, p, q, t, nb, &p[i], h, &est);
      if (isnan(fd)) continue; /* the step straddles a ReLU kink */
      double err = fd_mismatch(fd, g[i], est);
      if (err > worst) worst = err;
      valid++;
    }
    ck_assert_msg(valid >= 8, "%s (zeta=%d d=%d): only %d of 12 trials on a smooth piece", groups[gi].name, zeta, d, valid);
    ck_assert_msg(worst < 1e-5, "%s (zeta=%d d=%d): FD mismatch %.3g", groups[gi].name, zeta, d, worst);
  }
  /* input gradient */
  double worst = 0;
  int valid = 0;
  for (int trial = 0; trial < 20; trial++) {
    int64_t i = (int64_t)(h2_rng_uniform(2, 9, 0, (uint64_t)trial) * N * nb);
    double est, fd = central_diff(&m, p, q, t, nb, &q[i], h, &est);
    if (isnan(fd)) continue;
    double err = fd_mismatch(fd, dq[i], est);
    if (err > worst) worst = err;
    valid++;
  }
  ck_assert_msg(valid >= 14, "input gradient (zeta=%d d=%d): only %d of 20 trials on a smooth piece", zeta, d, valid);
  ck_assert_msg(worst < 1e-5, "input gradient (zeta=%d d=%d): FD mismatch %.3g", zeta, d, worst);
  free(p), free(g), free(q), free(t), free(dq), free(x);
  h2_model_free(&m);
}

START_TEST(gradcheck_1d_zeta1) { gradcheck(203, 1, 7, 3, 1, H2_ACT_RELU, 0); }
END_TEST
START_TEST(gradcheck_1d_zeta3) { gradcheck(203, 1, 7, 3, 3, H2_ACT_RELU, 0); }
END_TEST
START_TEST(gradcheck_2d_zeta3) { gradcheck(301, 2, 6, 4, 3, H2_ACT_RELU, 0); }
END_TEST
START_TEST(gradcheck_tanh_hidden) { gradcheck(150, 1, 6, 2, 2, H2_ACT_TANH, 0); }
END_TEST
/* hidden layers wider than the maps' outputs: the backward pass then needs a
 * second hidden-gradient buffer per map instead of reusing the output's
 * (tanh: smooth, so the finite differences never straddle a ReLU kink) */
START_TEST(gradcheck_wide_hidden) { gradcheck(203, 1, 7, 3, 3, H2_ACT_TANH, 12); }
END_TEST

/* Exactness (docs/design.md §6): zeta = 1, Chebyshev H2 weights of the log kernel:
 * the forward pass equals the dense kernel product to interpolation accuracy. */
static double exactness(int N, int d, int leaf, int p) {
  double *x = tm_points(N, d, 1, 0);
  int r = 1;
  for (int c = 0; c < d; c++) r *= p;
  h2_model m;
  h2_model_config cfg = tm_config(leaf, r, 1);
  const int nb = 4;
  ck_assert_int_eq(h2_model_build(&m, x, N, d, &cfg, nb, NULL), 0);
  ck_assert(m.has_far && m.L - m.lmin >= 2);
  real *par = calloc((size_t)m.nparams, sizeof(real));
  ck_assert_int_eq(h2_cheb_set_weights(&m, H2_KERNEL_LOG, par), 0);
  real *q = m.zc[0];
  for (int64_t i = 0; i < (int64_t)N * nb; i++) q[i] = tm_uniform((uint64_t)i, 4);
  h2_model_forward(&m, par, nb);
  double num = 0, den = 0;
  for (int s = 0; s < N; s++)
    for (int c = 0; c < nb; c++) {
      double ref = 0;
      for (int u = 0; u < N; u++) ref += h2_kernel_eval(H2_KERNEL_LOG, m.tree.xt + s * d, m.tree.xt + u * d, d) * q[(int64_t)u * nb + c];
      double e = m.zc[1][(int64_t)s * nb + c] - ref;
      num += e * e;
      den += ref * ref;
    }
  free(par), free(x);
  h2_model_free(&m);
  return sqrt(num / den);
}

START_TEST(exact_1d) {
  double e = exactness(2000, 1, 20, 10);
  fprintf(stderr, "exactness 1-D (N=2000, p=10): %.3e\n", e);
  ck_assert_msg(e <= 1e-6, "1-D relative error %.3e > 1e-6", e);
}
END_TEST

START_TEST(exact_2d) {
  double e = exactness(48 * 48, 2, 40, 6);
  fprintf(stderr, "exactness 2-D (N=2304, p=6, r=36): %.3e\n", e);
  ck_assert_msg(e <= 1e-4, "2-D relative error %.3e > 1e-4", e);
}
END_TEST

/* Adam, two steps on two parameters, against values computed by hand:
 * step 1: m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2 -> p -= lr g/(|g|+eps)
 * step 2 with g2: m = 0.09 g + 0.1 g2, v = 0.000999 g^2 + 0.001 g2^2,
 *   mhat = m / 0.19, vhat = v / 0.001999. */
START_TEST(adam_hand_values) {
  h2_adam opt = {.lr = 0.0025, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-5, .step = 0};
  const real g1[2] = {0.5, -0.01}, g2[2] = {-0.25, 0.03};
  real p[2] = {1.0, -2.0}, g[2] = {g1[0], g1[1]}, mm[2] = {0}, vv[2] = {0};
  h2_adam_step(&opt, p, g, mm, vv, 2);
  ck_assert(g[0] == 0 && g[1] == 0); /* left zeroed for the next accumulation */
  ck_assert_double_eq_tol(p[0], 1.0 - 0.0025 * 0.5 / (0.5 + 1e-5), 1e-14);
  ck_assert_double_eq_tol(p[1], -2.0 + 0.0025 * 0.01 / (0.01 + 1e-5), 1e-14);
  /* the second step in two slices (the fused path) */
  g[0] = g2[0], g[1] = g2[1];
  h2_adam_begin(&opt);
  h2_adam_update(&opt, p + 1, g + 1, mm + 1, vv + 1, 1);
  h2_adam_update(&opt, p, g, mm, vv, 1);
  for (int i = 0; i < 2; i++) {
    double m2 = 0.09 * g1[i] + 0.1 * g2[i], v2 = 0.999 * 0.001 * g1[i] * g1[i] + 0.001 * g2[i] * g2[i];
    double p1 = i == 0 ? 1.0 - 0.0025 * 0.5 / (0.5 + 1e-5) : -2.0 + 0.0025 * 0.01 / (0.01 + 1e-5);
    double expect = p1 - 0.0025 * (m2 / 0.19) / (sqrt(v2 / (1 - 0.999 * 0.999)) + 1e-5);
    ck_assert_double_eq_tol(p[i], expect, 1e-13);
  }
  ck_assert_int_eq(opt.step, 2);
}
END_TEST

/* Same seed, same parameters; different seed, different parameters. */
START_TEST(init_deterministic) {
  double *x = tm_points(300, 1, 1, 0);
  h2_model m;
  h2_model_config cfg = tm_config(10, 4, 3);
  ck_assert_int_eq(h2_model_build(&m, x, 300, 1, &cfg, 2, NULL), 0);
  real *a = calloc((size_t)m.nparams, sizeof(real)), *b = calloc((size_t)m.nparams, sizeof(real));
  h2_model_init_xavier(&m, a);
  h2_model_init_xavier(&m, b);
  ck_assert_mem_eq(a, b, sizeof(real) * (size_t)m.nparams);
  /* Xavier bound respected for the first close block: a = sqrt(6/(fan_in+fan_out)) */
  double bound = sqrt(6.0 / (BS_ROWIN(&m.close, 1, 0) + 20.0));
  for (int64_t i = 0; i < BS_ROWIN(&m.close, 1, 0); i++) ck_assert(fabs(a[m.off_close + i]) <= bound);
  m.cfg.seed = 12;
  h2_model_init_xavier(&m, b);
  ck_assert(memcmp(a, b, sizeof(real) * (size_t)m.nparams) != 0);
  free(a), free(b), free(x);
  h2_model_free(&m);
}
END_TEST

/* h2_model_build_on (the planner's path: one geometry, many ranks' layouts)
 * gives every rank of a 16-rank model group the layout h2_model_build gives
 * it, in 1-D and 2-D (ragged leaves, coarse levels above p), and refuses a
 * geometry built with another leaf size. */
static void same_layout(int N, int d, int grid, int leaf) {
  double *x = tm_points(N, d, grid, 5);
  h2_model_config cfg = tm_config(leaf, 4, 3);
  cfg.layout_only = 1;
  h2_geometry g;
  ck_assert_int_eq(h2_geometry_build(&g, x, N, d, &cfg), 0);
  for (int mr = 0; mr < 16; mr++) {
    h2_partition part = {.comm = MPI_COMM_SELF, .pm = 16, .mrank = mr, .p = 4};
    h2_model a, b;
    ck_assert_int_eq(h2_model_build(&a, x, N, d, &cfg, 64, &part), 0);
    ck_assert_int_eq(h2_model_build_on(&b, &g, &cfg, 64, &part), 0);
    ck_assert(a.coarse == b.coarse && a.lmin == b.lmin && a.L == b.L);
    ck_assert(a.nparams == b.nparams && a.mem_len == b.mem_len);
    ck_assert(a.close.nrows == b.close.nrows && a.close.nslots == b.close.nslots);
    ck_assert(a.halo_close.nnb == b.halo_close.nnb && a.halo_close.sbuf_len == b.halo_close.sbuf_len);
    for (int l = a.lmin; l <= a.L; l++) {
      ck_assert(a.far[l].first_row == b.far[l].first_row && a.far[l].nslots == b.far[l].nslots);
      ck_assert(a.halo_far[l].nnb == b.halo_far[l].nnb && a.halo_far[l].sbuf_len == b.halo_far[l].sbuf_len);
    }
    ck_assert(a.co.nedge == b.co.nedge);
    ck_assert(h2_model_flops(&a) == h2_model_flops(&b) && h2_model_coarse_flops(&a) == h2_model_coarse_flops(&b));
    h2_model_free(&a);
    h2_model_free(&b); /* leaves g intact for the next rank */
  }
  cfg.leaf_size = leaf + 1;
  h2_model c;
  ck_assert_int_eq(h2_model_build_on(&c, &g, &cfg, 64, NULL), H2_EINPUT);
  h2_model_free(&c);
  h2_geometry_free(&g);
  free(x);
}

START_TEST(build_on_same_layout) {
  same_layout(777, 1, 1, 9);
  same_layout(1000, 2, 0, 23);
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("model");
  TCase *tc = tcase_create("model");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, gradcheck_1d_zeta1);
  tcase_add_test(tc, gradcheck_1d_zeta3);
  tcase_add_test(tc, gradcheck_2d_zeta3);
  tcase_add_test(tc, gradcheck_tanh_hidden);
  tcase_add_test(tc, gradcheck_wide_hidden);
  tcase_add_test(tc, exact_1d);
  tcase_add_test(tc, exact_2d);
  tcase_add_test(tc, adam_hand_values);
  tcase_add_test(tc, init_deterministic);
  tcase_add_test(tc, build_on_same_layout);
  suite_add_tcase(s, tc);
  return s;
}
