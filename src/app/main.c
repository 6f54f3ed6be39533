/* main.c — h2nn_mpi: parse, build, train (or predict), report. */
#include <mpi.h>
#include <stdlib.h>

#include "h2nn/util/error.h"
#include "h2nn/app/options.h"
#include "h2nn/app/train.h"

static int run(int argc, char **argv, MPI_Comm world) {
  const h2_cli *cli = h2_options_cli();
  h2_options opt;
  int set[64], npos = 0, help = 0, rank;
  const char *pos[1] = {NULL};
  MPI_Comm_rank(world, &rank);
  int err = h2_cli_parse(cli, argc, argv, &opt, set, pos, 1, &npos, &help);
  H2_TRY(h2_error_sync(world, err));
  if (help) {
    if (rank == 0) h2_cli_print_help(cli);
    return 0;
  }
  if (opt.predict) return h2_predict(&opt, npos ? pos[0] : NULL, world);
  h2_trainer tr;
  err = h2_trainer_setup(&tr, &opt, set, npos ? pos[0] : NULL, world);
  if (!err) err = h2_trainer_run(&tr);
  if (!err) h2_trainer_report(&tr);
  h2_trainer_free(&tr);
  return err;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int err = run(argc, argv, MPI_COMM_WORLD);
  if (err) h2_error_report(MPI_COMM_WORLD, "h2nn_mpi");
  MPI_Finalize();
  /* exit statuses (README): 0 finished, 1 error, 4 training diverged */
  return err == H2_EDIVERGED ? 4 : err ? EXIT_FAILURE : EXIT_SUCCESS;
}
