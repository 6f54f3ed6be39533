/* history.h — the run's history: one row per iteration (iteration, wall
 * time, training loss, train and test error; the errors NaN where the row was
 * not evaluated).  Owns the in-memory table, its growth, the column names and
 * the /history group of a checkpoint (written by training, read by resume and
 * by h2nn_history). */
#ifndef H2NN_IO_HISTORY_H
#define H2NN_IO_HISTORY_H

#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

typedef struct {
  int64_t n, cap;
  int64_t *iter;
  double *time, *loss, *train_err, *test_err; /* errors NaN when not evaluated */
} h2_history;

/* The floating-point columns, in file and table order (after "iteration"). */
#define H2_HIST_NCOLS 4
extern const char *const h2_history_col_names[H2_HIST_NCOLS]; /* "wall_time", "train_loss", ... */

/* Room for at least n rows (keeps the rows held). */
int h2_history_reserve(h2_history *h, int64_t n);
int h2_history_push(h2_history *h, int64_t it, double t, double loss, double train_err, double test_err);
void h2_history_free(h2_history *h);

/* Write /history of file f (collective over comm; rows from `writer` only). */
int h2_history_write(hid_t f, const h2_history *h, int writer, MPI_Comm comm);
/* Read /history of file f (this rank only) into h, replacing its rows. */
int h2_history_read(hid_t f, const char *path, h2_history *h);

#endif
