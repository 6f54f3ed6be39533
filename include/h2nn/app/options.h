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
  int center_output, no_center_output;
  const char *init;
  /* training */
  int64_t iterations, batch_size, eval_every, eval_samples, checkpoint_every;
  double lr, beta1, beta2, adam_eps;
  const char *lr_schedule;          /* constant, cosine, step, plateau */
  int64_t warmup, lr_horizon;
  double lr_final, ema, validation_fraction;
  int keep_best;
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
  const char *denormals; /* flush or keep */
  /* planning (--plan) */
  int plan;
  int64_t plan_ranks;
  double memory_per_rank_mb;
} h2_options;

/* The h2nn_mpi option table. */
const h2_cli *h2_options_cli(void);

struct h2_input;
/* The options an input file's root attributes may set (those marked
 * file_attr, named with '_' for '-'), unless set[] says the command line gave
 * them; errors name `path` and the attribute.  Shared by training and --plan. */
int h2_options_from_file(h2_options *opt, const int *set, struct h2_input *in, const char *path);

#endif
