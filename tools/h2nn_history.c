/* h2nn_history — print a checkpoint's /history as whitespace-separated
 * columns (iteration, wall_time, train_loss, train_error, test_error; NaN
 * where a row was not evaluated), for gnuplot and scripts.
 *   h2nn_history CKPT.h5 [--evaluated]   (only the rows with errors) */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/error.h"
#include "h2nn/h5util.h"

static int dump(const char *path, int evaluated_only) {
  hid_t f = -1;
  H2_TRY(h2_h5_open_read(&f, path, MPI_COMM_SELF));
  h2_h5_info info;
  int err = h2_h5_dataset_info(f, "/history/iteration", &info, NULL);
  int64_t n = err ? 0 : info.dims[0];
  int64_t *it = NULL;
  double *col[4] = {NULL};
  const char *names[] = {"/history/wall_time", "/history/train_loss", "/history/train_error", "/history/test_error"};
  if (!err) err = H2_MALLOC(it, n);
  for (int c = 0; c < 4 && !err; c++) err = H2_MALLOC(col[c], n);
  if (!err && n) err = h2_h5_read_rows(f, "/history/iteration", H2_H5_I64, 0, n, it);
  for (int c = 0; c < 4 && !err && n; c++) err = h2_h5_read_rows(f, names[c], H2_H5_F64, 0, n, col[c]);
  if (!err) {
    printf("# %s\n# iteration wall_time train_loss train_error test_error\n", path);
    for (int64_t i = 0; i < n; i++) {
      if (evaluated_only && isnan(col[2][i])) continue;
      printf("%lld %.6g %.8g %.8g %.8g\n", (long long)it[i], col[0][i], col[1][i], col[2][i], col[3][i]);
    }
  }
  free(it);
  for (int c = 0; c < 4; c++) free(col[c]);
  h2_h5_close(&f, MPI_COMM_SELF);
  return err;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int err = 0, evaluated = 0;
  const char *path = NULL;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "--evaluated")) evaluated = 1;
    else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
      printf("Usage: h2nn_history CKPT.h5 [--evaluated]\n\nPrint the checkpoint's /history as columns: iteration "
             "wall_time train_loss train_error test_error\n(NaN where not evaluated). --evaluated: only the rows "
             "with train/test errors.\n");
      MPI_Finalize();
      return 0;
    } else if (!path) path = argv[a];
    else err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "unexpected argument '%s'", argv[a]);
  }
  if (!err && !path) err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "no checkpoint given (usage: h2nn_history CKPT.h5)");
  if (!err) err = dump(path, evaluated);
  if (err) h2_error_report(MPI_COMM_SELF, "h2nn_history");
  MPI_Finalize();
  return err ? 1 : 0;
}
