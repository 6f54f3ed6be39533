/* plan.h — `h2nn_mpi --plan`: what a run on P ranks will need, predicted on
 * one process without training (src/app/plan.c, docs/scaling.md). */
#ifndef H2NN_PLAN_H
#define H2NN_PLAN_H

#include <mpi.h>

#include "h2nn/app/options.h"

/* Rank 0 of world builds the tree and the partition for opt->plan_ranks
 * ranks (0: the size of world) from INPUT's /points or the --synthetic grid
 * and prints the plan: per rank, or min / mean / max over ranks for large P,
 * and one JSON line {"mode":"plan",...}.  The other ranks only agree on
 * errors. */
int h2_plan(const h2_options *opt, const int *opt_set, const char *input, MPI_Comm world);

#endif
