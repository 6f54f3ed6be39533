/* validation.c — accuracy without hand-tuning, the parts of a training run
 * beyond plain Adam: the learning-rate schedule (core/schedule.c) set up
 * from the options, the exponential moving average of the weights
 * (core/ema.c) used for evaluation, prediction and checkpoints, the
 * validation samples held out of /train, and the checkpoint of the lowest
 * validation error (--keep-best).  Everything here is a function of the
 * options, the iteration and global sample indices: the same on any number
 * of ranks, and restored exactly from a checkpoint. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/app/train.h"
#include "h2nn/util/error.h"
#include "h2nn/util/rng.h"

/* the validation split's shuffle key: fixed, so that runs with different
 * --seed are compared on the same validation samples */
#define H2_VAL_SEED 0x76616c69646174ull
#define H2_VAL_EPOCH 0xffffffffu

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int h2_validation_split(int64_t count, int64_t nval, int64_t *val_ids, int64_t *train_ids) {
  int64_t *perm;
  H2_TRY(H2_MALLOC(perm, count));
  h2_rng_shuffle(perm, count, H2_VAL_SEED, H2_VAL_EPOCH);
  memcpy(val_ids, perm, sizeof(int64_t) * (size_t)nval);
  memcpy(train_ids, perm + nval, sizeof(int64_t) * (size_t)(count - nval));
  qsort(val_ids, (size_t)nval, sizeof(int64_t), cmp_i64);
  qsort(train_ids, (size_t)(count - nval), sizeof(int64_t), cmp_i64);
  free(perm);
  return 0;
}

static int split(h2_trainer *tr, int64_t count, int64_t nval) {
  H2_TRY(H2_MALLOC(tr->val_ids, nval));
  H2_TRY(H2_MALLOC(tr->train_ids, count - nval));
  return h2_validation_split(count, nval, tr->val_ids, tr->train_ids);
}

/* names of the /optimizer attributes kept by this file, in h2_accuracy_ckpt_state's order */
static const char *const attr_names[H2_ACC_NATTRS] = {
    "warmup", "lr_final", "ema_decay", "validation_fraction", "plateau_best",
    "plateau_bad", "plateau_factor", "best_validation_error", "best_iteration", "lr_peak"};

/* --keep-best's file: CKPT without a trailing .h5, then .best.h5 */
static void best_path(const char *ckpt, char *out, size_t n) {
  size_t len = strlen(ckpt);
  if (len > 3 && !strcmp(ckpt + len - 3, ".h5")) len -= 3;
  snprintf(out, n, "%.*s.best.h5", (int)len, ckpt);
}

double h2_auto_input_scale(const h2_data *ds) {
  if (!ds->output_mean) return 1;
  double rest = 1 - ds->mean_fraction; /* the centred targets' mean square, in output-RMS units */
  return rest > 1e-4 ? 1 / sqrt(rest) : 100;
}

int h2_accuracy_setup(h2_trainer *tr, const int *set) {
  h2_options *o = &tr->opt;
  const h2_cli *cli = h2_options_cli();
  MPI_Comm world = tr->comm.world;
  int err = 0;
  /* resuming: the checkpoint's settings unless the command line gives others */
  double stored[H2_ACC_NATTRS] = {0};
  int found[H2_ACC_NATTRS] = {0};
  char sched_name[32] = "";
  if (o->resume) {
    H2_TRY(h2_ckpt_read_extras(o->resume, world, &tr->model, NULL, NULL, attr_names, stored, found, H2_ACC_NATTRS,
                               sched_name, sizeof sched_name));
    if (found[2] && !set[h2_cli_find(cli, "ema")]) o->ema = stored[2];
    if (found[0] && !set[h2_cli_find(cli, "warmup")]) o->warmup = (int64_t)stored[0];
    if (found[1] && !set[h2_cli_find(cli, "lr-final")]) o->lr_final = stored[1];
    if (found[3] && !set[h2_cli_find(cli, "validation-fraction")]) o->validation_fraction = stored[3];
    if (found[9] && !set[h2_cli_find(cli, "lr")]) o->lr = stored[9];
  }
  /* the schedule */
  const char *sname = o->lr_schedule;
  if (*sched_name && !set[h2_cli_find(cli, "lr-schedule")]) sname = sched_name;
  int kind = h2_lr_kind_from_name(sname);
  if (kind < 0) H2_FAIL(H2_EINPUT, "--lr-schedule %s: expected one of " H2_LR_KIND_NAMES, sname);
  if (o->lr_final > o->lr) H2_FAIL(H2_EINPUT, "--lr-final %g is larger than --lr %g", o->lr_final, o->lr);
  int64_t horizon = o->lr_horizon > 0 ? o->lr_horizon : o->iterations;
  if (o->warmup < 0) o->warmup = horizon / 20; /* automatic: 5% of the horizon */
  tr->sched = (h2_lr_schedule){.kind = kind, .lr = o->lr, .lr_final = o->lr_final, .warmup = o->warmup,
                               .total = horizon};
  h2_plateau_init(&tr->plateau);
  if (found[4]) tr->plateau.best = stored[4];
  if (found[5]) tr->plateau.bad = (int64_t)stored[5];
  if (found[6]) tr->plateau.factor = stored[6];
  tr->adam.lr = h2_lr_at(&tr->sched, &tr->plateau, tr->adam.step + 1);

  /* the validation split (rows of /train; the test set is never touched) */
  int64_t count = tr->data.count[0];
  tr->nval = (int64_t)floor(o->validation_fraction * (double)count + 0.5);
  tr->n_train = count - tr->nval;
  if (o->keep_best && tr->nval == 0)
    H2_FAIL(H2_EINPUT, "--keep-best chooses by the validation error: give --validation-fraction F too");
  if (o->keep_best && !(o->checkpoint && *o->checkpoint))
    H2_FAIL(H2_EINPUT, "--keep-best writes CKPT.best.h5 next to --checkpoint CKPT: give --checkpoint too");
  if (o->validation_fraction > 0 && tr->nval == 0)
    H2_FAIL(H2_EINPUT, "--validation-fraction %g of %lld training samples holds out none", o->validation_fraction,
            (long long)count);
  if (tr->n_train < o->batch_size)
    H2_FAIL(H2_EINPUT, "--batch-size %lld is larger than the %lld training samples left after --validation-fraction %g",
            (long long)o->batch_size, (long long)tr->n_train, o->validation_fraction);
  if (tr->nval) H2_TRY(split(tr, count, tr->nval));
  tr->batches_per_epoch = tr->n_train / o->batch_size;
  tr->val_error = NAN;
  tr->best_val_error = found[7] ? stored[7] : INFINITY;
  tr->best_iteration = found[8] ? (int64_t)stored[8] : 0;

  /* the automatic choices, printed and stored in checkpoints */
  const h2_data *ds = &tr->data;
  if (!ds->synthetic) {
    int n = 0;
    const size_t cap = sizeof tr->auto_note;
    if (o->center_output || o->no_center_output)
      n = snprintf(tr->auto_note, cap, "outputs %scentred (%s)", ds->output_mean ? "" : "not ",
                   o->center_output ? "--center-output" : "--no-center-output");
    else if (o->resume)
      n = snprintf(tr->auto_note, cap, "outputs %scentred (automatic: as in %s)", ds->output_mean ? "" : "not ", o->resume);
    else
      n = snprintf(tr->auto_note, cap, "outputs %scentred (automatic: the mean output profile is %.3g%% of the outputs' mean square, %s %g%%)",
                   ds->output_mean ? "" : "not ", 100 * ds->mean_fraction, ds->output_mean ? ">=" : "<",
                   100 * H2_CENTRE_FRACTION);
    const char *why = set[h2_cli_find(cli, "input-scale")] ? "--input-scale"
                      : o->resume ? "as in the checkpoint"
                      : ds->output_mean ? "automatic: the centred targets' RMS is 1/F of the outputs' RMS"
                                        : "automatic: the targets are not centred";
    if (n > 0 && (size_t)n < cap)
      snprintf(tr->auto_note + n, cap - (size_t)n, "; inputs in units of %.4g x their RMS (%s)",
               ds->input_scale / ds->input_rms, why);
  }

  /* the averaged weights: from the checkpoint when it has them, else the current weights */
  if (o->ema > 0) {
    err = H2_CALLOC_BIG(tr->ema, tr->model.nparams);
    H2_TRY(h2_error_sync(world, err));
    int has = 0;
    if (o->resume) H2_TRY(h2_ckpt_read_extras(o->resume, world, &tr->model, tr->ema, &has, NULL, NULL, NULL, 0, NULL, 0));
    if (!has) memcpy(tr->ema, tr->params, sizeof(real) * (size_t)tr->model.nparams);
    if (o->resume && !has && tr->comm.rank == 0 && !o->quiet)
      printf("h2nn_mpi: %s has no averaged weights: the average starts from its weights\n", o->resume);
  }
  return 0;
}

int h2_accuracy_after_eval(h2_trainer *tr, int64_t it, double tr_err) {
  const h2_options *o = &tr->opt;
  double watched = tr_err;
  if (tr->nval) {
    H2_TRY(h2_trainer_evaluate(tr, H2_SET_VAL, 0, &tr->val_error));
    watched = tr->val_error;
  }
  if (tr->sched.kind == H2_LR_PLATEAU && it > tr->sched.warmup) h2_plateau_observe(&tr->plateau, watched);
  if (tr->nval && tr->val_error < tr->best_val_error) {
    tr->best_val_error = tr->val_error;
    tr->best_iteration = it;
    if (o->keep_best) {
      char path[4200];
      best_path(o->checkpoint, path, sizeof path);
      H2_TRY(h2_trainer_checkpoint(tr, path));
    }
  }
  return 0;
}

void h2_accuracy_ckpt_state(const h2_trainer *tr, h2_ckpt_state *st, h2_ckpt_attr *a) {
  const double v[H2_ACC_NATTRS] = {
      (double)tr->sched.warmup, tr->sched.lr_final, tr->ema ? tr->opt.ema : 0, tr->opt.validation_fraction,
      tr->plateau.best, (double)tr->plateau.bad, tr->plateau.factor, tr->best_val_error, (double)tr->best_iteration,
      tr->sched.lr};
  for (int i = 0; i < H2_ACC_NATTRS; i++) a[i] = (h2_ckpt_attr){attr_names[i], v[i]};
  st->attrs = a;
  st->nattrs = H2_ACC_NATTRS;
  st->ema = tr->ema;
  st->schedule = h2_lr_kind_name(tr->sched.kind);
}

void h2_accuracy_print(const h2_trainer *tr) {
  const h2_options *o = &tr->opt;
  if (tr->comm.rank != 0 || o->quiet) return;
  const h2_lr_schedule *s = &tr->sched;
  printf("h2nn_mpi: lr schedule %s", h2_lr_kind_name(s->kind));
  if (s->warmup) printf(" after %lld warm-up iterations", (long long)s->warmup);
  if (s->kind != H2_LR_CONSTANT) printf(", final lr %g", s->lr_final);
  if ((s->kind == H2_LR_COSINE || s->kind == H2_LR_STEP) && s->total != o->iterations)
    printf(" at iteration %lld", (long long)s->total);
  if (tr->ema) printf("; weights averaged (EMA decay %g)", o->ema);
  if (tr->nval) printf("; %lld of /train held out for validation%s", (long long)tr->nval, o->keep_best ? ", best kept" : "");
  printf("\n");
  if (*tr->auto_note) printf("h2nn_mpi: %s\n", tr->auto_note);
  fflush(stdout);
}
