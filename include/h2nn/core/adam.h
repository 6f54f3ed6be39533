/* adam.h — Adam with bias correction, no weight decay (docs/design.md §3), over the
 * model's flat parameter buffer; moments share the parameter layout. */
#ifndef H2NN_ADAM_H
#define H2NN_ADAM_H

#include <stdint.h>

#include "h2nn/util/real.h"

#define h2_adam_step H2_PREC(h2_adam_step)
#define h2_adam_begin H2_PREC(h2_adam_begin)
#define h2_adam_update H2_PREC(h2_adam_update)

typedef struct {
  double lr, beta1, beta2, eps;
  int64_t step; /* steps taken so far */
  real a, inv_c2; /* this step's lr / (1-b1^t) and 1 / (1-b2^t) (set by h2_adam_begin) */
} h2_adam;

/* One step: step += 1;
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * and g = 0, ready for the next step's accumulation. */
void h2_adam_step(h2_adam *opt, real *params, real *grads, real *m, real *v, int64_t n);

/* The same step in pieces: h2_adam_begin once (step += 1), then
 * h2_adam_update on every slice of the buffers exactly once — e.g. on each
 * parameter block as soon as the backward pass has finished with it, while
 * its gradient is still in cache.  The result is bitwise that of
 * h2_adam_step. */
void h2_adam_begin(h2_adam *opt);
void h2_adam_update(const h2_adam *opt, real *params, real *grads, real *m, real *v, int64_t n);

#endif
