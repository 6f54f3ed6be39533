/* bsl.c — block-sparse layers: structure (local rows, halo slots, layouts)
 * and the forward/backward kernels, one GEMM per block row. */
#include "h2nn/core/bsl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"
#include "h2nn/core/gemm.h"
#ifndef H2NN_DOUBLE
#include "h2nn/core/isa.h"
#endif
#include "relu_mask.h"

int h2_bsmap_build(h2_bsmap *m, const h2_pattern *pat, int first_row, int nrows, int zeta,
                   const int *box_width) {
  memset(m, 0, sizeof *m);
  m->zeta = zeta;
  m->pat = pat;
  m->first_row = first_row;
  m->nrows = nrows;
  m->active = pat->nnz > 0;
  int nb = pat->nboxes;
  int *slot_of;
  H2_TRY(H2_MALLOC(slot_of, nb));
  for (int b = 0; b < nb; b++) slot_of[b] = -1;
  for (int i = 0; i < nrows; i++) slot_of[first_row + i] = i;
  int nslots = nrows;
  /* halo: columns of own rows owned elsewhere, ascending box order */
  for (int b = 0; b < nb; b++) {
    if (slot_of[b] >= 0) continue;
    int needed = 0;
    for (int64_t e = pat->colptr[b]; e < pat->colptr[b + 1] && !needed; e++) {
      int row = h2_pattern_block_row(pat, pat->colblk[e]);
      needed = row >= first_row && row < first_row + nrows;
    }
    if (needed) slot_of[b] = nslots++;
  }
  m->nslots = nslots;
  H2_TRY(H2_MALLOC(m->slot_box, nslots));
  for (int b = 0; b < nb; b++)
    if (slot_of[b] >= 0) m->slot_box[slot_of[b]] = b;

  int64_t nnz = pat->rowptr[first_row + nrows] - pat->rowptr[first_row];
  H2_TRY(H2_MALLOC(m->rowptr, nrows + 1));
  H2_TRY(H2_MALLOC(m->colslot, nnz));
  H2_TRY(H2_MALLOC(m->gblk, nnz));
  H2_TRY(H2_MALLOC(m->contig, nrows));
  m->rowptr[0] = 0;
  for (int i = 0; i < nrows; i++) {
    int64_t g0 = pat->rowptr[first_row + i], g1 = pat->rowptr[first_row + i + 1];
    m->contig[i] = 1;
    for (int64_t g = g0; g < g1; g++) {
      int64_t e = m->rowptr[i] + (g - g0);
      m->colslot[e] = slot_of[pat->col[g]];
      m->gblk[e] = g;
      if (g > g0 && m->colslot[e] != m->colslot[e - 1] + 1) m->contig[i] = 0;
    }
    m->rowptr[i + 1] = m->rowptr[i] + (g1 - g0);
  }
  free(slot_of);

  H2_TRY(H2_MALLOC(m->width, (int64_t)(zeta + 1) * nslots));
  H2_TRY(H2_MALLOC(m->aoff, (int64_t)(zeta + 1) * (nslots + 1)));
  H2_TRY(H2_CALLOC(m->rowin, (int64_t)(zeta + 1) * nrows));
  H2_TRY(H2_CALLOC(m->woff, (int64_t)(zeta + 1) * nrows));
  H2_TRY(H2_CALLOC(m->boff, (int64_t)(zeta + 1) * nrows));
  for (int k = 0; k <= zeta; k++) {
    BS_AOFF(m, k, 0) = 0;
    for (int s = 0; s < nslots; s++) {
      BS_W(m, k, s) = box_width[(int64_t)k * nb + m->slot_box[s]];
      BS_AOFF(m, k, s + 1) = BS_AOFF(m, k, s) + BS_W(m, k, s);
    }
  }
  int64_t off = 0;
  for (int k = 1; k <= zeta && m->active; k++) {
    for (int i = 0; i < nrows; i++) {
      int64_t rin = 0;
      for (int64_t e = m->rowptr[i]; e < m->rowptr[i + 1]; e++) rin += BS_W(m, k - 1, m->colslot[e]);
      BS_ROWIN(m, k, i) = rin;
      if (rin > m->max_gather) m->max_gather = rin;
      BS_WOFF(m, k, i) = off;
      off += (int64_t)BS_W(m, k, i) * rin;
    }
    for (int i = 0; i < nrows; i++) {
      BS_BOFF(m, k, i) = off;
      off += BS_W(m, k, i);
    }
  }
  m->nparams = off;
  return 0;
}

void h2_bsmap_free(h2_bsmap *m) {
  free(m->slot_box);
  free(m->rowptr);
  free(m->colslot);
  free(m->gblk);
  free(m->contig);
  free(m->width);
  free(m->aoff);
  free(m->rowin);
  free(m->woff);
  free(m->boff);
  memset(m, 0, sizeof *m);
}

/* The stacked input [zin[j1]; zin[j2]; ...] of row i at layer k: in place when
 * the row's column slots are consecutive, else gathered into scratch. */
static const real *row_input(const h2_bsmap *m, int k, int i, const real *zin, int nb, real *scratch) {
  int64_t e0 = m->rowptr[i], e1 = m->rowptr[i + 1];
  if (e1 == e0) return scratch;
  if (m->contig[i]) return zin + BS_AOFF(m, k - 1, m->colslot[e0]) * nb;
  real *dst = scratch;
  for (int64_t e = e0; e < e1; e++) {
    int s = m->colslot[e];
    int64_t n = (int64_t)BS_W(m, k - 1, s) * nb;
    memcpy(dst, zin + BS_AOFF(m, k - 1, s) * nb, sizeof(real) * (size_t)n);
    dst += n;
  }
  return scratch;
}

/* forward, layer k:  z^k_i = f( [W_ij1 ... W_ijm] [z^{k-1}_j1; ...; z^{k-1}_jm] + b_i 1^T )
 * one GEMM (w_i x rowin) * (rowin x nb) per row, bias and ReLU in its epilogue. */
void h2_bsl_forward(const h2_bsmap *m, int k, const int *rows, int nrows, const real *params, const real *zin,
                    real *zout, int nb, int act, real *scratch) {
  if (!rows) nrows = m->nrows;
  for (int ri = 0; ri < nrows; ri++) {
    int i = rows ? rows[ri] : ri;
    int wout = BS_W(m, k, i);
    int64_t rin = BS_ROWIN(m, k, i);
    real *out = zout + BS_AOFF(m, k, i) * nb;
    if (wout == 0) continue;
    const real *X = rin > 0 ? row_input(m, k, i, zin, nb, scratch) : NULL;
    h2_gemm_bias_relu(wout, (int)rin, nb, params + BS_WOFF(m, k, i), (int)rin, X, params + BS_BOFF(m, k, i),
                      k < m->zeta && act == H2_ACT_RELU, out);
    if (k < m->zeta && act == H2_ACT_TANH)
      for (int64_t t = 0; t < (int64_t)wout * nb; t++) out[t] = tanh(out[t]);
  }
}

/* dzin[j...] += W_i^T dz for row i's column slots j */
static void backward_input(const h2_bsmap *m, int k, int i, const real *W, const real *dz, real *dzin, int nb,
                           real *scratch) {
  int wout = BS_W(m, k, i);
  int64_t rin = BS_ROWIN(m, k, i);
  if (m->contig[i]) {
    real *dX = dzin + BS_AOFF(m, k - 1, m->colslot[m->rowptr[i]]) * nb;
    h2_gemm(1, (int)rin, wout, nb, W, (int)rin, dz, 1, dX);
    return;
  }
  h2_gemm(1, (int)rin, wout, nb, W, (int)rin, dz, 0, scratch);
  const real *src = scratch;
  for (int64_t e = m->rowptr[i]; e < m->rowptr[i + 1]; e++) {
    int s = m->colslot[e];
    int64_t cnt = (int64_t)BS_W(m, k - 1, s) * nb;
    real *dst = dzin + BS_AOFF(m, k - 1, s) * nb;
    for (int64_t t = 0; t < cnt; t++) dst[t] += src[t];
    src += cnt;
  }
}

/* backward, layer k (dz = dL/dz^k_i on entry; f' taken from the output z^k):
 *   dz  <- dz .* f'(z^k_i)                (k < zeta)
 *   db_i += dz 1,   dW_i += dz X^T,   dX = W_i^T dz  added into dzin[j...] */
void h2_bsl_backward(const h2_bsmap *m, int k, const int *rows, int nrows, const real *params, const h2_grad_sink *gs,
                     const real *zin, const real *zout, real *dzout, real *dzin, int nb, int act, real *scratch,
                     real *gwork) {
  if (!rows) nrows = m->nrows;
  for (int ri = 0; ri < nrows; ri++) {
    int i = rows ? rows[ri] : ri;
    int wout = BS_W(m, k, i);
    int64_t rin = BS_ROWIN(m, k, i);
    if (wout == 0) continue;
    real *dz = dzout + BS_AOFF(m, k, i) * nb;
    const real *z = zout + BS_AOFF(m, k, i) * nb;
    int64_t n = (int64_t)wout * nb;
    if (k < m->zeta && act == H2_ACT_TANH)
      for (int64_t t = 0; t < n; t++) dz[t] *= 1 - z[t] * z[t];
    /* ReLU mask and bias gradient in one pass (float32: the active kernel set's loop) */
    const int relu = k < m->zeta && act == H2_ACT_RELU;
    real *db = h2_grad_begin(gs, BS_BOFF(m, k, i), wout, (int64_t)wout * rin);
#ifndef H2NN_DOUBLE
    h2_kernels_get()->relu_bias_grad(wout, nb, dz, z, relu, db);
#else
    for (int a = 0; a < wout; a++) {
      real *d = dz + (int64_t)a * nb;
      const real *za = z + (int64_t)a * nb;
      real s = 0;
      H2_RELU_MASK_SUM(d, za, 0, nb, relu, s);
      db[a] += s;
    }
#endif
    if (rin == 0) {
      h2_grad_done(gs, BS_BOFF(m, k, i), db, wout);
      continue;
    }
    const real *W = params + BS_WOFF(m, k, i);
    const real *X = row_input(m, k, i, zin, nb, scratch);
    real *dW = h2_grad_begin(gs, BS_WOFF(m, k, i), (int64_t)wout * rin, 0);
    h2_gemm_grad(wout, (int)rin, nb, dz, X, dW, (int)rin, gwork);
    if (dzin) backward_input(m, k, i, W, dz, dzin, nb, scratch);
    h2_grad_done(gs, BS_WOFF(m, k, i), dW, (int64_t)wout * rin);
    h2_grad_done(gs, BS_BOFF(m, k, i), db, wout);
  }
}

int64_t h2_bsmap_max_slice(const h2_bsmap *m) {
  int64_t mx = 0;
  for (int k = 1; k <= m->zeta && m->active; k++)
    for (int i = 0; i < m->nrows; i++) {
      int64_t len = (int64_t)BS_W(m, k, i) * (BS_ROWIN(m, k, i) + 1);
      mx = len > mx ? len : mx;
    }
  return mx;
}

void h2_bsmap_row_to_blocks(const h2_bsmap *m, int k, int i, const real *row, real *blocks) {
  int wout = BS_W(m, k, i);
  int64_t rin = BS_ROWIN(m, k, i), coff = 0;
  for (int64_t e = m->rowptr[i]; e < m->rowptr[i + 1]; e++) {
    int win = BS_W(m, k - 1, m->colslot[e]);
    for (int a = 0; a < wout; a++)
      for (int b = 0; b < win; b++) blocks[coff * wout + (int64_t)a * win + b] = row[(int64_t)a * rin + coff + b];
    coff += win;
  }
}

void h2_bsmap_blocks_to_row(const h2_bsmap *m, int k, int i, const real *blocks, real *row) {
  int wout = BS_W(m, k, i);
  int64_t rin = BS_ROWIN(m, k, i), coff = 0;
  for (int64_t e = m->rowptr[i]; e < m->rowptr[i + 1]; e++) {
    int win = BS_W(m, k - 1, m->colslot[e]);
    for (int a = 0; a < wout; a++)
      for (int b = 0; b < win; b++) row[(int64_t)a * rin + coff + b] = blocks[coff * wout + (int64_t)a * win + b];
    coff += win;
  }
}

int h2_activation_from_name(const char *name, int *act) {
  if (!strcmp(name, "relu")) *act = H2_ACT_RELU;
  else if (!strcmp(name, "tanh")) *act = H2_ACT_TANH;
  else if (!strcmp(name, "linear")) *act = H2_ACT_LINEAR;
  else H2_FAIL(H2_EINPUT, "--activation: expected relu, tanh or linear, got '%s'", name);
  return 0;
}

const char *h2_activation_name(int act) {
  return act == H2_ACT_RELU ? "relu" : act == H2_ACT_TANH ? "tanh" : "linear";
}
