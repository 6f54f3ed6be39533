/* model.c — structure, layouts and the forward/backward passes of the H2
 * network (docs/design.md §2).  Math of each stage is in the comment above its loop. */
#include "h2nn/model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"
#include "h2nn/core/gemm.h"

/* points in leaf k (global leaf index) */
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

/* Largest hidden layer (1..zeta-1) of a map; 0 without hidden layers. */
static int64_t hidden_len(const h2_bsmap *bm, int zeta, int B) {
  int64_t h = 0;
  for (int k = 1; k < zeta; k++) h = h > map_layer_len(bm, k, B) ? h : map_layer_len(bm, k, B);
  return h;
}

/* Hidden-gradient memory of its own a far map needs: one buffer, or two
 * when its output-gradient buffer is too small to serve as the second. */
static int64_t far_scratch_len(const h2_bsmap *bm, int zeta, int B) {
  int64_t h = hidden_len(bm, zeta, B);
  return h > map_layer_len(bm, zeta, B) ? 2 * h : h;
}

/* One buffer of the activation arena: *ptr gets len reals (ptr NULL: a
 * buffer this model does not have). */
typedef struct {
  real **ptr;
  int64_t len;
} arena_entry;

/* The options every build checks before its geometry (N: the points). */
static int check_config(const h2_model_config *cfg, int N, int batch_capacity) {
  if (cfg->rank < 1) H2_FAIL(H2_EINPUT, "--rank must be at least 1, got %d", cfg->rank);
  if (cfg->zeta < 1) H2_FAIL(H2_EINPUT, "--zeta must be at least 1, got %d", cfg->zeta);
  if (cfg->leaf_size < 1 || cfg->leaf_size > N)
    H2_FAIL(H2_EINPUT, "--leaf-size must be between 1 and N = %d, got %d", N, cfg->leaf_size);
  if (!(cfg->eta > 0)) H2_FAIL(H2_EINPUT, "--eta must be positive, got %g", cfg->eta);
  if (batch_capacity < 1) H2_FAIL(H2_EINPUT, "batch size must be at least 1, got %d", batch_capacity);
  return 0;
}

/* The partition needs a leaf per model rank. */
static int check_partition(const h2_model *m) {
  if (m->part.p > m->tree.L)
    H2_FAIL(H2_EINPUT, "%d model-parallel ranks need at least %d leaves, but the tree has %d (lower --leaf-size or "
            "--model-parallel)", m->part.pm, m->part.pm, 1 << m->tree.L);
  return 0;
}

static int model_layout(h2_model *m, int batch_capacity);

int h2_model_build(h2_model *m, const double *points, int N, int d, const h2_model_config *cfg,
                   int batch_capacity, const h2_partition *part) {
  memset(m, 0, sizeof *m);
  m->cfg = *cfg;
  m->part = part ? *part : h2_partition_serial();
  H2_TRY(check_config(cfg, N, batch_capacity));
  H2_TRY(h2_tree_build(&m->tree, points, N, d, cfg->leaf_size));
  H2_TRY(check_partition(m));
  H2_TRY(h2_blocktree_build(&m->bt, &m->tree, cfg->eta));
  return model_layout(m, batch_capacity);
}

int h2_geometry_build(h2_geometry *g, const double *points, int N, int d, const h2_model_config *cfg) {
  memset(g, 0, sizeof *g);
  if (cfg->leaf_size < 1 || cfg->leaf_size > N)
    H2_FAIL(H2_EINPUT, "--leaf-size must be between 1 and N = %d, got %d", N, cfg->leaf_size);
  if (!(cfg->eta > 0)) H2_FAIL(H2_EINPUT, "--eta must be positive, got %g", cfg->eta);
  H2_TRY(h2_tree_build(&g->tree, points, N, d, cfg->leaf_size));
  H2_TRY(h2_blocktree_build(&g->bt, &g->tree, cfg->eta));
  return 0;
}

void h2_geometry_free(h2_geometry *g) {
  h2_blocktree_free(&g->bt);
  h2_tree_free(&g->tree);
}

int h2_model_build_on(h2_model *m, const h2_geometry *g, const h2_model_config *cfg, int batch_capacity,
                      const h2_partition *part) {
  memset(m, 0, sizeof *m);
  m->cfg = *cfg;
  m->part = part ? *part : h2_partition_serial();
  H2_TRY(check_config(cfg, g->tree.N, batch_capacity));
  if (cfg->leaf_size != g->tree.leaf_size || cfg->eta != g->bt.eta)
    H2_FAIL(H2_EINPUT, "the shared geometry was built with leaf size %d and eta %g, the model asks for %d and %g",
            g->tree.leaf_size, g->bt.eta, cfg->leaf_size, cfg->eta);
  m->tree = g->tree;
  m->bt = g->bt;
  m->borrowed = 1;
  H2_TRY(check_partition(m));
  return model_layout(m, batch_capacity);
}

/* Everything after the geometry: maps, halo lists, the parameter layout,
 * the coarse tree's edges and the activation arena (m->cfg, m->part,
 * m->tree and m->bt set). */
static int model_layout(h2_model *m, int batch_capacity) {
  const h2_model_config *cfg = &m->cfg;
  const int N = m->tree.N, d = m->tree.d;
  m->N = N;
  m->d = d;
  m->L = m->tree.L;
  m->lmin = m->bt.lmin;
  m->r = cfg->rank;
  m->zeta = cfg->zeta;
  m->has_far = m->lmin <= m->L;
  m->coarse = m->has_far && m->lmin < m->part.p;
  m->B = batch_capacity;
  const int L = m->L, r = m->r, zeta = m->zeta;
  int first, nown;

  /* maps, halo lists and the parameter layout: every level holds the rows of
   * the boxes this rank owns (halo.h: one box per rank at most above p) */
  int *w;
  H2_TRY(h2_model_map_widths(m, -1, &w));
  h2_own_boxes(&m->part, L, &first, &nown);
  H2_TRY(h2_bsmap_build(&m->close, &m->bt.close, first, nown, zeta, w));
  free(w);
  H2_TRY(h2_halo_build(&m->halo_close, &m->close, L, &m->part, batch_capacity, 0));
  H2_TRY(H2_CALLOC(m->far, L + 1));
  H2_TRY(H2_CALLOC(m->halo_far, L + 1));
  H2_TRY(H2_CALLOC(m->off_far, L + 1));
  H2_TRY(H2_CALLOC(m->off_T, L + 2));
  H2_TRY(H2_CALLOC(m->off_S, L + 2));
  int64_t off = 0;
  m->off_close = off;
  off += m->close.nparams;
  for (int l = m->lmin; l <= L; l++) {
    H2_TRY(h2_model_map_widths(m, l, &w));
    h2_own_boxes(&m->part, l, &first, &nown);
    H2_TRY(h2_bsmap_build(&m->far[l], &m->bt.far[l], first, nown, zeta, w));
    free(w);
    H2_TRY(h2_halo_build(&m->halo_far[l], &m->far[l], l, &m->part, batch_capacity, 64 * (l + 1)));
    m->off_far[l] = off;
    off += m->far[l].nparams;
  }
  const int nleaves = m->close.nrows;
  H2_TRY(H2_MALLOC(m->leaf_voff, nleaves + 1));
  m->leaf_voff[0] = 0;
  for (int k = 0; k < nleaves; k++) m->leaf_voff[k + 1] = m->leaf_voff[k] + (int64_t)r * leaf_n(m, m->close.first_row + k);
  m->n_params_V = m->has_far ? m->leaf_voff[nleaves] : 0;
  m->off_V = off;
  off += m->n_params_V;
  m->off_U = off;
  off += m->n_params_V;
  /* transfers of level l: the children of the parents held on level l - 1 */
  for (int l = m->lmin + 1; l <= L; l++) {
    m->off_T[l] = off;
    off += 2 * (int64_t)m->far[l - 1].nrows * r * r;
  }
  for (int l = m->lmin + 1; l <= L; l++) {
    m->off_S[l] = off;
    off += 2 * (int64_t)m->far[l - 1].nrows * r * r;
  }
  m->nparams = off;
  H2_TRY(h2_coarse_build(&m->co, &m->part, m->has_far ? m->lmin : L, r, batch_capacity));

  /* workspace sizes */
  const int64_t B = batch_capacity;
  int64_t gat = m->close.max_gather > r ? m->close.max_gather : r; /* scratch also stages r x B coarse blocks */
  for (int l = m->lmin; l <= L; l++) gat = gat > m->far[l].max_gather ? gat : m->far[l].max_gather;
  /* hidden-layer gradients: every map has its own pair of buffers (the maps
   * run their backward layers together); the second one is the map's dead
   * output gradient when that is large enough (default widths) */
  const int64_t scr = hidden_len(&m->close, zeta, B);
  const int need2 = scr > map_layer_len(&m->close, zeta, B);
  /* gradient-product workspace: widest output (M) and input (K) of any product */
  int64_t wmax = r, kmax = gat;
  for (int k = 0; k < (1 << L); k++) wmax = wmax > leaf_n(m, k) ? wmax : leaf_n(m, k);
  kmax = kmax > wmax ? kmax : wmax;
  for (int k = 1; k < zeta; k++) {
    wmax = wmax > m->cfg.close_hidden ? wmax : m->cfg.close_hidden;
    wmax = wmax > m->cfg.far_hidden ? wmax : m->cfg.far_hidden;
  }
  const int64_t gw = h2_gemm_grad_work((int)wmax, (int)kmax, (int)B);
  /* one parameter block's gradient (slice-by-slice backward): a map row's dW
   * and db, a leaf's Vt / Ut, a transfer */
  int64_t gsl = h2_bsmap_max_slice(&m->close) > (int64_t)r * r ? h2_bsmap_max_slice(&m->close) : (int64_t)r * r;
  for (int k = 0; k < (1 << L); k++) gsl = gsl > (int64_t)r * leaf_n(m, k) ? gsl : (int64_t)r * leaf_n(m, k);
  for (int l = m->lmin; l <= L; l++) gsl = gsl > h2_bsmap_max_slice(&m->far[l]) ? gsl : h2_bsmap_max_slice(&m->far[l]);

  /* the activation arena: one table of {buffer, length} both sizes and carves it */
  H2_TRY(H2_CALLOC(m->zc, zeta + 1));
  H2_TRY(H2_CALLOC(m->zf, L + 1));
  H2_TRY(H2_CALLOC(m->dqh, L + 1));
  H2_TRY(H2_CALLOC(m->dwh, L + 1));
  H2_TRY(H2_CALLOC(m->dsf, L + 1));
  for (int l = m->lmin; l <= L; l++) H2_TRY(H2_CALLOC(m->zf[l], zeta + 1));
  arena_entry *tab;
  int nt = 0;
  H2_TRY(H2_MALLOC(tab, (int64_t)(zeta + 2) + (int64_t)(L + 1) * (zeta + 5) + 6));
#define ENTRY(p_, n_) (tab[nt++] = (arena_entry){(p_), (n_)})
  for (int k = 0; k <= zeta; k++) ENTRY(&m->zc[k], map_layer_len(&m->close, k, B));
  ENTRY(cfg->input_grad ? &m->dq : NULL, map_layer_len(&m->close, 0, B)); /* dw shares zc[zeta] */
  for (int l = m->lmin; l <= L; l++) {
    const h2_bsmap *f = &m->far[l];
    for (int k = 0; k <= zeta; k++) ENTRY(f->active || k == 0 || k == zeta ? &m->zf[l][k] : NULL, map_layer_len(f, k, B));
    ENTRY(&m->dqh[l], map_layer_len(f, 0, B));
    ENTRY(&m->dwh[l], map_layer_len(f, zeta, B));
    const int64_t h = hidden_len(f, zeta, B);
    ENTRY(f->active ? &m->dsf[l][0] : NULL, h);
    ENTRY(f->active && far_scratch_len(f, zeta, B) > h ? &m->dsf[l][1] : NULL, h);
  }
  ENTRY(&m->dscr[0], scr);
  ENTRY(need2 ? &m->dscr[1] : NULL, scr);
  ENTRY(&m->scratch, gat * B);
  ENTRY(&m->gwork, gw);
  ENTRY(&m->gslice, gsl);
#undef ENTRY
  int64_t len = 0;
  for (int i = 0; i < nt; i++) len += tab[i].ptr ? tab[i].len : 0;
  m->mem_len = len;
  if (cfg->layout_only) { /* the planner needs the sizes, not the memory */
    free(tab);
    return 0;
  }
  int err = H2_CALLOC_BIG(m->mem, len); /* touches every page now, not in the first iteration */
  real *p = m->mem;
  for (int i = 0; i < nt && !err; i++)
    if (tab[i].ptr) *tab[i].ptr = p, p += tab[i].len;
  free(tab);
  H2_TRY(err);
  m->dw = m->zc[zeta];
  m->dscr_len = scr;
  return 0;
}

void h2_model_free(h2_model *m) {
  if (m->far)
    for (int l = m->lmin; l <= m->L; l++) {
      h2_bsmap_free(&m->far[l]);
      if (m->halo_far) h2_halo_free(&m->halo_far[l]);
      free(m->zf ? m->zf[l] : NULL);
    }
  h2_bsmap_free(&m->close);
  h2_halo_free(&m->halo_close);
  h2_coarse_free(&m->co);
  free(m->far);
  free(m->halo_far);
  free(m->off_far);
  free(m->off_T);
  free(m->off_S);
  free(m->leaf_voff);
  free(m->zc);
  free(m->zf);
  free(m->dqh);
  free(m->dwh);
  free(m->dsf);
  free(m->mem);
  if (!m->borrowed) {
    h2_blocktree_free(&m->bt);
    h2_tree_free(&m->tree);
  }
  memset(m, 0, sizeof *m);
}

/* C (M x nb) = op(A) (M x K) * X (K x nb) + beta * C: A row-major, K x M when transposed */
static void gemm(int transA, int M, int K, int nb, const real *A, const real *X, real beta, real *C) {
  h2_gemm(transA, M, K, nb, A, transA ? M : K, X, beta, C);
}

/* G (M x K) += Y (M x nb) * X^T (nb x K): weight gradient of y = G x */
static void gemm_grad(const h2_model *m, int M, int K, int nb, const real *Y, const real *X, real *G) {
  h2_gemm_grad(M, K, nb, Y, X, G, K, m->gwork);
}

static real *box_vec(const h2_bsmap *f, real *buf, int k, int slot, int nb) {
  return buf + BS_AOFF(f, k, slot) * nb;
}

/* offset of T_c / S_c of child box c of level l (global index) in the flat
 * parameter buffer: held with the parent c/2, on the parent's owner */
static int64_t transfer_off(const h2_model *m, int64_t off_l, int l, int c) {
  return off_l + (int64_t)(c - 2 * m->far[l - 1].first_row) * m->r * m->r;
}
static const real *transfer(const h2_model *m, const real *params, int64_t off_l, int l, int c) {
  return params + transfer_off(m, off_l, l, c);
}

static void add_block(real *dst, const real *src, int64_t n) {
  for (int64_t t = 0; t < n; t++) dst[t] += src[t];
}

/* one map's layers, halo exchange overlapped with interior rows */
/* The maps that compute something: the active far levels lmin..L, then the
 * close map (level -1); h is NULL when the map exchanges no halo. */
typedef struct {
  h2_bsmap *f;
  h2_halo *h;
  real **z;    /* activations of layers 0..zeta */
  int64_t off; /* first parameter in the flat buffer */
  int level;   /* far level, or -1 for the close map */
} map_ref;
enum { MAX_MAPS = H2_TREE_MAX_DEPTH + 2 };

static int active_maps(h2_model *m, map_ref *mp) {
  int n = 0;
  for (int l = m->has_far ? m->lmin : m->L + 1; l <= m->L; l++)
    if (m->far[l].active)
      mp[n++] = (map_ref){&m->far[l], &m->halo_far[l], m->zf[l], m->off_far[l], l};
  mp[n++] = (map_ref){&m->close, &m->halo_close, m->zc, m->off_close, -1};
  for (int j = 0; j < n; j++)
    if (mp[j].h && !mp[j].h->active) mp[j].h = NULL;
  return n;
}

/* Interior rows computed between two calls to MPI progress (h2_halo_progress). */
#define PROGRESS_ROWS 4

static void progress_all(const map_ref *mp, int n) {
  for (int j = 0; j < n; j++)
    if (mp[j].h) h2_halo_progress(mp[j].h);
}

/* Forward of all maps (far levels lmin..L, then the close map), layer by layer
 * across the maps: layer k's halo messages of every map are in flight while
 * every map's interior rows are computed, so a rank meets its neighbours
 * once per layer (zeta times per pass), not once per layer and map. */
static void maps_forward(h2_model *m, const real *params, int nb) {
  map_ref mp[MAX_MAPS];
  int n = active_maps(m, mp);
  const real *w[MAX_MAPS];
  for (int j = 0; j < n; j++) w[j] = params + mp[j].off;
  for (int l = m->has_far ? m->lmin : m->L + 1; l <= m->L; l++) /* inactive levels contribute nothing */
    if (!m->far[l].active) memset(m->zf[l][m->zeta], 0, sizeof(real) * (size_t)map_layer_len(&m->far[l], m->zeta, nb));
  const int act = m->cfg.activation;
  for (int k = 1; k <= m->zeta; k++) {
    for (int j = 0; j < n; j++)
      if (mp[j].h) h2_halo_forward_start(mp[j].h, mp[j].f, k - 1, mp[j].z[k - 1], nb);
    for (int j = 0; j < n; j++) {
      if (!mp[j].h) {
        h2_bsl_forward(mp[j].f, k, NULL, 0, w[j], mp[j].z[k - 1], mp[j].z[k], nb, act, m->scratch);
        continue;
      }
      for (int r0 = 0; r0 < mp[j].h->n_int; r0 += PROGRESS_ROWS) {
        int nr = mp[j].h->n_int - r0 < PROGRESS_ROWS ? mp[j].h->n_int - r0 : PROGRESS_ROWS;
        h2_bsl_forward(mp[j].f, k, mp[j].h->rows_int + r0, nr, w[j], mp[j].z[k - 1], mp[j].z[k], nb, act, m->scratch);
        progress_all(mp, n);
      }
    }
    for (int j = 0; j < n; j++)
      if (mp[j].h) {
        h2_halo_wait(mp[j].h);
        h2_bsl_forward(mp[j].f, k, mp[j].h->rows_bnd, mp[j].h->n_bnd, w[j], mp[j].z[k - 1], mp[j].z[k], nb, act, m->scratch);
      }
  }
}

/* Upward above p (the coarse tree, coarse.h): the owner of box q of level
 * l < p gets qh_{l+1} of its two children from their owners and computes
 *   qh_l[q] = T_{2q} qh_{l+1}[2q] + T_{2q+1} qh_{l+1}[2q+1],
 * then sends it on to the owner of its parent (down to level lmin). */
static void coarse_up(h2_model *m, const real *params, int nb) {
  const int p = m->part.p, r = m->r;
  h2_coarse_send(&m->co, H2_CO_UP, p, m->far[p].first_row, box_vec(&m->far[p], m->zf[p][0], 0, 0, nb), nb);
  for (int l = p - 1; l >= m->lmin; l--) {
    const h2_bsmap *f = &m->far[l];
    for (int i = 0; i < f->nrows; i++) {
      int q = f->first_row + i;
      real *out = box_vec(f, m->zf[l][0], 0, i, nb);
      for (int c = 0; c < 2; c++)
        gemm(0, r, r, nb, transfer(m, params, m->off_T[l + 1], l + 1, 2 * q + c),
             h2_coarse_recv(&m->co, H2_CO_UP, l + 1, 2 * q + c, nb), c ? 1 : 0, out);
      if (l > m->lmin) h2_coarse_send(&m->co, H2_CO_UP, l, q, out, nb);
    }
  }
}

/* Downward above p: the owner of box q of level l < p adds what its parent
 * sent to its map output wh_l[q] and sends S_c wh_l[q] to the owner of each
 * child c, which adds it to wh_{l+1}[c] (on level p: this rank's own box). */
static void coarse_down(h2_model *m, const real *params, int nb) {
  const int p = m->part.p, r = m->r, zeta = m->zeta;
  for (int l = m->lmin; l < p; l++) {
    const h2_bsmap *f = &m->far[l];
    for (int i = 0; i < f->nrows; i++) {
      int q = f->first_row + i;
      real *wq = box_vec(f, m->zf[l][zeta], zeta, i, nb);
      if (l > m->lmin) add_block(wq, h2_coarse_recv(&m->co, H2_CO_DOWN, l, q, nb), (int64_t)r * nb);
      for (int c = 0; c < 2; c++) {
        gemm(0, r, r, nb, transfer(m, params, m->off_S[l + 1], l + 1, 2 * q + c), wq, 0, m->scratch);
        h2_coarse_send(&m->co, H2_CO_DOWN, l + 1, 2 * q + c, m->scratch, nb);
      }
    }
  }
  add_block(box_vec(&m->far[p], m->zf[p][zeta], zeta, 0, nb),
            h2_coarse_recv(&m->co, H2_CO_DOWN, p, m->far[p].first_row, nb), (int64_t)r * nb);
}

void h2_model_forward(h2_model *m, const real *params, int nb) {
  const int L = m->L, r = m->r, zeta = m->zeta, p = m->part.p;
  const int lfine = m->lmin > p ? m->lmin : p; /* coarsest level whose boxes are subtrees of one rank */
  if (m->coarse) {
    h2_coarse_post(&m->co, H2_CO_UP, nb);
    h2_coarse_post(&m->co, H2_CO_DOWN, nb);
  }
  if (m->has_far) {
    /* leaf projection: qh_L[k] = Vt_k q[k] */
    const h2_bsmap *fl = &m->far[L];
    for (int k = 0; k < m->close.nrows; k++)
      gemm(0, r, leaf_n(m, m->close.first_row + k), nb, params + m->off_V + m->leaf_voff[k],
           box_vec(&m->close, m->zc[0], 0, k, nb), 0, box_vec(fl, m->zf[L][0], 0, k, nb));
    /* upward on own subtrees: qh_l[p] = T_{2p} qh_{l+1}[2p] + T_{2p+1} qh_{l+1}[2p+1] */
    for (int l = L - 1; l >= lfine; l--)
      for (int q = 0; q < m->far[l].nrows; q++)
        for (int c = 0; c < 2; c++) {
          int child = 2 * (m->far[l].first_row + q) + c;
          gemm(0, r, r, nb, transfer(m, params, m->off_T[l + 1], l + 1, child),
               box_vec(&m->far[l + 1], m->zf[l + 1][0], 0, 2 * q + c, nb), c ? 1 : 0,
               box_vec(&m->far[l], m->zf[l][0], 0, q, nb));
        }
    if (m->coarse) coarse_up(m, params, nb);
  }
  /* far maps G_l on every level with an interaction list, and the close map G_0 on q */
  maps_forward(m, params, nb);
  if (!m->has_far) return;
  if (m->coarse) coarse_down(m, params, nb);
  /* downward on own subtrees: wh_{l+1}[c] += S_c wh_l[parent(c)] */
  for (int l = lfine; l < L; l++) {
    const h2_bsmap *fc = &m->far[l + 1], *fp = &m->far[l];
    for (int cs = 0; cs < fc->nrows; cs++) {
      int child = fc->first_row + cs;
      gemm(0, r, r, nb, transfer(m, params, m->off_S[l + 1], l + 1, child),
           box_vec(fp, m->zf[l][zeta], zeta, child / 2 - fp->first_row, nb), 1,
           box_vec(fc, m->zf[l + 1][zeta], zeta, cs, nb));
    }
  }
  /* leaf interpolation: w[k] = G_0[q][k] + Ut_k wh_L[k] */
  for (int k = 0; k < m->close.nrows; k++)
    gemm(0, leaf_n(m, m->close.first_row + k), r, nb, params + m->off_U + m->leaf_voff[k],
         box_vec(&m->far[L], m->zf[L][zeta], zeta, k, nb), 1, box_vec(&m->close, m->zc[zeta], zeta, k, nb));
  if (m->coarse) {
    h2_coarse_complete(&m->co, H2_CO_UP);
    h2_coarse_complete(&m->co, H2_CO_DOWN);
  }
}

/* The gradient sink of the map whose parameters start at offset off. */
static h2_grad_sink map_sink(const h2_grad_sink *model, int64_t off) {
  h2_grad_sink s = {model->grads ? model->grads + off : NULL, off, model->hook, model->slice};
  return s;
}

/* Backward of all maps (far levels lmin..L, then the close map), layer by
 * layer across the maps like maps_forward: dz^zeta = dout (on entry) ...
 * dz^0 added into din; the halo gradients of every map are on their way to
 * their owners while every map's interior rows are computed.  Hidden-layer
 * gradients ping-pong between the map's own buffers (dscr for the close map,
 * dsf[l] for far level l), the second being the dead output gradient dout
 * when it is large enough. */
static void maps_backward(h2_model *m, const real *params, const h2_grad_sink *gs_model, int want_dq, int nb) {
  map_ref mp[MAX_MAPS];
  int n = active_maps(m, mp);
  real *dout[MAX_MAPS], *din[MAX_MAPS], *pp[MAX_MAPS][2];
  h2_grad_sink g[MAX_MAPS];
  const real *w[MAX_MAPS];
  const int zeta = m->zeta, act = m->cfg.activation;
  for (int j = 0; j < n; j++) {
    w[j] = params + mp[j].off, g[j] = map_sink(gs_model, mp[j].off);
    int l = mp[j].level;
    dout[j] = l < 0 ? m->dw : m->dwh[l];
    din[j] = l < 0 ? (want_dq ? m->dq : NULL) : m->dqh[l];
    pp[j][0] = l < 0 ? m->dscr[0] : m->dsf[l][0];
    pp[j][1] = l < 0 ? m->dscr[1] : m->dsf[l][1];
    if (!pp[j][1]) pp[j][1] = dout[j]; /* h2_model_build gave no second buffer: the output gradient is large enough */
  }
  for (int k = zeta; k >= 1; k--) {
    real *dzo[MAX_MAPS], *dzi[MAX_MAPS];
    for (int j = 0; j < n; j++) {
      dzo[j] = k == zeta ? dout[j] : pp[j][(zeta - k - 1) % 2];
      dzi[j] = k == 1 ? din[j] : pp[j][(zeta - k) % 2];
      if (k > 1) memset(dzi[j], 0, sizeof(real) * (size_t)map_layer_len(mp[j].f, k - 1, nb));
    }
    for (int j = 0; j < n; j++)
      if (mp[j].h) {
        h2_bsl_backward(mp[j].f, k, mp[j].h->rows_bnd, mp[j].h->n_bnd, w[j], &g[j], mp[j].z[k - 1], mp[j].z[k], dzo[j], dzi[j], nb, act,
                        m->scratch, m->gwork);
        if (dzi[j]) h2_halo_reverse_start(mp[j].h, mp[j].f, k - 1, dzi[j], nb);
      }
    for (int j = 0; j < n; j++) {
      if (!mp[j].h) {
        h2_bsl_backward(mp[j].f, k, NULL, 0, w[j], &g[j], mp[j].z[k - 1], mp[j].z[k], dzo[j], dzi[j], nb, act, m->scratch,
                        m->gwork);
        continue;
      }
      for (int r0 = 0; r0 < mp[j].h->n_int; r0 += PROGRESS_ROWS) {
        int nr = mp[j].h->n_int - r0 < PROGRESS_ROWS ? mp[j].h->n_int - r0 : PROGRESS_ROWS;
        h2_bsl_backward(mp[j].f, k, mp[j].h->rows_int + r0, nr, w[j], &g[j], mp[j].z[k - 1], mp[j].z[k], dzo[j], dzi[j], nb, act,
                        m->scratch, m->gwork);
        progress_all(mp, n);
      }
    }
    for (int j = 0; j < n; j++)
      if (mp[j].h && dzi[j]) h2_halo_reverse_finish(mp[j].h, mp[j].f, k - 1, dzi[j], nb);
  }
}

/* Backward of the downward pass above p, fine to coarse: dwh_{l+1}[c] goes
 * to the owner of the parent q, which accumulates
 *   dS_c += dwh_{l+1}[c] wh_l[q]^T,   dwh_l[q] += S_c^T dwh_{l+1}[c]
 * and sends the completed dwh_l[q] on to its own parent's owner. */
static void coarse_down_backward(h2_model *m, const real *params, const h2_grad_sink *gs, int nb) {
  const int p = m->part.p, r = m->r, zeta = m->zeta;
  h2_coarse_send(&m->co, H2_CO_BUP, p, m->far[p].first_row, box_vec(&m->far[p], m->dwh[p], zeta, 0, nb), nb);
  for (int l = p - 1; l >= m->lmin; l--) {
    const h2_bsmap *f = &m->far[l];
    for (int i = 0; i < f->nrows; i++) {
      int q = f->first_row + i;
      real *dq = box_vec(f, m->dwh[l], zeta, i, nb);
      const real *wq = box_vec(f, m->zf[l][zeta], zeta, i, nb);
      for (int c = 0; c < 2; c++) {
        const real *dch = h2_coarse_recv(&m->co, H2_CO_BUP, l + 1, 2 * q + c, nb);
        int64_t off = transfer_off(m, m->off_S[l + 1], l + 1, 2 * q + c);
        real *g = h2_grad_begin(gs, off, (int64_t)r * r, 0);
        gemm_grad(m, r, r, nb, dch, wq, g);
        gemm(1, r, r, nb, params + off, dch, 1, dq);
        h2_grad_done(gs, off, g, (int64_t)r * r);
      }
      if (l > m->lmin) h2_coarse_send(&m->co, H2_CO_BUP, l, q, dq, nb);
    }
  }
}

/* Backward of the upward pass above p, coarse to fine: the owner of box q
 * of level l < p completes dqh_l[q] (its map's input gradient) with what
 * its parent's owner sent, accumulates dT_c += dqh_l[q] qh_{l+1}[c]^T (qh of
 * the children kept from the forward pass) and sends T_c^T dqh_l[q] to the
 * owner of each child c. */
static void coarse_up_backward(h2_model *m, const real *params, const h2_grad_sink *gs, int nb) {
  const int p = m->part.p, r = m->r;
  for (int l = m->lmin; l < p; l++) {
    const h2_bsmap *f = &m->far[l];
    for (int i = 0; i < f->nrows; i++) {
      int q = f->first_row + i;
      real *dq = box_vec(f, m->dqh[l], 0, i, nb);
      if (l > m->lmin) add_block(dq, h2_coarse_recv(&m->co, H2_CO_BDOWN, l, q, nb), (int64_t)r * nb);
      for (int c = 0; c < 2; c++) {
        int64_t off = transfer_off(m, m->off_T[l + 1], l + 1, 2 * q + c);
        real *g = h2_grad_begin(gs, off, (int64_t)r * r, 0);
        gemm_grad(m, r, r, nb, dq, h2_coarse_block(&m->co, H2_CO_UP, l + 1, 2 * q + c), g);
        gemm(1, r, r, nb, params + off, dq, 0, m->scratch);
        h2_grad_done(gs, off, g, (int64_t)r * r);
        h2_coarse_send(&m->co, H2_CO_BDOWN, l + 1, 2 * q + c, m->scratch, nb);
      }
    }
  }
  add_block(box_vec(&m->far[p], m->dqh[p], 0, 0, nb), h2_coarse_recv(&m->co, H2_CO_BDOWN, p, m->far[p].first_row, nb),
            (int64_t)r * nb);
}

void h2_model_backward(h2_model *m, const real *params, real *grads, int nb, int want_dq, const h2_grad_hook *hook) {
  const int L = m->L, r = m->r, zeta = m->zeta, p = m->part.p;
  const int lfine = m->lmin > p ? m->lmin : p;
  const h2_grad_sink gs = {grads, 0, hook, m->gslice};
  want_dq = want_dq && m->dq;
  if (want_dq) memset(m->dq, 0, sizeof(real) * (size_t)map_layer_len(&m->close, 0, nb));
  if (m->coarse) {
    h2_coarse_post(&m->co, H2_CO_BUP, nb);
    h2_coarse_post(&m->co, H2_CO_BDOWN, nb);
  }
  if (m->has_far) {
    for (int l = m->lmin; l <= L; l++) {
      memset(m->dqh[l], 0, sizeof(real) * (size_t)map_layer_len(&m->far[l], 0, nb));
      memset(m->dwh[l], 0, sizeof(real) * (size_t)map_layer_len(&m->far[l], zeta, nb));
    }
    /* leaf interpolation: dwh_L[k] = Ut_k^T dw[k];  dUt_k += dw[k] wh_L[k]^T */
    for (int k = 0; k < m->close.nrows; k++) {
      int n = leaf_n(m, m->close.first_row + k);
      const real *dwk = box_vec(&m->close, m->dw, zeta, k, nb);
      gemm(1, r, n, nb, params + m->off_U + m->leaf_voff[k], dwk, 0, box_vec(&m->far[L], m->dwh[L], zeta, k, nb));
      int64_t off = m->off_U + m->leaf_voff[k];
      real *g = h2_grad_begin(&gs, off, (int64_t)n * r, 0);
      gemm_grad(m, n, r, nb, dwk, box_vec(&m->far[L], m->zf[L][zeta], zeta, k, nb), g);
      h2_grad_done(&gs, off, g, (int64_t)n * r);
    }
    /* downward on own subtrees, fine to coarse: dS_c += dwh_{l+1}[c] wh_l[p]^T;  dwh_l[p] += S_c^T dwh_{l+1}[c] */
    for (int l = L - 1; l >= lfine; l--) {
      const h2_bsmap *fc = &m->far[l + 1], *fp = &m->far[l];
      for (int cs = 0; cs < fc->nrows; cs++) {
        int child = fc->first_row + cs;
        const real *dch = box_vec(fc, m->dwh[l + 1], zeta, cs, nb);
        const real *wp = box_vec(fp, m->zf[l][zeta], zeta, child / 2 - fp->first_row, nb);
        int64_t off = transfer_off(m, m->off_S[l + 1], l + 1, child);
        real *g = h2_grad_begin(&gs, off, (int64_t)r * r, 0);
        gemm_grad(m, r, r, nb, dch, wp, g);
        gemm(1, r, r, nb, params + off, dch, 1, box_vec(fp, m->dwh[l], zeta, child / 2 - fp->first_row, nb));
        h2_grad_done(&gs, off, g, (int64_t)r * r);
      }
    }
    if (m->coarse) coarse_down_backward(m, params, &gs, nb);
  }
  maps_backward(m, params, &gs, want_dq, nb);
  if (!m->has_far) return;
  if (m->coarse) coarse_up_backward(m, params, &gs, nb);
  /* upward on own subtrees, coarse to fine: dT_c += dqh_l[p] qh_{l+1}[c]^T;  dqh_{l+1}[c] += T_c^T dqh_l[p] */
  for (int l = lfine; l < L; l++) {
    const h2_bsmap *fc = &m->far[l + 1], *fp = &m->far[l];
    for (int cs = 0; cs < fc->nrows; cs++) {
      int child = fc->first_row + cs;
      const real *dp = box_vec(fp, m->dqh[l], 0, child / 2 - fp->first_row, nb);
      int64_t off = transfer_off(m, m->off_T[l + 1], l + 1, child);
      real *g = h2_grad_begin(&gs, off, (int64_t)r * r, 0);
      gemm_grad(m, r, r, nb, dp, box_vec(fc, m->zf[l + 1][0], 0, cs, nb), g);
      gemm(1, r, r, nb, params + off, dp, 1, box_vec(fc, m->dqh[l + 1], 0, cs, nb));
      h2_grad_done(&gs, off, g, (int64_t)r * r);
    }
  }
  /* leaf projection: dVt_k += dqh_L[k] q[k]^T;  dq[k] += Vt_k^T dqh_L[k] */
  for (int k = 0; k < m->close.nrows; k++) {
    int n = leaf_n(m, m->close.first_row + k);
    const real *dqk = box_vec(&m->far[L], m->dqh[L], 0, k, nb);
    int64_t off = m->off_V + m->leaf_voff[k];
    real *g = h2_grad_begin(&gs, off, (int64_t)n * r, 0);
    gemm_grad(m, r, n, nb, dqk, box_vec(&m->close, m->zc[0], 0, k, nb), g);
    if (want_dq) gemm(1, n, r, nb, params + m->off_V + m->leaf_voff[k], dqk, 1, box_vec(&m->close, m->dq, 0, k, nb));
    h2_grad_done(&gs, off, g, (int64_t)n * r);
  }
  if (m->coarse) {
    h2_coarse_complete(&m->co, H2_CO_BUP);
    h2_coarse_complete(&m->co, H2_CO_BDOWN);
  }
}

/* Bytes this rank sent and seconds it waited in the coarse tree: its edges
 * (coarse.h) and the halo exchange of the maps above level p. */
double h2_model_coarse_bytes(const h2_model *m) {
  double b = m->co.bytes;
  for (int l = m->lmin; l < m->part.p && l <= m->L; l++) b += m->halo_far[l].bytes;
  return b;
}

double h2_model_comm_bytes(const h2_model *m) {
  double b = m->halo_close.bytes + m->co.bytes;
  for (int l = m->lmin; l <= m->L; l++) b += m->halo_far ? m->halo_far[l].bytes : 0;
  return b;
}

double h2_model_comm_wait(const h2_model *m) {
  double t = m->halo_close.wait_seconds + m->co.wait_seconds;
  for (int l = m->lmin; l <= m->L; l++) t += m->halo_far ? m->halo_far[l].wait_seconds : 0;
  return t;
}

static double map_flops(const h2_bsmap *f) {
  double s = 0;
  if (!f->active) return 0;
  for (int k = 1; k <= f->zeta; k++)
    for (int i = 0; i < f->nrows; i++) s += 2.0 * BS_W(f, k, i) * (double)BS_ROWIN(f, k, i);
  return s;
}

/* This rank's share of one forward pass per sample: the rows it owns on
 * every level (the sum over the model group is the model's). */
double h2_model_flops(const h2_model *m) {
  double s = map_flops(&m->close);
  if (m->has_far) {
    for (int l = m->lmin; l <= m->L; l++) s += map_flops(&m->far[l]);
    s += 4.0 * (double)m->n_params_V;
    for (int l = m->lmin + 1; l <= m->L; l++) s += 4.0 * 2.0 * m->far[l - 1].nrows * m->r * m->r;
  }
  return s;
}

/* The part of h2_model_flops above level p: the maps of the coarse boxes
 * this rank owns and the transfers to their children. */
double h2_model_coarse_flops(const h2_model *m) {
  double s = 0;
  for (int l = m->lmin; l < m->part.p && l <= m->L; l++)
    s += map_flops(&m->far[l]) + 4.0 * 2.0 * m->far[l].nrows * m->r * m->r;
  return s;
}

int64_t h2_model_activation_bytes(const h2_model *m) { return m->mem_len * (int64_t)sizeof(real); }

/* own points of the close map (rows of w) */
static int64_t own_points(const h2_model *m) { return BS_AOFF(&m->close, m->zeta, m->close.nrows); }

/* se[s] += sum_i (w_is - t_is)^2, st[s] += sum_i (t_is + o_i)^2 for the 64
 * samples s0.. of every row i, in double: float32 through the active kernel
 * set (isa.h: 8 x 8 accumulators in GCC vector types, vectorised for the CPU) */
enum { LOSS_CHUNK = 64 };
#ifndef H2NN_DOUBLE
#include "h2nn/core/isa.h"
static void loss_sums64(int64_t npts, const real *w, const real *t, const real *offset, int nb, int s0, double *se,
                        double *st) {
  h2_kernels_get()->loss_sums64(npts, w, t, offset, nb, s0, se, st);
}
#else
typedef double v8d __attribute__((vector_size(64)));
static void loss_sums64(int64_t npts, const real *w, const real *t, const real *offset, int nb, int s0, double *se,
                        double *st) {
  v8d ae[8] = {0}, at[8] = {0};
  for (int64_t i = 0; i < npts; i++) {
    const real *wi = w + i * nb + s0, *ti = t + i * nb + s0;
    double o = offset ? offset[i] : 0;
    for (int v = 0; v < 8; v++) {
      v8d wd, td;
      memcpy(&wd, wi + 8 * v, sizeof wd);
      memcpy(&td, ti + 8 * v, sizeof td);
      v8d e = wd - td, ts = td + o;
      ae[v] += e * e;
      at[v] += ts * ts;
    }
  }
  memcpy(se, ae, sizeof ae);
  memcpy(st, at, sizeof at);
}
#endif

void h2_loss_partial(const h2_model *m, const real *t, const real *offset, int nb, double *sums) {
  const real *w = m->zc[m->zeta];
  for (int s0 = 0; s0 < nb; s0 += LOSS_CHUNK) {
    int ns = nb - s0 < LOSS_CHUNK ? nb - s0 : LOSS_CHUNK;
    double se[LOSS_CHUNK] = {0}, st[LOSS_CHUNK] = {0};
    if (ns == LOSS_CHUNK) loss_sums64(own_points(m), w, t, offset, nb, s0, se, st);
    else
      for (int64_t i = 0; i < own_points(m); i++)
        for (int s = 0; s < ns; s++) {
          double e = (double)w[i * nb + s0 + s] - (double)t[i * nb + s0 + s];
          double ts = (double)t[i * nb + s0 + s] + (offset ? offset[i] : 0);
          se[s] += e * e;
          st[s] += ts * ts;
        }
    for (int s = 0; s < ns; s++) sums[2 * (s0 + s)] = se[s], sums[2 * (s0 + s) + 1] = st[s];
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
  if (set_grad) {
    for (int s0 = 0; s0 < nb; s0 += LOSS_CHUNK) {
      int ns = nb - s0 < LOSS_CHUNK ? nb - s0 : LOSS_CHUNK;
      double c[LOSS_CHUNK];
      for (int s = 0; s < ns; s++) c[s] = 2.0 / (total_batch * sums[2 * (s0 + s) + 1]);
      for (int64_t i = 0; i < own_points(m); i++)
        for (int s = 0; s < ns; s++)
          m->dw[i * nb + s0 + s] = (real)(((double)w[i * nb + s0 + s] - (double)t[i * nb + s0 + s]) * c[s]);
    }
  }
  return loss / total_batch;
}

real *h2_model_target_buffer(h2_model *m, int64_t need) { return m->dscr[0] && m->dscr_len >= need ? m->dscr[0] : NULL; }
