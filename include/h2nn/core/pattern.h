/* pattern.h — the block cluster tree of docs/design.md §1 as block-sparsity patterns.
 *
 * The dual traversal from (root, root) sorts every block into the close list
 * CL (pairs of leaves) or the interaction list IL_l of its level.  Each list is
 * a CSR pattern over the boxes of one level: rows = output boxes in tree
 * order, columns ascending.  The transpose (CSC) is kept for the backward
 * pass and for Xavier fan-out. */
#ifndef H2NN_PATTERN_H
#define H2NN_PATTERN_H

#include <stdint.h>

#include "h2nn/core/tree.h"

typedef struct {
  int nboxes;          /* rows = columns = boxes on the level */
  int64_t nnz;
  int64_t *rowptr;     /* [nboxes + 1] */
  int *col;            /* [nnz] column box (index within the level) */
  int64_t *colptr;     /* [nboxes + 1] transpose: blocks of column j are */
  int64_t *colblk;     /* colblk[colptr[j] .. colptr[j+1]) (CSR block ids) */
} h2_pattern;

typedef struct {
  int L;
  int lmin;            /* coarsest level with a non-empty IL; L + 1 if none */
  double eta;
  h2_pattern close;    /* CL, level L */
  h2_pattern *far;     /* far[l], l = 0..L; IL_l (possibly empty) */
} h2_blocktree;

int h2_blocktree_build(h2_blocktree *bt, const h2_tree *t, double eta);
void h2_blocktree_free(h2_blocktree *bt);

/* The row of CSR block blk (binary search over rowptr). */
int h2_pattern_block_row(const h2_pattern *p, int64_t blk);

/* Row i's blocks: col[rowptr[i] .. rowptr[i+1]). Returns block id of (i,j) or -1. */
int64_t h2_pattern_find(const h2_pattern *p, int i, int j);

#endif
