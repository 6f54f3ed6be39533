/* model.c — structure, layouts and the forward/backward passes of the H2
 * network (SPEC §2).  Math of each stage is in the comment above its loop. */
#include "h2nn/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/error.h"

static int leaf_n(const h2_model *m, int k) { return (int)m->tree.size[h2_box_id(m->L, k)]; }

int h2_model_map_widths(const h2_model *m, int l, int **out) {
  int close = l < 0, lev = close ? m->L : l, nboxes = 1 << lev, zeta = m->zeta;
  int *w;
  H2_TRY(H2_MALLOC(w, (int64_t)(zeta + 1) * nboxes));
  for (int k = 0; k <= zeta; k++)
    for (int b = 0; b < nboxes; b++) {
      int own = close ? leaf_n(m, b) : m->r;
      int hid = close ? m->cfg.close_hidden : m->cfg.far_hidden;
      w[(int64_t)k * nboxes + b] = (k == 0 || k == zeta || hid <= 0) ? own : hid;
    }
  *out = w;
  return 0;
}

static int64_t map_layer_len(const h2_bsmap *bm, int k, int B) { return BS_AOFF(bm, k, bm->nslots) * B; }

int h2_model_build(h2_model *m, const double *points, int N, int d, const h2_model_config *cfg,
                   int batch_capacity) {
  memset(m, 0, sizeof *m);
  m->cfg = *cfg;
  if (cfg->rank < 1) H2_FAIL(H2_EINPUT, "--rank must be at least 1, got %d", cfg->rank);
  if (cfg->zeta < 1) H2_FAIL(H2_EINPUT, "--zeta must be at least 1, got %d", cfg->zeta);
  if (cfg->leaf_size < 1 || cfg->leaf_size > N)
    H2_FAIL(H2_EINPUT, "--leaf-size must be between 1 and N = %d, got %d", N, cfg->leaf_size);
  if (!(cfg->eta > 0)) H2_FAIL(H2_EINPUT, "--eta must be positive, got %g", cfg->eta);
  if (batch_capacity < 1) H2_FAIL(H2_EINPUT, "batch size must be at least 1, got %d", batch_capacity);
  H2_TRY(h2_tree_build(&m->tree, points, N, d, cfg->leaf_size));
  H2_TRY(h2_blocktree_build(&m->bt, &m->tree, cfg->eta));
  m->N = N;
  m->d = d;
  m->L = m->tree.L;
  m->lmin = m->bt.lmin;
  m->r = cfg->rank;
  m->zeta = cfg->zeta;
  m->has_far = m->lmin <= m->L;
  m->B = batch_capacity;
  const int L = m->L, r = m->r, zeta = m->zeta, nleaves = 1 << L;

  /* maps and the parameter layout */
  int *w;
  H2_TRY(h2_model_map_widths(m, -1, &w));
  H2_TRY(h2_bsmap_build(&m->close, &m->bt.close, 0, nleaves, zeta, w));
  free(w);
  H2_TRY(H2_CALLOC(m->far, L + 1));
  H2_TRY(H2_CALLOC(m->off_far, L + 1));
  H2_TRY(H2_CALLOC(m->off_T, L + 2));
  H2_TRY(H2_CALLOC(m->off_S, L + 2));
  int64_t off = 0;
  m->off_close = off;
  off += m->close.nparams;
  for (int l = m->lmin; l <= L; l++) {
    H2_TRY(h2_model_map_widths(m, l, &w));
    H2_TRY(h2_bsmap_build(&m->far[l], &m->bt.far[l], 0, 1 << l, zeta, w));
    free(w);
    m->off_far[l] = off;
    off += m->far[l].nparams;
  }
  H2_TRY(H2_MALLOC(m->leaf_voff, nleaves + 1));
  m->leaf_voff[0] = 0;
  for (int k = 0; k < nleaves; k++) m->leaf_voff[k + 1] = m->leaf_voff[k] + (int64_t)r * leaf_n(m, k);
  m->n_params_V = m->has_far ? m->leaf_voff[nleaves] : 0;
  m->off_V = off;
  off += m->n_params_V;
  m->off_U = off;
  off += m->n_params_V;
  for (int l = m->lmin + 1; l <= L; l++) {
    m->off_T[l] = off;
    off += (int64_t)(1 << l) * r * r;
  }
  for (int l = m->lmin + 1; l <= L; l++) {
    m->off_S[l] = off;
    off += (int64_t)(1 << l) * r * r;
  }
  m->nparams = off;

  /* activation arena */
  const int64_t B = batch_capacity;
  int64_t len = 0, scr = 0, gat = m->close.max_gather;
  for (int k = 0; k <= zeta; k++) len += map_layer_len(&m->close, k, B);
  len += map_layer_len(&m->close, 0, B) + map_layer_len(&m->close, zeta, B); /* dq, dw */
  for (int k = 1; k < zeta; k++) scr = scr > map_layer_len(&m->close, k, B) ? scr : map_layer_len(&m->close, k, B);
  for (int l = m->lmin; l <= L; l++) {
    const h2_bsmap *f = &m->far[l];
    for (int k = 0; k <= zeta; k++)
      if (f->active || k == 0 || k == zeta) len += map_layer_len(f, k, B);
    len += map_layer_len(f, 0, B) + map_layer_len(f, zeta, B);
    for (int k = 1; k < zeta && f->active; k++) scr = scr > map_layer_len(f, k, B) ? scr : map_layer_len(f, k, B);
    if (f->max_gather > gat) gat = f->max_gather;
  }
  len += 2 * scr + gat * B;
  m->mem_len = len;
  H2_TRY(H2_CALLOC(m->mem, len));
  real *p = m->mem;
#define TAKE(ptr, n) do { (ptr) = p; p += (n); } while (0)
  H2_TRY(H2_CALLOC(m->zc, zeta + 1));
  for (int k = 0; k <= zeta; k++) TAKE(m->zc[k], map_layer_len(&m->close, k, B));
  TAKE(m->dq, map_layer_len(&m->close, 0, B));
  TAKE(m->dw, map_layer_len(&m->close, zeta, B));
  H2_TRY(H2_CALLOC(m->zf, L + 1));
  H2_TRY(H2_CALLOC(m->dqh, L + 1));
  H2_TRY(H2_CALLOC(m->dwh, L + 1));
  for (int l = m->lmin; l <= L; l++) {
    const h2_bsmap *f = &m->far[l];
    H2_TRY(H2_CALLOC(m->zf[l], zeta + 1));
    for (int k = 0; k <= zeta; k++)
      if (f->active || k == 0 || k == zeta) TAKE(m->zf[l][k], map_layer_len(f, k, B));
    TAKE(m->dqh[l], map_layer_len(f, 0, B));
    TAKE(m->dwh[l], map_layer_len(f, zeta, B));
  }
  TAKE(m->dscr[0], scr);
  TAKE(m->dscr[1], scr);
  TAKE(m->scratch, gat * B);
#undef TAKE
  return 0;
}

void h2_model_free(h2_model *m) {
  if (m->far)
    for (int l = m->lmin; l <= m->L; l++) {
      h2_bsmap_free(&m->far[l]);
      free(m->zf ? m->zf[l] : NULL);
    }
  h2_bsmap_free(&m->close);
  free(m->far);
  free(m->off_far);
  free(m->off_T);
  free(m->off_S);
  free(m->leaf_voff);
  free(m->zc);
  free(m->zf);
  free(m->dqh);
  free(m->dwh);
  free(m->mem);
  h2_blocktree_free(&m->bt);
  h2_tree_free(&m->tree);
  memset(m, 0, sizeof *m);
}

/* C (M x nb) = alpha * op(A) (M x K) * X (K x nb) + beta * C, all row-major */
static void gemm(int transA, int M, int K, int nb, const real *A, const real *X, real beta, real *C) {
  if (M == 0 || nb == 0) return;
  if (K == 0) {
    if (beta == 0) memset(C, 0, sizeof(real) * (size_t)M * nb);
    return;
  }
  cblas_xgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, CblasNoTrans, M, nb, K, 1, A,
              transA ? M : K, X, nb, beta, C, nb);
}

/* G (M x K) += Y (M x nb) * X^T (nb x K): weight gradient of y = G x */
static void gemm_grad(int M, int K, int nb, const real *Y, const real *X, real *G) {
  if (M == 0 || K == 0 || nb == 0) return;
  cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, nb, 1, Y, nb, X, nb, 1, G, K);
}

static real *box_vec(const h2_bsmap *f, real *buf, int k, int slot, int nb) {
  return buf + BS_AOFF(f, k, slot) * nb;
}

void h2_model_forward(h2_model *m, const real *params, int nb) {
  const int L = m->L, r = m->r, zeta = m->zeta, act = m->cfg.activation;
  const int64_t rr = (int64_t)r * r;
  if (m->has_far) {
    /* leaf projection: qh_L[k] = Vt_k q[k] */
    const h2_bsmap *fl = &m->far[L];
    for (int k = 0; k < m->close.nrows; k++)
      gemm(0, r, leaf_n(m, k), nb, params + m->off_V + m->leaf_voff[k], box_vec(&m->close, m->zc[0], 0, k, nb), 0,
           box_vec(fl, m->zf[L][0], 0, k, nb));
    /* upward: qh_l[p] = T_{2p} qh_{l+1}[2p] + T_{2p+1} qh_{l+1}[2p+1] */
    for (int l = L - 1; l >= m->lmin; l--)
      for (int p = 0; p < m->far[l].nrows; p++)
        for (int c = 0; c < 2; c++)
          gemm(0, r, r, nb, params + m->off_T[l + 1] + (2 * p + c) * rr,
               box_vec(&m->far[l + 1], m->zf[l + 1][0], 0, 2 * p + c, nb), c ? 1 : 0,
               box_vec(&m->far[l], m->zf[l][0], 0, p, nb));
    /* far maps G_l on every level with an interaction list */
    for (int l = m->lmin; l <= L; l++) {
      h2_bsmap *f = &m->far[l];
      if (!f->active) {
        memset(m->zf[l][zeta], 0, sizeof(real) * (size_t)map_layer_len(f, zeta, nb));
        continue;
      }
      for (int k = 1; k <= zeta; k++)
        h2_bsl_forward(f, k, params + m->off_far[l], m->zf[l][k - 1], m->zf[l][k], nb, act, m->scratch);
    }
  }
  /* close map G_0 on q */
  for (int k = 1; k <= zeta; k++)
    h2_bsl_forward(&m->close, k, params + m->off_close, m->zc[k - 1], m->zc[k], nb, act, m->scratch);
  if (!m->has_far) return;
  /* downward: wh_{l+1}[c] += S_c wh_l[parent(c)] */
  for (int l = m->lmin; l < L; l++)
    for (int p = 0; p < m->far[l].nrows; p++)
      for (int c = 0; c < 2; c++)
        gemm(0, r, r, nb, params + m->off_S[l + 1] + (2 * p + c) * rr, box_vec(&m->far[l], m->zf[l][zeta], zeta, p, nb),
             1, box_vec(&m->far[l + 1], m->zf[l + 1][zeta], zeta, 2 * p + c, nb));
  /* leaf interpolation: w[k] = G_0[q][k] + Ut_k wh_L[k] */
  for (int k = 0; k < m->close.nrows; k++)
    gemm(0, leaf_n(m, k), r, nb, params + m->off_U + m->leaf_voff[k], box_vec(&m->far[L], m->zf[L][zeta], zeta, k, nb),
         1, box_vec(&m->close, m->zc[zeta], zeta, k, nb));
}

/* Backward of one map: dz^zeta = dout (on entry) ... dz^0 added into din. */
static void map_backward(h2_model *m, h2_bsmap *f, real **z, const real *params, real *grads, real *dout,
                         real *din, int nb) {
  const int zeta = m->zeta;
  for (int k = zeta; k >= 1; k--) {
    real *dzo = k == zeta ? dout : m->dscr[k % 2];
    real *dzi = k == 1 ? din : m->dscr[(k - 1) % 2];
    if (k > 1) memset(dzi, 0, sizeof(real) * (size_t)map_layer_len(f, k - 1, nb));
    h2_bsl_backward(f, k, params, grads, z[k - 1], z[k], dzo, dzi, nb, m->cfg.activation, m->scratch);
  }
}

void h2_model_backward(h2_model *m, const real *params, real *grads, int nb, int want_dq) {
  const int L = m->L, r = m->r, zeta = m->zeta;
  const int64_t rr = (int64_t)r * r;
  if (want_dq) memset(m->dq, 0, sizeof(real) * (size_t)map_layer_len(&m->close, 0, nb));
  if (m->has_far) {
    for (int l = m->lmin; l <= L; l++) {
      memset(m->dqh[l], 0, sizeof(real) * (size_t)map_layer_len(&m->far[l], 0, nb));
      memset(m->dwh[l], 0, sizeof(real) * (size_t)map_layer_len(&m->far[l], zeta, nb));
    }
    /* leaf interpolation: dwh_L[k] = Ut_k^T dw[k];  dUt_k += dw[k] wh_L[k]^T */
    for (int k = 0; k < m->close.nrows; k++) {
      int n = leaf_n(m, k);
      const real *dwk = box_vec(&m->close, m->dw, zeta, k, nb);
      gemm(1, r, n, nb, params + m->off_U + m->leaf_voff[k], dwk, 0, box_vec(&m->far[L], m->dwh[L], zeta, k, nb));
      gemm_grad(n, r, nb, dwk, box_vec(&m->far[L], m->zf[L][zeta], zeta, k, nb), grads + m->off_U + m->leaf_voff[k]);
    }
    /* downward, fine to coarse: dS_c += dwh_{l+1}[c] wh_l[p]^T;  dwh_l[p] += S_c^T dwh_{l+1}[c] */
    for (int l = L - 1; l >= m->lmin; l--)
      for (int p = 0; p < m->far[l].nrows; p++)
        for (int c = 0; c < 2; c++) {
          const real *dch = box_vec(&m->far[l + 1], m->dwh[l + 1], zeta, 2 * p + c, nb);
          gemm_grad(r, r, nb, dch, box_vec(&m->far[l], m->zf[l][zeta], zeta, p, nb),
                    grads + m->off_S[l + 1] + (2 * p + c) * rr);
          gemm(1, r, r, nb, params + m->off_S[l + 1] + (2 * p + c) * rr, dch, 1,
               box_vec(&m->far[l], m->dwh[l], zeta, p, nb));
        }
    for (int l = m->lmin; l <= L; l++)
      if (m->far[l].active)
        map_backward(m, &m->far[l], m->zf[l], params + m->off_far[l], grads + m->off_far[l], m->dwh[l], m->dqh[l], nb);
  }
  map_backward(m, &m->close, m->zc, params + m->off_close, grads + m->off_close, m->dw, want_dq ? m->dq : NULL, nb);
  if (!m->has_far) return;
  /* upward, coarse to fine: dT_c += dqh_l[p] qh_{l+1}[c]^T;  dqh_{l+1}[c] += T_c^T dqh_l[p] */
  for (int l = m->lmin; l < L; l++)
    for (int p = 0; p < m->far[l].nrows; p++)
      for (int c = 0; c < 2; c++) {
        const real *dp = box_vec(&m->far[l], m->dqh[l], 0, p, nb);
        gemm_grad(r, r, nb, dp, box_vec(&m->far[l + 1], m->zf[l + 1][0], 0, 2 * p + c, nb),
                  grads + m->off_T[l + 1] + (2 * p + c) * rr);
        gemm(1, r, r, nb, params + m->off_T[l + 1] + (2 * p + c) * rr, dp, 1,
             box_vec(&m->far[l + 1], m->dqh[l + 1], 0, 2 * p + c, nb));
      }
  /* leaf projection: dVt_k += dqh_L[k] q[k]^T;  dq[k] += Vt_k^T dqh_L[k] */
  for (int k = 0; k < m->close.nrows; k++) {
    int n = leaf_n(m, k);
    const real *dqk = box_vec(&m->far[L], m->dqh[L], 0, k, nb);
    gemm_grad(r, n, nb, dqk, box_vec(&m->close, m->zc[0], 0, k, nb), grads + m->off_V + m->leaf_voff[k]);
    if (want_dq) gemm(1, n, r, nb, params + m->off_V + m->leaf_voff[k], dqk, 1, box_vec(&m->close, m->dq, 0, k, nb));
  }
}

static double map_flops(const h2_bsmap *f) {
  double s = 0;
  if (!f->active) return 0;
  for (int k = 1; k <= f->zeta; k++)
    for (int i = 0; i < f->nrows; i++) s += 2.0 * BS_W(f, k, i) * (double)BS_ROWIN(f, k, i);
  return s;
}

double h2_model_flops(const h2_model *m) {
  double s = map_flops(&m->close);
  if (m->has_far) {
    for (int l = m->lmin; l <= m->L; l++) s += map_flops(&m->far[l]);
    s += 4.0 * (double)m->n_params_V;
    for (int l = m->lmin + 1; l <= m->L; l++) s += 4.0 * (double)(1 << l) * m->r * m->r;
  }
  return s;
}

int64_t h2_model_activation_bytes(const h2_model *m) { return m->mem_len * (int64_t)sizeof(real); }

/* own points of the close map (rows of w) */
static int64_t own_points(const h2_model *m) { return BS_AOFF(&m->close, m->zeta, m->close.nrows); }

void h2_loss_partial(const h2_model *m, const real *t, const real *offset, int nb, double *sums) {
  const real *w = m->zc[m->zeta];
  for (int s = 0; s < 2 * nb; s++) sums[s] = 0;
  for (int64_t i = 0; i < own_points(m); i++)
    for (int s = 0; s < nb; s++) {
      double e = (double)w[i * nb + s] - (double)t[i * nb + s], ts = (double)t[i * nb + s] + (offset ? offset[i] : 0);
      sums[2 * s] += e * e;
      sums[2 * s + 1] += ts * ts;
    }
}

/* L = (1/B) sum_s ||w_s - t_s||^2 / ||t_s||^2,   dL/dw_s = 2 (w_s - t_s) / (B ||t_s||^2) */
double h2_loss_finish(h2_model *m, const real *t, int nb, const double *sums, int total_batch, int set_grad,
                      double *err_sum) {
  const real *w = m->zc[m->zeta];
  double loss = 0;
  for (int s = 0; s < nb; s++) {
    loss += sums[2 * s] / sums[2 * s + 1];
    if (err_sum) *err_sum += sqrt(sums[2 * s] / sums[2 * s + 1]);
  }
  if (set_grad)
    for (int64_t i = 0; i < own_points(m); i++)
      for (int s = 0; s < nb; s++)
        m->dw[i * nb + s] = (real)(2.0 * ((double)w[i * nb + s] - (double)t[i * nb + s]) / (total_batch * sums[2 * s + 1]));
  return loss / total_batch;
}
