/* checkpoint.h — the checkpoint file of docs/design.md §5: model, optimizer state,
 * history; independent of the number of ranks that wrote it.
 *
 * Written collectively with parallel HDF5 to PATH.tmp.<id>, then renamed
 * onto PATH by rank 0 only if every rank succeeded: a crash or an error never
 * leaves a damaged file under PATH, and never replaces a good one. */
#ifndef H2NN_CHECKPOINT_H
#define H2NN_CHECKPOINT_H

#include <mpi.h>
#include <stdint.h>

#include "h2nn/model/model.h"
#include "h2nn/core/adam.h"
#include "h2nn/io/history.h"

#define H2_CKPT_FORMAT 1

typedef struct {
  h2_model_config cfg;
  int N, d;
  double *points;          /* N x d, original order */
  double input_scale, output_scale;
  double *output_mean;     /* N or NULL */
  int64_t step;            /* Adam steps = iterations done */
  double wall_time;        /* seconds trained so far */
  const char *auto_note;   /* write only: the automatic choices and why (/model attribute automatic_choices), or NULL */
} h2_ckpt_header;

/* A numeric attribute of /optimizer beyond Adam's own (learning-rate
 * schedule, weight averaging, validation bookkeeping). */
typedef struct {
  const char *name;
  double value;
} h2_ckpt_attr;

/* What a checkpoint holds besides the header: this rank's share of the
 * parameters and Adam moments (model layout), the optimizer, the history.
 * Replicated data (every data-parallel replica holds the same parameters) is
 * supplied by replica 0 only: `writer` says this rank is in replica 0, and
 * `writer_repl` that it is also model rank 0 (coarse maps, points, history). */
typedef struct {
  const h2_model *model;
  const real *params, *m1, *v1;
  const h2_adam *adam;
  const h2_history *hist;
  int64_t batch_size;
  int writer, writer_repl;
  const real *ema;               /* averaged weights, written to /ema (same layout as /model), or NULL */
  const h2_ckpt_attr *attrs;     /* extra /optimizer attributes */
  int nattrs;
  const char *schedule;          /* /optimizer attribute lr_schedule, or NULL */
  int path_locked; /* the caller holds the path's lock (h2_lock): stale temporary files are removed */
} h2_ckpt_state;

/* Write header + state to path (collective over comm): to a temporary file,
 * renamed onto path only when every rank succeeded.  Only header->points,
 * input_scale, output_scale, output_mean and wall_time are read from the
 * header: the geometry and configuration come from the model. */
int h2_ckpt_write(const h2_ckpt_header *header, const h2_ckpt_state *state, const char *path, MPI_Comm comm);

/* Read the header (collective).  Fails with a clear message when PATH is
 * missing, not HDF5, not an h2nn checkpoint, or damaged. */
int h2_ckpt_read_header(const char *path, MPI_Comm comm, h2_ckpt_header *h);
void h2_ckpt_header_free(h2_ckpt_header *h);

/* Check that the checkpoint's geometry is that of the data (N, d, points). */
int h2_ckpt_check_geometry(const h2_ckpt_header *h, const char *ckpt, const double *points, int N, int d,
                           const char *input);

/* Read parameters into params (this rank's share, model layout); with
 * m1/v1/adam/hist non-NULL also the optimizer state and history. */
int h2_ckpt_read_state(const char *path, MPI_Comm comm, const h2_model *m, real *params, real *m1, real *v1,
                       h2_adam *adam, h2_history *hist);

/* The optional parts (collective): with ema non-NULL, /ema into ema when the
 * checkpoint has it (*has_ema = 1; older checkpoints have none: 0); the
 * /optimizer attributes names[0..n) into values (found[i] = 0 when absent);
 * with schedule non-NULL the attribute lr_schedule ("" when absent). */
int h2_ckpt_read_extras(const char *path, MPI_Comm comm, const h2_model *m, real *ema, int *has_ema,
                        const char *const *names, double *values, int *found, int n, char *schedule,
                        size_t schedule_size);

#endif
