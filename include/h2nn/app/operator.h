/* operator.h — a trained network loaded from a checkpoint, ready to apply to
 * inputs given in the original point order: what --predict and the public
 * library (h2nn/h2nn.h) share.
 *
 * Every rank holds the whole network (no model parallelism): opening is
 * collective over the communicator (the checkpoint is read with parallel
 * HDF5), applying is local to the rank.  Samples are processed in chunks of
 * H2_OPERATOR_CHUNK columns; a sample's output depends only on its value and
 * on its chunk's column count, so callers that cut their batches at
 * multiples of the chunk get results independent of how they split them. */
#ifndef H2NN_OPERATOR_H
#define H2NN_OPERATOR_H

#include <mpi.h>
#include <stdint.h>

#include "h2nn/io/checkpoint.h"
#include "h2nn/model/model.h"

#define H2_OPERATOR_CHUNK 64

typedef struct {
  h2_ckpt_header h;   /* configuration, points (N x d, original order), scales, mean output */
  h2_model model;     /* built from h.points, batch capacity H2_OPERATOR_CHUNK */
  real *params;       /* the checkpoint's /model weights, model layout */
  real *offset;       /* N: scaled mean output per tree position, or NULL */
  real *t;            /* targets of one chunk, model layout (h2_operator_error) */
  double *sums;       /* 2 per sample of a chunk (h2_operator_error) */
} h2_operator;

/* Collective over comm: read CKPT's header and weights, build the network. */
int h2_operator_open(h2_operator *op, const char *ckpt, MPI_Comm comm);

/* Local.  y = network(x) for nb <= H2_OPERATOR_CHUNK samples: x and y are
 * nb x N row-major, original point order (x = y allowed).  Fails, naming the
 * sample (first_id + its index), when an input is not finite.  The network's
 * output stays in the model's buffers until the next call (h2_operator_error). */
int h2_operator_apply(h2_operator *op, int nb, int64_t first_id, const double *x, double *y);

/* Local, right after h2_operator_apply on the same nb samples: adds their
 * relative errors ||y_s - t_s|| / ||t_s|| against targets t (nb x N,
 * original order, float32 as in input files) to *err_sum, computed as
 * training evaluates them (normalised, in the model's layout). */
int h2_operator_error(h2_operator *op, int nb, const float *t, double *err_sum);

void h2_operator_free(h2_operator *op);

#endif
