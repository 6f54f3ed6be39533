/* rng.h — counter-based random numbers (Random123 Philox4x32-10).
 *
 * Every draw is a pure function of (seed, stream, box, index): parameters of
 * a box are the same whatever the number of ranks (docs/design.md §3), and any rank
 * can draw any value without drawing the ones before it. */
#ifndef H2NN_RNG_H
#define H2NN_RNG_H

#include <stdint.h>

/* Uniform double in [0, 1) with 53 random bits. */
double h2_rng_uniform(uint64_t seed, uint32_t stream, uint32_t box, uint64_t index);

/* Streams: one per purpose, so that no two purposes share draws. */
enum {
  H2_STREAM_SHUFFLE = 1,     /* minibatch order; box = epoch */
  H2_STREAM_PARAM = 1000,    /* + parameter group id */
  H2_STREAM_DATA = 100000,   /* dataset generators; box = sample (low bits) */
  H2_STREAM_SYNTH = 200000   /* --synthetic benchmark data */
};

/* perm[0..n) = seeded shuffle of 0..n-1 for `epoch` (Fisher-Yates). */
void h2_rng_shuffle(int64_t *perm, int64_t n, uint64_t seed, uint64_t epoch);

#endif
