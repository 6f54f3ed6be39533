/* model_common.h — helpers shared by the model tests (either precision). */
#ifndef H2NN_TEST_MODEL_COMMON_H
#define H2NN_TEST_MODEL_COMMON_H

#include <math.h>
#include <stdlib.h>

#include "h2nn/model.h"
#include "h2nn/rng.h"

/* n^d grid (n = round(N^(1/d))) or random points in [0,1]^d */
static inline double *tm_points(int N, int d, int grid, uint64_t seed) {
  double *x = malloc(sizeof(double) * (size_t)N * d);
  int side = (int)lround(pow(N, 1.0 / d));
  for (int i = 0; i < N; i++)
    for (int c = 0, rest = i; c < d; c++, rest /= side)
      x[i * d + c] = grid ? ((rest % side) + 0.5) / side : h2_rng_uniform(seed, 7, (uint32_t)c, (uint64_t)i);
  return x;
}

static inline h2_model_config tm_config(int leaf, int rank, int zeta) {
  h2_model_config c = {.leaf_size = leaf, .rank = rank, .zeta = zeta, .activation = H2_ACT_RELU,
                       .close_hidden = 0, .far_hidden = 0, .eta = 0.75, .seed = 11, .input_grad = 1};
  return c;
}

static inline double tm_uniform(uint64_t i, uint32_t stream) { return 2 * h2_rng_uniform(99, stream, 0, i) - 1; }

#endif
