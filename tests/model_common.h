/* model_common.h — helpers shared by the model tests (either precision). */
#ifndef H2NN_TEST_MODEL_COMMON_H
#define H2NN_TEST_MODEL_COMMON_H

#include <math.h>
#include <stdlib.h>

#include "h2nn/model/model.h"
#include "h2nn/util/rng.h"
#include "points_common.h"

static inline h2_model_config tm_config(int leaf, int rank, int zeta) {
  h2_model_config c = {.leaf_size = leaf, .rank = rank, .zeta = zeta, .activation = H2_ACT_RELU,
                       .close_hidden = 0, .far_hidden = 0, .eta = 0.75, .seed = 11, .input_grad = 1};
  return c;
}

static inline double tm_uniform(uint64_t i, uint32_t stream) { return 2 * h2_rng_uniform(99, stream, 0, i) - 1; }

/* A backward hook (h2_grad_hook) that checks its contract: every gradient
 * index is handed over exactly once, its value then is final, and its
 * parameters are not read afterwards — they are overwritten with NaN, which
 * would reach the gradients or dq if the backward pass read them again.
 * snap collects the handed-over values (the whole gradient when the
 * backward pass stores none). */
typedef struct {
  real *grads, *params, *snap;
  int *count;
} tm_hook;

static inline void tm_hook_fn(void *ctx, int64_t off, real *g, int64_t n) {
  tm_hook *h = ctx;
  for (int64_t i = 0; i < n; i++) {
    h->count[off + i]++;
    h->snap[off + i] = g[i];
    h->params[off + i] = NAN;
  }
}

/* Indices of [0, n) that broke the contract after the backward pass: not
 * handed over exactly once, changed after the hand-over, or not finite. */
static inline int64_t tm_hook_violations(const tm_hook *h, int64_t n) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; i++)
    bad += h->count[i] != 1 || h->snap[i] != h->grads[i] || !isfinite(h->grads[i]);
  return bad;
}

#endif
