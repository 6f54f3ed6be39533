/* history.c — the run's history table and its /history group (history.h). */
#include "h2nn/io/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/io/h5util.h"
#include "h2nn/util/error.h"

const char *const h2_history_col_names[H2_HIST_NCOLS] = {"wall_time", "train_loss", "train_error", "test_error"};

int h2_history_reserve(h2_history *h, int64_t n) {
  if (n <= h->cap) return 0;
  int64_t cap = h->cap ? h->cap : 1024;
  while (cap < n) cap *= 2;
  int64_t *it = realloc(h->iter, sizeof(int64_t) * (size_t)cap);
  if (!it) H2_FAIL(H2_EMEM, "out of memory growing the history to %lld rows", (long long)cap);
  h->iter = it;
  double **c[H2_HIST_NCOLS] = {&h->time, &h->loss, &h->train_err, &h->test_err};
  for (int k = 0; k < H2_HIST_NCOLS; k++) {
    double *p = realloc(*c[k], sizeof(double) * (size_t)cap);
    if (!p) H2_FAIL(H2_EMEM, "out of memory growing the history to %lld rows", (long long)cap);
    *c[k] = p;
  }
  h->cap = cap;
  return 0;
}

int h2_history_push(h2_history *h, int64_t it, double t, double loss, double train_err, double test_err) {
  H2_TRY(h2_history_reserve(h, h->n + 1));
  h->iter[h->n] = it;
  h->time[h->n] = t;
  h->loss[h->n] = loss;
  h->train_err[h->n] = train_err;
  h->test_err[h->n] = test_err;
  h->n++;
  return 0;
}

void h2_history_free(h2_history *h) {
  free(h->iter), free(h->time), free(h->loss), free(h->train_err), free(h->test_err);
  memset(h, 0, sizeof *h);
}

int h2_history_write(hid_t f, const h2_history *h, int writer, MPI_Comm comm) {
  H2_TRY(h2_h5_create_groups(f, "/history", comm));
  int64_t n = h->n;
  H2_TRY(h2_h5_write_rows(f, "/history/iteration", H2_H5_I64, H2_H5_I64, 1, n, 1, 0, writer ? n : 0, h->iter, comm));
  double *const cols[H2_HIST_NCOLS] = {h->time, h->loss, h->train_err, h->test_err};
  for (int c = 0; c < H2_HIST_NCOLS; c++) {
    char name[64];
    snprintf(name, sizeof name, "/history/%s", h2_history_col_names[c]);
    H2_TRY(h2_h5_write_rows(f, name, H2_H5_F64, H2_H5_F64, 1, n, 1, 0, writer ? n : 0, cols[c], comm));
  }
  return 0;
}

int h2_history_read(hid_t f, const char *path, h2_history *h) {
  h2_h5_info info;
  int exists = 0;
  H2_TRY(h2_h5_exists(f, "/history/iteration", &exists));
  if (!exists) H2_FAIL(H2_EINPUT, "%s: dataset /history/iteration not found (not an h2nn checkpoint?)", path);
  H2_TRY(h2_h5_dataset_info(f, "/history/iteration", &info, NULL));
  if (info.ndims != 1)
    H2_FAIL(H2_EINPUT, "%s: dataset /history/iteration: expected one column of iterations (1-D), found %d dimensions",
            path, info.ndims);
  int64_t n = info.dims[0];
  /* the storage behind the declared length before anything is allocated for
   * it: a small forged file declaring 2^30 rows asked for 40 GB (fuzzing,
   * docs/reliability.md); the validated reader then checks every column's
   * type, shape (n values) and storage */
  hid_t d = -1;
  H2_TRY(h2_h5_open_dataset(f, "/history/iteration", &d));
  int err = h2_h5_check_storage(d, &info);
  h2_h5_close_dataset(&d);
  H2_TRY(err);
  H2_TRY(h2_history_reserve(h, n > 0 ? n : 1));
  if (n > 0) H2_TRY(h2_h5_read_exact(f, "/history/iteration", H2_H5_I64, n, 1, h->iter));
  double *const cols[H2_HIST_NCOLS] = {h->time, h->loss, h->train_err, h->test_err};
  for (int c = 0; c < H2_HIST_NCOLS; c++) {
    char name[64];
    snprintf(name, sizeof name, "/history/%s", h2_history_col_names[c]);
    H2_TRY(h2_h5_dataset_info(f, name, &info, NULL));
    if (info.ndims != 1 || info.dims[0] != n)
      H2_FAIL(H2_EINPUT, "%s: dataset %s: expected the %lld rows of /history/iteration (1-D), found %d dimensions%s%lld",
              path, name, (long long)n, info.ndims, info.ndims ? ", length " : "", (long long)(info.ndims ? info.dims[0] : 0));
    if (n > 0) H2_TRY(h2_h5_read_exact(f, name, H2_H5_F64, n, 1, cols[c]));
  }
  for (int64_t i = 0; i < n; i++)
    if (h->iter[i] < 1 || (i > 0 && h->iter[i] <= h->iter[i - 1]))
      H2_FAIL(H2_EINPUT, "%s: dataset /history/iteration: row %lld holds %lld (expected increasing iterations >= 1; "
              "damaged checkpoint)", path, (long long)i, (long long)h->iter[i]);
  h->n = n;
  return 0;
}
