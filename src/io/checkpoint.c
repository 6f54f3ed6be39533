/* checkpoint.c — docs/design.md §5 checkpoints: one enumeration of the parameter
 * groups (io_params) serves writing and reading, so the two cannot drift.
 *
 * Every rank covers the rows it owns: a contiguous range of each group in
 * the file's global (tree / CSR) order — on the levels above the partition
 * level one box or none (halo.h), so every row of every map and every
 * transfer has exactly one owner.  Data every rank holds (patterns, points,
 * history) is written by one rank only: replica 0 writes; model rank 0
 * writes the shared parts. */
#include "h2nn/io/checkpoint.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h2nn/util/error.h"
#include "h2nn/io/h5atomic.h"
#include "h2nn/io/h5util.h"

typedef struct {
  hid_t file;
  MPI_Comm comm;
  int write;         /* 1 write, 0 read */
  int writer;        /* this rank supplies the data it owns */
  int writer_repl;   /* this rank supplies replicated data */
  const char *path;
} io_ctx;

/* One float32 vector of global length G; this rank owns [g0, g0 + n).
 * pack(i..) converts the model layout to file order (write) and back (read). */
typedef void (*convert_fn)(const void *ctx, int to_file, float *file_part, real *model_part);

/* Read [g0, g0 + n) of vector NAME, which must have G values: the
 * validated reader (float, exactly G values: a 2-D dataset is refused),
 * then the values (finite; Adam's second moments, squares, not negative). */
static int read_vector(io_ctx *io, const char *name, int64_t G, int64_t g0, int64_t n, float *buf) {
  H2_TRY(h2_h5_read_part(io->file, name, H2_H5_F32, G, 1, g0, n, buf));
  const int moment2 = !strncmp(name, "/optimizer/v/", 13);
  for (int64_t i = 0; i < n; i++)
    H2_CHECK(isfinite(buf[i]) && !(moment2 && buf[i] < 0), H2_EINPUT,
             "%s: dataset %s: value %lld is %g (%s; damaged checkpoint)", io->path, name, (long long)(g0 + i),
             (double)buf[i], !isfinite(buf[i]) ? "expected finite values" : "Adam second moments cannot be negative");
  return 0;
}

static int io_vector(io_ctx *io, const char *name, int64_t G, int64_t g0, int64_t n, int replicated, real *local,
                     convert_fn conv, const void *cctx) {
  float *buf = NULL;
  H2_TRY(H2_MALLOC(buf, n > 0 ? n : 1));
  if (io->write) {
    int mine = replicated ? io->writer_repl : io->writer;
    if (mine) {
      if (conv) conv(cctx, 1, buf, local);
      else memcpy(buf, local, sizeof(float) * (size_t)n);
    }
    int err = h2_h5_write_rows(io->file, name, H2_H5_F32, H2_H5_F32, 1, G, 1, g0, mine ? n : 0, buf, io->comm);
    free(buf);
    return err;
  }
  int err = read_vector(io, name, G, g0, n, buf);
  if (!err) {
    if (conv) conv(cctx, 0, buf, local);
    else memcpy(local, buf, sizeof(float) * (size_t)n);
  }
  free(buf);
  return err;
}

typedef struct {
  const h2_bsmap *f;
  int k;
} map_layer;

static void conv_map_W(const void *ctx, int to_file, float *file, real *model) {
  const map_layer *ml = ctx;
  const h2_bsmap *f = ml->f;
  int64_t pos = 0;
  for (int i = 0; i < f->nrows; i++) {
    real *row = model + BS_WOFF(f, ml->k, i) - BS_WOFF(f, ml->k, 0);
    if (to_file) h2_bsmap_row_to_blocks(f, ml->k, i, row, file + pos);
    else h2_bsmap_blocks_to_row(f, ml->k, i, file + pos, row);
    pos += (int64_t)BS_W(f, ml->k, i) * BS_ROWIN(f, ml->k, i);
  }
}

/* a map's layers: global sizes from the global pattern and box widths */
static int io_map(io_ctx *io, const h2_model *m, int level, const char *grp, real *vec, int with_pattern) {
  const h2_bsmap *f = level < 0 ? &m->close : &m->far[level];
  const h2_pattern *p = f->pat;
  int nboxes = p->nboxes; /* the rows of every level, coarse ones too, are held by their owner only */
  char name[256];
  if (with_pattern && io->write) {
    int64_t *col;
    H2_TRY(H2_MALLOC(col, p->nnz > 0 ? p->nnz : 1));
    for (int64_t e = 0; e < p->nnz; e++) col[e] = p->col[e];
    snprintf(name, sizeof name, "%s/rowptr", grp);
    H2_TRY(h2_h5_write_rows(io->file, name, H2_H5_I64, H2_H5_I64, 1, nboxes + 1, 1, 0, io->writer_repl ? nboxes + 1 : 0,
                            p->rowptr, io->comm));
    snprintf(name, sizeof name, "%s/col", grp);
    H2_TRY(h2_h5_write_rows(io->file, name, H2_H5_I64, H2_H5_I64, 1, p->nnz, 1, 0, io->writer_repl ? p->nnz : 0, col,
                            io->comm));
    free(col);
  }
  if (!f->active) return 0;
  int *w;
  H2_TRY(h2_model_map_widths(m, level, &w));
  for (int k = 1; k <= m->zeta; k++) {
    const int *wo = w + (int64_t)k * nboxes, *wi = w + (int64_t)(k - 1) * nboxes;
    int64_t Wtot = 0, Wfirst = 0, btot = 0, bfirst = 0;
    for (int i = 0; i < nboxes; i++) {
      int64_t rin = 0;
      for (int64_t e = p->rowptr[i]; e < p->rowptr[i + 1]; e++) rin += wi[p->col[e]];
      if (i == f->first_row) Wfirst = Wtot, bfirst = btot;
      Wtot += (int64_t)wo[i] * rin;
      btot += wo[i];
    }
    if (io->write) {
      snprintf(name, sizeof name, "%s/layer_%d", grp, k);
      H2_TRY(h2_h5_create_groups(io->file, name, io->comm));
    }
    map_layer ml = {f, k};
    /* a rank that owns no box of a coarse level covers nothing */
    int64_t Wn = f->nrows ? BS_BOFF(f, k, 0) - BS_WOFF(f, k, 0) : 0, bn = 0;
    for (int i = 0; i < f->nrows; i++) bn += BS_W(f, k, i);
    real *Wv = f->nrows ? vec + BS_WOFF(f, k, 0) : vec, *bv = f->nrows ? vec + BS_BOFF(f, k, 0) : vec;
    snprintf(name, sizeof name, "%s/layer_%d/W", grp, k);
    H2_TRY(io_vector(io, name, Wtot, Wfirst, Wn, 0, Wv, conv_map_W, &ml));
    snprintf(name, sizeof name, "%s/layer_%d/b", grp, k);
    H2_TRY(io_vector(io, name, btot, bfirst, bn, 0, bv, NULL, NULL));
  }
  free(w);
  return 0;
}

/* Every parameter group of the model under `root` ("/model", "/optimizer/m"...). */
static int io_params(io_ctx *io, const h2_model *m, const char *root, real *vec, int with_pattern) {
  char grp[256];
  const int r = m->r;
  snprintf(grp, sizeof grp, "%s/close", root);
  if (io->write) H2_TRY(h2_h5_create_groups(io->file, grp, io->comm));
  H2_TRY(io_map(io, m, -1, grp, vec + m->off_close, with_pattern));
  for (int l = m->lmin; l <= m->L; l++) {
    snprintf(grp, sizeof grp, "%s/far/level_%d", root, l);
    if (io->write) H2_TRY(h2_h5_create_groups(io->file, grp, io->comm));
    H2_TRY(io_map(io, m, l, grp, vec + m->off_far[l], with_pattern));
  }
  if (!m->has_far) return 0;
  int64_t t0 = m->tree.start[h2_box_id(m->L, m->close.first_row)];
  snprintf(grp, sizeof grp, "%s/leaf_V", root);
  H2_TRY(io_vector(io, grp, (int64_t)r * m->N, (int64_t)r * t0, m->n_params_V, 0, vec + m->off_V, NULL, NULL));
  snprintf(grp, sizeof grp, "%s/leaf_U", root);
  H2_TRY(io_vector(io, grp, (int64_t)r * m->N, (int64_t)r * t0, m->n_params_V, 0, vec + m->off_U, NULL, NULL));
  if (m->lmin + 1 <= m->L && io->write) {
    snprintf(grp, sizeof grp, "%s/transfer_up", root);
    H2_TRY(h2_h5_create_groups(io->file, grp, io->comm));
    snprintf(grp, sizeof grp, "%s/transfer_down", root);
    H2_TRY(h2_h5_create_groups(io->file, grp, io->comm));
  }
  for (int l = m->lmin + 1; l <= m->L; l++) {
    int64_t rr = (int64_t)r * r, first = 2 * (int64_t)m->far[l - 1].first_row, n = 2 * (int64_t)m->far[l - 1].nrows;
    snprintf(grp, sizeof grp, "%s/transfer_up/level_%d", root, l);
    /* held with the parent's owner (one parent or none above level p) */
    H2_TRY(io_vector(io, grp, rr << l, first * rr, n * rr, 0, vec + m->off_T[l], NULL, NULL));
    snprintf(grp, sizeof grp, "%s/transfer_down/level_%d", root, l);
    H2_TRY(io_vector(io, grp, rr << l, first * rr, n * rr, 0, vec + m->off_S[l], NULL, NULL));
  }
  return 0;
}

/* /model's attributes: geometry, configuration, normalisation. */
static int write_model_attrs(hid_t g, const h2_ckpt_header *hd, const h2_model *m, MPI_Comm comm) {
  struct { const char *n; double v; } nums[] = {
      {"N", m->N}, {"d", m->d}, {"L", m->L}, {"lmin", m->lmin}, {"rank", m->r}, {"zeta", m->zeta},
      {"leaf_size", m->cfg.leaf_size}, {"close_hidden", m->cfg.close_hidden}, {"far_hidden", m->cfg.far_hidden},
      {"format_version", H2_CKPT_FORMAT}};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
    H2_TRY(h2_h5_attr_write_int64(g, nums[i].n, (int64_t)nums[i].v, comm));
  H2_TRY(h2_h5_attr_write_int64(g, "seed", (int64_t)m->cfg.seed, comm));
  H2_TRY(h2_h5_attr_write_double(g, "eta", m->cfg.eta, comm));
  H2_TRY(h2_h5_attr_write_double(g, "input_scale", hd->input_scale, comm));
  H2_TRY(h2_h5_attr_write_double(g, "output_scale", hd->output_scale, comm));
  H2_TRY(h2_h5_attr_write_string(g, "activation", h2_activation_name(m->cfg.activation), comm));
  if (hd->auto_note) H2_TRY(h2_h5_attr_write_string(g, "automatic_choices", hd->auto_note, comm));
  return 0;
}

/* /optimizer's attributes: Adam's step and settings, batch size, time trained,
 * and the accuracy options' state (h2_ckpt_state attrs, schedule). */
static int write_optimizer_attrs(hid_t g, const h2_ckpt_header *hd, const h2_ckpt_state *st, MPI_Comm comm) {
  H2_TRY(h2_h5_attr_write_int64(g, "step", st->adam->step, comm));
  H2_TRY(h2_h5_attr_write_double(g, "lr", st->adam->lr, comm));
  H2_TRY(h2_h5_attr_write_double(g, "beta1", st->adam->beta1, comm));
  H2_TRY(h2_h5_attr_write_double(g, "beta2", st->adam->beta2, comm));
  H2_TRY(h2_h5_attr_write_double(g, "eps", st->adam->eps, comm));
  H2_TRY(h2_h5_attr_write_int64(g, "batch_size", st->batch_size, comm));
  H2_TRY(h2_h5_attr_write_double(g, "wall_time", hd->wall_time, comm));
  /* learning-rate schedule, weight averaging, validation bookkeeping */
  for (int i = 0; i < st->nattrs; i++) H2_TRY(h2_h5_attr_write_double(g, st->attrs[i].name, st->attrs[i].value, comm));
  if (st->schedule) H2_TRY(h2_h5_attr_write_string(g, "lr_schedule", st->schedule, comm));
  return 0;
}

static int write_body(io_ctx *io, const h2_ckpt_header *hd, const h2_ckpt_state *st) {
  const h2_model *m = st->model;
  MPI_Comm comm = io->comm;
  hid_t f = io->file, g;
  H2_TRY(h2_h5_create_groups(f, "/model", comm));
  H2_TRY(h2_h5_group_open(f, "/model", &g));
  int err = write_model_attrs(g, hd, m, comm);
  h2_h5_group_close(&g);
  H2_TRY(err);
  int w0 = io->writer_repl;
  int64_t *tmp;
  H2_TRY(H2_MALLOC(tmp, m->N > (1 << m->L) ? m->N : (1 << m->L)));
  for (int i = 0; i < m->N; i++) tmp[i] = m->tree.perm[i];
  H2_TRY(h2_h5_write_rows(f, "/model/perm", H2_H5_I64, H2_H5_I64, 1, m->N, 1, 0, w0 ? m->N : 0, tmp, comm));
  for (int k = 0; k < (1 << m->L); k++) tmp[k] = m->tree.size[h2_box_id(m->L, k)];
  H2_TRY(h2_h5_write_rows(f, "/model/leaf_sizes", H2_H5_I64, H2_H5_I64, 1, 1 << m->L, 1, 0, w0 ? 1 << m->L : 0, tmp,
                          comm));
  free(tmp);
  H2_TRY(h2_h5_write_rows(f, "/model/points", H2_H5_F64, H2_H5_F64, 2, m->N, m->d, 0, w0 ? m->N : 0,
                          hd->points, comm));
  if (hd->output_mean)
    H2_TRY(h2_h5_write_rows(f, "/model/output_mean", H2_H5_F64, H2_H5_F64, 1, m->N, 1, 0, w0 ? m->N : 0,
                            hd->output_mean, comm));
  H2_TRY(io_params(io, m, "/model", (real *)st->params, 1));
  /* optimizer */
  H2_TRY(h2_h5_create_groups(f, "/optimizer", comm));
  H2_TRY(h2_h5_group_open(f, "/optimizer", &g));
  err = write_optimizer_attrs(g, hd, st, comm);
  h2_h5_group_close(&g);
  H2_TRY(err);
  H2_TRY(io_params(io, m, "/optimizer/m", (real *)st->m1, 0));
  H2_TRY(io_params(io, m, "/optimizer/v", (real *)st->v1, 0));
  /* the averaged weights: an optional group, so older checkpoints still load */
  if (st->ema) {
    H2_TRY(h2_h5_create_groups(f, "/ema", comm));
    H2_TRY(io_params(io, m, "/ema", (real *)st->ema, 0));
  }
  return h2_history_write(f, st->hist, w0, comm);
}

int h2_ckpt_write(const h2_ckpt_header *header, const h2_ckpt_state *state, const char *path, MPI_Comm comm) {
  /* the file's size, over-estimated: replica 0's parameters and both Adam
   * moments (float32), the geometry, the patterns and history, HDF5's
   * metadata; reserved before HDF5 writes anything (h5atomic.h) */
  const h2_model *m = state->model;
  double mine = state->writer ? 3.0 * 4.0 * (double)m->nparams : 0, params = 0;
  H2_MPI(MPI_Allreduce(&mine, &params, 1, MPI_DOUBLE, MPI_SUM, comm));
  double bytes = params + (double)m->N * (8.0 * m->d + 16.0) + 8.0 * (double)((int64_t)1 << m->L) +
                 40.0 * (double)state->hist->n + 16.0 * (double)m->close.pat->nnz * (m->L + 1) + 1048576.0;
  /* with the path's lock held, every PATH.tmp.<pid>.<k> is a killed
   * writer's: removed before this write, so none outlives it even if this
   * process is killed between its rename and the cleanup after it */
  int rank;
  H2_MPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0 && state->path_locked) h2_h5_remove_stale_tmp(path, 1);
  h2_h5_atomic a;
  H2_TRY(h2_error_sync(comm, h2_h5_atomic_create_sized(&a, path, "checkpoint", 1.1 * bytes, comm)));
  a.exclusive = state->path_locked;
  io_ctx io = {.file = a.file, .comm = comm, .write = 1, .path = path, .writer = state->writer,
               .writer_repl = state->writer_repl};
  return h2_h5_atomic_finish(&a, write_body(&io, header, state));
}

/* ------------------------------------------------------------------ read */

/* /model's attributes into h (configuration, geometry, normalisation):
 * every integer range-checked in 64 bits before it is narrowed, every real
 * finite and positive; each refusal names the file and the attribute. */
static int read_model_attrs(hid_t g, const char *path, h2_ckpt_header *h) {
  static const struct { const char *name; int64_t lo, hi; } need[] = {
      {"format_version", H2_CKPT_FORMAT, H2_CKPT_FORMAT}, {"N", 2, INT32_MAX}, {"d", 1, 3}, {"rank", 1, 4096},
      {"zeta", 1, 64}, {"leaf_size", 1, INT32_MAX}, {"close_hidden", 0, 1000000}, {"far_hidden", 0, 1000000},
      {"seed", 0, INT64_MAX}};
  int64_t v[9] = {0};
  int found = 0;
  for (int i = 0; i < 9; i++) {
    H2_TRY(h2_h5_attr_read_int64(g, need[i].name, &v[i], &found));
    H2_CHECK(found, H2_EINPUT, "%s: /model has no attribute %s (not an h2nn checkpoint?)", path, need[i].name);
    if (i == 0)
      H2_CHECK(v[0] == H2_CKPT_FORMAT, H2_EINPUT, "%s: checkpoint format %lld, this program reads %d", path,
               (long long)v[0], H2_CKPT_FORMAT);
    int64_t hi = i == 5 ? v[1] : need[i].hi; /* leaf_size <= N */
    H2_CHECK(v[i] >= need[i].lo && v[i] <= hi, H2_EINPUT,
             "%s: /model attribute %s = %lld is out of range (expected %lld..%lld; damaged checkpoint)", path,
             need[i].name, (long long)v[i], (long long)need[i].lo, (long long)hi);
  }
  struct { const char *name; double *value; } reals[] = {
      {"eta", &h->cfg.eta}, {"input_scale", &h->input_scale}, {"output_scale", &h->output_scale}};
  for (int i = 0; i < 3; i++) {
    H2_TRY(h2_h5_attr_read_double(g, reals[i].name, reals[i].value, &found));
    H2_CHECK(found, H2_EINPUT, "%s: /model has no attribute %s (not an h2nn checkpoint?)", path, reals[i].name);
    H2_CHECK(isfinite(*reals[i].value) && *reals[i].value > 0, H2_EINPUT,
             "%s: /model attribute %s = %g: expected a finite positive number (damaged checkpoint)", path,
             reals[i].name, *reals[i].value);
  }
  char act[32] = "";
  H2_TRY(h2_h5_attr_read_string(g, "activation", act, sizeof act, &found));
  H2_CHECK(found, H2_EINPUT, "%s: /model has no attribute activation (not an h2nn checkpoint?)", path);
  h->N = (int)v[1];
  h->d = (int)v[2];
  h->cfg.rank = (int)v[3];
  h->cfg.zeta = (int)v[4];
  h->cfg.leaf_size = (int)v[5];
  h->cfg.close_hidden = (int)v[6];
  h->cfg.far_hidden = (int)v[7];
  h->cfg.seed = (uint64_t)v[8];
  H2_CHECK(h2_activation_from_name(act, &h->cfg.activation) == 0, H2_EINPUT,
           "%s: /model attribute activation = '%s': not an activation of this program (relu, tanh, linear)", path,
           act);
  return 0;
}

/* Every value of a float64 array finite (NAME for the message). */
static int check_finite_f64(const double *x, int64_t n, const char *path, const char *name) {
  for (int64_t i = 0; i < n; i++)
    H2_CHECK(isfinite(x[i]), H2_EINPUT, "%s: dataset %s: value %lld is %g (damaged checkpoint)", path, name,
             (long long)i, x[i]);
  return 0;
}

/* Local: everything of the header from the open file f. */
static int read_header_body(hid_t f, const char *path, h2_ckpt_header *h) {
  int exists = 0, found = 0;
  hid_t g;
  H2_TRY(h2_h5_exists(f, "/model", &exists));
  H2_CHECK(exists, H2_EINPUT, "%s: not an h2nn checkpoint (no /model group)", path);
  H2_TRY(h2_h5_group_open(f, "/model", &g));
  int err = read_model_attrs(g, path, h);
  h2_h5_group_close(&g);
  H2_TRY(err);
  H2_TRY(H2_MALLOC(h->points, (int64_t)h->N * h->d));
  H2_TRY(h2_h5_read_exact(f, "/model/points", H2_H5_F64, h->N, h->d, h->points));
  H2_TRY(check_finite_f64(h->points, (int64_t)h->N * h->d, path, "/model/points"));
  H2_TRY(h2_h5_exists(f, "/model/output_mean", &exists));
  if (exists) {
    H2_TRY(H2_MALLOC(h->output_mean, h->N));
    H2_TRY(h2_h5_read_exact(f, "/model/output_mean", H2_H5_F64, h->N, 1, h->output_mean));
    H2_TRY(check_finite_f64(h->output_mean, h->N, path, "/model/output_mean"));
  }
  H2_TRY(h2_h5_exists(f, "/optimizer", &exists));
  if (!exists) return 0;
  H2_TRY(h2_h5_group_open(f, "/optimizer", &g));
  err = h2_h5_attr_read_int64(g, "step", &h->step, &found);
  if (!err) err = h2_h5_attr_read_double(g, "wall_time", &h->wall_time, &found);
  h2_h5_group_close(&g);
  H2_TRY(err);
  H2_CHECK(h->step >= 0 && h->step <= ((int64_t)1 << 53), H2_EINPUT,
           "%s: /optimizer attribute step = %lld is out of range (expected 0..2^53; damaged checkpoint)", path,
           (long long)h->step);
  H2_CHECK(isfinite(h->wall_time) && h->wall_time >= 0, H2_EINPUT,
           "%s: /optimizer attribute wall_time = %g: expected a finite time >= 0 (damaged checkpoint)", path,
           h->wall_time);
  return 0;
}

int h2_ckpt_read_header(const char *path, MPI_Comm comm, h2_ckpt_header *h) {
  memset(h, 0, sizeof *h);
  hid_t f = -1;
  H2_TRY(h2_h5_open_read(&f, path, comm));
  int err = h2_error_sync(comm, read_header_body(f, path, h));
  h2_h5_close(&f, comm);
  if (err) h2_ckpt_header_free(h);
  return err;
}

void h2_ckpt_header_free(h2_ckpt_header *h) {
  free(h->points);
  free(h->output_mean);
  h->points = h->output_mean = NULL;
}

int h2_ckpt_check_geometry(const h2_ckpt_header *h, const char *ckpt, const double *points, int N, int d,
                           const char *input) {
  if (h->N != N || h->d != d)
    H2_FAIL(H2_EINPUT, "%s was trained on %d points in %d-D, but %s has %d points in %d-D", ckpt, h->N, h->d, input, N,
            d);
  double scale = 0, diff = 0;
  for (int64_t i = 0; i < (int64_t)N * d; i++) {
    scale = fmax(scale, fabs(points[i]));
    diff = fmax(diff, fabs(points[i] - h->points[i]));
  }
  if (diff > 1e-12 * fmax(scale, 1e-300))
    H2_FAIL(H2_EINPUT, "%s was trained on other points than /points of %s (max difference %g)", ckpt, input, diff);
  return 0;
}

/* Local: the parts of the state asked for (non-NULL). */
static int read_state_body(io_ctx *io, const h2_model *m, real *params, real *m1, real *v1, h2_adam *adam,
                           h2_history *hist) {
  H2_TRY(io_params(io, m, "/model", params, 0));
  if (m1) H2_TRY(io_params(io, m, "/optimizer/m", m1, 0));
  if (v1) H2_TRY(io_params(io, m, "/optimizer/v", v1, 0));
  if (adam) {
    int exists = 0, found = 0;
    hid_t o;
    H2_TRY(h2_h5_exists(io->file, "/optimizer", &exists));
    H2_CHECK(exists, H2_EINPUT, "%s: no /optimizer group", io->path);
    H2_TRY(h2_h5_group_open(io->file, "/optimizer", &o));
    int err = h2_h5_attr_read_int64(o, "step", &adam->step, &found);
    h2_h5_group_close(&o);
    H2_TRY(err);
    H2_CHECK(found, H2_EINPUT, "%s: /optimizer has no attribute step (damaged checkpoint)", io->path);
    H2_CHECK(adam->step >= 0 && adam->step <= ((int64_t)1 << 53), H2_EINPUT,
             "%s: /optimizer attribute step = %lld is out of range (expected 0..2^53; damaged checkpoint)", io->path,
             (long long)adam->step);
  }
  if (hist) H2_TRY(h2_history_read(io->file, io->path, hist));
  return 0;
}

int h2_ckpt_read_state(const char *path, MPI_Comm comm, const h2_model *m, real *params, real *m1, real *v1,
                       h2_adam *adam, h2_history *hist) {
  io_ctx io = {.comm = comm, .write = 0, .path = path};
  H2_TRY(h2_h5_open_read(&io.file, path, comm));
  int err = h2_error_sync(comm, read_state_body(&io, m, params, m1, v1, adam, hist));
  h2_h5_close(&io.file, comm);
  return err;
}

/* Local: the optional parts asked for (see h2_ckpt_read_extras). */
static int read_extras_body(io_ctx *io, const h2_model *m, real *ema, int *has_ema, const char *const *names,
                            double *values, int *found, int n, char *schedule, size_t schedule_size) {
  int exists = 0;
  if (ema) {
    H2_TRY(h2_h5_exists(io->file, "/ema", &exists));
    if (exists) H2_TRY(io_params(io, m, "/ema", ema, 0));
    if (has_ema) *has_ema = exists;
  }
  if (n == 0 && !schedule) return 0;
  H2_TRY(h2_h5_exists(io->file, "/optimizer", &exists));
  if (!exists) return 0;
  hid_t o;
  H2_TRY(h2_h5_group_open(io->file, "/optimizer", &o));
  int err = 0, fs = 0;
  for (int i = 0; i < n && !err; i++) err = h2_h5_attr_read_double(o, names[i], &values[i], &found[i]);
  if (!err && schedule) err = h2_h5_attr_read_string(o, "lr_schedule", schedule, schedule_size, &fs);
  h2_h5_group_close(&o);
  return err;
}

int h2_ckpt_read_extras(const char *path, MPI_Comm comm, const h2_model *m, real *ema, int *has_ema,
                        const char *const *names, double *values, int *found, int n, char *schedule,
                        size_t schedule_size) {
  io_ctx io = {.comm = comm, .write = 0, .path = path};
  if (has_ema) *has_ema = 0;
  if (schedule && schedule_size) schedule[0] = 0;
  for (int i = 0; i < n; i++) found[i] = 0;
  H2_TRY(h2_h5_open_read(&io.file, path, comm));
  int err = h2_error_sync(comm, read_extras_body(&io, m, ema, has_ema, names, values, found, n, schedule,
                                                 schedule_size));
  h2_h5_close(&io.file, comm);
  return err;
}
