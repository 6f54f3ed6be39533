/* rng.c — Philox-based uniform draws and the per-epoch minibatch shuffle. */
#include "h2nn/util/rng.h"

#include <Random123/philox.h>

double h2_rng_uniform(uint64_t seed, uint32_t stream, uint32_t box, uint64_t index) {
  philox4x32_ctr_t c = {{(uint32_t)index, (uint32_t)(index >> 32), box, stream}};
  philox4x32_key_t k = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
  philox4x32_ctr_t r = philox4x32(c, k);
  uint64_t bits = ((uint64_t)r.v[0] << 21) ^ (uint64_t)(r.v[1] >> 11);
  return (double)(bits & ((UINT64_C(1) << 53) - 1)) * 0x1p-53;
}

void h2_rng_shuffle(int64_t *perm, int64_t n, uint64_t seed, uint64_t epoch) {
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)(h2_rng_uniform(seed, H2_STREAM_SHUFFLE, (uint32_t)epoch, (uint64_t)i) * (double)(i + 1));
    if (j > i) j = i;
    int64_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}
