/* options.h — everything h2nn_mpi can be told, in one struct; the option
 * table (src/options.c) documents each field for --help. */
#ifndef H2NN_OPTIONS_H
#define H2NN_OPTIONS_H

#include <stdint.h>

#include "h2nn/util/cli.h"

typedef struct {
  /* model */
  int64_t leaf_size, rank, zeta, close_hidden, far_hidden, seed;
  double eta, input_scale;
  const char *activation;
  int center_output;
  const char *init;
  /* training */
  int64_t iterations, batch_size, eval_every, eval_samples, checkpoint_every;
  double lr, beta1, beta2, adam_eps;
  const char *checkpoint, *resume, *max_time;
  int overwrite;
  /* distribution */
  int64_t model_parallel;
  double data_memory_mb;
  /* modes */
  const char *predict, *output;
  int all;
  int64_t synthetic, dim, synthetic_samples;
  int quiet;
  const char *isa; /* kernel set (NULL: $H2NN_ISA, else auto) */
} h2_options;

/* The h2nn_mpi option table. */
const h2_cli *h2_options_cli(void);

#endif
