/* input_file.h — the input-file layout of docs/design.md §5: writer and validator.
 *
 * Owns the layout
 *   /points                        float64  N x d (d = 1..3; a 1-D dataset of
 *                                           length N is accepted as d = 1)
 *   /train/input, /train/output    float32  Ns_train x N
 *   /test/input,  /test/output     float32  Ns_test  x N
 *   / attributes                   provenance and optional training config
 * and everything that writes or checks it.  All functions taking a
 * communicator are collective over it and return the same status on every
 * rank (h2_error_sync ends every collective phase), so a bad file never
 * leaves one rank waiting for another. */
#ifndef H2NN_INPUT_FILE_H
#define H2NN_INPUT_FILE_H

#include <hdf5.h>
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "h2nn/io/h5atomic.h"

enum { H2_INPUT_TRAIN = 0, H2_INPUT_TEST = 1 };  /* `which` */
enum { H2_INPUT_IN = 0, H2_INPUT_OUT = 1 };      /* `kind`  */

/* Dataset path of (which, kind), e.g. "/train/input". */
const char *h2_input_dataset_name(int which, int kind);

/* ------------------------------------------------------------------ writer */

/* A root attribute to write: exactly one of the value fields is used. */
typedef enum { H2_ATTR_DOUBLE = 0, H2_ATTR_INT64 = 1, H2_ATTR_STRING = 2 } h2_attr_type;
typedef struct {
  const char *name;
  h2_attr_type type;
  double d;
  int64_t i;
  const char *s;
} h2_attr;

/* Streaming writer.  The file is created as PATH.tmp.<id> in PATH's
 * directory (id agreed by all ranks) and renamed onto PATH by
 * h2_input_writer_close(w, 0) only if every rank succeeded; on any failure
 * the temporary file is removed and an existing PATH is left untouched. */
typedef struct {
  MPI_Comm comm;
  const char *path;
  h2_h5_atomic file;      /* the temporary file, renamed onto path when complete (h5atomic.h) */
  hid_t dset[2][2];       /* [which][kind] */
  int64_t N, nsamples[2];
  int d;
} h2_input_writer;

/* Collective.  Creates the temporary file, writes /points (points: N x d
 * row-major, identical on every rank; rank 0's copy is written) and creates
 * the four sample datasets (ntrain x N, ntest x N float32). */
int h2_input_writer_open(h2_input_writer *w, const char *path, MPI_Comm comm,
                         const double *points, int64_t N, int d, int64_t ntrain, int64_t ntest);
/* Collective: every rank calls it the same number of times (count may be
 * 0).  Writes rows [first, first + count) of /<which>/input and
 * /<which>/output from row-major count x N arrays. */
int h2_input_writer_rows(h2_input_writer *w, int which, int64_t first, int64_t count,
                         const float *input, const float *output);
/* Collective, same values on every rank: root attributes. */
int h2_input_writer_attrs(h2_input_writer *w, const h2_attr *attrs, int nattrs);
/* Collective.  status != 0 means "this rank failed before": the whole
 * write is abandoned (temp removed) and the first error is returned on all
 * ranks.  With status 0 on all ranks: close, then rank 0 renames the
 * temporary onto PATH.  Always releases w. */
int h2_input_writer_close(h2_input_writer *w, int status);

/* One-shot writer: each rank holds rows [train_first, train_first +
 * train_count) of the training set and [test_first, ...) of the test set
 * (contiguous, non-overlapping across ranks, covering 0..ntrain-1 and
 * 0..ntest-1). */
int h2_input_write(const char *path, MPI_Comm comm, const double *points, int64_t N, int d,
                   int64_t ntrain, int64_t ntest, int64_t train_first, int64_t train_count,
                   const float *train_in, const float *train_out, int64_t test_first,
                   int64_t test_count, const float *test_in, const float *test_out,
                   const h2_attr *attrs, int nattrs);

/* ------------------------------------------------------------------ reader */

typedef struct h2_input {
  char path[4096];
  hid_t file;
  hid_t dset[2][2];       /* [which][kind]; -1 when absent (predict mode) */
  int present[2][2];
  int64_t N;              /* number of points */
  int d;                  /* dimension 1..3 */
  int64_t nsamples[2];    /* rows of train, test (0 when absent) */
  double *points;         /* N x d row-major, original order, on every rank */
} h2_input;

/* Flags of h2_input_open_flags. */
enum {
  /* Only /points and /test/input are required (prediction); the other
   * sample datasets are validated when present. */
  H2_INPUT_PREDICT = 1
};

/* Collective.  Opens PATH and validates its structure: every dataset exists
 * with the right class, precision, rank and shape; the sample datasets have
 * N columns; input/output of a set have the same rows; train and test are
 * non-empty; /points is finite.  Reads the points on every rank.  On
 * failure *in is released and the message names the file and the dataset
 * ("expected float32, found float64"). */
int h2_input_open(h2_input *in, const char *path, MPI_Comm comm);
int h2_input_open_flags(h2_input *in, const char *path, MPI_Comm comm, unsigned flags);
/* Collective (closes the file); safe on a zeroed or already closed struct. */
void h2_input_close(h2_input *in, MPI_Comm comm);

/* Independent: rows [first, first + count) of /<which>/<kind> into out
 * (count x N float32, row-major, original point order). */
int h2_input_read_rows(h2_input *in, int which, int kind, int64_t first, int64_t count,
                       float *out);

/* Statistics computed by h2_input_scan. */
typedef struct {
  double input_rms;    /* sqrt(mean of q^2 over all entries of /train/input) */
  double output_rms;   /* the same for /train/output */
  int64_t entries;     /* Ns_train * N */
} h2_input_stats;

/* Collective.  Streams every sample dataset in chunks of rows (about
 * chunk_bytes per rank; 0 = 64 MB), rows split over the ranks of comm:
 * checks every entry is finite (the error names file, dataset, the first
 * bad sample and point index), that no output sample has zero norm, and
 * computes the RMS of /train/input and /train/output and, when
 * output_mean != NULL, the per-point mean of /train/output (N values, on
 * every rank).  The same result on every rank up to summation order. */
int h2_input_scan(h2_input *in, MPI_Comm comm, size_t chunk_bytes, h2_input_stats *stats,
                  double *output_mean);

/* Independent: a numeric root attribute (configuration such as leaf_size,
 * rank, zeta, batch_size, iterations, lr, seed, eta).  *found = 0 when the
 * attribute is absent; a string, compound, array or non-finite value is an
 * error naming the attribute (a configuration silently ignored would train
 * with the defaults). */
int h2_input_attr(h2_input *in, const char *name, double *value, int *found);

#endif
