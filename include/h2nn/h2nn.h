/* h2nn.h — the h2nn library: apply a trained H2-matrix neural network
 * (a checkpoint written by h2nn_mpi) to inputs of your own program.
 *
 * This is the only installed header; it exposes no internal type.
 *
 *   h2nn_operator *op;
 *   if (h2nn_open("run.ckpt.h5", MPI_COMM_WORLD, &op))          // collective
 *     fprintf(stderr, "%s\n", h2nn_error_message()), MPI_Abort(MPI_COMM_WORLD, 1);
 *   int64_t N = h2nn_num_points(op);
 *   // in, out: nsamples x N doubles, row-major, the checkpoint's original
 *   // point order (the order of /points of the training input file)
 *   h2nn_apply(op, nsamples, in, out);                          // local
 *   h2nn_free(op);                                              // local
 *
 * Communicators.  h2nn_open is collective over `comm`, which may have any
 * number of ranks (the checkpoint is read with parallel HDF5; h2nn works on
 * a duplicate of `comm` and never changes its error handler).  Every rank
 * then holds the whole network, and h2nn_apply and h2nn_free are local: each
 * rank applies the operator to its own samples, without communication.
 *
 * Results.  Inputs are normalised, the network is evaluated in float32 and
 * outputs are scaled back exactly as `h2nn_mpi --predict` does.  Samples are
 * processed in chunks of 64, counted from the start of each call; a sample
 * computed in the same position of a chunk of the same size gets bitwise the
 * same output, so splitting a batch at multiples of 64 reproduces
 * `h2nn_mpi --predict` (which does exactly that) bit for bit.
 *
 * Errors.  Every function that can fail returns 0 or an H2NN_ERR_* code and
 * leaves a one-line message for h2nn_error_message() (per thread).  After a
 * failed h2nn_open, every rank of `comm` returns the same code and message.
 * One operator must not be used by two threads at once (it owns its
 * activation buffers); different operators may.
 *
 * Build: find_package(h2nn) and link h2nn::h2nn, or
 * `pkg-config --cflags --libs h2nn` (README.md, "Using the library"). */
#ifndef H2NN_H2NN_H
#define H2NN_H2NN_H

#include <mpi.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define H2NN_VERSION_MAJOR 0
#define H2NN_VERSION_MINOR 1
#define H2NN_VERSION_PATCH 0

#if defined(__GNUC__)
#define H2NN_API __attribute__((visibility("default")))
#else
#define H2NN_API
#endif

/* Return codes. */
enum {
  H2NN_SUCCESS = 0,
  H2NN_ERR_INPUT = 1,    /* bad argument, file or data (the message names it) */
  H2NN_ERR_IO = 2,       /* file system or HDF5 failure */
  H2NN_ERR_MEMORY = 3,   /* out of memory */
  H2NN_ERR_MPI = 4,      /* MPI failure */
  H2NN_ERR_NUMERIC = 5,  /* numerical failure */
  H2NN_ERR_INTERNAL = 6
};

typedef struct h2nn_operator h2nn_operator;

/* Collective over comm: read checkpoint `path` and build the network on
 * every rank.  On success *op is the operator, else NULL. */
H2NN_API int h2nn_open(const char *path, MPI_Comm comm, h2nn_operator **op);

/* Local: y = operator(x) for `nsamples` samples; x and y are nsamples x N
 * (h2nn_num_points), row-major, original point order; y may equal x.
 * Fails with H2NN_ERR_INPUT when an input value is not finite (the message
 * names the sample, counted from 0 in this call, and the point). */
H2NN_API int h2nn_apply(h2nn_operator *op, int64_t nsamples, const double *x, double *y);

/* The operator's point cloud: N points in `dim` (1..3) dimensions, and
 * their coordinates (N x dim, row-major, original order; owned by op). */
H2NN_API int64_t h2nn_num_points(const h2nn_operator *op);
H2NN_API int h2nn_dim(const h2nn_operator *op);
H2NN_API const double *h2nn_points(const h2nn_operator *op);

/* Local: release everything op holds.  NULL is allowed. */
H2NN_API void h2nn_free(h2nn_operator *op);

/* The message of the last failure on this thread ("" if none). */
H2NN_API const char *h2nn_error_message(void);

#ifdef __cplusplus
}
#endif

#endif
