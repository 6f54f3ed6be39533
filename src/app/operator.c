/* operator.c — a checkpoint applied to inputs in the original point order
 * (operator.h): normalisation into the model's layout, the forward pass,
 * the output back in original order.  --predict and the public library
 * both go through h2_operator_apply. */
#include "h2nn/app/operator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"

/* The network and its buffers (local), once the header is read. */
static int operator_build(h2_operator *op) {
  const int64_t N = op->h.N;
  H2_TRY(h2_model_build(&op->model, op->h.points, op->h.N, op->h.d, &op->h.cfg, H2_OPERATOR_CHUNK, NULL));
  H2_TRY(H2_CALLOC(op->params, op->model.nparams));
  H2_TRY(H2_MALLOC(op->t, N * H2_OPERATOR_CHUNK));
  H2_TRY(H2_MALLOC(op->sums, 2 * H2_OPERATOR_CHUNK));
  if (!op->h.output_mean) return 0;
  H2_TRY(H2_MALLOC(op->offset, N));
  for (int64_t t = 0; t < N; t++)
    op->offset[t] = (real)(op->h.output_mean[op->model.tree.perm[t]] / op->h.output_scale);
  return 0;
}

int h2_operator_open(h2_operator *op, const char *ckpt, MPI_Comm comm) {
  memset(op, 0, sizeof *op);
  H2_TRY(h2_ckpt_read_header(ckpt, comm, &op->h));
  H2_TRY(h2_error_sync(comm, operator_build(op)));
  return h2_ckpt_read_state(ckpt, comm, &op->model, op->params, NULL, NULL, NULL, NULL);
}

int h2_operator_apply(h2_operator *op, int nb, int64_t first_id, const double *x, double *y) {
  h2_model *m = &op->model;
  const int64_t N = op->h.N;
  const int64_t *perm = m->tree.perm;
  H2_CHECK(nb >= 0 && nb <= H2_OPERATOR_CHUNK, H2_EINTERNAL, "h2_operator_apply: %d samples, at most %d per call",
           nb, H2_OPERATOR_CHUNK);
  for (int s = 0; s < nb; s++)
    for (int64_t i = 0; i < N; i++)
      H2_CHECK(isfinite(x[s * N + i]), H2_EINPUT, "input sample %lld has a non-finite value at point %lld",
               (long long)(first_id + s), (long long)i);
  /* normalised inputs in tree order, point-major: zc[0][t nb + s] */
  const double inv = 1.0 / op->h.input_scale;
  real *q = m->zc[0];
  for (int64_t t = 0; t < N; t++)
    for (int s = 0; s < nb; s++) q[t * nb + s] = (real)(x[s * N + perm[t]] * inv);
  h2_model_forward(m, op->params, nb);
  const real *w = m->zc[m->zeta];
  for (int64_t t = 0; t < N; t++) {
    int64_t i = perm[t];
    double mean = op->h.output_mean ? op->h.output_mean[i] : 0;
    for (int s = 0; s < nb; s++) y[s * N + i] = w[t * nb + s] * op->h.output_scale + mean;
  }
  return 0;
}

int h2_operator_error(h2_operator *op, int nb, const float *t, double *err_sum) {
  h2_model *m = &op->model;
  const int64_t N = op->h.N;
  const int64_t *perm = m->tree.perm;
  const double inv = 1.0 / op->h.output_scale;
  for (int64_t k = 0; k < N; k++) {
    int64_t i = perm[k];
    double mean = op->h.output_mean ? op->h.output_mean[i] : 0;
    for (int s = 0; s < nb; s++) op->t[k * nb + s] = (real)(((double)t[s * N + i] - mean) * inv);
  }
  h2_loss_partial(m, op->t, op->offset, nb, op->sums);
  h2_loss_finish(m, op->t, nb, op->sums, nb, 0, err_sum);
  return 0;
}

void h2_operator_free(h2_operator *op) {
  free(op->params), free(op->offset), free(op->t), free(op->sums);
  h2_model_free(&op->model);
  h2_ckpt_header_free(&op->h);
  memset(op, 0, sizeof *op);
}
