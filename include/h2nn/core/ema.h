/* ema.h — exponential moving average of the weights (Polyak averaging),
 * element by element over the flat parameter buffer, so that the average is
 * independent of how the buffer is split over ranks.
 *
 * After Adam step t (1-based):  e = d_t e + (1 - d_t) p, computed as
 *   e += (1 - d_t) (p - e),   d_t = min(decay, (1 + t) / (10 + t)).
 * The ramp of d_t lets the average forget the random start quickly (d_1 =
 * 2/11) and reach the requested decay after about 10 / (1 - decay) steps. */
#ifndef H2NN_EMA_H
#define H2NN_EMA_H

#include <stdint.h>

#include "h2nn/util/real.h"

#define h2_ema_update H2_PREC(h2_ema_update)

/* The decay used after step t (1-based). */
static inline double h2_ema_decay_at(double decay, int64_t t) {
  double ramp = (1.0 + (double)t) / (10.0 + (double)t);
  return ramp < decay ? ramp : decay;
}

/* e[0..n) += (1 - d) (p - e) */
void h2_ema_update(real *e, const real *p, int64_t n, double d);

#endif
