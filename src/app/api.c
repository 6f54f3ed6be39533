/* api.c — the public library interface (include/h2nn/h2nn.h) over
 * h2_operator: an opaque handle, error codes and messages.  Built only into
 * libh2nn, where every other symbol is hidden. */
#include "h2nn/h2nn.h"

#include <stdlib.h>

#include "h2nn/app/operator.h"
#include "h2nn/util/error.h"

_Static_assert((int)H2NN_ERR_INPUT == (int)H2_EINPUT && (int)H2NN_ERR_IO == (int)H2_EIO &&
                   (int)H2NN_ERR_MEMORY == (int)H2_EMEM && (int)H2NN_ERR_MPI == (int)H2_EMPI &&
                   (int)H2NN_ERR_NUMERIC == (int)H2_ENUM && (int)H2NN_ERR_INTERNAL == (int)H2_EINTERNAL,
               "public error codes are the internal ones");

struct h2nn_operator {
  h2_operator op;
};

/* Collective over h2nn's own duplicate c of the caller's communicator,
 * whose MPI errors come back as codes.  o: the handle, NULL if its
 * allocation failed. */
static int open_on(const char *path, MPI_Comm c, h2nn_operator *o) {
  H2_TRY(h2_mpi_errors_return(c));
  int err = !o ? h2_error_set(__FILE__, __LINE__, H2_EMEM, "h2nn_open: out of memory")
            : !path ? h2_error_set(__FILE__, __LINE__, H2_EINPUT, "h2nn_open: no checkpoint path")
                    : 0;
  H2_TRY(h2_error_sync(c, err));
  return h2_operator_open(&o->op, path, c);
}

int h2nn_open(const char *path, MPI_Comm comm, h2nn_operator **out) {
  h2_error_clear();
  H2_CHECK(out, H2_EINPUT, "h2nn_open: NULL result pointer");
  *out = NULL;
  MPI_Comm c;
  H2_MPI(MPI_Comm_dup(comm, &c)); /* the caller's communicator and its error handler stay untouched */
  h2nn_operator *o = calloc(1, sizeof *o);
  int err = open_on(path, c, o);
  if (MPI_Comm_free(&c) != MPI_SUCCESS && !err) err = h2_error_set(__FILE__, __LINE__, H2_EMPI, "h2nn_open: MPI_Comm_free failed");
  if (err) {
    if (o) h2_operator_free(&o->op);
    free(o);
    return err;
  }
  *out = o;
  return 0;
}

int h2nn_apply(h2nn_operator *o, int64_t nsamples, const double *x, double *y) {
  h2_error_clear();
  H2_CHECK(o && nsamples >= 0 && (nsamples == 0 || (x && y)), H2_EINPUT,
           "h2nn_apply: NULL operator or buffer, or a negative sample count");
  const int64_t N = o->op.h.N;
  for (int64_t s0 = 0; s0 < nsamples; s0 += H2_OPERATOR_CHUNK) {
    int nb = (int)(nsamples - s0 < H2_OPERATOR_CHUNK ? nsamples - s0 : H2_OPERATOR_CHUNK);
    H2_TRY(h2_operator_apply(&o->op, nb, s0, x + s0 * N, y + s0 * N));
  }
  return 0;
}

int64_t h2nn_num_points(const h2nn_operator *o) { return o ? o->op.h.N : 0; }
int h2nn_dim(const h2nn_operator *o) { return o ? o->op.h.d : 0; }
const double *h2nn_points(const h2nn_operator *o) { return o ? o->op.h.points : NULL; }

void h2nn_free(h2nn_operator *o) {
  if (!o) return;
  h2_operator_free(&o->op);
  free(o);
}

const char *h2nn_error_message(void) { return h2_error_message(); }
