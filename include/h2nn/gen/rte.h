/* rte.h — the 1-D radiative-transfer dataset of docs/datasets.md §1.
 *
 * Owns: a fast exponential integral E1 and G(t) = t E1(t) - e^{-t} over
 * arrays (branch-free, vectorisable, ~1e-16 relative on 0 < t < 32), the
 * discrete kernel K of the slab problem for a scattering profile mu_s, the
 * solve (I - K diag(mu_s)) u = K 1 with one LU factorisation per sample
 * (OpenBLAS LAPACK dgetrf/dgetrs), and the two-bump sampler of mu_s.
 *
 * Grid: N cells on [0,1], h = 1/N, centres x_i = (i + 1/2) h (0-based).
 * Absorption mu_a = H2_RTE_MU_A, source f = 1, vacuum boundaries. */
#ifndef H2NN_RTE_H
#define H2NN_RTE_H

#include <stdint.h>

#define H2_RTE_MU_A 0.2

/* E1(t) for t > 0 (t <= 0 gives +inf).  Relative error ~1e-16 for
 * 0 < t < 32 (series + Chebyshev pieces), continued fraction beyond. */
void h2_e1(const double *t, double *e1, int64_t n);
double h2_e1_scalar(double t);
/* G(t) = t E1(t) - exp(-t) for t >= 0, G(0) = -1; G' = E1. */
void h2_rte_G(const double *t, double *g, int64_t n);
double h2_rte_G_scalar(double t);

/* Work buffers for one grid size, reused across samples (no allocation
 * per sample).  Not shared between threads. */
typedef struct {
  int N;
  double *A;     /* N*N column-major: system matrix, then its LU factors */
  double *col;   /* N: one kernel column */
  double *tau;   /* N: optical depth at the cell centres */
  double *mut;   /* N: total attenuation mu_s + mu_a */
  double *arg;   /* 2N: G arguments (lo, hi) of one column */
  double *gv;    /* 2N: G values */
  int *ipiv;     /* N: LU pivots */
} h2_rte_ws;

int h2_rte_ws_init(h2_rte_ws *ws, int N);
void h2_rte_ws_free(h2_rte_ws *ws);

/* The N x N kernel K for mu_s (length N) into K, ROW-major
 * (K[i*N + j] = K_ij).  Uses ws's buffers. */
int h2_rte_kernel(h2_rte_ws *ws, const double *mu_s, double *K);

/* u (length N) solving (I - K diag(mu_s)) u = K 1.  Fails with H2_ENUM if
 * the system is singular or the solution is not finite. */
int h2_rte_solve(h2_rte_ws *ws, const double *mu_s, double *u);

/* mu_s at the N cell centres for sample `sample` of the dataset seeded
 * with `seed` (docs/datasets.md §1: two Gaussian bumps).  The draws are keyed
 * by (seed, H2_STREAM_DATA, sample, draw number) of rng.h, so a sample is
 * the same whatever the number of ranks and whichever rank draws it.
 * Draw order: r_1, r_2, then pairs (c_1, c_2) until |c_2 - c_1| >= 0.05
 * (then sorted), then T.  The parameters are returned when not NULL
 * (params = {r_1, r_2, c_1, c_2, T}, c_1 <= c_2). */
void h2_rte_sample_mus(uint64_t seed, int64_t sample, int N, double *mu_s, double *params);

/* One Gaussian bump r / sqrt(2 pi T) exp(-(x - c)^2 / (2T)) added to
 * mu_s at the N cell centres (used by the sampler and by tests). */
void h2_rte_add_bump(int N, double r, double c, double T, double *mu_s);

#endif
