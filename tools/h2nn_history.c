/* h2nn_history — print a checkpoint's /history as whitespace-separated
 * columns (iteration, wall_time, train_loss, train_error, test_error; NaN
 * where a row was not evaluated), for gnuplot and scripts.
 *   h2nn_history CKPT.h5 [--evaluated]   (only the rows with errors) */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"
#include "h2nn/io/h5util.h"
#include "h2nn/io/history.h"

static int dump(const char *path, int evaluated_only) {
  hid_t f = -1;
  H2_TRY(h2_h5_open_read(&f, path, MPI_COMM_SELF));
  h2_history h = {0};
  int err = h2_history_read(f, path, &h);
  if (!err) {
    printf("# %s\n# iteration", path);
    for (int c = 0; c < H2_HIST_NCOLS; c++) printf(" %s", h2_history_col_names[c]);
    printf("\n");
    for (int64_t i = 0; i < h.n; i++) {
      if (evaluated_only && isnan(h.train_err[i])) continue;
      printf("%lld %.6g %.8g %.8g %.8g\n", (long long)h.iter[i], h.time[i], h.loss[i], h.train_err[i], h.test_err[i]);
    }
  }
  h2_history_free(&h);
  h2_h5_close(&f, MPI_COMM_SELF);
  return err;
}

/* The arguments: CKPT.h5 [--evaluated]; *help on --help. */
static int parse(int argc, char **argv, const char **path, int *evaluated, int *help) {
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "--evaluated")) *evaluated = 1;
    else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
      *help = 1;
      return 0;
    } else {
      H2_CHECK(!*path, H2_EINPUT, "unexpected argument '%s'", argv[a]);
      *path = argv[a];
    }
  }
  H2_CHECK(*path, H2_EINPUT, "no checkpoint given (usage: h2nn_history CKPT.h5)");
  return 0;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int evaluated = 0, help = 0;
  const char *path = NULL;
  int err = h2_mpi_errors_return(MPI_COMM_SELF);
  if (!err) err = parse(argc, argv, &path, &evaluated, &help);
  if (!err && help)
    printf("Usage: h2nn_history CKPT.h5 [--evaluated]\n\nPrint the checkpoint's /history as columns: iteration "
           "wall_time train_loss train_error test_error\n(NaN where not evaluated). --evaluated: only the rows "
           "with train/test errors.\n");
  else if (!err) err = dump(path, evaluated);
  if (err) h2_error_report(MPI_COMM_SELF, "h2nn_history");
  MPI_Finalize();
  return err ? 1 : 0;
}
