/* cheb.c — Chebyshev nodes and Lagrange operators on the cluster tree, and
 * the H2 weights of a zeta = 1 network (see cheb.h). */
#include "h2nn/model/cheb.h"

#include <math.h>
#include <stdlib.h>

#include "h2nn/util/error.h"
#include "h2nn/core/kernel.h"

/* The linear paths: Vt, Ut of every own leaf and T, S of every held box
 * (rank r = p^d). */
int h2_cheb_set_transfers(const h2_model *m, real *params) {
  const h2_tree *t = &m->tree;
  const int d = t->d, r = m->r, L = m->L, p = h2_cheb_order(r, d);
  if (p < 1 || p > 64) H2_FAIL(H2_EINPUT, "Chebyshev operators need rank = p^%d (e.g. %d), got %d", d, d == 1 ? 8 : d == 2 ? 9 : 8, r);
  if (!m->has_far) return 0;
  const h2_bsmap *cm = &m->close;
  int64_t nmax = r; /* the largest own leaf, and r: Vt_k and T_c fit in op */
  for (int k = 0; k < cm->nrows; k++)
    if (t->size[h2_box_id(L, cm->first_row + k)] > nmax) nmax = t->size[h2_box_id(L, cm->first_row + k)];
  double *scratch; /* nodes (r x d), basis (r), op (r x nmax) */
  H2_TRY(H2_MALLOC(scratch, (int64_t)r * d + r + r * nmax));
  double *nodes = scratch, *basis = nodes + (int64_t)r * d, *op = basis + r;
  /* leaves: Vt_k[a][s] = L^k_a(x_s), Ut_k[s][a] = the same */
  for (int k = 0; k < cm->nrows; k++) {
    int b = h2_box_id(L, cm->first_row + k);
    int64_t n = t->size[b];
    h2_cheb_leaf_basis(t, b, p, basis, op);
    for (int a = 0; a < r; a++)
      for (int64_t s = 0; s < n; s++) {
        params[m->off_V + m->leaf_voff[k] + a * n + s] = (real)op[a * n + s];
        params[m->off_U + m->leaf_voff[k] + s * r + a] = (real)op[a * n + s];
      }
  }
  /* transfers: T_c[b][a] = L^parent_b(xi^c_a), S_c = T_c^T */
  for (int l = m->lmin + 1; l <= L; l++)
    for (int c = 0; c < 2 * m->far[l - 1].nrows; c++) {
      h2_cheb_transfer(t, l, 2 * m->far[l - 1].first_row + c, p, nodes, basis, op);
      real *T = params + m->off_T[l] + (int64_t)c * r * r, *S = params + m->off_S[l] + (int64_t)c * r * r;
      for (int bb = 0; bb < r; bb++)
        for (int a = 0; a < r; a++) {
          T[bb * r + a] = (real)op[bb * r + a];
          S[a * r + bb] = (real)op[bb * r + a];
        }
    }
  free(scratch);
  return 0;
}

int h2_cheb_set_weights(const h2_model *m, int kind, real *params) {
  const h2_tree *t = &m->tree;
  const int d = t->d, r = m->r, L = m->L, p = h2_cheb_order(r, d);
  if (m->zeta != 1) H2_FAIL(H2_EINPUT, "the Chebyshev H2 weights need zeta = 1, got %d", m->zeta);
  if (p < 1 || p > 64) H2_FAIL(H2_EINPUT, "Chebyshev H2 weights need rank = p^%d, got %d", d, r);
  double *nodes_i; /* and nodes_j: the Chebyshev nodes of the two boxes of a far block */
  H2_TRY(H2_MALLOC(nodes_i, 2 * (int64_t)r * d));
  double *nodes_j = nodes_i + (int64_t)r * d;
  /* close blocks: the dense kernel between the points of leaves i and j */
  const h2_bsmap *cm = &m->close;
  for (int i = 0; i < cm->nrows; i++) {
    int bi = h2_box_id(L, cm->first_row + i);
    real *W = params + m->off_close + BS_WOFF(cm, 1, i);
    int64_t rin = BS_ROWIN(cm, 1, i), coff = 0;
    for (int64_t e = cm->rowptr[i]; e < cm->rowptr[i + 1]; e++) {
      int bj = h2_box_id(L, cm->slot_box[cm->colslot[e]]);
      for (int64_t s = 0; s < t->size[bi]; s++)
        for (int64_t u = 0; u < t->size[bj]; u++)
          W[s * rin + coff + u] =
              (real)h2_kernel_eval(kind, t->xt + (t->start[bi] + s) * d, t->xt + (t->start[bj] + u) * d, d);
      coff += t->size[bj];
    }
    for (int64_t s = 0; s < t->size[bi]; s++) params[m->off_close + BS_BOFF(cm, 1, i) + s] = 0;
  }
  if (!m->has_far) goto done;
  /* far blocks: the kernel between the two boxes' Chebyshev nodes */
  for (int l = m->lmin; l <= L; l++) {
    const h2_bsmap *f = &m->far[l];
    if (!f->active) continue;
    for (int i = 0; i < f->nrows; i++) {
      h2_cheb_nodes(t, h2_box_id(l, f->first_row + i), p, nodes_i);
      real *W = params + m->off_far[l] + BS_WOFF(f, 1, i);
      for (int64_t e = f->rowptr[i]; e < f->rowptr[i + 1]; e++) {
        h2_cheb_nodes(t, h2_box_id(l, f->slot_box[f->colslot[e]]), p, nodes_j);
        int64_t coff = (e - f->rowptr[i]) * r;
        for (int a = 0; a < r; a++)
          for (int b = 0; b < r; b++)
            W[(int64_t)a * r * (f->rowptr[i + 1] - f->rowptr[i]) + coff + b] =
                (real)h2_kernel_eval(kind, nodes_i + a * d, nodes_j + b * d, d);
      }
      for (int a = 0; a < r; a++) params[m->off_far[l] + BS_BOFF(f, 1, i) + a] = 0;
    }
  }
done:
  free(nodes_i);
  return h2_cheb_set_transfers(m, params);
}
