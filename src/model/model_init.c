/* model_init.c — Xavier/Glorot uniform initialisation (docs/design.md §3).
 *
 * Every value is drawn from the counter-based generator keyed by
 * (seed, parameter group, box) at the element's index in the checkpoint's
 * order (each block contiguous, blocks in column order), so a box's
 * parameters are the same on any number of ranks.  Groups: map m (0 = close,
 * 1 + l = far level l) layer k -> 16 m + k; Vt 4000, Ut 4001, T_l 4100 + l,
 * S_l 4200 + l.  Biases start at 0. */
#include <math.h>
#include <stdlib.h>

#include "h2nn/util/error.h"
#include "h2nn/model/model.h"
#include "h2nn/util/rng.h"

static double xavier_draw(uint64_t seed, int group, int box, int64_t idx, double a) {
  return a * (2.0 * h2_rng_uniform(seed, H2_STREAM_PARAM + (uint32_t)group, (uint32_t)box, (uint64_t)idx) - 1.0);
}

/* fan_out of column box j at layer k: sum of output widths over column j's pattern */
static double column_fan_out(const h2_bsmap *f, const h2_pattern *pat, const int *blkrow, int k, int j,
                             const int *row_width) {
  double s = 0;
  for (int64_t e = pat->colptr[j]; e < pat->colptr[j + 1]; e++) s += row_width[blkrow[pat->colblk[e]]];
  (void)f;
  return s;
}

static void init_map(const h2_bsmap *f, int group0, uint64_t seed, real *params, int zeta, int nboxes,
                     const int *box_width_all) {
  if (!f->active) return;
  const h2_pattern *pat = f->pat;
  int *blkrow = malloc(sizeof(int) * (size_t)(pat->nnz ? pat->nnz : 1));
  for (int i = 0; i < pat->nboxes; i++)
    for (int64_t e = pat->rowptr[i]; e < pat->rowptr[i + 1]; e++) blkrow[e] = i;
  for (int k = 1; k <= zeta; k++) {
    const int *wout = box_width_all + (int64_t)k * nboxes, *win = box_width_all + (int64_t)(k - 1) * nboxes;
    for (int i = 0; i < f->nrows; i++) {
      int row = f->first_row + i, wo = wout[row];
      double fan_in = (double)BS_ROWIN(f, k, i);
      real *W = params + BS_WOFF(f, k, i);
      int64_t coff = 0;
      for (int64_t e = f->rowptr[i]; e < f->rowptr[i + 1]; e++) {
        int j = f->slot_box[f->colslot[e]], wi = win[j];
        double fan_out = column_fan_out(f, pat, blkrow, k, j, wout);
        double a = sqrt(6.0 / (fan_in + fan_out));
        for (int r = 0; r < wo; r++)
          for (int c = 0; c < wi; c++)
            W[(int64_t)r * BS_ROWIN(f, k, i) + coff + c] =
                (real)xavier_draw(seed, group0 + k, row, coff * wo + (int64_t)r * wi + c, a);
        coff += wi;
      }
      real *b = params + BS_BOFF(f, k, i);
      for (int r = 0; r < wo; r++) b[r] = 0;
    }
  }
  free(blkrow);
}

int h2_model_init_xavier(const h2_model *m, real *params) {
  const uint64_t seed = m->cfg.seed;
  const int r = m->r, L = m->L;
  int *w = NULL;
  H2_TRY(h2_model_map_widths(m, -1, &w));
  init_map(&m->close, 0, seed, params + m->off_close, m->zeta, 1 << L, w);
  free(w);
  for (int l = m->lmin; l <= L; l++) {
    H2_TRY(h2_model_map_widths(m, l, &w));
    init_map(&m->far[l], 16 * (1 + l), seed, params + m->off_far[l], m->zeta, 1 << l, w);
    free(w);
  }
  if (!m->has_far) return 0;
  for (int k = 0; k < m->close.nrows; k++) {
    int leaf = m->close.first_row + k, n = (int)m->tree.size[h2_box_id(L, leaf)];
    double a = sqrt(6.0 / (double)(n + r));
    for (int64_t e = 0; e < (int64_t)r * n; e++) {
      params[m->off_V + m->leaf_voff[k] + e] = (real)xavier_draw(seed, 4000, leaf, e, a);
      params[m->off_U + m->leaf_voff[k] + e] = (real)xavier_draw(seed, 4001, leaf, e, a);
    }
  }
  double a = sqrt(6.0 / (2.0 * r));
  for (int l = m->lmin + 1; l <= L; l++)
    for (int c = 0; c < 2 * m->far[l - 1].nrows; c++) {
      int box = 2 * m->far[l - 1].first_row + c;
      for (int64_t e = 0; e < (int64_t)r * r; e++) {
        params[m->off_T[l] + (int64_t)c * r * r + e] = (real)xavier_draw(seed, 4100 + l, box, e, a);
        params[m->off_S[l] + (int64_t)c * r * r + e] = (real)xavier_draw(seed, 4200 + l, box, e, a);
      }
    }
  return 0;
}
