/* train.c — a training run (see train.h): setup from options, the
 * minibatch loop, evaluation, progress lines, checkpoints, the summary. */
#include "h2nn/app/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "h2nn/app/signals.h"
#include "h2nn/io/checkpoint.h"
#include "h2nn/core/ema.h"
#include "h2nn/model/cheb.h"
#include "h2nn/core/isa.h"
#include "h2nn/core/kernel.h"
#include "h2nn/util/error.h"
#include "h2nn/io/h5util.h"
#include "h2nn/io/input_file.h"
#include "h2nn/util/duration.h"
#include "h2nn/util/rng.h"


/* ------------------------------------------------------------ ranks */

static int largest_pow2_dividing(int p) { return p & -p; }

/* P = P_d x P_m; P_m a power of two with at least 2 leaves per rank (docs/design.md §4). */
static int comms_setup(h2_comms *c, MPI_Comm world, int64_t requested_pm, int nleaves) {
  memset(c, 0, sizeof *c);
  c->world = world;
  H2_MPI(MPI_Comm_rank(world, &c->rank));
  H2_MPI(MPI_Comm_size(world, &c->size));
  int pm;
  if (requested_pm > 0) {
    pm = (int)requested_pm;
    if (pm & (pm - 1)) H2_FAIL(H2_EINPUT, "--model-parallel %d: must be a power of two", pm);
    if (c->size % pm) H2_FAIL(H2_EINPUT, "--model-parallel %d does not divide the %d ranks", pm, c->size);
    if (pm > nleaves)
      H2_FAIL(H2_EINPUT, "--model-parallel %d: the tree has only %d leaves (use a smaller --leaf-size or fewer ranks)",
              pm, nleaves);
  } else {
    pm = largest_pow2_dividing(c->size);
    while (pm > 1 && 2 * pm > nleaves) pm /= 2;
  }
  c->pm = pm;
  c->pd = c->size / pm;
  c->mrank = c->rank % pm;
  c->drank = c->rank / pm;
  H2_MPI(MPI_Comm_split(world, c->drank, c->mrank, &c->model));
  H2_MPI(MPI_Comm_split(world, c->mrank, c->drank, &c->replica));
  return 0;
}

static void comms_free(h2_comms *c) {
  if (c->model != MPI_COMM_NULL && c->model) MPI_Comm_free(&c->model);
  if (c->replica != MPI_COMM_NULL && c->replica) MPI_Comm_free(&c->replica);
}

/* ------------------------------------------------------------ setup */

/* A file we will create at the end of a long run: checked before training
 * (h2_output_check: a regular file or a new name, a writable directory, not
 * one of the inputs). */
int h2_check_output_path(const char *path, const char *option, const char *const *inputs, int ninputs) {
  H2_TRY(h2_output_check(path, option, inputs, ninputs));
  return 0;
}

/* --resume: the checkpoint fixes the model; a different value given on the
 * command line is a mistake, not something to ignore silently. */
static int check_resume_options(const h2_options *opt, const int *set, const h2_model_config *c, const char *ckpt) {
  const h2_cli *cli = h2_options_cli();
  struct { const char *name; double given, stored; } nums[] = {
      {"leaf-size", (double)opt->leaf_size, c->leaf_size}, {"rank", (double)opt->rank, c->rank},
      {"zeta", (double)opt->zeta, c->zeta}, {"eta", opt->eta, c->eta},
      {"close-hidden", (double)opt->close_hidden, c->close_hidden}, {"far-hidden", (double)opt->far_hidden, c->far_hidden},
      {"seed", (double)opt->seed, (double)c->seed}};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
    if (set[h2_cli_find(cli, nums[i].name)] && nums[i].given != nums[i].stored)
      H2_FAIL(H2_EINPUT, "--%s %g conflicts with --resume %s, which was trained with %s %g (drop the option)",
              nums[i].name, nums[i].given, ckpt, nums[i].name, nums[i].stored);
  int act = 0;
  if (set[h2_cli_find(cli, "activation")] && (h2_activation_from_name(opt->activation, &act) || act != c->activation))
    H2_FAIL(H2_EINPUT, "--activation %s conflicts with --resume %s, which was trained with %s", opt->activation, ckpt,
            h2_activation_name(c->activation));
  return 0;
}

/* The wall-time budget: --max-time from the start of the run, and under
 * SLURM the job's end time (SLURM_JOB_END_TIME, seconds since the epoch; the
 * batch script passes the allocation as --max-time where SLURM does not set
 * it), whichever comes first.  1 % of --max-time (like GROMACS -maxh's
 * 0.99), or 2 % of the job's time left (5..60 s) for its teardown, are kept
 * in hand. */
static int setup_deadline(h2_trainer *tr) {
  tr->deadline = INFINITY;
  if (tr->opt.max_time) {
    double s = 0;
    if (h2_duration_parse(tr->opt.max_time, &s)) {
      char msg[1024];
      snprintf(msg, sizeof msg, "%s", h2_error_message());
      H2_FAIL(H2_EINPUT, "--max-time %s", msg);
    }
    tr->deadline = tr->t_start + s;
    tr->deadline_safety = 0.01 * s;
    snprintf(tr->deadline_what, sizeof tr->deadline_what, "--max-time %.40s", tr->opt.max_time);
  }
  const char *end_text = getenv("SLURM_JOB_END_TIME");
  char *endp = NULL;
  double end = end_text ? strtod(end_text, &endp) : 0;
  if (end_text && endp != end_text && !*endp && end > 0) {
    double left = end - (double)time(NULL), margin = fmin(60, fmax(5, 0.02 * left));
    if (tr->t_start + left - margin < tr->deadline) {
      tr->deadline = tr->t_start + left - margin;
      tr->deadline_safety = 0;
      snprintf(tr->deadline_what, sizeof tr->deadline_what, "the SLURM job's end time");
    }
  }
  return 0;
}

/* --resume auto: continue the --checkpoint file if it exists, else start
 * from iteration 0 (rank 0 looks; every rank follows). */
static int resolve_resume_auto(h2_options *opt, MPI_Comm world, int *is_auto) {
  *is_auto = opt->resume && !strcmp(opt->resume, "auto");
  if (!*is_auto) return 0;
  if (!opt->checkpoint || !*opt->checkpoint)
    H2_FAIL(H2_EINPUT, "--resume auto continues the --checkpoint file: give --checkpoint FILE too");
  int rank, exists = 0;
  H2_MPI(MPI_Comm_rank(world, &rank));
  struct stat st;
  if (rank == 0) exists = stat(opt->checkpoint, &st) == 0;
  H2_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, world));
  opt->resume = exists ? opt->checkpoint : NULL;
  if (!exists && rank == 0 && !opt->quiet)
    printf("h2nn_mpi: --resume auto: %s does not exist yet: starting from iteration 0\n", opt->checkpoint);
  return 0;
}

/* Never move backwards: --checkpoint may not replace a checkpoint that holds
 * more iterations than this run starts from (a requeued job started without
 * --resume would otherwise overwrite hours of work), unless --overwrite.  A
 * file that is not a readable checkpoint is replaced as before. */
static int check_not_backwards(h2_trainer *tr) {
  const h2_options *o = &tr->opt;
  if (!o->checkpoint || !*o->checkpoint || o->overwrite || (o->resume && !strcmp(o->resume, o->checkpoint))) return 0;
  int exists = 0;
  struct stat st;
  if (tr->comm.rank == 0) exists = stat(o->checkpoint, &st) == 0 && S_ISREG(st.st_mode);
  H2_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, tr->comm.world));
  if (!exists) return 0;
  h2_ckpt_header h;
  if (h2_ckpt_read_header(o->checkpoint, tr->comm.world, &h)) {
    h2_error_clear();
    return 0;
  }
  int64_t step = h.step;
  h2_ckpt_header_free(&h);
  if (step > tr->adam.step)
    H2_FAIL(H2_EINPUT,
            "--checkpoint %s already holds %lld iterations, more than this run starts from (%lld): continue it with "
            "--resume auto, write to another file, or give --overwrite to replace it",
            o->checkpoint, (long long)step, (long long)tr->adam.step);
  return 0;
}

static int setup_local(h2_trainer *tr, const int *set, const char *input) {
  h2_options *opt = &tr->opt;
  MPI_Comm world = tr->comm.world;
  const h2_cli *cli = h2_options_cli();
  if (set[h2_cli_find(cli, "output")] || set[h2_cli_find(cli, "all")])
    H2_FAIL(H2_EINPUT, "--output and --all belong to --predict (use --checkpoint FILE to save a trained model)");
  if (opt->synthetic > 0 && input)
    H2_FAIL(H2_EINPUT, "--synthetic trains on generated data: do not also give an input file (%s)", input);
  if (opt->synthetic == 0 && (set[h2_cli_find(cli, "dim")] || set[h2_cli_find(cli, "synthetic-samples")]))
    H2_FAIL(H2_EINPUT, "--dim and --synthetic-samples go with --synthetic N");
  if (set[h2_cli_find(cli, "plan-ranks")] || set[h2_cli_find(cli, "memory-per-rank")])
    H2_FAIL(H2_EINPUT, "--plan-ranks and --memory-per-rank go with --plan (they plan a run, they do not change one)");
  /* data: file or synthetic */
  if (opt->synthetic > 0) {
    H2_TRY(h2_data_synthetic(&tr->data, opt->synthetic, (int)opt->dim, opt->synthetic_samples, (uint64_t)opt->seed));
  } else {
    if (!input) H2_FAIL(H2_EINPUT, "no input file given (usage: h2nn_mpi [options] INPUT.h5; see --help)");
    if (opt->center_output && opt->no_center_output)
      H2_FAIL(H2_EINPUT, "--center-output and --no-center-output contradict each other (give at most one)");
    H2_TRY(h2_data_open_file(&tr->data, input, opt->center_output ? 1 : opt->no_center_output ? 0 : -1, world));
    H2_TRY(h2_options_from_file(opt, set, tr->data.in, tr->data.path));
  }
  if (!(opt->input_scale > 0)) opt->input_scale = h2_auto_input_scale(&tr->data); /* automatic (validation.c) */
  tr->data.input_scale *= opt->input_scale;
  return setup_deadline(tr);
}

/* zeta = 1 kernel start: the network is linear in the maps' weights, so
 * scaling every map by alpha scales the output; alpha is the least-squares
 * fit <w, t> / <w, w> on the first training samples (the same on every
 * replica), which matches the kernel's units to the normalised targets. */
static int fit_kernel_scale(h2_trainer *tr) {
  h2_model *m = &tr->model;
  int nb = (int)(tr->data.count[0] < tr->capacity ? tr->data.count[0] : tr->capacity);
  for (int s = 0; s < nb; s++) tr->ids[s] = s;
  H2_TRY(h2_error_sync(tr->comm.world, h2_data_fetch(&tr->data, H2_SET_TRAIN, tr->ids, nb, m->zc[0], tr->bt)));
  h2_model_forward(m, tr->params, nb);
  double wt[2] = {0, 0};
  const real *w = m->zc[m->zeta];
  for (int64_t i = 0; i < tr->data.n_own * nb; i++) wt[0] += (double)w[i] * tr->bt[i], wt[1] += (double)w[i] * w[i];
  H2_MPI(MPI_Allreduce(MPI_IN_PLACE, wt, 2, MPI_DOUBLE, MPI_SUM, tr->comm.model));
  double alpha = wt[1] > 0 ? wt[0] / wt[1] : 1;
  int64_t end_maps = m->off_V; /* maps come first in the layout */
  for (int64_t i = 0; i < end_maps; i++) tr->params[i] *= (real)alpha;
  if (tr->comm.rank == 0 && !tr->opt.quiet) printf("h2nn_mpi: kernel start scaled by %.4g to the targets\n", alpha);
  return 0;
}

int h2_trainer_setup(h2_trainer *tr, const h2_options *opt_in, const int *set, const char *input, MPI_Comm world) {
  memset(tr, 0, sizeof *tr);
  tr->lock.fd = -1;
  tr->opt = *opt_in;
  tr->comm.world = world;
  tr->t_start = MPI_Wtime();
#ifdef H2NN_SIMULATE
  tr->arbitrary_numbers = 1; /* (see h2_trainer) */
#endif
  h2_options *opt = &tr->opt;
  int rank;
  H2_MPI(MPI_Comm_rank(world, &rank));
  /* everything before the model is collective on world or local and checked together */
  int err = setup_local(tr, set, input);
  H2_TRY(h2_error_sync(world, err));
  h2_data *ds = &tr->data;
  int resume_auto = 0;
  H2_TRY(h2_error_sync(world, resolve_resume_auto(opt, world, &resume_auto)));

  h2_model_config cfg = {.leaf_size = (int)opt->leaf_size, .rank = (int)opt->rank, .zeta = (int)opt->zeta,
                         .close_hidden = (int)opt->close_hidden, .far_hidden = (int)opt->far_hidden,
                         .eta = opt->eta, .seed = (uint64_t)opt->seed};
  err = h2_activation_from_name(opt->activation, &cfg.activation);
  int init_kernel = -1; /* --init kernel:NAME */
  if (!err && !strncmp(opt->init, "kernel:", 7)) {
    init_kernel = h2_kernel_from_name(opt->init + 7);
    if (init_kernel < 0)
      err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--init %s: unknown kernel (expected kernel:NAME, NAME one of " H2_KERNEL_NAMES ")", opt->init);
  } else if (!err && strcmp(opt->init, "xavier"))
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--init: expected xavier or kernel:NAME, got '%s'", opt->init);
  h2_ckpt_header hdr = {0};
  if (!err && opt->resume) {
    err = h2_ckpt_read_header(opt->resume, world, &hdr);
    if (err && resume_auto) { /* say why the file is not continued, and that it is left alone */
      char msg[1024];
      snprintf(msg, sizeof msg, "%s", h2_error_message());
      err = h2_error_set(__FILE__, __LINE__, err, "--resume auto: %s (left as it is: move it away to start afresh)", msg);
    }
    if (!err) err = h2_ckpt_check_geometry(&hdr, opt->resume, ds->points, ds->N, ds->d, ds->path);
    if (!err) err = check_resume_options(opt, set, &hdr.cfg, opt->resume);
    /* the checkpoint fixes the input scale; a given --input-scale must agree with it */
    if (!err && set[h2_cli_find(h2_options_cli(), "input-scale")] &&
        fabs(hdr.input_scale - ds->input_scale) > 1e-6 * ds->input_scale)
      err = h2_error_set(__FILE__, __LINE__, H2_EINPUT,
                         "--input-scale %g conflicts with --resume %s, which was trained with --input-scale %g (drop the option)",
                         opt->input_scale, opt->resume, opt->input_scale * hdr.input_scale / ds->input_scale);
    if (!err) {
      cfg = hdr.cfg; /* the checkpoint fixes the model */
      ds->input_scale = hdr.input_scale;
      ds->output_scale = hdr.output_scale;
      if (!opt->center_output && !opt->no_center_output) /* automatic: the checkpoint's choice */
        err = h2_data_set_centring(ds, hdr.output_mean);
      if (err) {
      } else if ((hdr.output_mean != NULL) != (ds->output_mean != NULL))
        err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--resume %s: the checkpoint was trained %s --center-output",
                           opt->resume, hdr.output_mean ? "with" : "without");
      else if (hdr.output_mean) memcpy(ds->output_mean, hdr.output_mean, sizeof(double) * (size_t)ds->N);
    }
  }
  if (!err && cfg.leaf_size > ds->N)
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--leaf-size %d is larger than N = %d", cfg.leaf_size, ds->N);
  if (!set[h2_cli_find(h2_options_cli(), "batch-size")] && opt->batch_size > ds->count[0] && ds->count[0] > 0)
    opt->batch_size = ds->count[0]; /* the default batch on a small training set: all of it */
  if (!err && opt->batch_size > ds->count[0])
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--batch-size %lld is larger than the training set (%lld samples%s%s)",
                       (long long)opt->batch_size, (long long)ds->count[0], ds->path ? " in " : "", ds->path ? ds->path : "");
  if (!err && opt->checkpoint && *opt->checkpoint && rank == 0) {
    /* --resume CK --checkpoint CK continues in place; the data file is never an output */
    const char *inputs[1] = {input};
    err = h2_check_output_path(opt->checkpoint, "--checkpoint", inputs, input ? 1 : 0);
    if (!err) err = h2_lock_acquire(opt->checkpoint, &tr->lock);
  }
  H2_TRY(h2_error_sync(world, err));

  int nleaves = 1 << h2_tree_depth(ds->N, cfg.leaf_size);
  err = comms_setup(&tr->comm, world, opt->model_parallel, nleaves);
  H2_TRY(h2_error_sync(world, err));
  h2_comms *c = &tr->comm;
  if (opt->batch_size < c->pd)
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--batch-size %lld is smaller than the %d data-parallel replicas",
                       (long long)opt->batch_size, c->pd);
  H2_TRY(h2_error_sync(world, err));

  /* this replica's slice of every minibatch */
  tr->b_first = opt->batch_size * c->drank / c->pd;
  tr->b_local = opt->batch_size * (c->drank + 1) / c->pd - tr->b_first;
  tr->batches_per_epoch = ds->count[0] / opt->batch_size;
  tr->capacity = (int)(tr->b_local > 64 ? tr->b_local : 64);

  h2_partition part = {.comm = c->model, .pm = c->pm, .mrank = c->mrank, .p = 0};
  while ((1 << part.p) < c->pm) part.p++;
  err = h2_model_build(&tr->model, ds->points, ds->N, ds->d, &cfg, tr->capacity, &part);
  H2_TRY(h2_error_sync(world, err));
  err = h2_data_bind(ds, &tr->model, opt->data_memory_mb, tr->capacity, world);
  h2_model *m = &tr->model;
  int64_t n = m->nparams;
  /* (H2_CALLOC_BIG touches every page now: first-touch faults are not iteration time) */
  if (!err) err = H2_CALLOC_BIG(tr->params, n);
  /* a stored gradient only when replicas must sum it (train_step) */
  if (!err && c->pd > 1) err = H2_CALLOC_BIG(tr->grads, n + 1);
  if (!err) err = H2_CALLOC_BIG(tr->m1, n);
  if (!err) err = H2_CALLOC_BIG(tr->v1, n);
  /* targets live in the model's backward scratch when it is large enough */
  if (!err) tr->bt = h2_model_target_buffer(m, ds->n_own * tr->capacity);
  tr->bt_owned = !err && !tr->bt;
  if (tr->bt_owned) err = H2_MALLOC(tr->bt, ds->n_own * tr->capacity);
  if (!err) err = H2_MALLOC(tr->sums, 2 * tr->capacity);
  if (!err) err = H2_MALLOC(tr->ids, tr->capacity);
  if (!err) err = H2_MALLOC(tr->order, ds->count[0]);
  tr->order_epoch = -1;
  tr->adam = (h2_adam){.lr = opt->lr, .beta1 = opt->beta1, .beta2 = opt->beta2, .eps = opt->adam_eps, .step = 0};
  if (!err && !opt->resume) err = h2_model_init_xavier(m, tr->params);
  /* kernel-informed start: the linear paths (and, with zeta = 1, the maps) of
   * the kernel's Chebyshev H2 approximation; training refines them */
  if (!err && !opt->resume && init_kernel >= 0)
    err = m->zeta == 1 ? h2_cheb_set_weights(m, init_kernel, tr->params) : h2_cheb_set_transfers(m, tr->params);
  H2_TRY(h2_error_sync(world, err));
  if (!opt->resume && init_kernel >= 0 && m->zeta == 1) H2_TRY(fit_kernel_scale(tr));
  H2_TRY(h2_error_sync(world, err));
  if (opt->resume) {
    err = h2_ckpt_read_state(opt->resume, world, m, tr->params, tr->m1, tr->v1, &tr->adam, &tr->hist);
    tr->time_before = hdr.wall_time;
    h2_ckpt_header_free(&hdr);
    H2_TRY(err);
    if (tr->hist.n > 0 && isfinite(tr->hist.loss[0]) && tr->hist.loss[0] > 0) tr->loss_ref = tr->hist.loss[0];
  }
  H2_TRY(h2_accuracy_setup(tr, set));
  /* parameters of the model: every row has one owner in the group */
  int64_t np = n;
  H2_MPI(MPI_Allreduce(&np, &tr->nparams_global, 1, MPI_INT64_T, MPI_SUM, c->model));
  tr->train_error = tr->test_error = NAN;
  tr->ckpt_written = -1;
  H2_TRY(h2_error_sync(world, check_not_backwards(tr)));
  return 0;
}

/* ------------------------------------------------------------ one step */

/* Samples of global iteration `it` for this replica: the epoch's shuffled order. */
static void batch_ids(h2_trainer *tr, int64_t it) {
  int64_t epoch = it / tr->batches_per_epoch, pos = it % tr->batches_per_epoch;
  if (epoch != tr->order_epoch) {
    h2_rng_shuffle(tr->order, tr->n_train, (uint64_t)tr->opt.seed, (uint64_t)epoch);
    tr->order_epoch = epoch;
  }
  for (int64_t s = 0; s < tr->b_local; s++) tr->ids[s] = tr->order[pos * tr->opt.batch_size + tr->b_first + s];
  if (tr->train_ids) /* a validation set is held out: order indexes the samples trained on */
    for (int64_t s = 0; s < tr->b_local; s++) tr->ids[s] = tr->train_ids[tr->ids[s]];
}

/* forward + loss over nb samples already in zc[0] (inputs) and bt (targets); returns the replica's
 * share of the batch loss (normalised by total) and adds errors */
static double forward_loss(h2_trainer *tr, const real *params, int nb, int64_t total, int set_grad, double *err_sum) {
  h2_model *m = &tr->model;
  h2_model_forward(m, params, nb); /* the inputs were fetched into m->zc[0] */
  h2_loss_partial(m, tr->bt, tr->data.offset, nb, tr->sums);
  if (tr->comm.pm > 1)
    H2_MPI_ABORT(MPI_Allreduce(MPI_IN_PLACE, tr->sums, 2 * nb, MPI_DOUBLE, MPI_SUM, tr->comm.model), tr->comm.model);
  return h2_loss_finish(m, tr->bt, nb, tr->sums, (int)total, set_grad, err_sum);
}

/* The fused optimizer: Adam on one slice of the gradient buffer (h2_grad_hook). */
static void adam_on_slice(void *ctx, int64_t off, real *g, int64_t n) {
  h2_trainer *tr = ctx;
  h2_adam_update(&tr->adam, tr->params + off, g, tr->m1 + off, tr->v1 + off, n);
}

/* Divergence: a non-finite loss, or one grown beyond 1e6 times the run's
 * first loss (an error of 1e18 is not training). */
#define H2_EXPLODE_FACTOR 1e6
static int check_loss(h2_trainer *tr, double loss, int64_t it) {
  if (tr->arbitrary_numbers) return 0;
  if (!isfinite(loss))
    H2_FAIL(H2_EDIVERGED, "training diverged: the loss is %g at iteration %lld (try a smaller --lr)", loss,
            (long long)it + 1);
  if (!(tr->loss_ref > 0)) tr->loss_ref = loss;
  /* the reference is at least 1e-3 of the normalised outputs' energy: a run
   * that starts at the answer (--init kernel: ~1e-14) may rise from there */
  if (tr->loss_ref > 0 && loss > H2_EXPLODE_FACTOR * fmax(tr->loss_ref, 1e-3))
    H2_FAIL(H2_EDIVERGED,
            "training diverged: the loss %g at iteration %lld is more than %g times the initial loss %g (try a "
            "smaller --lr)", loss, (long long)it + 1, H2_EXPLODE_FACTOR, fmax(tr->loss_ref, 1e-3));
  return 0;
}

/* Collective over world: every parameter and Adam moment finite?  Checked
 * before every checkpoint write and at the end: a NaN checkpoint never
 * replaces a good one. */
static int check_finite_state(h2_trainer *tr) {
  if (tr->arbitrary_numbers) return 0;
  int64_t n = tr->model.nparams, bad = -1;
  const real *arr[3] = {tr->params, tr->m1, tr->v1};
  static const char *const what[3] = {"parameters", "Adam first moments", "Adam second moments"};
  int which = -1;
  for (int a = 0; a < 3 && bad < 0; a++) {
    real acc = 0;
    for (int64_t i = 0; i < n; i++) acc += arr[a][i] * (real)0; /* NaN or Inf anywhere makes acc NaN */
    if (acc != acc) {
      which = a;
      for (int64_t i = 0; i < n && bad < 0; i++)
        if (!isfinite(arr[a][i])) bad = i;
    }
  }
  int flag = which, any = -1;
  MPI_Allreduce(&flag, &any, 1, MPI_INT, MPI_MAX, tr->comm.world);
  if (any < 0) return 0;
  const char *ck = tr->opt.checkpoint && *tr->opt.checkpoint ? tr->opt.checkpoint : NULL;
  int err = h2_error_set(__FILE__, __LINE__, H2_EDIVERGED,
                         "training diverged: non-finite %s after iteration %lld (try a smaller --lr)%s%s%s",
                         what[any], (long long)tr->adam.step, ck ? "; not checkpointed, " : "", ck ? ck : "",
                         ck ? " keeps the last good state" : "");
  return h2_error_sync(tr->comm.world, err);
}

static int train_step(h2_trainer *tr, int64_t it, double *loss_out) {
  h2_model *m = &tr->model;
  double t0 = MPI_Wtime();
  batch_ids(tr, it);
  /* a failed read on any rank stops every rank here, before any collective */
  H2_TRY(h2_error_sync(tr->comm.world, h2_data_fetch(&tr->data, H2_SET_TRAIN, tr->ids, (int)tr->b_local, m->zc[0], tr->bt)));
  double t1 = MPI_Wtime(), bytes0 = h2_model_comm_bytes(m), wait0 = h2_model_comm_wait(m), cb0 = h2_model_coarse_bytes(m);
  tr->adam.lr = h2_lr_at(&tr->sched, &tr->plateau, tr->adam.step + 1); /* this step's learning rate */
  double loss = forward_loss(tr, tr->params, (int)tr->b_local, tr->opt.batch_size, 1, NULL);
  /* One replica: every gradient block is final as soon as the backward pass
   * has produced it, so Adam updates it right then, while it is in cache,
   * and the gradient is never stored whole (bitwise the same step as
   * h2_adam_step afterwards).  Several replicas sum a stored gradient (and
   * the loss) first; Adam leaves it zeroed for the next step. */
  const int fused = tr->comm.pd == 1;
  const h2_grad_hook hook = {adam_on_slice, tr};
  if (fused) {
    H2_TRY(check_loss(tr, loss, it));
    h2_adam_begin(&tr->adam);
    h2_model_backward(m, tr->params, NULL, (int)tr->b_local, 0, &hook);
  } else {
    h2_model_backward(m, tr->params, tr->grads, (int)tr->b_local, 0, NULL);
    tr->grads[m->nparams] = (real)loss;
  }
  double t2 = MPI_Wtime();
  tr->step_wait += h2_model_comm_wait(m) - wait0;
  if (!fused)
    H2_MPI(MPI_Allreduce(MPI_IN_PLACE, tr->grads, (int)(m->nparams + 1), H2_MPI_REAL, MPI_SUM, tr->comm.replica));
  double t3 = MPI_Wtime();
  tr->coarse_bytes += h2_model_coarse_bytes(m) - cb0;
  tr->comm_bytes += h2_model_comm_bytes(m) - bytes0 + (tr->comm.pm > 1 ? 2.0 * tr->b_local * sizeof(double) : 0) +
                    (!fused ? (double)(m->nparams + 1) * sizeof(real) : 0);
  *loss_out = fused ? loss : tr->grads[m->nparams];
  if (!fused) {
    H2_TRY(check_loss(tr, *loss_out, it));
    h2_adam_step(&tr->adam, tr->params, tr->grads, tr->m1, tr->v1, m->nparams);
  }
  if (tr->ema) h2_ema_update(tr->ema, tr->params, m->nparams, h2_ema_decay_at(tr->opt.ema, tr->adam.step));
  double t4 = MPI_Wtime();
  tr->phase[H2_PH_DATA] += t1 - t0;
  tr->phase[H2_PH_COMPUTE] += t2 - t1;
  tr->phase[H2_PH_ALLREDUCE] += t3 - t2;
  tr->phase[H2_PH_OPTIM] += t4 - t3;
  return 0;
}

int h2_trainer_evaluate(h2_trainer *tr, int set, int64_t max_samples, double *mean_err) {
  double t0 = MPI_Wtime();
  /* the training subset or the held-out validation set are rows of /train */
  const int64_t *map = set == H2_SET_VAL ? tr->val_ids : set == H2_SET_TRAIN ? tr->train_ids : NULL;
  int64_t n = set == H2_SET_VAL ? tr->nval : set == H2_SET_TRAIN ? tr->n_train : tr->data.count[set];
  if (set == H2_SET_VAL) set = H2_SET_TRAIN;
  const real *params = tr->ema ? tr->ema : tr->params; /* the averaged weights when there are */
  if (max_samples > 0 && max_samples < n) n = max_samples;
  h2_comms *c = &tr->comm;
  int64_t first = n * c->drank / c->pd, last = n * (c->drank + 1) / c->pd;
  double sum = 0;
  int err = 0;
  for (int64_t s0 = first; s0 < last && !err; s0 += tr->capacity) {
    int nb = (int)(last - s0 < tr->capacity ? last - s0 : tr->capacity);
    for (int s = 0; s < nb; s++) tr->ids[s] = map ? map[s0 + s] : s0 + s;
    /* the ranks of a model group run the same chunks: agree before its collectives */
    err = h2_error_sync(c->model, h2_data_fetch(&tr->data, set, tr->ids, nb, tr->model.zc[0], tr->bt));
    if (!err) forward_loss(tr, params, nb, nb, 0, &sum);
  }
  H2_TRY(h2_error_sync(c->world, err));
  if (c->pd > 1) H2_MPI(MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, c->replica));
  *mean_err = sum / (double)n;
  tr->phase[H2_PH_EVAL] += MPI_Wtime() - t0;
  return 0;
}

/* ------------------------------------------------------------ the loop */

static void fmt_time(double s, char *buf, size_t n) {
  if (!isfinite(s) || s < 0) s = 0;
  long t = (long)(s + 0.5);
  snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

int h2_trainer_checkpoint(h2_trainer *tr, const char *path) {
  H2_TRY(check_finite_state(tr)); /* never a non-finite state on disk */
  double t0 = MPI_Wtime();
  const h2_ckpt_header hd = {.points = tr->data.points, .input_scale = tr->data.input_scale,
                             .output_scale = tr->data.output_scale, .output_mean = tr->data.output_mean,
                             .wall_time = tr->time_before + t0 - tr->t_start, .auto_note = tr->auto_note};
  h2_ckpt_attr attrs[H2_ACC_NATTRS];
  h2_ckpt_state st = {.model = &tr->model, .params = tr->params, .m1 = tr->m1, .v1 = tr->v1, .adam = &tr->adam,
                      .hist = &tr->hist, .batch_size = tr->opt.batch_size, .writer = tr->comm.drank == 0,
                      .writer_repl = tr->comm.drank == 0 && tr->comm.mrank == 0,
                      /* the run holds --checkpoint's lock (h2_lock), not the --keep-best file's */
                      .path_locked = path == tr->opt.checkpoint};
  h2_accuracy_ckpt_state(tr, &st, attrs); /* schedule, averaged weights, validation bookkeeping */
  /* a signal during the write only sets its flag (and interrupts no system
   * call of the writer); it is handled at the next iteration boundary */
  h2_signals_defer();
  int err = h2_ckpt_write(&hd, &st, path, tr->comm.world);
  h2_signals_resume();
  double dt = MPI_Wtime() - t0;
  tr->phase[H2_PH_IO] += dt;
  if (dt > tr->ckpt_seconds) tr->ckpt_seconds = dt;
  if (!err && path == tr->opt.checkpoint) tr->ckpt_written = tr->adam.step;
  return err;
}

/* The checkpoint of --checkpoint (the best one, --keep-best, goes elsewhere). */
static int checkpoint_now(h2_trainer *tr) {
  return h2_trainer_checkpoint(tr, tr->opt.checkpoint);
}

/* Seconds a checkpoint will take: the longest one so far, with half of it
 * more; before the first, a guess from its size (parameters and two Adam
 * moments, float32) at 100 MB/s plus half a second. */
static double checkpoint_estimate(const h2_trainer *tr) {
  if (tr->ckpt_seconds > 0) return 1.5 * tr->ckpt_seconds;
  return 0.5 + 3.0 * 4.0 * (double)tr->nparams_global / 100e6;
}

/* At an iteration boundary: this rank's events (signals; the budget when the
 * next iteration, t_next seconds, and a checkpoint would not fit before the
 * deadline), ORed over all ranks so that every rank acts on the same word.
 * One MPI_Allreduce of one int per iteration of its own: no reduction of the
 * step spans all ranks (the loss sums run over the model group, the gradient
 * over the replicas, and neither runs on one rank), so folding the word into
 * them would need two hops and a second word; the ranks are in step here
 * anyway, so it costs one small-message latency (README: measured). */
static int agree_events(h2_trainer *tr, double t_next, int *events) {
  int ev = h2_signals_poll(&tr->save_seen);
  if (isfinite(tr->deadline)) {
    double ck = tr->opt.checkpoint && *tr->opt.checkpoint ? checkpoint_estimate(tr) : 0;
    if (MPI_Wtime() + t_next + ck + tr->deadline_safety > tr->deadline) ev |= H2_EV_TIME;
  }
  H2_MPI(MPI_Allreduce(MPI_IN_PLACE, &ev, 1, MPI_INT, MPI_BOR, tr->comm.world));
  *events = ev;
  return 0;
}

/* SIGUSR2: a checkpoint now, then on. */
static int save_on_request(h2_trainer *tr, int64_t it) {
  const char *ck = tr->opt.checkpoint;
  if (!ck || !*ck) {
    if (tr->comm.rank == 0) fprintf(stderr, "h2nn_mpi: SIGUSR2 at iteration %lld: no --checkpoint to write, ignored\n", (long long)it);
    return 0;
  }
  if (tr->ckpt_written != it) H2_TRY(checkpoint_now(tr));
  if (tr->comm.rank == 0) fprintf(stderr, "h2nn_mpi: SIGUSR2: checkpoint %s written at iteration %lld, continuing\n", ck, (long long)it);
  return 0;
}

static void print_header(h2_trainer *tr) {
  const h2_model *m = &tr->model;
  const h2_data *ds = &tr->data;
  if (tr->comm.rank != 0 || tr->opt.quiet) return;
  printf("h2nn_mpi: %s: N = %d points in %d-D, %lld train / %lld test samples%s\n",
         ds->synthetic ? "synthetic data" : ds->path, ds->N, ds->d, (long long)ds->count[0], (long long)ds->count[1],
         ds->synthetic ? "" : (ds->cache[0][0] ? " (in memory)" : " (streamed from the file)"));
  printf("h2nn_mpi: tree L = %d (%d leaves of <= %d points), far levels %d..%d, eta %.3g; rank %d, zeta %d, %s\n", m->L,
         1 << m->L, m->cfg.leaf_size, m->lmin, m->L, m->cfg.eta, m->r, m->zeta, h2_activation_name(m->cfg.activation));
  printf("h2nn_mpi: %lld parameters (%.2f MB float32), %.1f MFLOP per sample forward; kernel set %s, subnormals %s, "
         "OpenBLAS %s\n",
         (long long)tr->nparams_global, tr->nparams_global * 4.0 / 1048576.0, h2_model_flops(m) * 1e-6,
         h2_kernels_get()->name, strcmp(tr->opt.denormals, "keep") ? "flushed" : "kept", h2_blas_core());
  h2_blas_warn(stdout, "h2nn_mpi");
  printf("h2nn_mpi: %d ranks = %d data-parallel x %d model-parallel; batch %lld, lr %g, %lld iterations%s\n",
         tr->comm.size, tr->comm.pd, tr->comm.pm, (long long)tr->opt.batch_size, tr->opt.lr,
         (long long)tr->opt.iterations, tr->opt.resume ? " (resumed)" : "");
  fflush(stdout);
}

int h2_trainer_run(h2_trainer *tr) {
  const h2_options *o = &tr->opt;
  int64_t it = tr->adam.step, end = o->iterations;
  print_header(tr);
  h2_accuracy_print(tr);
  double last_print = MPI_Wtime(), run_start = MPI_Wtime(), loss = NAN, loss_avg = 0;
  int64_t start_it = it, navg = 0;
  double t_boundary = MPI_Wtime(), t_last = 0, t_sum = 0, io_before = tr->phase[H2_PH_IO];
  while (it < end) {
    /* iteration boundary: the time of the iteration just done (checkpoint
     * writes aside), then stop or save requests, agreed by all ranks */
    double now0 = MPI_Wtime();
    if (it > start_it) {
      t_last = now0 - t_boundary - (tr->phase[H2_PH_IO] - io_before);
      t_sum += t_last;
    }
    int ev = 0;
    H2_TRY(agree_events(tr, it > start_it ? fmax(t_last, t_sum / (double)(it - start_it)) : 0, &ev));
    if (ev & H2_EV_SAVE) H2_TRY(save_on_request(tr, it));
    if (ev & (H2_EV_STOP_SIGNAL | H2_EV_TIME)) {
      tr->stopped = (ev & H2_EV_STOP_SIGNAL) ? H2_STOP_SIGNAL : H2_STOP_TIME;
      tr->stop_events = ev;
      break;
    }
    t_boundary = MPI_Wtime();
    io_before = tr->phase[H2_PH_IO];
    H2_TRY(train_step(tr, it, &loss));
    it++;
    tr->iter_done_this_run++;
    loss_avg += loss, navg++;
    double tr_err = NAN, te_err = NAN;
    int eval = o->eval_every > 0 && (it % o->eval_every == 0) && it != end;
    if (eval) {
      H2_TRY(h2_trainer_evaluate(tr, H2_SET_TRAIN, o->eval_samples, &tr_err));
      H2_TRY(h2_trainer_evaluate(tr, H2_SET_TEST, o->eval_samples, &te_err));
    }
    if (it == end) {
      H2_TRY(h2_trainer_evaluate(tr, H2_SET_TRAIN, 0, &tr_err));
      H2_TRY(h2_trainer_evaluate(tr, H2_SET_TEST, 0, &te_err));
      tr->train_error = tr_err;
      tr->test_error = te_err;
    }
    double now = MPI_Wtime();
    H2_TRY(h2_history_push(&tr->hist, it, tr->time_before + now - tr->t_start, loss, tr_err, te_err));
    if (eval || it == end) H2_TRY(h2_accuracy_after_eval(tr, it, tr_err)); /* validation, best checkpoint */
    /* a progress line every 2 s, at most 4 a second with evaluations (the
     * history keeps every one): a flood of lines fills the launcher's pipe,
     * and mpirun stops draining it when it is told to terminate, which left
     * rank 0 blocked in printf instead of stopping with a checkpoint */
    if (tr->comm.rank == 0 && !o->quiet &&
        (it == end || it == start_it + 1 || now - last_print >= 2.0 || (eval && now - last_print >= 0.25))) {
      double rate = (double)(it - start_it) / (now - run_start);
      char eta[32];
      fmt_time((double)(end - it) / rate, eta, sizeof eta);
      printf("iter %7lld/%lld  loss %.4e", (long long)it, (long long)end, loss_avg / (double)navg);
      if (!isnan(tr_err)) printf("  train %.5f  test %.5f", tr_err, te_err);
      if (!isnan(tr_err) && tr->nval) printf("  val %.5f", tr->val_error);
      printf("  %7.1f it/s  ETA %s\n", rate, eta);
      fflush(stdout);
      last_print = now;
      loss_avg = 0, navg = 0;
    }
    if (o->checkpoint && *o->checkpoint && o->checkpoint_every > 0 && it % o->checkpoint_every == 0 && it != end)
      H2_TRY(checkpoint_now(tr));
  }
  if (it == start_it && !tr->stopped) { /* nothing to train (resumed at the end): still evaluate */
    if (tr->comm.rank == 0 && !o->quiet && o->resume)
      printf("h2nn_mpi: %s is already at iteration %lld >= --iterations %lld: nothing to train, evaluating\n", o->resume,
             (long long)it, (long long)end);
    H2_TRY(h2_trainer_evaluate(tr, H2_SET_TRAIN, 0, &tr->train_error));
    H2_TRY(h2_trainer_evaluate(tr, H2_SET_TEST, 0, &tr->test_error));
  }
  if (o->checkpoint && *o->checkpoint && tr->ckpt_written != it) H2_TRY(checkpoint_now(tr));
  /* (checkpoint_now checks the state is finite; without a checkpoint it is checked here) */
  if (!(o->checkpoint && *o->checkpoint)) H2_TRY(check_finite_state(tr));
  if (tr->stopped && tr->comm.rank == 0) { /* one line saying why, on stderr even with --quiet */
    const char *sig = h2_signals_name(tr->stop_events);
    char why[160];
    if (tr->stopped == H2_STOP_SIGNAL) snprintf(why, sizeof why, "%s received", sig);
    else snprintf(why, sizeof why, "the wall-time budget (%s) would run out before the next iteration and a checkpoint", tr->deadline_what);
    char ck[4200] = "no --checkpoint given, nothing saved";
    if (o->checkpoint && *o->checkpoint)
      snprintf(ck, sizeof ck, "checkpoint %s written; the same command with --resume auto continues", o->checkpoint);
    fprintf(stderr, "h2nn_mpi: stopped after iteration %lld of %lld: %s; %s (exit status %d)\n", (long long)it,
            (long long)end, why, ck, H2_EXIT_INTERRUPTED);
    fflush(stderr);
  }
  return 0;
}

/* ------------------------------------------------------------ report */

/* A number for the JSON line: %.8g, or null when not finite (JSON has no NaN). */
static void json_number(double v, char *buf, size_t size) {
  if (isfinite(v)) snprintf(buf, size, "%.8g", v);
  else snprintf(buf, size, "null");
}

void h2_trainer_report(h2_trainer *tr) {
  const h2_comms *c = &tr->comm;
  double wall = MPI_Wtime() - tr->t_start, phase[H2_PH_COUNT];
  H2_MPI_ABORT(MPI_Allreduce(tr->phase, phase, H2_PH_COUNT, MPI_DOUBLE, MPI_MAX, c->world), c->world);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double rss = ru.ru_maxrss / 1024.0, rss_sum = 0, rss_max = 0;
  H2_MPI_ABORT(MPI_Allreduce(&rss, &rss_sum, 1, MPI_DOUBLE, MPI_SUM, c->world), c->world);
  H2_MPI_ABORT(MPI_Allreduce(&rss, &rss_max, 1, MPI_DOUBLE, MPI_MAX, c->world), c->world);
  double flops_sample = h2_model_flops(&tr->model), flops_model = 0, bytes = 0;
  H2_MPI_ABORT(MPI_Allreduce(&flops_sample, &flops_model, 1, MPI_DOUBLE, MPI_SUM, c->model), c->model);
  H2_MPI_ABORT(MPI_Allreduce(&tr->comm_bytes, &bytes, 1, MPI_DOUBLE, MPI_SUM, c->world), c->world);
  double halo_wait = tr->step_wait, halo_wait_max = 0;
  H2_MPI_ABORT(MPI_Allreduce(&halo_wait, &halo_wait_max, 1, MPI_DOUBLE, MPI_MAX, c->world), c->world);
  /* the coarse tree on its busiest rank: forward + backward flops (3x the
   * forward's) of this replica's samples, bytes sent, per iteration, and
   * its share of the rank's flops */
  double coarse[3] = {3.0 * h2_model_coarse_flops(&tr->model) * (double)tr->b_local,
                      tr->iter_done_this_run ? tr->coarse_bytes / (double)tr->iter_done_this_run : 0,
                      flops_sample > 0 ? h2_model_coarse_flops(&tr->model) / flops_sample : 0},
         coarse_max[3];
  H2_MPI_ABORT(MPI_Allreduce(coarse, coarse_max, 3, MPI_DOUBLE, MPI_MAX, c->world), c->world);
  if (c->rank != 0) return;
  int64_t iters = tr->iter_done_this_run;
  double bytes_iter = iters ? bytes / (double)iters : 0;
  double step_time = phase[H2_PH_DATA] + phase[H2_PH_COMPUTE] + phase[H2_PH_ALLREDUCE] + phase[H2_PH_OPTIM];
  double ms = iters ? 1e3 * step_time / (double)iters : 0;
#define PER_IT(t) (iters ? 1e3 * (t) / (double)iters : 0)
  /* forward + backward ~ 3x the forward multiply-adds, over the global batch */
  double gflops = iters ? 3.0 * flops_model * (double)tr->opt.batch_size / (ms * 1e-3) * 1e-9 : 0;
  /* the same over the compute phase alone (forward, loss, backward, halo and coarse-tree waits) */
  double gflops_compute = phase[H2_PH_COMPUTE] > 0 ? gflops * step_time / phase[H2_PH_COMPUTE] : 0;
  /* share of the training steps spent in communication: message waits and the gradient allreduce */
  double comm_share = step_time > 0 ? (halo_wait_max + phase[H2_PH_ALLREDUCE]) / step_time : 0;
  if (!tr->opt.quiet) {
    printf("\nh2nn_mpi: done: %lld iterations in %.2f s (%.3f ms/iteration, %.1f GFLOP/s)\n", (long long)iters, wall, ms,
           gflops);
    if (!tr->stopped) printf("h2nn_mpi: mean relative error: train %.5f, test %.5f\n", tr->train_error, tr->test_error);
    printf("h2nn_mpi: time per training phase (max over ranks): data %.2f s, compute %.2f s (of which halo/coarse-tree waits "
           "%.2f s), gradient allreduce %.2f s, optimizer %.2f s, evaluation %.2f s, checkpoint I/O %.2f s\n",
           phase[H2_PH_DATA], phase[H2_PH_COMPUTE], halo_wait_max, phase[H2_PH_ALLREDUCE], phase[H2_PH_OPTIM],
           phase[H2_PH_EVAL], phase[H2_PH_IO]);
    printf("h2nn_mpi: communication: %.3g bytes per iteration over all ranks (halo, coarse tree, loss, gradients), "
           "%.1f%% of the training time waiting for it\n", bytes_iter, 100 * comm_share);
    if (tr->model.coarse) /* the model group has levels above its partition level */
      printf("h2nn_mpi: coarse tree (levels above the model partition, one box per rank at most): %.3g flops and %.3g "
             "bytes per iteration on the busiest rank, at most %.1f%% of a rank's flops\n", coarse_max[0], coarse_max[1],
             100 * coarse_max[2]);
    printf("h2nn_mpi: peak memory %.1f MB summed over ranks (max %.1f MB per rank)\n", rss_sum, rss_max);
    if (tr->opt.checkpoint && *tr->opt.checkpoint) printf("h2nn_mpi: checkpoint written to %s\n", tr->opt.checkpoint);
  }
  /* valid JSON always: a non-finite number is null, and "status" says why */
  char tre[32], tee[32];
  json_number(tr->train_error, tre, sizeof tre);
  json_number(tr->test_error, tee, sizeof tee);
  int finite = isfinite(tr->train_error) && isfinite(tr->test_error);
  printf("{\"mode\":\"train\",\"status\":\"%s\",\"N\":%d,\"d\":%d,\"ranks\":%d,\"model_parallel\":%d,\"isa\":\"%s\","
         "\"denormals\":\"%s\",\"params\":%lld,\"iterations\":%lld,"
         "\"train_error\":%s,\"test_error\":%s,\"seconds\":%.3f,\"ms_per_iteration\":%.4f,\"gflops\":%.3f,"
         "\"gflops_compute\":%.3f,"
         "\"comm_bytes_per_iteration\":%.0f,\"comm_share\":%.4f,\"coarse_flops_per_iteration_max_rank\":%.0f,"
         "\"coarse_bytes_per_iteration_max_rank\":%.0f,\"peak_rss_mb\":%.1f,\"peak_rss_mb_max_rank\":%.1f,"
         "\"data_ms\":%.4f,\"compute_ms\":%.4f,\"wait_ms\":%.4f,\"allreduce_ms\":%.4f,\"optim_ms\":%.4f,\"stopped\":\"%s\"}\n",
         tr->stopped ? "interrupted" : !finite ? "non_finite_error" : "finished", tr->data.N, tr->data.d, c->size, c->pm,
         h2_kernels_get()->name, tr->opt.denormals, (long long)tr->nparams_global, (long long)tr->adam.step, tre, tee, wall, ms, gflops,
         gflops_compute, bytes_iter, comm_share, coarse_max[0], coarse_max[1], rss_sum, rss_max,
         /* per training iteration, max over ranks (wait_ms: halo/coarse waits inside compute_ms) */
         PER_IT(phase[H2_PH_DATA]), PER_IT(phase[H2_PH_COMPUTE]), PER_IT(halo_wait_max), PER_IT(phase[H2_PH_ALLREDUCE]),
         PER_IT(phase[H2_PH_OPTIM]),
         tr->stopped == H2_STOP_SIGNAL ? "signal" : tr->stopped == H2_STOP_TIME ? "time_limit" : "completed");
#undef PER_IT
  fflush(stdout);
}

void h2_trainer_free(h2_trainer *tr) {
  free(tr->params), free(tr->grads), free(tr->m1), free(tr->v1);
  if (tr->bt_owned) free(tr->bt);
  free(tr->sums), free(tr->ids), free(tr->order);
  free(tr->ema), free(tr->train_ids), free(tr->val_ids);
  h2_history_free(&tr->hist);
  h2_model_free(&tr->model);
  h2_data_free(&tr->data);
  comms_free(&tr->comm);
  h2_lock_release(&tr->lock);
  memset(tr, 0, sizeof *tr);
  tr->lock.fd = -1;
}
