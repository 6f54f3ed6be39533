/* predict.c — h2nn_mpi --predict CKPT --output PRED INPUT (SPEC §7): apply a
 * checkpoint to /test/input (and /train/input with --all), write
 * /test/prediction (and /train/prediction) in original point order, report
 * the mean relative error where the outputs are present.  Samples are split
 * over all ranks; the file is written collectively and atomically. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/io/checkpoint.h"
#include "h2nn/util/error.h"
#include "h2nn/io/h5atomic.h"
#include "h2nn/io/h5util.h"
#include "h2nn/io/input_file.h"
#include "h2nn/app/train.h"

typedef struct {
  h2_model model;
  h2_data data;
  real *params, *t;
  float *pred;
  int64_t *ids;
  double *sums;
} predictor;

/* predict rows [first, last) of `set` into pred (count x N, original order);
 * adds relative errors to *err_sum when the outputs exist */
static int predict_rows(predictor *p, int set, int64_t first, int64_t last, int cap, int with_err, double *err_sum) {
  h2_model *m = &p->model;
  h2_data *ds = &p->data;
  for (int64_t s0 = first; s0 < last; s0 += cap) {
    int nb = (int)(last - s0 < cap ? last - s0 : cap);
    for (int s = 0; s < nb; s++) p->ids[s] = s0 + s;
    if (with_err) H2_TRY(h2_data_fetch(ds, set, p->ids, nb, m->zc[0], p->t));
    else H2_TRY(h2_data_fetch_inputs(ds, set, p->ids, nb, m->zc[0]));
    for (int64_t i = 0; i < (int64_t)ds->N * nb; i++)
      if (!isfinite(m->zc[0][i]))
        H2_FAIL(H2_EINPUT, "%s: %s has a non-finite value in sample %lld", ds->path,
                h2_input_dataset_name(set, H2_INPUT_IN), (long long)(s0 + i % nb));
    h2_model_forward(m, p->params, nb);
    if (with_err) {
      h2_loss_partial(m, p->t, ds->offset, nb, p->sums);
      h2_loss_finish(m, p->t, nb, p->sums, nb, 0, err_sum);
    }
    const real *w = m->zc[m->zeta];
    for (int64_t t = 0; t < ds->N; t++) {
      int64_t i = ds->perm[t];
      double mean = ds->output_mean ? ds->output_mean[i] : 0;
      for (int s = 0; s < nb; s++)
        p->pred[(s0 - first + s) * ds->N + i] = (float)(w[t * nb + s] * ds->output_scale + mean);
    }
  }
  return 0;
}

static int predict_body(predictor *p, const h2_options *opt, const char *input, MPI_Comm world, double *test_err,
                        int64_t *samples, int *have_err) {
  int rank, size;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  if (!opt->output || !*opt->output) H2_FAIL(H2_EINPUT, "--predict needs --output PRED.h5");
  if (!input) H2_FAIL(H2_EINPUT, "--predict needs an input file (h2nn_mpi --predict CKPT --output PRED INPUT.h5)");
  /* never write over the checkpoint or the input (same device and inode, whatever the names) */
  const char *inputs[2] = {opt->predict, input};
  H2_TRY(h2_error_sync(world, rank == 0 ? h2_check_output_path(opt->output, "--output", inputs, 2) : 0));
  h2_ckpt_header h;
  H2_TRY(h2_ckpt_read_header(opt->predict, world, &h));
  int err = h2_data_open_predict(&p->data, input, h.input_scale, h.output_scale, h.output_mean, world);
  if (!err) err = h2_ckpt_check_geometry(&h, opt->predict, p->data.points, p->data.N, p->data.d, input);
  const int cap = 64;
  if (!err) err = h2_model_build(&p->model, p->data.points, p->data.N, p->data.d, &h.cfg, cap, NULL);
  h2_ckpt_header_free(&h);
  H2_TRY(h2_error_sync(world, err));
  err = h2_data_bind(&p->data, &p->model, 0, cap, world);
  int64_t N = p->data.N, rows_max = 0;
  for (int set = 0; set < 2; set++) {
    int64_t n = p->data.count[set];
    int64_t rows = ((n + cap - 1) / cap / size + 1) * cap;
    rows_max = rows > rows_max ? rows : rows_max;
  }
  if (!err) err = H2_CALLOC(p->params, p->model.nparams);
  if (!err) err = H2_MALLOC(p->t, N * cap);
  if (!err) err = H2_MALLOC(p->ids, cap);
  if (!err) err = H2_MALLOC(p->sums, 2 * cap);
  if (!err) err = H2_MALLOC(p->pred, rows_max * N);
  H2_TRY(h2_error_sync(world, err));
  H2_TRY(h2_ckpt_read_state(opt->predict, world, &p->model, p->params, NULL, NULL, NULL, NULL));

  h2_h5_atomic a;
  double bytes = 4.0 * (double)N * (double)(p->data.count[H2_SET_TEST] + (opt->all ? p->data.count[H2_SET_TRAIN] : 0));
  H2_TRY(h2_h5_atomic_create_sized(&a, opt->output, "prediction file", 1.05 * bytes + 1048576.0, world));
  *samples = 0;
  *test_err = NAN;
  for (int set = H2_SET_TEST; set >= H2_SET_TRAIN && !err; set--) {
    if (set == H2_SET_TRAIN && !opt->all) break;
    int64_t n = p->data.count[set];
    if (n == 0) continue;
    int with_err = p->data.in->present[set][H2_INPUT_OUT];
    /* whole chunks of `cap` samples, aligned to the global sample index: each
     * sample is computed in the same GEMM columns on any number of ranks, so
     * predictions are bitwise independent of the rank count */
    int64_t chunks = (n + cap - 1) / cap;
    int64_t first = chunks * rank / size * cap, last = chunks * (rank + 1) / size * cap;
    if (first > n) first = n;
    if (last > n) last = n;
    double sum = 0;
    err = h2_error_sync(world, predict_rows(p, set, first, last, cap, with_err, &sum));
    const char *name = set == H2_SET_TEST ? "/test/prediction" : "/train/prediction";
    if (!err) err = h2_h5_create_groups(a.file, set == H2_SET_TEST ? "/test" : "/train", world);
    if (!err) err = h2_h5_write_rows(a.file, name, H2_H5_F32, H2_H5_F32, 2, n, N, first, last - first, p->pred, world);
    if (!err && set == H2_SET_TEST) {
      MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, world);
      *test_err = with_err ? sum / (double)n : NAN;
      *have_err = with_err;
    }
    *samples += n;
  }
  if (!err) err = h2_h5_attr_write_string(a.file, "checkpoint", opt->predict, world);
  if (!err) err = h2_h5_attr_write_string(a.file, "input", input, world);
  return h2_h5_atomic_finish(&a, err);
}

int h2_predict(const h2_options *opt, const char *input, MPI_Comm world) {
  predictor p;
  memset(&p, 0, sizeof p);
  double t0 = MPI_Wtime(), test_err = NAN;
  int64_t samples = 0;
  int have_err = 0, rank;
  MPI_Comm_rank(world, &rank);
  int err = predict_body(&p, opt, input, world, &test_err, &samples, &have_err);
  if (!err && rank == 0) {
    if (!opt->quiet)
      printf("h2nn_mpi: predicted %lld samples with %s in %.2f s -> %s%s\n", (long long)samples, opt->predict,
             MPI_Wtime() - t0, opt->output, have_err ? "" : " (no /test/output: no error reported)");
    /* valid JSON always: null where there is no finite error, "status" says why */
    if (have_err && isfinite(test_err))
      printf("{\"mode\":\"predict\",\"status\":\"finished\",\"samples\":%lld,\"test_error\":%.8g}\n",
             (long long)samples, test_err);
    else
      printf("{\"mode\":\"predict\",\"status\":\"%s\",\"samples\":%lld,\"test_error\":null}\n",
             have_err ? "non_finite_error" : "no_test_output", (long long)samples);
    fflush(stdout);
  }
  free(p.params), free(p.t), free(p.pred), free(p.ids), free(p.sums);
  h2_model_free(&p.model);
  h2_data_free(&p.data);
  return err;
}
