/* points_common.h — the point clouds of the tree and model tests. */
#ifndef H2NN_TEST_POINTS_COMMON_H
#define H2NN_TEST_POINTS_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "h2nn/util/rng.h"

/* n^d grid (n = round(N^(1/d))) or random points in [0,1]^d */
static inline double *tm_points(int N, int d, int grid, uint64_t seed) {
  double *x = malloc(sizeof(double) * (size_t)N * d);
  int side = (int)lround(pow(N, 1.0 / d));
  for (int i = 0; i < N; i++)
    for (int c = 0, rest = i; c < d; c++, rest /= side)
      x[i * d + c] = grid ? ((rest % side) + 0.5) / side : h2_rng_uniform(seed, 7, (uint32_t)c, (uint64_t)i);
  return x;
}

#endif
