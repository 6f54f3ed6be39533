/* dataset.h — the training/test samples as the model sees them.
 *
 * Owns: normalisation (docs/design.md §3: one RMS scale for inputs, one for outputs,
 * optional per-point output mean), the mapping from original point order to
 * this rank's tree positions, and where the samples come from: the input
 * file (kept in memory when this rank's share fits --data-memory, otherwise
 * streamed row by row from the file at each minibatch) or the --synthetic
 * generator (no file).
 *
 * Batches are delivered in the model's activation layout: own points in tree
 * order down, the samples across (point-major, nb columns). */
#ifndef H2NN_DATASET_H
#define H2NN_DATASET_H

#include <mpi.h>
#include <stdint.h>

#include "h2nn/model/model.h"

#include "h2nn/io/input_file.h"

enum { H2_SET_TRAIN = 0, H2_SET_TEST = 1 };

typedef struct {
  int N, d;
  double *points;              /* N x d, original order */
  int64_t count[2];            /* samples in train / test */
  double input_scale, output_scale;
  double *output_mean;         /* N, original order, or NULL (no centring) */
  /* source */
  h2_input *in;                /* input file, or NULL */
  MPI_Comm comm;               /* the file was opened on it */
  const char *path;
  int synthetic;
  float *pool;                 /* synthetic: 2 * H2_SYNTH_POOL rows x n_own (in, out) */
  /* this rank's points: tree positions [t0, t0 + n_own) */
  int64_t t0, n_own;
  const int64_t *perm;         /* tree position -> original index (model's tree) */
  real *offset;                /* n_own: scaled output mean per own point, or NULL */
  float *cache[2][2];          /* [set][0 input, 1 output]: count x n_own, normalised */
  float *rowbuf;               /* N floats for streaming */
  real *rows;                  /* a few sample rows (n_own each) staged before the transpose */
  int64_t bytes_in_memory;
} h2_data;

#define H2_SYNTH_POOL 6

/* Open and validate INPUT (collective over comm): shapes, dtypes, finite
 * values, non-zero output norms; computes the scales (and the mean output
 * profile when center_output). */
int h2_data_open_file(h2_data *ds, const char *path, int center_output, MPI_Comm comm);

/* The --synthetic benchmark data: a uniform D-dimensional grid of about N
 * points; inputs are random combinations of H2_SYNTH_POOL random vectors and
 * outputs the same combinations of H2_SYNTH_POOL other random vectors, a
 * linear map the network can learn. */
int h2_data_synthetic(h2_data *ds, int64_t N, int dim, int64_t train_samples, uint64_t seed);

/* Bind to the model built from ds->points: this rank's points, and the cache
 * when every rank's share fits in memory_mb (else streaming); batches of at
 * most batch_capacity samples.  Collective over comm (all ranks of the run):
 * the file is read once in total and redistributed by columns. */
int h2_data_bind(h2_data *ds, const h2_model *m, double memory_mb, int batch_capacity, MPI_Comm comm);

/* Samples ids[0..nb) of `set`: q (inputs) and t (targets), each n_own x nb,
 * normalised (and t centred). */
int h2_data_fetch(h2_data *ds, int set, const int64_t *ids, int nb, real *q, real *t);

void h2_data_free(h2_data *ds);

#endif
