/* rte.c — docs/datasets.md §1: fast E1, the slab-RTE kernel, the dense solve and
 * the mu_s sampler.  See rte.h for the contract.
 *
 * E1 / G evaluation (all branch-free inside a block so that gcc vectorises):
 *   0 < t < 1   E1 = Ein(t) - gamma - ln t with the entire series
 *               Ein(t) = sum_k (-1)^{k+1} t^k / (k k!)  (20 terms);
 *   1 <= t < 32 h(t) = 1 - t e^t E1(t) from a degree-20 Chebyshev series on
 *               each octave [2^k, 2^{k+1}); E1 = e^{-t}(1-h)/t, G = -e^{-t} h;
 *   t >= 32     continued fraction (scalar, not used by the RTE kernel).
 * ln and exp are inline polynomial versions (~1 ulp) so the loops contain
 * no library calls.  The Chebyshev coefficients were computed in long
 * double from the continued fraction e^t E1(t) = 1/(t+1-1/(t+3-4/(t+5-...)))
 * and are exact to ~1e-18; tests compare against GSL. */
#include "h2nn/gen/rte.h"

#include "h2nn/util/error.h"
#include "h2nn/util/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK (Fortran symbols of OpenBLAS; hidden string lengths last). */
extern void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);
extern void dgetrs_(const char *trans, const int *n, const int *nrhs, const double *a,
                    const int *lda, const int *ipiv, double *b, const int *ldb, int *info,
                    size_t trans_len);

#define EULER_GAMMA 0.57721566490153286060651209008240243
#define LN2_HI 6.93147180369123816490e-01 /* low 32 bits zero: n*LN2_HI exact */
#define LN2_LO 1.90821492927058770002e-10
#define INV_LN2 1.44269504088896338700e+00
#define SHIFT52 6755399441055744.0 /* 1.5 * 2^52: round-to-integer shifter */
#define BLOCK 256

/* h(t) = 1 - t e^t E1(t) on [2^k, 2^{k+1}), k = 0..4, as
 * c_0 + sum_j c_j T_j(x), x = 2 t / 2^k - 3 (c_0 already halved). */
static const double e1_cheb[5][21] = {
  {
    3.33970952141066187e-01, -6.24252884386376903e-02, 6.43997152258447603e-03,
    -7.18810496529941721e-04, 8.53714899101012585e-05, -1.06483809755704569e-05,
    1.38091354175465773e-06, -1.84779341750385465e-07, 2.53646396547250783e-08,
    -3.55601156452209707e-09, 5.07411530900903085e-10, -7.34927520070619076e-11,
    1.07815220416906010e-11, -1.59923804799892494e-12, 2.39512912880214014e-13,
    -3.61761029390051531e-14, 5.50517120903376220e-15, -8.43409340305946442e-16,
    1.30031415864796662e-16, -2.01576900787578395e-17, 3.09505838926721344e-18}, /* [1, 2) */
  {
    2.19764099024144356e-01, -5.05791115773212740e-02, 6.11380646644687089e-03,
    -7.69865860518743002e-04, 1.00295436898568230e-04, -1.34417232361346643e-05,
    1.84479252853481629e-06, -2.58316921358534224e-07, 3.67935862200071057e-08,
    -5.31802543630606868e-09, 7.78440911513108734e-10, -1.15209517043113850e-10,
    1.72167116184075036e-11, -2.59489409567246771e-12, 3.94078609263111279e-13,
    -6.02544781376414956e-14, 9.26915099850548346e-15, -1.43378961047629927e-15,
    2.22912813695966966e-16, -3.48223714945715412e-17, 5.43371635663633668e-18}, /* [2, 4) */
  {
    1.33195162656601379e-01, -3.57295123559264193e-02, 4.89592455352156932e-03,
    -6.83482009642727880e-04, 9.69766318126882263e-05, -1.39563646890416114e-05,
    2.03372771463995971e-06, -2.99633823733969760e-07, 4.45782398428819670e-08,
    -6.68997521786495161e-09, 1.01180566804643182e-09, -1.54098167852443534e-10,
    2.36172169192228737e-11, -3.64026431077702655e-12, 5.64007685481771005e-13,
    -8.77986855751290447e-14, 1.37267935970545370e-14, -2.15464302419344188e-15,
    3.39467088337000455e-16, -5.36608077579808079e-17, 8.50082265864415820e-18}, /* [4, 8) */
  {
    7.53741872925518597e-02, -2.24260469048216175e-02, 3.36328542469724667e-03,
    -5.08112072411938990e-04, 7.72771872860462565e-05, -1.18245092107032277e-05,
    1.81939810132579205e-06, -2.81373426777335818e-07, 4.37188871425779951e-08,
    -6.82220873580202978e-09, 1.06882566612404244e-09, -1.68068214291514252e-10,
    2.65182588859350885e-11, -4.19740075233528869e-12, 6.66342095518142547e-13,
    -1.06074208729265047e-13, 1.69293544433719509e-14, -2.70844184719601280e-15,
    4.34300473595118294e-16, -6.97885268319395000e-17, 1.12337744629601582e-17}, /* [8, 16) */
  {
    4.05645356575876073e-02, -1.28700930556328371e-02, 2.04713809150251721e-03,
    -3.26439869980481153e-04, 5.21777967340087746e-05, -8.35864090276154873e-06,
    1.34183297652986791e-06, -2.15835924329917100e-07, 3.47828260714736247e-08,
    -5.61537387017078125e-09, 9.08082083983479104e-10, -1.47084513617083702e-10,
    2.38599537123451711e-11, -3.87615225764452280e-12, 6.30566078850894069e-13,
    -1.02714306430797464e-13, 1.67523421333294576e-14, -2.73552932557449488e-15,
    4.47208196920089764e-16, -7.31897876316391430e-17, 1.19877396651348923e-17} /* [16, 32) */
};

/* (-1)^{k+1} / (k k!), k = 1..20. */
static const double ein_coef[20] = {
    1.00000000000000000e+00, -2.50000000000000000e-01, 5.55555555555555556e-02,
    -1.04166666666666667e-02, 1.66666666666666667e-03, -2.31481481481481481e-04,
    2.83446712018140590e-05, -3.10019841269841270e-06, 3.06192435822065452e-07,
    -2.75573192239858907e-08, 2.27746439867651989e-09, -1.73972974898900825e-10,
    1.23531106437089343e-11, -8.19338971266408908e-13, 5.09810915454654432e-14,
    -2.98717333274211581e-15, 1.65379838490912986e-16, -8.67733720477012581e-18,
    4.32665012980227880e-19, -2.05515881165608243e-20};

static inline uint64_t d2u(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}
static inline double u2d(uint64_t u) {
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* ln t for normal t > 0 (~1 ulp): t = 2^e m, m in [sqrt(1/2), sqrt 2),
 * ln m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716. */
static inline double log_fast(double t) {
  uint64_t b = d2u(t);
  /* exponent as a double without int->double conversion: 2^52 + field */
  double ed = u2d(UINT64_C(0x4330000000000000) | (b >> 52)) - (4503599627370496.0 + 1023.0);
  double m = u2d((b & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3ff0000000000000));
  int big = m > 1.41421356237309504880;
  m = big ? 0.5 * m : m;
  ed = big ? ed + 1.0 : ed;
  double s = (m - 1.0) / (m + 1.0), z = s * s;
  double p = 2.0 / 23;
  p = p * z + 2.0 / 21;
  p = p * z + 2.0 / 19;
  p = p * z + 2.0 / 17;
  p = p * z + 2.0 / 15;
  p = p * z + 2.0 / 13;
  p = p * z + 2.0 / 11;
  p = p * z + 2.0 / 9;
  p = p * z + 2.0 / 7;
  p = p * z + 2.0 / 5;
  p = p * z + 2.0 / 3;
  /* ln m = 2 s + s z p' with p' the tail; keep 2s exact-ish first */
  double lm = 2.0 * s + s * (z * p);
  return ed * LN2_HI + (lm + ed * LN2_LO);
}

/* e^x for -708 < x < 708 (~1 ulp): x = n ln2 + r, |r| <= ln2/2, Taylor(13). */
static inline double exp_fast(double x) {
  double kd = x * INV_LN2 + SHIFT52;
  uint64_t kb = d2u(kd);
  kd -= SHIFT52;
  double r = x - kd * LN2_HI - kd * LN2_LO;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  /* 2^n: the low bits of kb hold n (two's complement) */
  double scale = u2d((kb - UINT64_C(0x4338000000000000) + 1023) << 52);
  return p * scale;
}

/* E1 for 0 < t < 1 (series). */
static inline double e1_small(double t) {
  double p = ein_coef[19];
#pragma GCC unroll 32
  for (int k = 18; k >= 0; k--) p = p * t + ein_coef[k];
  return p * t - EULER_GAMMA - log_fast(t);
}

/* h(t) = 1 - t e^t E1(t) for 1 <= t < 32. */
static inline double h_cheb(double t) {
  uint64_t b = d2u(t);
  int k = (int)(b >> 52) - 1023;
  double m = u2d((b & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3ff0000000000000));
  double x = 2.0 * m - 3.0, x2 = 2.0 * x;
  const double *c = e1_cheb[k];
  double b1 = 0, b2 = 0;
#pragma GCC unroll 32
  for (int j = 20; j >= 1; j--) {
    double b0 = c[j] + x2 * b1 - b2;
    b2 = b1;
    b1 = b0;
  }
  return c[0] + x * b1 - b2;
}

/* e^t E1(t) for t >= 32 (continued fraction, 30 levels is exact there). */
static double e1_scaled_cf(double t) {
  double f = t + 61.0;
  for (int k = 30; k >= 1; k--) f = t + 2.0 * k - 1.0 - (double)k * k / f;
  return 1.0 / f;
}

double h2_e1_scalar(double t) {
  if (!(t > 0)) return t == 0 || t < 0 ? INFINITY : t; /* NaN stays NaN */
  if (t < 1) return e1_small(t);
  if (t < 32) return exp_fast(-t) * (1.0 - h_cheb(t)) / t;
  if (t > 745) return 0.0;
  return exp(-t) * e1_scaled_cf(t);
}

double h2_rte_G_scalar(double t) {
  if (t == 0) return -1.0;
  if (!(t > 0)) return NAN;
  if (t < 1) return t * e1_small(t) - exp_fast(-t);
  if (t < 32) return -exp_fast(-t) * h_cheb(t);
  if (t > 745) return 0.0;
  return -exp(-t) * (1.0 - t * e1_scaled_cf(t));
}

/* Classify a block: 0 = all in [0,1), 1 = all in [1,32), 2 = mixed/other. */
static int block_kind(const double *t, int64_t n) {
  int small = 1, mid = 1;
  for (int64_t i = 0; i < n; i++) {
    small &= t[i] >= 0 && t[i] < 1;
    mid &= t[i] >= 1 && t[i] < 32;
  }
  return small ? 0 : mid ? 1 : 2;
}

void h2_e1(const double *restrict t, double *restrict e1, int64_t n) {
  for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
    int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
    const double *restrict tb = t + i0;
    double *restrict ob = e1 + i0;
    switch (block_kind(tb, m)) {
      case 0:
        for (int64_t i = 0; i < m; i++) {
          double ti = tb[i] > 0 ? tb[i] : 1.0;
          double v = e1_small(ti);
          ob[i] = tb[i] > 0 ? v : INFINITY;
        }
        break;
      case 1:
        for (int64_t i = 0; i < m; i++) ob[i] = exp_fast(-tb[i]) * (1.0 - h_cheb(tb[i])) / tb[i];
        break;
      default:
        for (int64_t i = 0; i < m; i++) ob[i] = h2_e1_scalar(tb[i]);
    }
  }
}

void h2_rte_G(const double *restrict t, double *restrict g, int64_t n) {
  for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
    int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
    const double *restrict tb = t + i0;
    double *restrict ob = g + i0;
    switch (block_kind(tb, m)) {
      case 0:
        for (int64_t i = 0; i < m; i++) {
          double ti = tb[i] > 0 ? tb[i] : 1.0;
          double v = ti * e1_small(ti) - exp_fast(-ti);
          ob[i] = tb[i] > 0 ? v : -1.0;
        }
        break;
      case 1:
        for (int64_t i = 0; i < m; i++) ob[i] = -exp_fast(-tb[i]) * h_cheb(tb[i]);
        break;
      default:
        for (int64_t i = 0; i < m; i++) ob[i] = h2_rte_G_scalar(tb[i]);
    }
  }
}

/* ------------------------------------------------------------------ kernel */

int h2_rte_ws_init(h2_rte_ws *ws, int N) {
  memset(ws, 0, sizeof *ws);
  if (N < 1) H2_FAIL(H2_EINPUT, "RTE grid: N must be at least 1, got %d", N);
  ws->N = N;
  H2_TRY(H2_MALLOC(ws->A, (size_t)N * N));
  H2_TRY(H2_MALLOC(ws->col, N));
  H2_TRY(H2_MALLOC(ws->tau, N));
  H2_TRY(H2_MALLOC(ws->mut, N));
  H2_TRY(H2_MALLOC(ws->arg, 2 * (size_t)N));
  H2_TRY(H2_MALLOC(ws->gv, 2 * (size_t)N));
  H2_TRY(H2_MALLOC(ws->ipiv, N));
  return 0;
}

void h2_rte_ws_free(h2_rte_ws *ws) {
  free(ws->A);
  free(ws->col);
  free(ws->tau);
  free(ws->mut);
  free(ws->arg);
  free(ws->gv);
  free(ws->ipiv);
  memset(ws, 0, sizeof *ws);
}

/* mu_t and the optical depth at the centres:
 * tau_i = h (sum_{k<i} mu_t,k + mu_t,i / 2). */
static int optical_depth(h2_rte_ws *ws, const double *mu_s) {
  int N = ws->N;
  double h = 1.0 / N, s = 0;
  for (int i = 0; i < N; i++) {
    if (!isfinite(mu_s[i]) || mu_s[i] < 0)
      H2_FAIL(H2_EINPUT, "RTE: mu_s[%d] = %g, expected a finite value >= 0", i, mu_s[i]);
    ws->mut[i] = mu_s[i] + H2_RTE_MU_A;
    ws->tau[i] = h * (s + 0.5 * ws->mut[i]);
    s += ws->mut[i];
  }
  return 0;
}

/* Column j of K into ws->col (docs/datasets.md §1, exactly as written there). */
static void kernel_column(h2_rte_ws *ws, int j) {
  const int N = ws->N;
  const double h = 1.0 / N, mutj = ws->mut[j], wj = mutj * h, half = 0.5 * wj;
  const double taj = ws->tau[j];
  const double *restrict tau = ws->tau;
  double *restrict lo = ws->arg, *restrict hi = ws->arg + N;
  double *restrict col = ws->col;
  int far = 0;
  for (int i = 0; i < N; i++) {
    double d = fabs(tau[i] - taj);
    double l = d - half;
    l = l > 0 ? l : 0.0;
    lo[i] = l;
    hi[i] = l + wj;
    far |= (d >= 5.0) | (l + wj >= 30.0);
  }
  h2_rte_G(ws->arg, ws->gv, 2 * (int64_t)N);
  const double *restrict glo = ws->gv, *restrict ghi = ws->gv + N;
  const double s = 0.5 / mutj;
  for (int i = 0; i < N; i++) col[i] = s * fabs(ghi[i] - glo[i]);
  if (far) {
    for (int i = 0; i < N; i++) {
      double d = fabs(tau[i] - taj);
      if (d >= 30.0)
        col[i] = 0.0;
      else if (d >= 5.0)
        col[i] = 0.5 * h2_e1_scalar(d) * h;
      else if (lo[i] >= 30.0 || hi[i] >= 30.0)
        col[i] = 0.0;
    }
  }
  col[j] = (h2_rte_G_scalar(half) + 1.0) / mutj;
}

int h2_rte_kernel(h2_rte_ws *ws, const double *mu_s, double *K) {
  int N = ws->N;
  H2_TRY(optical_depth(ws, mu_s));
  for (int j = 0; j < N; j++) {
    kernel_column(ws, j);
    for (int i = 0; i < N; i++) K[(size_t)i * N + j] = ws->col[i];
  }
  return 0;
}

int h2_rte_solve(h2_rte_ws *ws, const double *mu_s, double *u) {
  const int N = ws->N;
  H2_TRY(optical_depth(ws, mu_s));
  for (int i = 0; i < N; i++) u[i] = 0;
  /* A = I - K diag(mu_s) column by column; u accumulates K 1. */
  for (int j = 0; j < N; j++) {
    kernel_column(ws, j);
    const double *restrict col = ws->col;
    double *restrict a = ws->A + (size_t)j * N;
    const double ms = -mu_s[j];
    for (int i = 0; i < N; i++) {
      u[i] += col[i];
      a[i] = ms * col[i];
    }
    a[j] += 1.0;
  }
  int info = 0, one = 1;
  dgetrf_(&N, &N, ws->A, &N, ws->ipiv, &info);
  if (info < 0) H2_FAIL(H2_EINTERNAL, "RTE: dgetrf argument %d is illegal", -info);
  if (info > 0)
    H2_FAIL(H2_ENUM, "RTE: the system (I - K diag(mu_s)) is singular (dgetrf info %d, N = %d)",
            info, N);
  dgetrs_("N", &N, &one, ws->A, &N, ws->ipiv, u, &N, &info, 1);
  if (info != 0) H2_FAIL(H2_EINTERNAL, "RTE: dgetrs failed (info %d)", info);
  for (int i = 0; i < N; i++)
    if (!isfinite(u[i])) H2_FAIL(H2_ENUM, "RTE: solution u[%d] = %g is not finite", i, u[i]);
  return 0;
}

/* ------------------------------------------------------------------ sampler */

void h2_rte_add_bump(int N, double r, double c, double T, double *mu_s) {
  const double a = r / sqrt(2.0 * 3.14159265358979323846 * T), b = -0.5 / T, h = 1.0 / N;
  for (int i = 0; i < N; i++) {
    double x = (i + 0.5) * h - c;
    mu_s[i] += a * exp(b * x * x);
  }
}

void h2_rte_sample_mus(uint64_t seed, int64_t sample, int N, double *mu_s, double *params) {
  const uint32_t box = (uint32_t)sample;
  const uint64_t hi = (uint64_t)sample >> 32 << 32; /* keeps samples >= 2^32 distinct */
  uint64_t k = 0;
#define U() h2_rng_uniform(seed, H2_STREAM_DATA, box, hi | k++)
  double r1 = 0.1 + 0.2 * U();
  double r2 = 0.1 + 0.2 * U();
  double c1, c2;
  for (;;) {
    double u1 = U(), u2 = U();
    c1 = 0.2 + 0.6 * u1 * u1;
    c2 = 0.2 + 0.6 * u2 * u2;
    if (c1 > c2) {
      double t = c1;
      c1 = c2;
      c2 = t;
    }
    if (c2 - c1 >= 0.05) break;
  }
  double T = 2e-3 * (1.0 + U());
#undef U
  for (int i = 0; i < N; i++) mu_s[i] = 0;
  h2_rte_add_bump(N, r1, c1, T, mu_s);
  h2_rte_add_bump(N, r2, c2, T, mu_s);
  if (params) {
    params[0] = r1;
    params[1] = r2;
    params[2] = c1;
    params[3] = c2;
    params[4] = T;
  }
}
