/* ema.c — the weights' exponential moving average (see ema.h). */
#include "h2nn/core/ema.h"

void h2_ema_update(real *e, const real *p, int64_t n, double d) {
  const real w = (real)(1.0 - d);
  for (int64_t i = 0; i < n; i++) e[i] += w * (p[i] - e[i]);
}
