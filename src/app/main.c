/* main.c — h2nn_mpi: parse, build, train (or predict), report. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"
#include "h2nn/core/isa.h"
#include "h2nn/app/options.h"
#include "h2nn/app/plan.h"
#include "h2nn/app/signals.h"
#include "h2nn/app/train.h"

/* Exit statuses (README "Exit statuses"): 0 finished, 1 error,
 * 3 interrupted by a signal or the wall-time budget (resumable). */
static int run(int argc, char **argv, MPI_Comm world, int *interrupted) {
  const h2_cli *cli = h2_options_cli();
  h2_options opt;
  int set[64], npos = 0, help = 0, rank;
  const char *pos[1] = {NULL};
  H2_TRY(h2_mpi_errors_return(world)); /* MPI failures come back as codes (error.h) */
  H2_MPI(MPI_Comm_rank(world, &rank));
  int err = h2_cli_parse(cli, argc, argv, &opt, set, pos, 1, &npos, &help);
  H2_TRY(h2_error_sync(world, err));
  if (help || opt.predict || opt.plan) h2_signals_uninstall(); /* only training stops at a boundary; the rest dies of them */
  if (help) {
    if (rank == 0) h2_cli_print_help(cli);
    return 0;
  }
  /* the kernel set, once for the process (isa.h): --isa, else $H2NN_ISA, else the best the CPU runs */
  err = opt.isa ? h2_isa_select(opt.isa, "--isa") : h2_isa_select(getenv("H2NN_ISA"), "H2NN_ISA");
  H2_TRY(h2_error_sync(world, err));
  /* subnormals (isa.h): flushed unless --denormals keep */
  int flush = !strcmp(opt.denormals, "flush");
  err = flush || !strcmp(opt.denormals, "keep")
            ? h2_fp_flush_denormals(flush)
            : h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--denormals %s: expected flush or keep", opt.denormals);
  H2_TRY(h2_error_sync(world, err));
  if (opt.plan) return h2_plan(&opt, set, npos ? pos[0] : NULL, world);
#ifdef H2NN_SIMULATE
  /* the SimGrid build (docs/scaling.md): timing of the training step on synthetic data only */
  const char *file_opt = npos ? pos[0] : opt.predict ? "--predict" : opt.resume ? "--resume" :
                         (opt.checkpoint && *opt.checkpoint) ? "--checkpoint" : NULL;
  if (file_opt)
    H2_TRY(h2_error_sync(world, h2_error_set(__FILE__, __LINE__, H2_EINPUT,
                                             "%s: this is the simulation build (SimGrid SMPI): it trains on --synthetic N "
                                             "only, without files; use the normal build for input files and checkpoints",
                                             file_opt)));
#endif
  if (opt.predict) return h2_predict(&opt, npos ? pos[0] : NULL, world);
  h2_trainer tr;
  err = h2_trainer_setup(&tr, &opt, set, npos ? pos[0] : NULL, world);
  if (!err) err = h2_trainer_run(&tr);
  if (!err) h2_trainer_report(&tr);
  if (!err) *interrupted = tr.stopped != H2_STOP_COMPLETED;
#ifndef H2NN_SIMULATE /* (the simulation build's big buffers are SimGrid-shared: the process end releases them) */
  h2_trainer_free(&tr);
#endif
  return err;
}

int main(int argc, char **argv) {
  /* first thing: SIGTERM/SIGINT/SIGUSR1 during start-up are not fatal but
   * stop training at its first iteration boundary (a batch system's warning
   * can come at any moment) */
  int sig_err = h2_signals_install();
  MPI_Init(&argc, &argv);
  int interrupted = 0;
  int err = h2_error_sync(MPI_COMM_WORLD, sig_err);
  if (!err) err = run(argc, argv, MPI_COMM_WORLD, &interrupted);
  if (err) h2_error_report(MPI_COMM_WORLD, "h2nn_mpi");
  MPI_Finalize();
  /* exit statuses (README): 0 finished, 1 error, 3 interrupted (resumable), 4 training diverged */
  return err == H2_EDIVERGED ? 4 : err ? EXIT_FAILURE : interrupted ? H2_EXIT_INTERRUPTED : EXIT_SUCCESS;
}
