/* pattern.c — dual traversal of the cluster tree into the close list and the
 * per-level interaction lists, stored as CSR (+ CSC) block patterns. */
#include "h2nn/core/pattern.h"

#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"

typedef struct {
  int64_t n, cap;
  int *pair; /* (row, col) pairs */
} pair_list;

static int pair_push(pair_list *pl, int r, int c) {
  if (pl->n == pl->cap) {
    int64_t cap = pl->cap ? 2 * pl->cap : 64;
    int *p = realloc(pl->pair, (size_t)cap * 2 * sizeof(int));
    if (!p) H2_FAIL(H2_EMEM, "out of memory building the block cluster tree");
    pl->pair = p;
    pl->cap = cap;
  }
  pl->pair[2 * pl->n] = r;
  pl->pair[2 * pl->n + 1] = c;
  pl->n++;
  return 0;
}

static int pattern_from_pairs(h2_pattern *p, int nboxes, pair_list *pl) {
  memset(p, 0, sizeof *p);
  p->nboxes = nboxes;
  p->nnz = pl->n;
  H2_TRY(H2_CALLOC(p->rowptr, nboxes + 1));
  H2_TRY(H2_MALLOC(p->col, pl->n));
  H2_TRY(H2_CALLOC(p->colptr, nboxes + 1));
  H2_TRY(H2_MALLOC(p->colblk, pl->n));
  for (int64_t e = 0; e < pl->n; e++) p->rowptr[pl->pair[2 * e] + 1]++;
  for (int i = 0; i < nboxes; i++) p->rowptr[i + 1] += p->rowptr[i];
  int64_t *fill;
  H2_TRY(H2_MALLOC(fill, nboxes + 1));
  memcpy(fill, p->rowptr, sizeof(int64_t) * (nboxes + 1));
  for (int64_t e = 0; e < pl->n; e++) p->col[fill[pl->pair[2 * e]]++] = pl->pair[2 * e + 1];
  /* columns ascending within each row (insertion sort: rows are short) */
  for (int i = 0; i < nboxes; i++)
    for (int64_t a = p->rowptr[i] + 1; a < p->rowptr[i + 1]; a++)
      for (int64_t b = a; b > p->rowptr[i] && p->col[b - 1] > p->col[b]; b--) {
        int tmp = p->col[b];
        p->col[b] = p->col[b - 1];
        p->col[b - 1] = tmp;
      }
  /* transpose: blocks of each column in ascending row order */
  for (int64_t e = 0; e < p->nnz; e++) p->colptr[p->col[e] + 1]++;
  for (int j = 0; j < nboxes; j++) p->colptr[j + 1] += p->colptr[j];
  memcpy(fill, p->colptr, sizeof(int64_t) * (nboxes + 1));
  for (int i = 0; i < nboxes; i++)
    for (int64_t e = p->rowptr[i]; e < p->rowptr[i + 1]; e++) p->colblk[fill[p->col[e]]++] = e;
  free(fill);
  return 0;
}

static void pattern_free(h2_pattern *p) {
  free(p->rowptr);
  free(p->col);
  free(p->colptr);
  free(p->colblk);
  memset(p, 0, sizeof *p);
}

/* Recursive dual traversal of (s, t), both boxes on level l (indices within level). */
static int traverse(const h2_tree *t, double eta, int l, int s, int tt, pair_list *close,
                    pair_list *far) {
  int a = h2_box_id(l, s), b = h2_box_id(l, tt);
  if (h2_tree_far(t, a, b, eta)) return pair_push(&far[l], s, tt);
  if (l == t->L) return pair_push(close, s, tt);
  for (int cs = 0; cs < 2; cs++)
    for (int ct = 0; ct < 2; ct++) H2_TRY(traverse(t, eta, l + 1, 2 * s + cs, 2 * tt + ct, close, far));
  return 0;
}

int h2_blocktree_build(h2_blocktree *bt, const h2_tree *t, double eta) {
  memset(bt, 0, sizeof *bt);
  if (!(eta > 0)) H2_FAIL(H2_EINPUT, "eta must be positive, got %g", eta);
  bt->L = t->L;
  bt->eta = eta;
  pair_list close = {0}, *far;
  H2_TRY(H2_CALLOC(far, t->L + 1));
  H2_TRY(traverse(t, eta, 0, 0, 0, &close, far));
  H2_TRY(pattern_from_pairs(&bt->close, 1 << t->L, &close));
  H2_TRY(H2_CALLOC(bt->far, t->L + 1));
  bt->lmin = t->L + 1;
  for (int l = t->L; l >= 0; l--) {
    H2_TRY(pattern_from_pairs(&bt->far[l], 1 << l, &far[l]));
    if (far[l].n > 0) bt->lmin = l;
    free(far[l].pair);
  }
  free(far);
  free(close.pair);
  return 0;
}

void h2_blocktree_free(h2_blocktree *bt) {
  pattern_free(&bt->close);
  if (bt->far)
    for (int l = 0; l <= bt->L; l++) pattern_free(&bt->far[l]);
  free(bt->far);
  memset(bt, 0, sizeof *bt);
}

int64_t h2_pattern_find(const h2_pattern *p, int i, int j) {
  for (int64_t e = p->rowptr[i]; e < p->rowptr[i + 1]; e++)
    if (p->col[e] == j) return e;
  return -1;
}

int h2_pattern_block_row(const h2_pattern *p, int64_t blk) {
  int lo = 0, hi = p->nboxes - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (p->rowptr[mid] <= blk) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
