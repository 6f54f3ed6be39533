/* adam.h — Adam with bias correction, no weight decay (SPEC §3), over the
 * model's flat parameter buffer; moments share the parameter layout. */
#ifndef H2NN_ADAM_H
#define H2NN_ADAM_H

#include <stdint.h>

#include "h2nn/real.h"

#define h2_adam_step H2_PREC(h2_adam_step)

typedef struct {
  double lr, beta1, beta2, eps;
  int64_t step; /* steps taken so far */
} h2_adam;

/* One step: step += 1;
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)            */
void h2_adam_step(h2_adam *opt, real *params, const real *grads, real *m, real *v, int64_t n);

#endif
