/* predict.c — h2nn_mpi --predict CKPT --output PRED INPUT (docs/design.md §7): apply a
 * checkpoint to /test/input (and /train/input with --all), write
 * /test/prediction (and /train/prediction) in original point order, report
 * the mean relative error where the outputs are present.  Samples are split
 * over all ranks; the network is applied by h2_operator (operator.h, shared
 * with the public library); the file is written collectively and atomically. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/app/operator.h"
#include "h2nn/app/train.h"
#include "h2nn/io/h5atomic.h"
#include "h2nn/io/h5util.h"
#include "h2nn/io/input_file.h"
#include "h2nn/util/error.h"

typedef struct {
  h2_operator op;
  h2_input in;
  int in_open;   /* `in` holds an open file */
  float *rows;   /* one chunk of input (then output) rows, original order */
  double *x;     /* the chunk as the operator takes it, then its output */
  float *pred;   /* this rank's predictions, rows_max x N */
} predictor;

/* predict rows [first, last) of `set` into pred (original order); adds
 * relative errors to *err_sum when the outputs exist */
static int predict_rows(predictor *p, int set, int64_t first, int64_t last, int with_err, double *err_sum) {
  const int64_t N = p->in.N, cap = H2_OPERATOR_CHUNK;
  for (int64_t s0 = first; s0 < last; s0 += cap) {
    int nb = (int)(last - s0 < cap ? last - s0 : cap);
    H2_TRY(h2_input_read_rows(&p->in, set, H2_INPUT_IN, s0, nb, p->rows));
    for (int64_t i = 0; i < N * nb; i++) {
      if (!isfinite(p->rows[i]))
        H2_FAIL(H2_EINPUT, "%s: %s has a non-finite value in sample %lld", p->in.path,
                h2_input_dataset_name(set, H2_INPUT_IN), (long long)(s0 + i / N));
      p->x[i] = p->rows[i];
    }
    H2_TRY(h2_operator_apply(&p->op, nb, s0, p->x, p->x));
    for (int64_t i = 0; i < N * nb; i++) p->pred[(s0 - first) * N + i] = (float)p->x[i];
    if (with_err) {
      H2_TRY(h2_input_read_rows(&p->in, set, H2_INPUT_OUT, s0, nb, p->rows));
      H2_TRY(h2_operator_error(&p->op, nb, p->rows, err_sum));
    }
  }
  return 0;
}

/* This rank's buffers: one chunk of rows, and its predictions of the larger
 * set (whole chunks of the global sample index, see predict_set). */
static int predict_alloc(predictor *p, const int64_t count[2], int size) {
  const int64_t N = p->in.N, cap = H2_OPERATOR_CHUNK;
  int64_t rows_max = 0;
  for (int set = 0; set < 2; set++) {
    int64_t rows = ((count[set] + cap - 1) / cap / size + 1) * cap;
    rows_max = rows > rows_max ? rows : rows_max;
  }
  H2_TRY(H2_MALLOC(p->rows, N * cap));
  H2_TRY(H2_MALLOC(p->x, N * cap));
  H2_TRY(H2_MALLOC(p->pred, rows_max * N));
  return 0;
}

/* Predict the n samples of `set` (collective) and write /SET/prediction;
 * for the test set also the mean relative error (NaN without outputs). */
static int predict_set(predictor *p, hid_t file, int set, int64_t n, MPI_Comm world, double *test_err,
                       int *have_err) {
  int rank, size;
  H2_MPI(MPI_Comm_rank(world, &rank));
  H2_MPI(MPI_Comm_size(world, &size));
  const int64_t cap = H2_OPERATOR_CHUNK;
  int with_err = p->in.present[set][H2_INPUT_OUT];
  /* whole chunks of `cap` samples, aligned to the global sample index: each
   * sample is computed in the same GEMM columns on any number of ranks, so
   * predictions are bitwise independent of the rank count */
  int64_t chunks = (n + cap - 1) / cap;
  int64_t first = chunks * rank / size * cap, last = chunks * (rank + 1) / size * cap;
  if (first > n) first = n;
  if (last > n) last = n;
  double sum = 0;
  H2_TRY(h2_error_sync(world, predict_rows(p, set, first, last, with_err, &sum)));
  const char *name = set == H2_SET_TEST ? "/test/prediction" : "/train/prediction";
  H2_TRY(h2_h5_create_groups(file, set == H2_SET_TEST ? "/test" : "/train", world));
  H2_TRY(h2_h5_write_rows(file, name, H2_H5_F32, H2_H5_F32, 2, n, p->in.N, first, last - first, p->pred, world));
  if (set == H2_SET_TEST) {
    H2_MPI(MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, world));
    *test_err = with_err ? sum / (double)n : NAN;
    *have_err = with_err;
  }
  return 0;
}

/* The prediction file's contents: the sets, then the provenance attributes. */
static int predict_write(predictor *p, hid_t file, const h2_options *opt, const char *input, const int64_t count[2],
                         MPI_Comm world, double *test_err, int64_t *samples, int *have_err) {
  for (int set = H2_SET_TEST; set >= H2_SET_TRAIN; set--) {
    if (set == H2_SET_TRAIN && !opt->all) break;
    if (count[set] == 0) continue;
    H2_TRY(predict_set(p, file, set, count[set], world, test_err, have_err));
    *samples += count[set];
  }
  H2_TRY(h2_h5_attr_write_string(file, "checkpoint", opt->predict, world));
  H2_TRY(h2_h5_attr_write_string(file, "input", input, world));
  return 0;
}

static int predict_body(predictor *p, const h2_options *opt, const char *input, MPI_Comm world) {
  double t0 = MPI_Wtime(), test_err = NAN;
  int64_t samples = 0;
  int rank, size, have_err = 0;
  H2_MPI(MPI_Comm_rank(world, &rank));
  H2_MPI(MPI_Comm_size(world, &size));
  H2_CHECK(opt->output && *opt->output, H2_EINPUT, "--predict needs --output PRED.h5");
  H2_CHECK(input, H2_EINPUT, "--predict needs an input file (h2nn_mpi --predict CKPT --output PRED INPUT.h5)");
  /* never write over the checkpoint or the input (same device and inode, whatever the names) */
  const char *inputs[2] = {opt->predict, input};
  H2_TRY(h2_error_sync(world, rank == 0 ? h2_check_output_path(opt->output, "--output", inputs, 2) : 0));
  H2_TRY(h2_operator_open(&p->op, opt->predict, world));
  H2_TRY(h2_input_open_flags(&p->in, input, world, H2_INPUT_PREDICT));
  p->in_open = 1;
  int64_t count[2] = {p->in.present[H2_SET_TRAIN][H2_INPUT_IN] ? p->in.nsamples[H2_SET_TRAIN] : 0,
                      p->in.nsamples[H2_SET_TEST]};
  int err = h2_ckpt_check_geometry(&p->op.h, opt->predict, p->in.points, (int)p->in.N, p->in.d, input);
  H2_TRY(h2_error_sync(world, err ? err : predict_alloc(p, count, size)));
  h2_h5_atomic a;
  double bytes = 4.0 * (double)p->in.N * (double)(count[H2_SET_TEST] + (opt->all ? count[H2_SET_TRAIN] : 0));
  H2_TRY(h2_h5_atomic_create_sized(&a, opt->output, "prediction file", 1.05 * bytes + 1048576.0, world));
  err = predict_write(p, a.file, opt, input, count, world, &test_err, &samples, &have_err);
  H2_TRY(h2_h5_atomic_finish(&a, err));
  if (rank != 0) return 0;
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
  return 0;
}

int h2_predict(const h2_options *opt, const char *input, MPI_Comm world) {
  predictor p;
  memset(&p, 0, sizeof p);
  int err = predict_body(&p, opt, input, world);
  free(p.rows), free(p.x), free(p.pred);
  if (p.in_open) h2_input_close(&p.in, world);
  h2_operator_free(&p.op);
  return err;
}
