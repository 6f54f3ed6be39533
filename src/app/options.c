/* options.c — the table of h2nn_mpi's options: names, defaults, ranges and
 * help text.  --help, the parser and the input-file attributes all come from
 * here.  Project defaults are chosen for accuracy on the paper's problems
 * (docs/accuracy.md says why). */
#include "h2nn/app/options.h"

#include "h2nn/io/input_file.h"
#include "h2nn/util/error.h"

#include <float.h>
#include <limits.h>
#include <stddef.h>

#define OFF(f) offsetof(h2_options, f)
#define BIG 1e18

static const h2_opt_spec opts[] = {
    /* model */
    {"leaf-size", H2_OPT_INT, "80", "K", "points per leaf box at most (1..N)", OFF(leaf_size), 1, 1, INT_MAX},
    {"rank", H2_OPT_INT, "8", "R", "coefficients per box on the far levels", OFF(rank), 1, 1, 4096},
    {"zeta", H2_OPT_INT, "3", "Z", "layers in each block-sparse map G_l", OFF(zeta), 1, 1, 64},
    {"eta", H2_OPT_REAL, "0.75", "E", "admissibility: boxes are far when dist >= eta * max width", OFF(eta), 1, DBL_MIN, BIG},
    {"activation", H2_OPT_STRING, "relu", "F", "activation of the hidden layers: relu, tanh or linear", OFF(activation), 0, 0, 0},
    {"close-hidden", H2_OPT_INT, "0", "W", "hidden width per leaf in the close map (0 = the leaf's size)", OFF(close_hidden), 1, 0, 1e6},
    {"far-hidden", H2_OPT_INT, "0", "W", "hidden width per box in the far maps (0 = rank)", OFF(far_hidden), 1, 0, 1e6},
    {"center-output", H2_OPT_FLAG, NULL, NULL, "learn the deviation from the training set's mean output (default: automatic, on when the mean output profile carries at least 90% of the outputs' mean square; the header line says what was chosen and why)", OFF(center_output), 0, 0, 0},
    {"no-center-output", H2_OPT_FLAG, NULL, NULL, "never centre the outputs (overrides the automatic choice)", OFF(no_center_output), 0, 0, 0},
    {"input-scale", H2_OPT_REAL, "0", "F", "divide the inputs by F times the training set's RMS (docs/design.md §3: F = 1; 0 = automatic: 1 / the RMS of the training targets in output-RMS units, i.e. 1 without centring and about 12 for the RTE map's centred outputs, so that the weights the map needs are of Xavier size and Adam's step (--lr) is a small relative change of them); with --init kernel:NAME a larger F lets training refine the kernel start instead of scrambling it", OFF(input_scale), 0, 0, BIG},
    {"init", H2_OPT_STRING, "xavier", "I", "initial weights: xavier, or kernel:NAME (log, inverse, gaussian, custom): leaf projections, interpolations and transfers from that kernel's Chebyshev H2 approximation (rank must be p^d), and with --zeta 1 the maps too", OFF(init), 0, 0, 0},
    {"seed", H2_OPT_INT, "0", "S", "seed of the initial weights and the minibatch order", OFF(seed), 1, 0, 9.2e18},
    /* training */
    {"iterations", H2_OPT_INT, "2000", "N", "training iterations (minibatches), in total when resuming", OFF(iterations), 1, 0, BIG},
    {"batch-size", H2_OPT_INT, "256", "B", "samples per minibatch (over all ranks; the paper: 64; the default is capped at the training set's size)", OFF(batch_size), 1, 1, 1e7},
    {"lr", H2_OPT_REAL, "0.01", "LR", "Adam learning rate (the peak of the schedule; the paper: 0.0025, constant)", OFF(lr), 1, 0, BIG},
    {"beta1", H2_OPT_REAL, "0.9", "B1", "Adam first-moment decay", OFF(beta1), 1, 0, 0.999999},
    {"beta2", H2_OPT_REAL, "0.99", "B2", "Adam second-moment decay (the paper: 0.999)", OFF(beta2), 1, 0, 0.99999999},
    {"adam-eps", H2_OPT_REAL, "1e-8", "EPS", "Adam epsilon (the paper: 1e-5)", OFF(adam_eps), 1, DBL_MIN, 1},
    {"lr-schedule", H2_OPT_STRING, "cosine", "S", "learning rate over the run (the paper: constant): constant, cosine (from --lr down to --lr-final at the last iteration), step (x0.1 at 1/2 and 3/4 of the run) or plateau (halved when the validation error, else the train error, stalls for 3 evaluations); all after --warmup", OFF(lr_schedule), 0, 0, 0},
    {"warmup", H2_OPT_INT, "-1", "W", "linear learning-rate warm-up over the first W iterations (-1 = 5% of the schedule's horizon: 100 of 2000)", OFF(warmup), 1, -1, BIG},
    {"lr-horizon", H2_OPT_INT, "0", "T", "iteration at which the cosine and step schedules end (0 = --iterations of this run); set it to the full length when training in several shorter resumed runs", OFF(lr_horizon), 1, 0, BIG},
    {"lr-final", H2_OPT_REAL, "0", "LR", "learning rate at the end of the cosine schedule; floor of step and plateau", OFF(lr_final), 1, 0, BIG},
    {"ema", H2_OPT_REAL, "0", "DECAY", "evaluate, predict and checkpoint an exponential moving average of the weights with this decay per iteration (0 = off; e.g. 0.999)", OFF(ema), 1, 0, 0.999999999},
    {"validation-fraction", H2_OPT_REAL, "0", "F", "hold out this fraction of /train (a fixed, seed-independent subset) as a validation set: never trained on, evaluated with the periodic evaluations", OFF(validation_fraction), 1, 0, 0.9},
    {"keep-best", H2_OPT_FLAG, NULL, NULL, "also write the checkpoint of the lowest validation error so far to CKPT.best.h5 (CKPT = --checkpoint without .h5); needs --validation-fraction and --checkpoint", OFF(keep_best), 0, 0, 0},
    {"eval-every", H2_OPT_INT, "100", "K", "evaluate train/test mean relative error every K iterations (0 = only at the end)", OFF(eval_every), 1, 0, BIG},
    {"eval-samples", H2_OPT_INT, "1000", "S", "samples of each set used by the periodic evaluations (0 = all; the final one uses all)", OFF(eval_samples), 1, 0, BIG},
    {"checkpoint", H2_OPT_STRING, "", "FILE", "checkpoint written every --checkpoint-every iterations and at the end (empty: none)", OFF(checkpoint), 0, 0, 0},
    {"checkpoint-every", H2_OPT_INT, "0", "K", "also checkpoint every K iterations (0 = only at the end)", OFF(checkpoint_every), 1, 0, BIG},
    {"resume", H2_OPT_STRING, NULL, "FILE", "continue training from checkpoint FILE (same input geometry); FILE = auto: from the --checkpoint file if it exists (refused if it holds another input or model), else from the start, so one command line serves the first run and every restart", OFF(resume), 0, 0, 0},
    {"overwrite", H2_OPT_FLAG, NULL, NULL, "let --checkpoint replace a checkpoint that holds more iterations than this run starts from (refused otherwise)", OFF(overwrite), 0, 0, 0},
    {"max-time", H2_OPT_STRING, NULL, "T", "wall-time budget of this run (90 = seconds, 30m, 1.5h, H:MM:SS, D-H:MM:SS): stop with a checkpoint before it, judged from the measured time per iteration and per checkpoint; exit status 3. Under SLURM the job's end time (SLURM_JOB_END_TIME) also limits it", OFF(max_time), 0, 0, 0},
    /* distribution */
    {"model-parallel", H2_OPT_INT, "0", "PM", "ranks per model group (a power of two; 0 = automatic)", OFF(model_parallel), 0, 0, 1 << 20},
    {"data-memory", H2_OPT_REAL, "2048", "MB", "keep the rank's share of the data in memory up to this size, else stream it from the file", OFF(data_memory_mb), 0, 0, BIG},
    /* modes */
    {"predict", H2_OPT_STRING, NULL, "CKPT", "apply checkpoint CKPT to INPUT's /test/input and write --output", OFF(predict), 0, 0, 0},
    {"output", H2_OPT_STRING, NULL, "FILE", "prediction file written by --predict", OFF(output), 0, 0, 0},
    {"all", H2_OPT_FLAG, NULL, NULL, "with --predict: also predict /train/input", OFF(all), 0, 0, 0},
    {"synthetic", H2_OPT_INT, "0", "N", "benchmark: train on random data on a uniform grid of about N points (no input file)", OFF(synthetic), 0, 0, 1 << 30},
    {"dim", H2_OPT_INT, "1", "D", "with --synthetic: dimension of the grid (1, 2 or 3)", OFF(dim), 0, 1, 3},
    {"synthetic-samples", H2_OPT_INT, "4096", "S", "with --synthetic: training samples (generated on the fly)", OFF(synthetic_samples), 0, 1, BIG},
    {"isa", H2_OPT_STRING, NULL, "SET", "kernel set: generic, avx2, avx512 or auto (default: the environment variable H2NN_ISA, else auto = the fastest this CPU runs); a set the CPU cannot run is an error", OFF(isa), 0, 0, 0},
    {"denormals", H2_OPT_STRING, "flush", "MODE", "subnormal floats (below 1.2e-38): flush (to zero, as TensorFlow and -ffast-math builds do: on x86 every operation that meets one costs ~100 cycles, and Adam's moments of dead weights decay into that range) or keep (IEEE gradual underflow)", OFF(denormals), 0, 0, 0},
    /* planning (src/app/plan.c; docs/scaling.md) */
    {"plan", H2_OPT_FLAG, NULL, NULL, "do not train: on one process, build the tree and the partition for --plan-ranks ranks and print each rank's parameters, Adam moments, activations, halo bytes, coarse-tree work, predicted peak memory and time per iteration", OFF(plan), 0, 0, 0},
    {"plan-ranks", H2_OPT_INT, "0", "P", "with --plan: the rank count to plan for (0 = the ranks of this run)", OFF(plan_ranks), 0, 0, 1 << 24},
    {"memory-per-rank", H2_OPT_REAL, "0", "MB", "with --plan: warn when a rank's predicted peak memory exceeds MB (0 = no limit)", OFF(memory_per_rank_mb), 0, 0, BIG},
    {"quiet", H2_OPT_FLAG, NULL, NULL, "print only errors and the final JSON line", OFF(quiet), 0, 0, 0},
};

static const h2_cli cli = {
    .program = "h2nn_mpi",
    .usage = "h2nn_mpi [options] INPUT.h5\n"
             "       h2nn_mpi --predict CKPT.h5 --output PRED.h5 [--all] INPUT.h5\n"
             "       h2nn_mpi --synthetic N --dim D [options]\n"
             "       h2nn_mpi --plan --plan-ranks P [--memory-per-rank MB] (INPUT.h5 | --synthetic N --dim D) [options]",
    .description = "Train an H2-matrix neural network on the pairs (/train/input, /train/output) of INPUT.h5,\n"
                   "report the mean relative error on /test, and write a checkpoint. Run it under mpirun:\n"
                   "the P ranks form P/PM data-parallel replicas of PM model-parallel ranks each.",
    .epilogue = "Input file (docs/design.md §5): /points (float64, N x d), /train/input, /train/output, /test/input,\n"
                "/test/output (float32, samples x N). Root attributes with the names shown above set\n"
                "defaults; the command line overrides them. Every run ends with one JSON line on stdout;\n"
                "errors print 'h2nn_mpi: error: ...' on stderr and exit non-zero on every rank.\n"
                "Signals: SIGTERM, SIGINT or SIGUSR1 (to mpirun, srun or any rank) stop the run at the next\n"
                "iteration with a checkpoint (if --checkpoint) and exit status 3; SIGUSR2 writes a checkpoint and\n"
                "continues. Exit statuses: 0 finished, 1 error, 3 interrupted (signal or --max-time; resumable).",
    .opts = opts,
    .nopts = (int)(sizeof opts / sizeof opts[0]),
};

const h2_cli *h2_options_cli(void) { return &cli; }

int h2_options_from_file(h2_options *opt, const int *set, struct h2_input *in, const char *path) {
  for (int i = 0; i < cli.nopts; i++) {
    if (!cli.opts[i].file_attr) continue;
    char attr[64];
    snprintf(attr, sizeof attr, "%s", cli.opts[i].name);
    for (char *c = attr; *c; c++)
      if (*c == '-') *c = '_';
    double v;
    int found = 0;
    H2_TRY(h2_input_attr(in, attr, &v, &found));
    if (found) {
      char source[4200];
      snprintf(source, sizeof source, "%s: root attribute", path);
      H2_TRY(h2_cli_apply_number(&cli, i, v, opt, set, source));
    }
  }
  return 0;
}
