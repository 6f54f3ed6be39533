/* plan.c — `h2nn_mpi --plan`: the memory and time of a run on P ranks,
 * predicted on one process without training.
 *
 * Owns: the per-rank cost model.  For each planned model rank m the model is
 * built exactly as a training run on P ranks would build it (h2_model_build
 * with a hand-made partition {pm, mrank, p} and cfg.layout_only: tree, block
 * tree, maps, halo lists and the activation arena's size, but no activation
 * memory — the partition code needs pm, mrank and p, never the
 * communicator), and the plan adds up
 *   memory: parameters, Adam moments (m, v), the gradient buffer (only with
 *     P_d > 1 replicas), the activation arena, halo send buffers, the tree,
 *     block tree and map structure, the rank's data (synthetic pool or file
 *     cache), and a calibrated per-process base (MPI, OpenBLAS, HDF5);
 *   work: the rank's forward multiply-adds x 3 (forward + backward) over its
 *     replica's share of the batch, as the code counts them
 *     (h2_model_flops), of which the coarse tree's part (the box above level
 *     p this rank owns, h2_model_coarse_flops) is shown separately;
 *   messages: halo bytes and messages per layer (coarse maps included), the
 *     coarse tree's point-to-point blocks (coarse.h: the edges this rank is
 *     an end of), the loss allreduce and the gradient allreduce;
 *   time per iteration: work / calibrated compute rate + messages with a
 *     latency-bandwidth network model (the rates below; docs/scaling.md says
 *     where they come from).
 * The tree and block tree of the N points are built once (h2_geometry_build),
 * each planned rank's layout on them (h2_model_build_on); ranks of a model
 * group differ mostly at the ends of the point order and by the coarse box they own, so
 * for P_m > 16 the plan builds ranks 0, 1, P_m-2, P_m-1 (the ends) and
 * P_m/2+1, P_m/2+2 (inner ranks owning an interior box of levels p-1 and
 * p-2: the costliest coarse boxes) and reports min / mean / max over them;
 * the coarse tree's blocks, which need no tree, are counted on every rank. */
#include "h2nn/app/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/core/bsl.h"
#include "h2nn/io/dataset.h"
#include "h2nn/io/input_file.h"
#include "h2nn/model/model.h"
#include "h2nn/util/error.h"

/* ---- calibrated rates (docs/scaling.md, "Calibration").  The compute rate
 * is the model's multiply-adds x 2 (forward + backward, as the training
 * summary's "gflops") per second of a whole training step on one rank of the
 * AMD EPYC of an earlier session (2 vCPUs, AVX2 + FMA kernels), series I of
 * docs/performance.md: 118.6 GFLOP/s at 0.51 M parameters per rank (N = 1280),
 * 82.3 at 5.8 M (N = 16384), 73.2 at 46 M (N = 2^17); the flops of a step are
 * proportional to its parameters (380 flops per parameter and sample), so the
 * rate falls only as the rank's parameters, Adam moments and activations leave
 * the caches: interpolated in log(parameters per rank), constant outside.
 * The network figures are those of runscripts/sim/cluster.xml (HDR
 * InfiniBand, 200 Gb/s). */
static const double plan_rate_params[3] = {5.14e5, 5.76e6, 4.62e7};
static const double plan_rate_gflops[3] = {118.6, 82.3, 73.2};
#define PLAN_BASE_MB 21.0         /* resident set of a rank before the model: MPI, OpenBLAS, HDF5, libc */
#define PLAN_LATENCY 1.5e-6       /* seconds per message */
#define PLAN_BANDWIDTH 25e9       /* bytes per second per rank (200 Gb/s) */

/* GFLOP/s of a training step on a rank holding nparams parameters */
static double plan_gflops(double nparams) {
  if (nparams <= plan_rate_params[0]) return plan_rate_gflops[0];
  for (int i = 1; i < 3; i++)
    if (nparams <= plan_rate_params[i]) {
      double t = log(nparams / plan_rate_params[i - 1]) / log(plan_rate_params[i] / plan_rate_params[i - 1]);
      return plan_rate_gflops[i - 1] + t * (plan_rate_gflops[i] - plan_rate_gflops[i - 1]);
    }
  return plan_rate_gflops[2];
}

typedef struct {
  int mrank, halo_nb, lmin;       /* halo_nb: most neighbour ranks of any map; lmin: the model's first far level */
  int64_t nparams, own_points, own_leaves;
  double mem_params, mem_adam, mem_grads, mem_act, mem_halo, mem_struct, mem_data, mem_base, mem_peak; /* bytes */
  double flops, coarse_flops;     /* per iteration (forward + backward) */
  double halo_bytes, halo_msgs;   /* sent per iteration (coarse maps' halos included) */
  double coarse_bytes;            /* the coarse tree's: its blocks and its maps' halos (as h2_model_coarse_bytes) */
  double edge_bytes, loss_bytes, grad_bytes;
  double t_comp, t_comm, t_iter;  /* seconds */
} plan_rank;

static double pattern_bytes(const h2_pattern *p) { return 16.0 * (p->nboxes + 1) + 12.0 * (double)p->nnz; }

static double bsmap_bytes(const h2_bsmap *f) {
  const double z1 = f->zeta + 1, nnz = (double)f->rowptr[f->nrows];
  return 4.0 * f->nslots + 8.0 * (f->nrows + 1) + 12.0 * nnz + 4.0 * f->nrows + 4.0 * z1 * f->nslots +
         8.0 * z1 * (f->nslots + 1) + 24.0 * z1 * f->nrows;
}

/* halo traffic of one map per iteration: forward before layers 1..zeta, reverse after them
 * (the close map's layer-0 gradient is not needed in training) */
static void halo_traffic(const h2_halo *h, const h2_bsmap *f, int close, int nb, double *bytes, double *msgs) {
  for (int k = 0; k < f->zeta; k++)
    for (int i = 0; i < h->nnb; i++) {
      double sent = 0, recv = 0;
      for (int64_t e = h->sptr[i]; e < h->sptr[i + 1]; e++) sent += BS_W(f, k, h->sslot[e]);
      for (int s = h->rslot0[i]; s < h->rslot1[i]; s++) recv += BS_W(f, k, s);
      if (sent > 0) *bytes += sent * nb * sizeof(real), *msgs += 1;
      if (recv > 0 && !(close && k == 0)) *bytes += recv * nb * sizeof(real), *msgs += 1;
    }
}

static double log2c(int p) { return p > 1 ? ceil(log2((double)p)) : 0; }

/* bytes a rank sends per iteration in the coarse tree's blocks (coarse.h):
 * one r x nb block in each of the two phases it sends in, per edge to
 * another rank (the child's owner sends UP and BUP, the parent's DOWN and
 * BDOWN); *msgs: those messages */
static double edge_bytes(const h2_coarse *co, int nb, double *msgs) {
  double b = 0;
  for (int i = 0; i < co->nedge; i++)
    if (co->edge[i].peer != co->me) b += 2.0 * co->r * nb * sizeof(real), *msgs += 2;
  return b;
}

typedef struct {
  const double *points;
  const h2_geometry *geom; /* tree and block tree of the points, built once per plan */
  int N, d, pm, pd, p, nb, batch;
  h2_model_config cfg;
  int64_t samples[2];  /* file data (0 for synthetic) */
  double data_memory_mb;
  int synthetic;
} plan_in;

static int plan_one(const plan_in *in, int mrank, plan_rank *r) {
  memset(r, 0, sizeof *r);
  r->mrank = mrank;
  h2_model m;
  h2_partition part = {.comm = MPI_COMM_SELF, .pm = in->pm, .mrank = mrank, .p = in->p};
  H2_TRY(h2_model_build_on(&m, in->geom, &in->cfg, in->nb > 64 ? in->nb : 64, &part));
  const double B = in->nb;
  r->nparams = m.nparams;
  r->lmin = m.lmin;
  r->own_leaves = m.close.nrows;
  r->own_points = BS_AOFF(&m.close, 0, m.close.nrows);
  r->mem_params = 4.0 * (double)m.nparams;
  r->mem_adam = 8.0 * (double)m.nparams;
  r->mem_grads = in->pd > 1 ? 4.0 * (double)(m.nparams + 1) : 0;
  r->mem_act = 4.0 * (double)m.mem_len;
  /* structure: tree (every rank holds all of it), block tree, own maps */
  const h2_tree *t = &m.tree;
  r->mem_struct = 16.0 * t->N + 8.0 * t->N * t->d + 64.0 * t->nboxes + pattern_bytes(&m.bt.close) + bsmap_bytes(&m.close);
  for (int l = 0; l <= m.L; l++) r->mem_struct += pattern_bytes(&m.bt.far[l]);
  /* work: the rows this rank owns on every level, as the code counts them
   * (the training summary's flops and coarse-tree work come from the same two
   * functions): forward multiply-adds x 2 per sample, x 3 for the backward */
  if (m.has_far)
    for (int l = m.lmin; l <= m.L; l++) r->mem_struct += bsmap_bytes(&m.far[l]);
  r->flops = 3.0 * h2_model_flops(&m) * B;
  r->coarse_flops = 3.0 * h2_model_coarse_flops(&m) * B;
  /* halo: buffers and traffic of every map held with halo lists (the coarse
   * levels' maps exchange halos like the others) */
  int nb_max = m.halo_close.nnb;
  r->mem_halo = 4.0 * (double)m.halo_close.sbuf_len;
  halo_traffic(&m.halo_close, &m.close, 1, in->nb, &r->halo_bytes, &r->halo_msgs);
  if (m.has_far)
    for (int l = m.lmin; l <= m.L; l++) {
      double before = r->halo_bytes;
      r->mem_halo += 4.0 * (double)m.halo_far[l].sbuf_len;
      halo_traffic(&m.halo_far[l], &m.far[l], 0, in->nb, &r->halo_bytes, &r->halo_msgs);
      if (l < in->p) r->coarse_bytes += r->halo_bytes - before;
      if (m.halo_far[l].nnb > nb_max) nb_max = m.halo_far[l].nnb;
    }
  r->halo_nb = nb_max;
  /* the coarse tree's blocks: its edges' buffers, and the blocks sent */
  r->mem_halo += 4.0 * H2_CO_NPHASE * m.co.nedge * (double)m.co.r * m.co.B;
  double edge_msgs = 0;
  r->edge_bytes = edge_bytes(&m.co, in->nb, &edge_msgs);
  r->coarse_bytes += r->edge_bytes;
  /* collectives: loss sums, gradient */
  r->loss_bytes = in->pm > 1 ? 2.0 * B * sizeof(double) : 0;
  r->grad_bytes = in->pd > 1 ? (double)(m.nparams + 1) * sizeof(real) : 0;
  /* data: synthetic pool and staging, or the file cache (when it fits --data-memory) */
  double n = (double)r->own_points;
  r->mem_data = 8.0 * in->N * in->d + 4.0 * n * (B < 16 ? B : 16) + 4.0 * n * B /* targets */ + 8.0 * (double)(in->samples[0] > 0 ? in->samples[0] : 4096);
  if (in->synthetic) r->mem_data += 4.0 * 2 * H2_SYNTH_POOL * n;
  else {
    double cache = 4.0 * n * 2 * (double)(in->samples[0] + in->samples[1]);
    if (cache <= in->data_memory_mb * 1048576.0) r->mem_data += cache;
  }
  r->mem_base = PLAN_BASE_MB * 1048576.0;
  r->mem_peak = r->mem_base + r->mem_params + r->mem_adam + r->mem_grads + r->mem_act + r->mem_halo + r->mem_struct +
                r->mem_data;
  /* time: compute, then messages (latency + volume; the halo volume is counted
   * in full although interior rows hide most of it on a real network) */
  r->t_comp = r->flops / (plan_gflops((double)m.nparams) * 1e9);
  double rounds = 2.0 * m.zeta;
  r->t_comm = rounds * PLAN_LATENCY * (nb_max > 0) + r->halo_bytes / PLAN_BANDWIDTH;
  /* the coarse tree: four chains (UP, DOWN and their backward) of p - lmin
   * hops each, one message latency per hop, and this rank's blocks */
  if (m.coarse) r->t_comm += 4.0 * (in->p - m.lmin) * PLAN_LATENCY + r->edge_bytes / PLAN_BANDWIDTH;
  if (in->pm > 1) r->t_comm += 2 * log2c(in->pm) * PLAN_LATENCY;
  if (in->pd > 1)
    r->t_comm += 2 * log2c(in->pd) * PLAN_LATENCY + 2.0 * (in->pd - 1) / in->pd * r->grad_bytes / PLAN_BANDWIDTH;
  r->t_iter = r->t_comp + r->t_comm;
  h2_model_free(&m);
  return 0;
}

/* the default model-group size of a run on P ranks (as the trainer chooses it) */
static int default_pm(int P, int64_t requested, int nleaves) {
  if (requested > 0) return (int)requested;
  int pm = P & -P;
  while (pm > 1 && 2 * pm > nleaves) pm /= 2;
  return pm;
}

static const char *mb(double bytes, char *buf) {
  snprintf(buf, 24, "%.1f", bytes / 1048576.0);
  return buf;
}

static void print_rank_row(const plan_rank *r, const char *label) {
  char b[10][24];
  printf("%-8s %12lld %9s %9s %9s %9s %8s %8s %9s %10.3g %10.3g %10.3g %9.3f\n", label, (long long)r->nparams,
         mb(r->mem_params, b[0]), mb(r->mem_adam, b[1]), mb(r->mem_grads, b[2]), mb(r->mem_act, b[3]),
         mb(r->mem_halo, b[4]), mb(r->mem_struct + r->mem_data + r->mem_base, b[5]), mb(r->mem_peak, b[6]),
         r->halo_bytes, r->flops, r->coarse_flops, 1e3 * r->t_iter);
}

static int plan_run(const h2_options *opt, const int *set, const char *input, int world_size) {
  h2_options o = *opt;
  plan_in in = {0};
  h2_input file;
  int have_file = 0;
  h2_data syn;
  memset(&syn, 0, sizeof syn);
  if (o.synthetic > 0 && input)
    H2_FAIL(H2_EINPUT, "--plan: give --synthetic N or an input file, not both (%s)", input);
  if (o.synthetic > 0) {
    H2_TRY(h2_data_synthetic(&syn, o.synthetic, (int)o.dim, o.synthetic_samples, (uint64_t)o.seed));
    in.points = syn.points, in.N = syn.N, in.d = syn.d, in.synthetic = 1;
    in.samples[0] = o.synthetic_samples;
  } else {
    if (!input) H2_FAIL(H2_EINPUT, "--plan needs an input file or --synthetic N --dim D");
    H2_TRY(h2_input_open(&file, input, MPI_COMM_SELF));
    have_file = 1;
    /* the file's root attributes set defaults, as in training */
    int err = h2_options_from_file(&o, set, &file, input);
    if (err) {
      h2_input_close(&file, MPI_COMM_SELF);
      return err;
    }
    in.points = file.points, in.N = (int)file.N, in.d = file.d;
    in.samples[0] = file.nsamples[0], in.samples[1] = file.nsamples[1];
  }
  in.data_memory_mb = o.data_memory_mb;
  in.cfg = (h2_model_config){.leaf_size = (int)o.leaf_size, .rank = (int)o.rank, .zeta = (int)o.zeta,
                             .close_hidden = (int)o.close_hidden, .far_hidden = (int)o.far_hidden, .eta = o.eta,
                             .seed = (uint64_t)o.seed, .layout_only = 1};
  int err = h2_activation_from_name(o.activation, &in.cfg.activation);
  int P = o.plan_ranks > 0 ? (int)o.plan_ranks : world_size; /* 0: plan for the ranks of this run */
  if (!err && in.cfg.leaf_size > in.N)
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--leaf-size %d is larger than N = %d", in.cfg.leaf_size, in.N);
  int nleaves = err ? 1 : 1 << h2_tree_depth(in.N, in.cfg.leaf_size);
  int pm = err ? 1 : default_pm(P, o.model_parallel, nleaves);
  if (!err && (pm & (pm - 1)))
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--model-parallel %d: must be a power of two", pm);
  if (!err && P % pm)
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--model-parallel %d does not divide --plan-ranks %d", pm, P);
  if (!err && pm > nleaves)
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT,
                       "--plan-ranks %d: %d model-parallel ranks need %d leaves, the tree has only %d (use a smaller "
                       "--leaf-size or --model-parallel)", P, pm, pm, nleaves);
  /* the default batch on a small training set is all of it, as in training */
  if (!set[h2_cli_find(h2_options_cli(), "batch-size")] && in.samples[0] > 0 && o.batch_size > in.samples[0])
    o.batch_size = in.samples[0];
  if (!err && o.batch_size < P / pm)
    err = h2_error_set(__FILE__, __LINE__, H2_EINPUT, "--batch-size %lld is smaller than the %d data-parallel replicas",
                       (long long)o.batch_size, P / pm);
  if (err) {
    if (have_file) h2_input_close(&file, MPI_COMM_SELF);
    h2_data_free(&syn);
    return err;
  }
  in.pm = pm, in.pd = P / pm, in.p = 0;
  while ((1 << in.p) < pm) in.p++;
  in.batch = (int)o.batch_size;
  in.nb = (int)((o.batch_size + in.pd - 1) / in.pd); /* the largest replica's share */

  /* the tree and block tree of all points, once: every planned rank's model
   * is built on them (h2_model_build_on), as each rank of a run builds the
   * same ones for itself */
  h2_geometry geom;
  err = h2_geometry_build(&geom, in.points, in.N, in.d, &in.cfg);
  in.geom = &geom;

  /* the planned ranks: all of them up to 16, else both ends and two inner
   * ranks owning an interior coarse box of levels p-1 and p-2 */
  int nplan = pm <= 16 ? pm : 6, *ranks = NULL;
  plan_rank *pr = NULL;
  if (!err) err = H2_MALLOC(ranks, nplan);
  if (!err) err = H2_CALLOC(pr, nplan);
  if (!err) {
    if (pm <= 16)
      for (int i = 0; i < pm; i++) ranks[i] = i;
    else {
      const int pick[6] = {0, 1, pm / 2 + 1, pm / 2 + 2, pm - 2, pm - 1};
      memcpy(ranks, pick, sizeof pick);
    }
  }
  for (int i = 0; i < nplan && !err; i++) err = plan_one(&in, ranks[i], &pr[i]);
  if (!err) {
    plan_rank mn = pr[0], mx = pr[0], mean;
    memset(&mean, 0, sizeof mean);
    double *fmn = &mn.mem_params, *fmx = &mx.mem_params, *fme = &mean.mem_params;
    const int nf = (int)(&mean.t_iter - &mean.mem_params) + 1;
    for (int i = 0; i < nplan; i++) {
      /* weight of a planned rank in the mean: with a sample, ranks 0, 1, P_m-2, P_m-1
       * stand for themselves, P_m/2+1 for the inner half that owns a box of
       * level p-1 (odd ranks), P_m/2+2 for the other inner half (boxes of
       * level p-2 and above) */
      double wt = pm <= 16 ? 1.0 / nplan : (i == 2 || i == 3) ? (pm - 4.0) / (2.0 * pm) : 1.0 / pm;
      const double *f = &pr[i].mem_params;
      for (int k = 0; k < nf; k++) fmn[k] = fmin(fmn[k], f[k]), fmx[k] = fmax(fmx[k], f[k]), fme[k] += wt * f[k];
      mn.nparams = pr[i].nparams < mn.nparams ? pr[i].nparams : mn.nparams;
      mx.nparams = pr[i].nparams > mx.nparams ? pr[i].nparams : mx.nparams;
      mean.nparams += (int64_t)(wt * (double)pr[i].nparams);
    }
    /* messages over all ranks per iteration (what the training summary reports): mean x ranks
     * for the halos and collectives; the coarse tree's blocks counted on every model rank
     * (its edges need the partition only, no tree) */
    double edges_all = 0;
    for (int mr = 0; mr < pm && !err; mr++) {
      h2_coarse co;
      h2_partition part = {.comm = MPI_COMM_SELF, .pm = pm, .mrank = mr, .p = in.p};
      double msgs = 0;
      err = h2_coarse_build(&co, &part, pr[0].lmin, in.cfg.rank, in.nb);
      if (!err) edges_all += edge_bytes(&co, in.nb, &msgs);
      h2_coarse_free(&co);
    }
    double total_bytes = (double)P * (mean.halo_bytes + mean.loss_bytes + mean.grad_bytes) + in.pd * edges_all;
    if (err) goto done;
    printf("h2nn_mpi --plan: %s: N = %d points in %d-D; tree L = %d (%d leaves of <= %d points); rank %d, zeta %d\n",
           in.synthetic ? "synthetic grid" : input, in.N, in.d, h2_tree_depth(in.N, in.cfg.leaf_size), nleaves,
           in.cfg.leaf_size, in.cfg.rank, in.cfg.zeta);
    printf("h2nn_mpi --plan: %d ranks = %d data-parallel x %d model-parallel (partition level p = %d); batch %d "
           "(%d per replica)\n", P, in.pd, pm, in.p, in.batch, in.nb);
    printf("h2nn_mpi --plan: rates: %.0f-%.0f GFLOP/s per rank (calibrated on an AMD EPYC core with AVX2+FMA, by parameters per rank; "
           "docs/scaling.md), network %.1f us and %.0f GB/s per message\n", plan_rate_gflops[2], plan_rate_gflops[0],
           PLAN_LATENCY * 1e6, PLAN_BANDWIDTH * 1e-9);
    if (pm > 16)
      printf("h2nn_mpi --plan: %d of the %d model ranks planned (0, 1, %d, %d, %d, %d: both ends, and inner ranks owning "
             "a box of levels p-1 and p-2); the coarse tree's blocks counted on all of them\n", nplan, pm, pm / 2 + 1,
             pm / 2 + 2, pm - 2, pm - 1);
    printf("\n%-8s %12s %9s %9s %9s %9s %8s %8s %9s %10s %10s %10s %9s\n", "rank", "params", "param MB", "Adam MB",
           "grad MB", "activ MB", "halo MB", "other MB", "peak MB", "halo B/it", "flop/it", "coarse/it", "ms/it");
    if (pm <= 16) {
      for (int i = 0; i < nplan; i++) {
        char lab[16];
        snprintf(lab, sizeof lab, "%d", pr[i].mrank);
        print_rank_row(&pr[i], lab);
      }
    } else {
      print_rank_row(&mn, "min");
      print_rank_row(&mean, "mean");
      print_rank_row(&mx, "max");
    }
    if (in.pd > 1) printf("(each model rank's layout is the same on all %d replicas)\n", in.pd);
    printf("\npredicted per iteration: %.3f ms (compute %.3f ms, of which the coarse tree %.1f%%; "
           "messages %.3f ms); %.3g bytes over all ranks\n", 1e3 * mx.t_iter, 1e3 * mx.t_comp,
           mx.flops > 0 ? 100.0 * mx.coarse_flops / mx.flops : 0.0, 1e3 * mx.t_comm, total_bytes);
    printf("predicted peak memory: %.1f MB on the largest rank, %.1f MB over all ranks\n", mx.mem_peak / 1048576.0,
           mean.mem_peak * P / 1048576.0);
    int over = o.memory_per_rank_mb > 0 && mx.mem_peak > o.memory_per_rank_mb * 1048576.0;
    if (over)
      fprintf(stderr, "h2nn_mpi --plan: warning: a rank needs %.0f MB, more than --memory-per-rank %.0f MB "
              "(use more ranks, or more model-parallel ranks per replica)\n", mx.mem_peak / 1048576.0,
              o.memory_per_rank_mb);
    printf("{\"mode\":\"plan\",\"N\":%d,\"d\":%d,\"ranks\":%d,\"model_parallel\":%d,\"params_max_rank\":%lld,"
           "\"peak_mb_max_rank\":%.1f,\"peak_mb_sum\":%.1f,\"activation_mb_max_rank\":%.1f,\"halo_bytes_max_rank\":%.0f,"
           "\"flops_max_rank\":%.4g,\"coarse_flops\":%.4g,\"coarse_bytes_max_rank\":%.0f,\"comm_bytes_per_iteration\":%.0f,\"ms_per_iteration\":%.4f,"
           "\"compute_ms\":%.4f,\"comm_ms\":%.4f,\"over_memory\":%d}\n",
           in.N, in.d, P, pm, (long long)mx.nparams, mx.mem_peak / 1048576.0, mean.mem_peak * P / 1048576.0,
           mx.mem_act / 1048576.0, mx.halo_bytes, mx.flops, mx.coarse_flops, mx.coarse_bytes, total_bytes, 1e3 * mx.t_iter,
           1e3 * mx.t_comp, 1e3 * mx.t_comm, over);
    fflush(stdout);
  }
done:
  free(ranks), free(pr);
  h2_geometry_free(&geom);
  if (have_file) h2_input_close(&file, MPI_COMM_SELF);
  h2_data_free(&syn);
  return err;
}

int h2_plan(const h2_options *opt, const int *set, const char *input, MPI_Comm world) {
  int rank, size;
  H2_MPI(MPI_Comm_rank(world, &rank));
  H2_MPI(MPI_Comm_size(world, &size));
  int err = rank == 0 ? plan_run(opt, set, input, size) : 0;
  return h2_error_sync(world, err);
}
