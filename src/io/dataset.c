/* dataset.c — samples in the model's layout: file (cached or streamed) or
 * synthetic; normalisation and centring (see dataset.h). */
#include "h2nn/io/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"
#include "h2nn/core/gemm.h"
#include "h2nn/io/input_file.h"
#include "h2nn/util/rng.h"

/* samples staged per transpose into the (point x sample) layout, and points
 * per staged tile when the samples are in memory (16 x 1024 floats: 64 KB,
 * so the staged rows are re-read from cache, not from DRAM) */
#define H2_STAGE 16
#define H2_STAGE_POINTS 1024

int h2_data_open_file(h2_data *ds, const char *path, int center_output, MPI_Comm comm) {
  memset(ds, 0, sizeof *ds);
  ds->path = path;
  ds->comm = comm;
  H2_TRY(H2_CALLOC(ds->in, 1));
  H2_TRY(h2_input_open(ds->in, path, comm));
  ds->N = (int)ds->in->N;
  ds->d = ds->in->d;
  ds->points = ds->in->points;
  ds->count[0] = ds->in->nsamples[0];
  ds->count[1] = ds->in->nsamples[1];
  h2_input_stats st;
  if (center_output) H2_TRY(H2_MALLOC(ds->output_mean, ds->N));
  H2_TRY(h2_input_scan(ds->in, comm, 0, &st, ds->output_mean));
  ds->input_scale = st.input_rms;
  ds->output_scale = st.output_rms;
  if (!(ds->input_scale > 0))
    H2_FAIL(H2_EINPUT, "%s: /train/input is identically zero: nothing to learn from", path);
  return 0;
}

int h2_data_synthetic(h2_data *ds, int64_t N, int dim, int64_t train_samples, uint64_t seed) {
  memset(ds, 0, sizeof *ds);
  if (dim < 1 || dim > 3) H2_FAIL(H2_EINPUT, "--dim must be 1, 2 or 3, got %d", dim);
  if (N < 2) H2_FAIL(H2_EINPUT, "--synthetic needs at least 2 points, got %lld", (long long)N);
  int side = (int)llround(pow((double)N, 1.0 / dim));
  if (side < 2) side = 2;
  int64_t n = 1;
  for (int c = 0; c < dim; c++) n *= side;
  if (n > (int64_t)1 << 30) H2_FAIL(H2_EINPUT, "--synthetic %lld points is too many", (long long)n);
  ds->N = (int)n;
  ds->d = dim;
  ds->synthetic = 1;
  ds->count[0] = train_samples;
  ds->count[1] = train_samples / 4 > 16 ? train_samples / 4 : 16;
  ds->input_scale = ds->output_scale = 1;
  H2_TRY(H2_MALLOC(ds->points, n * dim));
  for (int64_t i = 0; i < n; i++) {
    int64_t rest = i;
    for (int c = 0; c < dim; c++, rest /= side) ds->points[i * dim + c] = ((double)(rest % side) + 0.5) / side;
  }
  (void)seed;
  return 0;
}

/* load_cache's exchange: every rank's tree-position range and the buffers
 * of one round (chunk rows per rank). */
typedef struct {
  int P, me;
  int64_t chunk;
  int64_t *t0, *tn;
  int *scount, *sdisp, *rcount, *rdisp;
  float *rows, *send, *recv;
} cache_xfer;

static int xfer_alloc(cache_xfer *x, h2_data *ds, const h2_model *m) {
  const int64_t N = ds->N, n = ds->n_own, P = x->P;
  /* every rank's tree-position range: model rank q % pm owns its subtree's leaves */
  int pm = m->part.pm, lper = (1 << m->L) / pm;
  H2_TRY(H2_MALLOC(x->t0, P));
  H2_TRY(H2_MALLOC(x->tn, P));
  for (int q = 0; q < P; q++) {
    int first = (q % pm) * lper, last = first + lper - 1;
    x->t0[q] = m->tree.start[h2_box_id(m->L, first)];
    x->tn[q] = m->tree.start[h2_box_id(m->L, last)] + m->tree.size[h2_box_id(m->L, last)] - x->t0[q];
  }
  H2_TRY(H2_MALLOC(x->scount, P));
  H2_TRY(H2_MALLOC(x->sdisp, P));
  H2_TRY(H2_MALLOC(x->rcount, P));
  H2_TRY(H2_MALLOC(x->rdisp, P));
  H2_TRY(H2_MALLOC(x->rows, x->chunk * N));
  /* my rows go to every replica of every model rank: chunk x N x P_d values */
  H2_TRY(H2_MALLOC(x->send, x->chunk * N * (P / pm)));
  H2_TRY(H2_MALLOC(x->recv, x->chunk * n * P));
  for (int set = 0; set < 2; set++)
    for (int kind = 0; kind < 2; kind++) H2_TRY(H2_CALLOC_BIG(ds->cache[set][kind], ds->count[set] * n));
  return 0;
}

static void xfer_free(cache_xfer *x) {
  free(x->t0), free(x->tn), free(x->scount), free(x->sdisp), free(x->rcount), free(x->rdisp);
  free(x->rows), free(x->send), free(x->recv);
}

/* Local: read my rows of the round at `base` and pack, per destination q,
 * the columns of q's points (tree order), normalised and centred. */
static int xfer_pack(cache_xfer *x, h2_data *ds, int set, int kind, int64_t base) {
  const int64_t N = ds->N, total = ds->count[set], chunk = x->chunk;
  const double scale = kind ? ds->output_scale : ds->input_scale;
  int64_t r0 = base + x->me * chunk, nr = total - r0 < chunk ? total - r0 : chunk;
  if (nr < 0) nr = 0;
  if (nr > 0) H2_TRY(h2_input_read_rows(ds->in, set, kind, r0, nr, x->rows));
  int64_t pos = 0;
  for (int q = 0; q < x->P; q++) {
    x->sdisp[q] = (int)pos;
    for (int64_t r = 0; r < nr; r++)
      for (int64_t t = 0; t < x->tn[q]; t++) {
        int64_t i = ds->perm[x->t0[q] + t];
        double v = x->rows[r * N + i];
        if (kind && ds->output_mean) v -= ds->output_mean[i];
        x->send[pos++] = (float)(v / scale);
      }
    x->scount[q] = (int)(pos - x->sdisp[q]);
  }
  return 0;
}

/* Collective: hand every rank its columns of the round's rows. */
static int xfer_exchange(cache_xfer *x, h2_data *ds, int set, int kind, int64_t base, MPI_Comm comm) {
  const int64_t n = ds->n_own, total = ds->count[set], chunk = x->chunk;
  int64_t rpos = 0;
  for (int q = 0; q < x->P; q++) {
    int64_t qr0 = base + q * chunk, qnr = total - qr0 < chunk ? total - qr0 : chunk;
    x->rdisp[q] = (int)rpos;
    x->rcount[q] = (int)((qnr > 0 ? qnr : 0) * n);
    rpos += x->rcount[q];
  }
  H2_MPI(MPI_Alltoallv(x->send, x->scount, x->sdisp, MPI_FLOAT, x->recv, x->rcount, x->rdisp, MPI_FLOAT, comm));
  for (int q = 0; q < x->P; q++)
    if (x->rcount[q])
      memcpy(ds->cache[set][kind] + (base + q * chunk) * n, x->recv + x->rdisp[q], sizeof(float) * (size_t)x->rcount[q]);
  return 0;
}

static int xfer_rounds(cache_xfer *x, h2_data *ds, MPI_Comm comm) {
  for (int set = 0; set < 2; set++)
    for (int kind = 0; kind < 2; kind++)
      for (int64_t base = 0; base < ds->count[set]; base += x->chunk * x->P) {
        /* a failed read on any rank: everyone stops before the exchange */
        H2_TRY(h2_error_sync(comm, xfer_pack(x, ds, set, kind, base)));
        H2_TRY(xfer_exchange(x, ds, set, kind, base, comm));
      }
  return 0;
}

/* Load this rank's points of every sample into memory, reading the file once
 * over all ranks: in each round every rank reads a block of whole rows, and
 * one MPI_Alltoallv hands every rank its points' columns of those rows
 * (normalised and centred by the reader).  Collective over comm. */
static int load_cache(h2_data *ds, const h2_model *m, MPI_Comm comm) {
  cache_xfer x = {.chunk = 32};
  H2_MPI(MPI_Comm_size(comm, &x.P));
  H2_MPI(MPI_Comm_rank(comm, &x.me));
  int err = h2_error_sync(comm, xfer_alloc(&x, ds, m)); /* all ranks enter the exchange rounds, or none */
  if (!err) err = xfer_rounds(&x, ds, comm);
  xfer_free(&x);
  return err;
}

int h2_data_bind(h2_data *ds, const h2_model *m, double memory_mb, int batch_capacity, MPI_Comm comm) {
  ds->t0 = 0; /* first own tree position: the model's first own leaf */
  ds->t0 = m->tree.start[h2_box_id(m->L, m->close.first_row)];
  ds->n_own = BS_AOFF(&m->close, 0, m->close.nrows);
  ds->perm = m->tree.perm;
  H2_TRY(H2_MALLOC(ds->rowbuf, ds->N));
  H2_TRY(H2_MALLOC(ds->rows, ds->n_own * (batch_capacity < H2_STAGE ? batch_capacity : H2_STAGE)));
  if (ds->output_mean) {
    H2_TRY(H2_MALLOC(ds->offset, ds->n_own));
    for (int64_t t = 0; t < ds->n_own; t++)
      ds->offset[t] = (real)(ds->output_mean[ds->perm[ds->t0 + t]] / ds->output_scale);
  }
  if (ds->synthetic) {
    uint64_t seed = m->cfg.seed;
    H2_TRY(H2_MALLOC(ds->pool, 2 * H2_SYNTH_POOL * ds->n_own));
    for (int r = 0; r < 2 * H2_SYNTH_POOL; r++)
      for (int64_t t = 0; t < ds->n_own; t++)
        ds->pool[r * ds->n_own + t] =
            (float)(2 * h2_rng_uniform(seed, H2_STREAM_SYNTH, (uint32_t)r, (uint64_t)ds->perm[ds->t0 + t]) - 1);
    return 0;
  }
  double need = 4.0 * (double)ds->n_own * 2 * (double)(ds->count[0] + ds->count[1]), need_max = 0;
  H2_MPI(MPI_Allreduce(&need, &need_max, 1, MPI_DOUBLE, MPI_MAX, comm));
  if (need_max > memory_mb * 1048576.0) return 0; /* stream from the file */
  H2_TRY(load_cache(ds, m, comm));
  ds->bytes_in_memory = (int64_t)need;
  return 0;
}

/* points [t0, t0 + nt) of one sample row (own points, normalised) of set/kind
 * into dst[0, nt); a sample streamed from the file comes whole (t0 = 0, nt = n_own) */
static int sample_row(h2_data *ds, int set, int kind, int64_t id, int64_t t0, int64_t nt, real *dst) {
  const int64_t n = ds->n_own;
  if (ds->synthetic) {
    /* sample id = combination a pool[id % P] + b pool[(id / P + id + 1) % P] */
    uint32_t stream = H2_STREAM_SYNTH + 1 + (uint32_t)set;
    double a = 0.5 + h2_rng_uniform(1, stream, 0, (uint64_t)id), b = 2 * h2_rng_uniform(1, stream, 1, (uint64_t)id) - 1;
    const float *p0 = ds->pool + ((kind * H2_SYNTH_POOL) + id % H2_SYNTH_POOL) * n + t0;
    const float *p1 = ds->pool + ((kind * H2_SYNTH_POOL) + (id / H2_SYNTH_POOL + id + 1) % H2_SYNTH_POOL) * n + t0;
    for (int64_t t = 0; t < nt; t++) dst[t] = (real)(a * p0[t] + b * p1[t]);
    return 0;
  }
  if (ds->cache[set][kind]) {
    memcpy(dst, ds->cache[set][kind] + id * n + t0, sizeof(real) * (size_t)nt);
    return 0;
  }
  H2_TRY(h2_input_read_rows(ds->in, set, kind, id, 1, ds->rowbuf));
  double inv = 1.0 / (kind ? ds->output_scale : ds->input_scale);
  for (int64_t t = 0; t < n; t++) {
    int64_t i = ds->perm[ds->t0 + t];
    double v = ds->rowbuf[i];
    if (kind && ds->output_mean) v -= ds->output_mean[i];
    dst[t] = (real)(v * inv);
  }
  return 0;
}

/* rows of `kind` for the samples ids, then one tiled transpose into the
 * model's (point x sample) layout */
static int fetch_kind(h2_data *ds, int set, int kind, const int64_t *ids, int nb, real *out) {
  const int64_t n = ds->n_own;
  const int64_t chunk = ds->synthetic || ds->cache[set][kind] ? H2_STAGE_POINTS : n;
  for (int64_t t0 = 0; t0 < n; t0 += chunk) {
    int64_t nt = n - t0 < chunk ? n - t0 : chunk;
    for (int s0 = 0; s0 < nb; s0 += H2_STAGE) {
      int ns = nb - s0 < H2_STAGE ? nb - s0 : H2_STAGE;
      for (int s = 0; s < ns; s++) H2_TRY(sample_row(ds, set, kind, ids[s0 + s], t0, nt, ds->rows + (int64_t)s * nt));
      h2_transpose(ns, (int)nt, ds->rows, (int)nt, out + t0 * nb + s0, nb);
    }
  }
  return 0;
}

int h2_data_fetch(h2_data *ds, int set, const int64_t *ids, int nb, real *q, real *t) {
  H2_TRY(fetch_kind(ds, set, 0, ids, nb, q));
  return fetch_kind(ds, set, 1, ids, nb, t);
}

void h2_data_free(h2_data *ds) {
  if (ds->in) {
    h2_input_close(ds->in, ds->comm);
    free(ds->in);
  } else {
    free(ds->points);
  }
  free(ds->output_mean);
  free(ds->pool);
  free(ds->offset);
  free(ds->rowbuf);
  free(ds->rows);
  for (int s = 0; s < 2; s++)
    for (int k = 0; k < 2; k++) free(ds->cache[s][k]);
  memset(ds, 0, sizeof *ds);
}
