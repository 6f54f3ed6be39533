/* test_tree.c — cluster tree and block cluster tree (docs/design.md §1, §6 anchor 1). */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "h2nn/core/pattern.h"
#include "h2nn/util/rng.h"
#include "h2nn/core/tree.h"
#include "points_common.h"

/* Every (leaf, leaf) pair is covered by exactly one close or far block. */
static void check_cover(int N, int d, int grid, int leaf) {
  double *x = tm_points(N, d, grid, 42);
  h2_tree t;
  h2_blocktree bt;
  ck_assert_int_eq(h2_tree_build(&t, x, N, d, leaf), 0);
  ck_assert_int_eq(h2_blocktree_build(&bt, &t, 0.75), 0);
  int nl = 1 << t.L;
  int *cnt = calloc((size_t)nl * nl, sizeof(int));
  for (int i = 0; i < nl; i++)
    for (int64_t e = bt.close.rowptr[i]; e < bt.close.rowptr[i + 1]; e++) cnt[(int64_t)i * nl + bt.close.col[e]]++;
  for (int l = 0; l <= t.L; l++) {
    const h2_pattern *p = &bt.far[l];
    int span = 1 << (t.L - l);
    for (int i = 0; i < (1 << l); i++)
      for (int64_t e = p->rowptr[i]; e < p->rowptr[i + 1]; e++)
        for (int a = 0; a < span; a++)
          for (int b = 0; b < span; b++) cnt[(int64_t)(i * span + a) * nl + p->col[e] * span + b]++;
  }
  for (int64_t q = 0; q < (int64_t)nl * nl; q++) ck_assert_msg(cnt[q] == 1, "leaf pair %ld covered %d times (N=%d d=%d)", (long)q, cnt[q], N, d);
  /* patterns: columns strictly ascending, transpose consistent */
  for (int l = 0; l <= t.L; l++) {
    const h2_pattern *p = &bt.far[l];
    for (int i = 0; i < p->nboxes; i++)
      for (int64_t e = p->rowptr[i] + 1; e < p->rowptr[i + 1]; e++) ck_assert_int_lt(p->col[e - 1], p->col[e]);
    ck_assert_int_eq(p->colptr[p->nboxes], p->nnz);
  }
  free(cnt);
  free(x);
  h2_blocktree_free(&bt);
  h2_tree_free(&t);
}

START_TEST(cover_1d) {
  check_cover(320, 1, 1, 40);
  check_cover(1000, 1, 1, 7);
  check_cover(777, 1, 0, 10);
}
END_TEST

START_TEST(cover_2d) {
  check_cover(1024, 2, 1, 16);
  check_cover(900, 2, 1, 13);
  check_cover(1111, 2, 0, 9);
}
END_TEST

START_TEST(cover_3d) {
  check_cover(512, 3, 1, 8);
  check_cover(999, 3, 0, 11);
}
END_TEST

/* Tree invariants: permutation, balanced ragged leaves, points inside cells. */
START_TEST(tree_invariants) {
  const int N = 1001, d = 2;
  double *x = tm_points(N, d, 0, 3);
  h2_tree t;
  ck_assert_int_eq(h2_tree_build(&t, x, N, d, 8), 0);
  ck_assert_int_eq(t.L, 7); /* ceil(log2(1001/8)) = 7 */
  int *seen = calloc(N, sizeof(int));
  for (int i = 0; i < N; i++) seen[t.perm[i]]++;
  for (int i = 0; i < N; i++) ck_assert_int_eq(seen[i], 1);
  int64_t mn = N, mx = 0;
  for (int k = 0; k < (1 << t.L); k++) {
    int id = h2_box_id(t.L, k);
    mn = t.size[id] < mn ? t.size[id] : mn;
    mx = t.size[id] > mx ? t.size[id] : mx;
  }
  ck_assert_int_le(mx, 8);
  ck_assert_int_le(mx - mn, 1);
  for (int id = 0; id < t.nboxes; id++)
    for (int64_t s = t.start[id]; s < t.start[id] + t.size[id]; s++)
      for (int c = 0; c < d; c++) {
        ck_assert(t.xt[s * d + c] >= t.lo[3 * id + c] && t.xt[s * d + c] <= t.hi[3 * id + c]);
        ck_assert(t.xt[s * d + c] == x[t.perm[s] * d + c]);
      }
  /* median split: left child gets floor(n/2) */
  for (int l = 0; l < t.L; l++)
    for (int k = 0; k < (1 << l); k++)
      ck_assert_int_eq(t.size[h2_box_id(l + 1, 2 * k)], t.size[h2_box_id(l, k)] / 2);
  free(seen);
  free(x);
  h2_tree_free(&t);
}
END_TEST

static int row_len(const h2_pattern *p, int i) { return (int)(p->rowptr[i + 1] - p->rowptr[i]); }

/* 1-D uniform grid: interior leaf has 3 close boxes (itself and its two
 * neighbours); an interior box's interaction list has 3 boxes (the children
 * of the parent's neighbours that do not touch it). */
START_TEST(neighbour_counts_1d) {
  const int N = 1024;
  double *x = tm_points(N, 1, 1, 0);
  h2_tree t;
  h2_blocktree bt;
  ck_assert_int_eq(h2_tree_build(&t, x, N, 1, 16), 0);
  ck_assert_int_eq(h2_blocktree_build(&bt, &t, 0.75), 0);
  ck_assert_int_eq(bt.lmin, 2);
  for (int i = 1; i < (1 << t.L) - 1; i++) ck_assert_int_eq(row_len(&bt.close, i), 3);
  ck_assert_int_eq(row_len(&bt.close, 0), 2);
  for (int l = 3; l <= t.L; l++)
    for (int i = 2; i < (1 << l) - 2; i++) ck_assert_int_eq(row_len(&bt.far[l], i), 3);
  for (int l = 0; l < 2; l++) ck_assert_int_eq(bt.far[l].nnz, 0);
  free(x);
  h2_blocktree_free(&bt);
  h2_tree_free(&t);
}
END_TEST

/* 2-D uniform grid, binary tree: even levels are squares (side w), odd
 * levels tall w x 2w rectangles (the root is split in x first).
 *  squares: close = 3x3 = 9; IL = (5 x 6 children of the parent's 15 close
 *           rectangles) - 9 = 21.
 *  rectangles: gap w < 0.75*2w keeps x-offsets up to 2 close: close = 5x3 = 15;
 *           IL = (6 x 3 children of the parent's 3x3 squares) - 15 = 3.
 * The root cell is the points' bounding box, so boundary cells are narrower by
 * h/2 and may split the other way: only boxes several boxes away from the
 * boundary (levels >= 7 of a 64 x 64 grid, around the centre) are regular. */
START_TEST(neighbour_counts_2d) {
  const int side = 64, N = side * side;
  double *x = tm_points(N, 2, 1, 0);
  h2_tree t;
  h2_blocktree bt;
  ck_assert_int_eq(h2_tree_build(&t, x, N, 2, 4), 0);
  ck_assert_int_eq(t.L, 10);
  ck_assert_int_eq(h2_blocktree_build(&bt, &t, 0.75), 0);
  for (int l = 7; l <= t.L; l++) {
    /* the box containing the centre point has all neighbours inside */
    int id = 0, lev = 0;
    double c[2] = {0.5 + 0.25 / side, 0.5 + 0.25 / side};
    while (lev < l) {
      int left = h2_box_id(lev + 1, 2 * (id - ((1 << lev) - 1)));
      id = (c[0] <= t.hi[3 * left] && c[1] <= t.hi[3 * left + 1]) ? left : left + 1;
      lev++;
    }
    int k = id - ((1 << l) - 1);
    int expect_il = (l % 2 == 0) ? 21 : 3;
    ck_assert_msg(row_len(&bt.far[l], k) == expect_il, "level %d: IL %d, expected %d", l, row_len(&bt.far[l], k), expect_il);
    if (l == t.L) ck_assert_int_eq(row_len(&bt.close, k), 9);
  }
  free(x);
  h2_blocktree_free(&bt);
  h2_tree_free(&t);
}
END_TEST

START_TEST(depth_and_bad_input) {
  ck_assert_int_eq(h2_tree_depth(320, 40), 3);
  ck_assert_int_eq(h2_tree_depth(321, 40), 4);
  ck_assert_int_eq(h2_tree_depth(5, 10), 0);
  h2_tree t;
  double x[3] = {0, 1, 2};
  ck_assert_int_ne(h2_tree_build(&t, x, 3, 1, 0), 0);
  ck_assert_int_ne(h2_tree_build(&t, x, 3, 4, 1), 0);
  /* leaf size 1 with N not a power of two: empty leaves are legal */
  ck_assert_int_eq(h2_tree_build(&t, x, 3, 1, 1), 0);
  h2_blocktree bt;
  ck_assert_int_eq(h2_blocktree_build(&bt, &t, 0.75), 0);
  h2_blocktree_free(&bt);
  h2_tree_free(&t);
}
END_TEST

/* The shuffle is a permutation and depends only on (seed, epoch). */
START_TEST(shuffle_is_permutation) {
  int64_t a[100], b[100];
  h2_rng_shuffle(a, 100, 5, 0);
  h2_rng_shuffle(b, 100, 5, 0);
  int seen[100] = {0}, same = 1;
  for (int i = 0; i < 100; i++) seen[a[i]]++, same &= a[i] == b[i];
  for (int i = 0; i < 100; i++) ck_assert_int_eq(seen[i], 1);
  ck_assert(same);
  h2_rng_shuffle(b, 100, 5, 1);
  same = 1;
  for (int i = 0; i < 100; i++) same &= a[i] == b[i];
  ck_assert(!same);
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("tree");
  TCase *tc = tcase_create("tree");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, cover_1d);
  tcase_add_test(tc, cover_2d);
  tcase_add_test(tc, cover_3d);
  tcase_add_test(tc, tree_invariants);
  tcase_add_test(tc, neighbour_counts_1d);
  tcase_add_test(tc, neighbour_counts_2d);
  tcase_add_test(tc, depth_and_bad_input);
  tcase_add_test(tc, shuffle_is_permutation);
  suite_add_tcase(s, tc);
  return s;
}
