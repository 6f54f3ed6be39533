/* kernelgen.c — outputs of the kernel-operator datasets (docs/datasets.md §3):
 * out = A in with a_ij = k(x_i, x_j), a_ii = 0, by a matrix-free Chebyshev
 * H2 product on h2nn's own cluster tree and block cluster tree.
 *
 * Nothing of size N^2 or (blocks x r^2) is stored: projection, transfer,
 * far and close blocks are evaluated per batch of samples (the batch is the
 * wide GEMM dimension, so evaluation is amortised).  Linear in N; accuracy
 * is set by the Chebyshev order per dimension and a strict admissibility
 * (eta = 1.5), measured in tests/test_kernelgen.c.  Small N uses the dense
 * product (exact). */
#include "h2nn/gen/kernelgen.h"

#include <stdlib.h>
#include <string.h>

#include "h2nn/model/cheb.h"
#include "h2nn/util/error.h"
#include "h2nn/core/kernel.h"
#include "h2nn/core/pattern.h"
#include "h2nn/util/real.h"
#include "h2nn/core/tree.h"

#define DENSE_MAX_N 2048
#define BATCH 128
static const int cheb_order[4] = {0, 12, 8, 6};
static const int leaf_per_rank[4] = {0, 2, 2, 2}; /* leaf size = this x r */
static const double kg_eta = 1.5;

static void gemm_acc(int M, int K, int nb, const double *A, int transA, const double *X, double *C) {
  if (!M || !K || !nb) return;
  cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, CblasNoTrans, M, nb, K, 1, A, transA ? M : K, X, nb,
              1, C, nb);
}

static int dense_apply(int kind, const double *x, int N, int d, const double *in, int64_t ns, double *out) {
  double *row;
  H2_TRY(H2_MALLOC(row, N));
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) row[j] = h2_kernel_eval(kind, x + (int64_t)i * d, x + (int64_t)j * d, d);
    for (int64_t s = 0; s < ns; s++) out[s * N + i] = cblas_ddot(N, row, 1, in + s * N, 1);
  }
  free(row);
  return 0;
}

typedef struct {
  const h2_tree *t;
  const h2_blocktree *bt;
  int p, r, d;
  double *qh, *wh;   /* per level: (2^l x r x nb), offsets lev_off[l] */
  int64_t *lev_off;
  double *blk, *nodes_a, *nodes_b, *basis;
} h2mv;

/* W (N x nb, tree order) = A Q */
static void h2_matvec(h2mv *h, int kind, const double *Q, double *W, int nb) {
  const h2_tree *t = h->t;
  const h2_blocktree *bt = h->bt;
  const int L = t->L, r = h->r, d = h->d;
  const int64_t rb = (int64_t)r * nb;
  memset(W, 0, sizeof(double) * (size_t)t->N * nb);
  /* close: dense kernel blocks */
  for (int i = 0; i < (1 << L); i++) {
    int bi = h2_box_id(L, i);
    for (int64_t e = bt->close.rowptr[i]; e < bt->close.rowptr[i + 1]; e++) {
      int bj = h2_box_id(L, bt->close.col[e]);
      int64_t ni = t->size[bi], nj = t->size[bj];
      for (int64_t a = 0; a < ni; a++)
        for (int64_t b = 0; b < nj; b++)
          h->blk[a * nj + b] = h2_kernel_eval(kind, t->xt + (t->start[bi] + a) * d, t->xt + (t->start[bj] + b) * d, d);
      gemm_acc((int)ni, (int)nj, nb, h->blk, 0, Q + t->start[bj] * nb, W + t->start[bi] * nb);
    }
  }
  if (bt->lmin > L) return;
  memset(h->qh, 0, sizeof(double) * (size_t)h->lev_off[L + 1]);
  memset(h->wh, 0, sizeof(double) * (size_t)h->lev_off[L + 1]);
  /* leaf projection, upward transfers */
  for (int k = 0; k < (1 << L); k++) {
    int id = h2_box_id(L, k);
    h2_cheb_leaf_basis(t, id, h->p, h->basis, h->blk);
    gemm_acc(r, (int)t->size[id], nb, h->blk, 0, Q + t->start[id] * nb, h->qh + h->lev_off[L] + k * rb);
  }
  for (int l = L; l > bt->lmin; l--)
    for (int c = 0; c < (1 << l); c++) {
      h2_cheb_transfer(t, l, c, h->p, h->nodes_a, h->basis, h->blk);
      gemm_acc(r, r, nb, h->blk, 0, h->qh + h->lev_off[l] + c * rb, h->qh + h->lev_off[l - 1] + (c / 2) * rb);
    }
  /* far blocks: the kernel at the two boxes' Chebyshev nodes */
  for (int l = bt->lmin; l <= L; l++) {
    const h2_pattern *p = &bt->far[l];
    for (int i = 0; i < (1 << l); i++) {
      if (p->rowptr[i] == p->rowptr[i + 1]) continue;
      h2_cheb_nodes(t, h2_box_id(l, i), h->p, h->nodes_a);
      for (int64_t e = p->rowptr[i]; e < p->rowptr[i + 1]; e++) {
        h2_cheb_nodes(t, h2_box_id(l, p->col[e]), h->p, h->nodes_b);
        for (int a = 0; a < r; a++)
          for (int b = 0; b < r; b++) h->blk[a * r + b] = h2_kernel_eval(kind, h->nodes_a + a * d, h->nodes_b + b * d, d);
        gemm_acc(r, r, nb, h->blk, 0, h->qh + h->lev_off[l] + p->col[e] * rb, h->wh + h->lev_off[l] + i * rb);
      }
    }
  }
  /* downward transfers (S_c = T_c^T), leaf interpolation (Ut = Vt^T) */
  for (int l = bt->lmin + 1; l <= L; l++)
    for (int c = 0; c < (1 << l); c++) {
      h2_cheb_transfer(t, l, c, h->p, h->nodes_a, h->basis, h->blk);
      gemm_acc(r, r, nb, h->blk, 1, h->wh + h->lev_off[l - 1] + (c / 2) * rb, h->wh + h->lev_off[l] + c * rb);
    }
  for (int k = 0; k < (1 << L); k++) {
    int id = h2_box_id(L, k);
    h2_cheb_leaf_basis(t, id, h->p, h->basis, h->blk);
    gemm_acc((int)t->size[id], r, nb, h->blk, 1, h->wh + h->lev_off[L] + k * rb, W + t->start[id] * nb);
  }
}

int h2_kernelgen_apply(const char *kernel, const double *points, int N, int d, const double *in, int64_t ns,
                       double *out) {
  int kind = h2_kernel_from_name(kernel);
  if (kind < 0) H2_FAIL(H2_EINPUT, "unknown kernel '%s' (expected " H2_KERNEL_NAMES ")", kernel);
  if (d < 1 || d > 3) H2_FAIL(H2_EINPUT, "kernel points must be 1-, 2- or 3-D, got %d", d);
  if (N <= DENSE_MAX_N) return dense_apply(kind, points, N, d, in, ns, out);
  h2mv h = {.p = cheb_order[d], .d = d};
  h.r = 1;
  for (int c = 0; c < d; c++) h.r *= h.p;
  h2_tree t;
  h2_blocktree bt;
  H2_TRY(h2_tree_build(&t, points, N, d, leaf_per_rank[d] * h.r));
  H2_TRY(h2_blocktree_build(&bt, &t, kg_eta));
  h.t = &t;
  h.bt = &bt;
  int64_t maxleaf = t.size[h2_box_id(t.L, 0)] + 1, blk = maxleaf * maxleaf;
  if (blk < (int64_t)h.r * maxleaf) blk = (int64_t)h.r * maxleaf;
  if (blk < (int64_t)h.r * h.r) blk = (int64_t)h.r * h.r;
  H2_TRY(H2_MALLOC(h.lev_off, t.L + 2));
  h.lev_off[0] = 0;
  for (int l = 0; l <= t.L; l++) h.lev_off[l + 1] = h.lev_off[l] + ((int64_t)1 << l) * h.r * BATCH;
  double *Q, *W;
  H2_TRY(H2_MALLOC(h.qh, h.lev_off[t.L + 1]));
  H2_TRY(H2_MALLOC(h.wh, h.lev_off[t.L + 1]));
  H2_TRY(H2_MALLOC(h.blk, blk));
  H2_TRY(H2_MALLOC(h.nodes_a, h.r * d));
  H2_TRY(H2_MALLOC(h.nodes_b, h.r * d));
  H2_TRY(H2_MALLOC(h.basis, h.r));
  H2_TRY(H2_MALLOC(Q, (int64_t)N * BATCH));
  H2_TRY(H2_MALLOC(W, (int64_t)N * BATCH));
  for (int64_t s0 = 0; s0 < ns; s0 += BATCH) {
    int nb = (int)(ns - s0 < BATCH ? ns - s0 : BATCH);
    for (int64_t tp = 0; tp < N; tp++)
      for (int s = 0; s < nb; s++) Q[tp * nb + s] = in[(s0 + s) * N + t.perm[tp]];
    h2_matvec(&h, kind, Q, W, nb);
    for (int64_t tp = 0; tp < N; tp++)
      for (int s = 0; s < nb; s++) out[(s0 + s) * N + t.perm[tp]] = W[tp * nb + s];
  }
  free(Q), free(W), free(h.qh), free(h.wh), free(h.blk), free(h.nodes_a), free(h.nodes_b), free(h.basis),
      free(h.lev_off);
  h2_blocktree_free(&bt);
  h2_tree_free(&t);
  return 0;
}
