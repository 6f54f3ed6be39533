/* adam.c — the Adam update over flat buffers. */
#include "h2nn/core/adam.h"

#include <math.h>

#ifndef H2NN_DOUBLE
#include "h2nn/core/isa.h"
#endif

void h2_adam_begin(h2_adam *opt) {
  opt->step++;
  const double c1 = 1.0 - pow(opt->beta1, (double)opt->step), c2 = 1.0 - pow(opt->beta2, (double)opt->step);
  opt->a = (real)(opt->lr / c1);
  opt->inv_c2 = (real)(1.0 / c2);
}

void h2_adam_update(const h2_adam *opt, real *params, real *grads, real *m, real *v, int64_t n) {
#ifndef H2NN_DOUBLE
  /* float32: the active kernel set's loop (isa.h), the same arithmetic vectorised for the CPU */
  const h2_adam_coef c = {.a = opt->a, .inv_c2 = opt->inv_c2, .eps = (float)opt->eps, .b1 = (float)opt->beta1,
                          .b2 = (float)opt->beta2, .ob1 = (float)(1 - opt->beta1), .ob2 = (float)(1 - opt->beta2)};
  h2_kernels_get()->adam(n, params, grads, m, v, &c);
#else
  const real a = opt->a, inv_c2 = opt->inv_c2, eps = (real)opt->eps;
  const real rb1 = (real)opt->beta1, rb2 = (real)opt->beta2, ob1 = (real)(1 - opt->beta1), ob2 = (real)(1 - opt->beta2);
  for (int64_t i = 0; i < n; i++) {
    real g = grads[i];
    grads[i] = 0;
    m[i] = rb1 * m[i] + ob1 * g;
    v[i] = rb2 * v[i] + ob2 * g * g;
    params[i] -= a * m[i] / (h2_sqrt(v[i] * inv_c2) + eps);
  }
#endif
}

void h2_adam_step(h2_adam *opt, real *params, real *grads, real *m, real *v, int64_t n) {
  h2_adam_begin(opt);
  h2_adam_update(opt, params, grads, m, v, n);
}
