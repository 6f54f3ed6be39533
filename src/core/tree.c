/* tree.c — recursive median bisection (docs/design.md §1): permutation, box ranges and
 * cells, and the geometric admissibility test. */
#include "h2nn/core/tree.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"

int h2_tree_depth(int64_t N, int leaf_size) {
  int L = 0;
  while ((int64_t)leaf_size << L < N) L++; /* smallest L with leaf_size * 2^L >= N */
  return L;
}

typedef struct {
  double key;
  int64_t idx;
} keyed;

static int keyed_cmp(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  if (x->key < y->key) return -1;
  if (x->key > y->key) return 1;
  return (x->idx > y->idx) - (x->idx < y->idx);
}

int h2_tree_build(h2_tree *t, const double *pts, int N, int d, int leaf_size) {
  memset(t, 0, sizeof *t);
  if (N < 1) H2_FAIL(H2_EINPUT, "the point set is empty (N = %d)", N);
  if (d < 1 || d > 3) H2_FAIL(H2_EINPUT, "points must have 1, 2 or 3 coordinates, got %d", d);
  if (leaf_size < 1) H2_FAIL(H2_EINPUT, "leaf size must be at least 1, got %d", leaf_size);
  t->N = N;
  t->d = d;
  t->leaf_size = leaf_size;
  t->L = h2_tree_depth(N, leaf_size);
  if (t->L > 28) H2_FAIL(H2_EINPUT, "tree too deep (%d levels)", t->L);
  t->nboxes = (1 << (t->L + 1)) - 1;
  H2_TRY(H2_MALLOC(t->perm, N));
  H2_TRY(H2_MALLOC(t->iperm, N));
  H2_TRY(H2_MALLOC(t->start, t->nboxes));
  H2_TRY(H2_MALLOC(t->size, t->nboxes));
  H2_TRY(H2_CALLOC(t->lo, 3 * t->nboxes));
  H2_TRY(H2_CALLOC(t->hi, 3 * t->nboxes));
  H2_TRY(H2_MALLOC(t->xt, (int64_t)N * d));
  keyed *buf;
  H2_TRY(H2_MALLOC(buf, N));

  for (int i = 0; i < N; i++) t->perm[i] = i;
  for (int c = 0; c < d; c++) {
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < N; i++) {
      double x = pts[(int64_t)i * d + c];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    t->lo[c] = lo;
    t->hi[c] = hi;
  }
  t->start[0] = 0;
  t->size[0] = N;

  for (int l = 0; l < t->L; l++) {
    for (int k = 0; k < (1 << l); k++) {
      int id = h2_box_id(l, k), left = h2_box_id(l + 1, 2 * k), right = left + 1;
      int64_t s = t->start[id], n = t->size[id], nl = n / 2;
      /* split dimension: largest cell width, lowest index on ties */
      int dim = 0;
      double wmax = -1;
      for (int c = 0; c < d; c++) {
        double w = t->hi[3 * id + c] - t->lo[3 * id + c];
        if (w > wmax) { wmax = w; dim = c; }
      }
      for (int64_t i = 0; i < n; i++) {
        buf[i].idx = t->perm[s + i];
        buf[i].key = pts[buf[i].idx * d + dim];
      }
      qsort(buf, (size_t)n, sizeof *buf, keyed_cmp);
      for (int64_t i = 0; i < n; i++) t->perm[s + i] = buf[i].idx;
      double plane;
      if (nl > 0 && nl < n) plane = 0.5 * (buf[nl - 1].key + buf[nl].key);
      else if (n > 0) plane = buf[0].key; /* one point: the empty left cell is degenerate */
      else plane = 0.5 * (t->lo[3 * id + dim] + t->hi[3 * id + dim]);
      t->start[left] = s;
      t->size[left] = nl;
      t->start[right] = s + nl;
      t->size[right] = n - nl;
      for (int c = 0; c < 3; c++) {
        t->lo[3 * left + c] = t->lo[3 * right + c] = t->lo[3 * id + c];
        t->hi[3 * left + c] = t->hi[3 * right + c] = t->hi[3 * id + c];
      }
      t->hi[3 * left + dim] = plane;
      t->lo[3 * right + dim] = plane;
    }
  }
  for (int64_t i = 0; i < N; i++) {
    t->iperm[t->perm[i]] = i;
    for (int c = 0; c < d; c++) t->xt[i * d + c] = pts[t->perm[i] * d + c];
  }
  free(buf);
  return 0;
}

void h2_tree_free(h2_tree *t) {
  free(t->perm);
  free(t->iperm);
  free(t->start);
  free(t->size);
  free(t->lo);
  free(t->hi);
  free(t->xt);
  memset(t, 0, sizeof *t);
}

double h2_tree_cell_width(const h2_tree *t, int id) {
  double w = 0;
  for (int c = 0; c < t->d; c++) w = fmax(w, t->hi[3 * id + c] - t->lo[3 * id + c]);
  return w;
}

double h2_tree_cell_dist(const h2_tree *t, int a, int b) {
  double s = 0;
  for (int c = 0; c < t->d; c++) {
    double g = fmax(0.0, fmax(t->lo[3 * b + c] - t->hi[3 * a + c], t->lo[3 * a + c] - t->hi[3 * b + c]));
    s += g * g;
  }
  return sqrt(s);
}

int h2_tree_far(const h2_tree *t, int a, int b, double eta) {
  double dist = h2_tree_cell_dist(t, a, b);
  return dist > 0 && dist >= eta * fmax(h2_tree_cell_width(t, a), h2_tree_cell_width(t, b));
}
