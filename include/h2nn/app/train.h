/* train.h — a training run: communicators, data, model, optimizer state,
 * the minibatch schedule, evaluation, progress and the run's history.
 *
 * Ranks: P = P_d x P_m.  World rank w = d * P_m + m: model group d (ranks
 * holding different parts of one model replica) and model rank m.  `model`
 * connects the P_m ranks of a group; `replica` connects the P_d ranks that
 * hold the same parameters (gradients are summed over it). */
#ifndef H2NN_TRAIN_H
#define H2NN_TRAIN_H

#include <mpi.h>
#include <stdint.h>

#include "h2nn/core/adam.h"
#include "h2nn/core/schedule.h"
#include "h2nn/io/checkpoint.h"
#include "h2nn/io/dataset.h"
#include "h2nn/io/h5atomic.h"
#include "h2nn/io/history.h"
#include "h2nn/model/model.h"
#include "h2nn/app/options.h"

typedef struct {
  MPI_Comm world, model, replica;
  int rank, size;   /* in world */
  int pm, pd;       /* model-group size, number of replicas */
  int mrank, drank; /* rank in the model group, replica index */
} h2_comms;


enum { H2_PH_DATA, H2_PH_COMPUTE, H2_PH_ALLREDUCE, H2_PH_OPTIM, H2_PH_EVAL, H2_PH_IO, H2_PH_COUNT };

typedef struct {
  h2_options opt;
  h2_comms comm;
  h2_data data;
  h2_model model;
  int activation;
  real *params, *grads, *m1, *v1; /* grads (only with data-parallel replicas) has nparams + 1 entries: the last carries the loss */
  h2_adam adam;
  h2_history hist;
  int64_t b_first, b_local;       /* this replica's slice of the global batch */
  int64_t batches_per_epoch;
  int64_t *order, order_epoch;    /* shuffled training set of epoch order_epoch */
  real *bt;                       /* targets of a minibatch (inputs go straight into the model) */
  int bt_owned;                   /* bt allocated here (else it is the model's backward scratch) */
  double *sums;
  int64_t *ids;
  int capacity;                   /* columns of the activation buffers */
  double t_start, time_before;    /* wall clock of this run; time of earlier runs */
  double phase[H2_PH_COUNT];      /* seconds per phase */
  int64_t iter_done_this_run;
  double comm_bytes;              /* bytes this rank handed to MPI in training steps */
  double coarse_bytes;            /* the coarse tree's share of them (edges and halos above level p) */
  double step_wait;     /* seconds of this run's training steps spent waiting for halo / coarse-tree messages */
  int64_t nparams_global;
  double train_error, test_error;
  /* accuracy without hand-tuning (validation.c): schedule, averaged weights,
   * held-out validation set, best checkpoint */
  h2_lr_schedule sched;
  h2_plateau plateau;
  real *ema;                      /* averaged weights (--ema), or NULL */
  int64_t nval;                   /* validation samples held out of /train (0: none) */
  int64_t *train_ids, *val_ids;   /* /train rows trained on / held out (NULL without validation) */
  int64_t n_train;                /* samples trained on */
  double val_error, best_val_error; /* last and lowest validation error (NAN / INFINITY before) */
  int64_t best_iteration;
  char auto_note[512];            /* the automatic choices and why (header line, checkpoint) */
  /* stopping early (signals, wall-time budget; src/app/signals.c) */
  int stopped;                    /* H2_STOP_*: why the run ended */
  int stop_events;                /* the agreed H2_EV_* bits that stopped it */
  double deadline;                /* MPI_Wtime by which the run must have ended (INFINITY: none) */
  double deadline_safety;         /* seconds kept in hand before it */
  char deadline_what[64];         /* "--max-time 1:00:00", "the SLURM job's end time" */
  unsigned save_seen;             /* SIGUSR2 requests handled */
  double ckpt_seconds;            /* longest checkpoint write so far (0: none yet) */
  int64_t ckpt_written;           /* iteration of the last checkpoint this run wrote (-1: none) */
  double loss_ref;                /* first training loss of the run (or of the resumed history): divergence scale */
  int arbitrary_numbers;          /* 1 in the simulation build (H2NN_SIMULATE): its SimGrid-shared buffers hold
                                   * arbitrary numbers and the loss means nothing, so the divergence checks
                                   * (non-finite or exploding loss, non-finite state) are off */
  h2_lock lock;                   /* rank 0: the --checkpoint path's lock, held for the run */
} h2_trainer;

/* Sets of h2_trainer_evaluate beyond H2_SET_TRAIN / H2_SET_TEST: the
 * validation samples held out of /train (--validation-fraction). */
enum { H2_SET_VAL = 2 };
/* /optimizer attributes the accuracy options keep (validation.c) */
#define H2_ACC_NATTRS 10

/* Why a run ended; the "stopped" field of the JSON line.  An early stop
 * exits with status 3 (H2_EXIT_INTERRUPTED): resumable from its checkpoint. */
enum { H2_STOP_COMPLETED = 0, H2_STOP_SIGNAL, H2_STOP_TIME };
enum { H2_EXIT_INTERRUPTED = 3 };

/* Parse-time helper shared by the modes (rank-local): h2_output_check with
 * the run's inputs, whose files an output may never replace. */
int h2_check_output_path(const char *path, const char *option, const char *const *inputs, int ninputs);

/* Set up from options: open data (file or synthetic), apply input-file
 * attributes, split the ranks, build the model, initialise or resume. */
int h2_trainer_setup(h2_trainer *tr, const h2_options *opt, const int *opt_set, const char *input, MPI_Comm world);
/* The schedule, weight averaging and validation split (validation.c):
 * after the model is initialised or resumed; collective. */
int h2_accuracy_setup(h2_trainer *tr, const int *opt_set);
/* After an evaluation at iteration it (train error tr_err): the validation
 * error, the plateau schedule, the best checkpoint. */
int h2_accuracy_after_eval(h2_trainer *tr, int64_t it, double tr_err);
/* Add the averaged weights and the schedule/validation state to st
 * (attrs: room for H2_ACC_NATTRS). */
void h2_accuracy_ckpt_state(const h2_trainer *tr, h2_ckpt_state *st, h2_ckpt_attr *attrs);
/* The validation split of /train rows [0, count): nval rows held out
 * (val_ids) and the rest (train_ids), each ascending; a fixed shuffle,
 * independent of --seed and of the rank count. */
int h2_validation_split(int64_t count, int64_t nval, int64_t *val_ids, int64_t *train_ids);
/* The automatic input scale F (inputs divided by F x RMS): the inverse
 * of the RMS of the training targets in output-RMS units, so that the map
 * from inputs to targets has a gain of order one and the weights it needs
 * are of Xavier size (Adam's step a small relative change): 1 without
 * centring, 1 / sqrt(1 - mean_fraction) with it (at most 100). */
double h2_auto_input_scale(const h2_data *ds);
/* The header line of the schedule, averaging, validation and automatic choices (rank 0). */
void h2_accuracy_print(const h2_trainer *tr);
/* Write a checkpoint of the current state to path (collective). */
int h2_trainer_checkpoint(h2_trainer *tr, const char *path);

/* Train to opt.iterations, evaluating, logging and checkpointing. */
int h2_trainer_run(h2_trainer *tr);
/* Mean relative error over the first max_samples (0 = all) of a set. */
int h2_trainer_evaluate(h2_trainer *tr, int set, int64_t max_samples, double *err);
/* The end-of-run summary (text + the JSON line of docs/design.md §7), rank 0. */
void h2_trainer_report(h2_trainer *tr);
void h2_trainer_free(h2_trainer *tr);

/* Predict mode (docs/design.md §7). */
int h2_predict(const h2_options *opt, const char *input, MPI_Comm world);

#endif
