/* adam.c — the Adam update over flat buffers. */
#include "h2nn/adam.h"

#include <math.h>

void h2_adam_step(h2_adam *opt, real *params, const real *grads, real *m, real *v, int64_t n) {
  opt->step++;
  const double b1 = opt->beta1, b2 = opt->beta2;
  const double c1 = 1.0 - pow(b1, (double)opt->step), c2 = 1.0 - pow(b2, (double)opt->step);
  const real a = (real)(opt->lr / c1), inv_c2 = (real)(1.0 / c2), eps = (real)opt->eps;
  const real rb1 = (real)b1, rb2 = (real)b2, ob1 = (real)(1 - b1), ob2 = (real)(1 - b2);
  for (int64_t i = 0; i < n; i++) {
    real g = grads[i];
    m[i] = rb1 * m[i] + ob1 * g;
    v[i] = rb2 * v[i] + ob2 * g * g;
    params[i] -= a * m[i] / (h2_sqrt(v[i] * inv_c2) + eps);
  }
}
