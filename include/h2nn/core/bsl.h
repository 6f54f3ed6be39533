/* bsl.h — a block-sparse map: `zeta` block-sparse layers over one pattern
 * (docs/design.md §2 step 3/4), seen from one rank.
 *
 * Local view.  The rank computes rows [first_row, first_row + nrows) of the
 * level.  Inputs live in "slots": slot s < nrows is own box first_row + s;
 * slots >= nrows are halo boxes (columns owned elsewhere), ascending.
 *
 * Activation layout, layer k = 0..zeta: one buffer per layer; slot s holds a
 * (width[k][s] x nb) row-major matrix — features down, the minibatch across —
 * at offset aoff[k][s] * nb.  Own slots are contiguous and in tree order, so a
 * row whose pattern is a run of consecutive slots (1-D close lists) is read in
 * place; other rows are gathered once into a scratch buffer.
 *
 * Parameter layout (offsets relative to the map's base in the model's flat
 * buffer), per layer k = 1..zeta: for each own row i, W_i = [W_ij1 | W_ij2 | ...]
 * as one (w_out x rowin) row-major matrix (the row's blocks side by side, so
 * the whole row is ONE GEMM), then all biases of the layer by row.  The
 * checkpoint stores each block contiguously instead (docs/design.md §5); conversion is
 * h2_bsmap_row_to_blocks / blocks_to_row. */
#ifndef H2NN_BSL_H
#define H2NN_BSL_H

#include <stdint.h>

#include "h2nn/core/pattern.h"
#include "h2nn/util/real.h"

enum { H2_ACT_RELU = 0, H2_ACT_TANH = 1, H2_ACT_LINEAR = 2 };
/* "relu", "tanh", "linear" <-> H2_ACT_*; from_name fails (H2_EINPUT) on any other name. */
int h2_activation_from_name(const char *name, int *act);
const char *h2_activation_name(int act);

#define h2_bsmap_build H2_PREC(h2_bsmap_build)
#define h2_bsmap_free H2_PREC(h2_bsmap_free)
#define h2_bsl_forward H2_PREC(h2_bsl_forward)
#define h2_bsl_backward H2_PREC(h2_bsl_backward)
#define h2_bsmap_max_slice H2_PREC(h2_bsmap_max_slice)
#define h2_bsmap_row_to_blocks H2_PREC(h2_bsmap_row_to_blocks)
#define h2_bsmap_blocks_to_row H2_PREC(h2_bsmap_blocks_to_row)

typedef struct {
  int zeta;
  int first_row, nrows, nslots;
  const h2_pattern *pat;  /* global pattern of the level (not owned) */
  int *slot_box;          /* [nslots] box (index within level) of each slot */
  int64_t *rowptr;        /* [nrows+1] local CSR */
  int *colslot;           /* [nnz_local] slot of each block's column */
  int64_t *gblk;          /* [nnz_local] global CSR block id */
  int *contig;            /* [nrows] 1: the row's column slots are consecutive */
  int *width;             /* [(zeta+1) * nslots] */
  int64_t *aoff;          /* [(zeta+1) * (nslots+1)] slot offsets (rows) per layer */
  int64_t *rowin;         /* [(zeta+1) * nrows] sum of input widths of row (k >= 1) */
  int64_t *woff, *boff;   /* [(zeta+1) * nrows] parameter offsets (k >= 1) */
  int64_t nparams;
  int64_t max_gather;     /* largest rowin (rows of scratch needed per column) */
  int active;             /* 0: the level's pattern is empty — the map is absent */
} h2_bsmap;

#define BS_W(m, k, s) ((m)->width[(int64_t)(k) * (m)->nslots + (s)])
#define BS_AOFF(m, k, s) ((m)->aoff[(int64_t)(k) * ((m)->nslots + 1) + (s)])
#define BS_ROWIN(m, k, i) ((m)->rowin[(int64_t)(k) * (m)->nrows + (i)])
#define BS_WOFF(m, k, i) ((m)->woff[(int64_t)(k) * (m)->nrows + (i)])
#define BS_BOFF(m, k, i) ((m)->boff[(int64_t)(k) * (m)->nrows + (i)])

/* Called by a backward pass on each slice of the parameter gradient, with
 * the slice's offset in the flat parameter buffer, as soon as the slice is
 * final for the step and its parameters are no longer read by the pass:
 * e.g. to run the optimizer on it while it is in cache. */
typedef struct {
  void (*fn)(void *ctx, int64_t off, real *g, int64_t n);
  void *ctx;
} h2_grad_hook;

/* Where a backward pass puts parameter gradients: accumulated into `grads`
 * (parameter layout, from the map's first parameter; offsets in the flat
 * buffer are base + local offset), or — grads == NULL — computed slice by
 * slice in the small scratch `slice` and only handed to the hook, never
 * stored whole. */
typedef struct {
  real *grads;
  int64_t base;
  const h2_grad_hook *hook;
  real *slice;
} h2_grad_sink;

/* Where the gradient slice at local offset `off` (n reals) accumulates:
 * in grads, or zeroed scratch at slice + at. */
static inline real *h2_grad_begin(const h2_grad_sink *s, int64_t off, int64_t n, int64_t at) {
  if (s->grads) return s->grads + off;
  for (int64_t i = 0; i < n; i++) s->slice[at + i] = 0;
  return s->slice + at;
}

/* The slice g at local offset off is final: hand it to the hook. */
static inline void h2_grad_done(const h2_grad_sink *s, int64_t off, real *g, int64_t n) {
  if (s->hook && s->hook->fn && n > 0) s->hook->fn(s->hook->ctx, s->base + off, g, n);
}

/* box_width[k * nboxes + box]: width of every box of the level at layer k. */
int h2_bsmap_build(h2_bsmap *m, const h2_pattern *pat, int first_row, int nrows, int zeta,
                   const int *box_width);
void h2_bsmap_free(h2_bsmap *m);

/* Layer k (1..zeta) forward over the own rows rows[0..nrows) (rows == NULL:
 * all own rows):
 *   zout[i] = f( sum_j W_ij zin[j] + b_i )   (f = identity when k == zeta)
 * zin must hold own and halo slots of layer k-1.  scratch: max_gather * nb. */
void h2_bsl_forward(const h2_bsmap *m, int k, const int *rows, int nrows, const real *params, const real *zin,
                    real *zout, int nb, int act, real *scratch);

/* Layer k backward.  dzout (own rows of layer k) is overwritten by the
 * gradient w.r.t. the pre-activation.  Accumulates dW, db into grads and,
 * when dzin != NULL, adds W^T dz into dzin (own and halo slots of layer k-1;
 * the caller zeroes it first and sums halo slots at their owners).
 * gwork: workspace of h2_gemm_grad_work(max width, max_gather, nb).
 * gs: where dW, db go (slice scratch: h2_bsmap_max_slice reals); its hook
 * gets each row's dW and db when the row is done. */
void h2_bsl_backward(const h2_bsmap *m, int k, const int *rows, int nrows, const real *params, const h2_grad_sink *gs,
                     const real *zin, const real *zout, real *dzout, real *dzin, int nb, int act, real *scratch,
                     real *gwork);

/* Largest w_i * (rowin_i + 1) over rows and layers: one row's dW and db. */
int64_t h2_bsmap_max_slice(const h2_bsmap *m);

/* Own row i's layer-k weights between the in-memory row layout and the
 * checkpoint's block-contiguous layout (blocks in column order). */
void h2_bsmap_row_to_blocks(const h2_bsmap *m, int k, int i, const real *row, real *blocks);
void h2_bsmap_blocks_to_row(const h2_bsmap *m, int k, int i, const real *blocks, real *row);

#endif
