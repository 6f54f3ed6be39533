/* tree.h — the cluster tree of docs/design.md §1.
 *
 * A balanced binary tree over N points in R^d (d = 1..3) built by recursive
 * median bisection.  Boxes are numbered heap-style: box k of level l has id
 * (1<<l) - 1 + k; level 0 is the root, leaves are on level L.  Tree position t
 * holds original point perm[t]; box `id` owns tree positions
 * [start[id], start[id] + size[id]). */
#ifndef H2NN_TREE_H
#define H2NN_TREE_H

#include <stdint.h>

typedef struct {
  int N, d, L, leaf_size;
  int nboxes;          /* 2^(L+1) - 1 */
  int64_t *perm;       /* perm[t] = original index of tree position t */
  int64_t *iperm;      /* iperm[i] = tree position of original point i */
  int64_t *start;      /* [nboxes] first tree position of each box */
  int64_t *size;       /* [nboxes] number of points in each box */
  double *lo, *hi;     /* [nboxes * 3] cell corners (unused dims = 0) */
  double *xt;          /* [N * d] coordinates in tree order */
} h2_tree;

static inline int h2_box_id(int level, int k) { return (1 << level) - 1 + k; }
static inline int h2_level_boxes(int level) { return 1 << level; }

/* Deepest possible tree: N < 2^63 points, leaves of at least one point. */
#define H2_TREE_MAX_DEPTH 63

/* Number of levels below the root: max(0, ceil(log2(N / leaf_size))). */
int h2_tree_depth(int64_t N, int leaf_size);

/* Build the tree.  points: N x d row-major, original order.  Fails with
 * H2_EINPUT on impossible arguments (N < 1, d outside 1..3, leaf_size < 1). */
int h2_tree_build(h2_tree *t, const double *points, int N, int d, int leaf_size);
void h2_tree_free(h2_tree *t);

double h2_tree_cell_width(const h2_tree *t, int id);
double h2_tree_cell_dist(const h2_tree *t, int a, int b);
/* docs/design.md §1 admissibility: far iff dist >= eta * max(width_a, width_b); two
 * touching cells (dist 0) are never far, even if degenerate (zero width). */
int h2_tree_far(const h2_tree *t, int a, int b, double eta);

#endif
