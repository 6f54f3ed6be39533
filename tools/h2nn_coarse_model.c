/* h2nn_coarse_model.c — the scaling model of docs/scaling.md ("Distributed
 * coarse tree"), fed by counted flops and bytes.
 *
 *   h2nn_coarse_model N D LEAF PM...     strong scaling: one line per P_m
 *   h2nn_coarse_model --weak D LEAF PTS PM...   weak scaling, PTS points per rank
 *
 * For each model-group size P_m, the model of a uniform N-point grid in D
 * dimensions (rank 8, zeta 3, eta 0.75, batch 64, P_d = 1) is built as each
 * sampled rank of the group would build it (h2_model_build with a hand-made
 * partition: nothing is communicated), and the flops of the rank's rows and
 * the bytes of its halo lists and coarse-tree edges are counted.  The coarse
 * tree is costed both ways:
 *   before: every rank computes every box above level p (the replicated tree)
 *           after allgathers of P_m r x 64 blocks, forward and backward;
 *   after:  each rank at most one box above p (its count: the most any box of
 *           those levels costs), four point-to-point chains of p - lmin hops.
 * Time per iteration = flops / RATE + messages (latency LAT per message or
 * hop, bandwidth BW); the halo volume is counted in full (no overlap
 * credited).  The ranks sampled: 0, P_m/2 and P_m - 1 (in a uniform grid
 * the other subtrees are copies of these).
 * Weak scaling builds the model at N = PTS * 64 ranks and extrapolates the
 * levels above (each rank's subtree, halo and coarse box keep their size;
 * the replicated tree and the chains grow with the levels). */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/model/model.h"
#include "h2nn/util/error.h"

#define RATE 76.5e9 /* flop/s per rank in a training step (docs/performance.md, series I) */
#define LAT 2e-6    /* s per message */
#define BW 10e9     /* bytes/s per rank */
#define NB 64       /* batch */

static double map_row_flops(const h2_bsmap *f, int i) {
  double s = 0;
  for (int k = 1; k <= f->zeta; k++) s += 2.0 * BS_W(f, k, i) * (double)BS_ROWIN(f, k, i);
  return s;
}

/* bytes this rank sends in one iteration's halo exchanges of map f (forward before
 * layers 1..zeta, reverse after them) */
static double halo_bytes(const h2_halo *h, const h2_bsmap *f) {
  double b = 0;
  for (int k = 0; k < f->zeta; k++)
    for (int i = 0; i < h->nnb; i++) {
      for (int64_t e = h->sptr[i]; e < h->sptr[i + 1]; e++) b += BS_W(f, k, h->sslot[e]);
      for (int s = h->rslot0[i]; s < h->rslot1[i]; s++) b += BS_W(f, k, s);
    }
  return b * NB * sizeof(float);
}

typedef struct {
  double own_flops;      /* per sample forward: rows of levels >= p, leaves, transfers below p */
  double halo;           /* bytes per iteration, maps of levels >= p and the close map */
  double coarse_max_box; /* per sample forward: the costliest box above p (map row + 2 transfers) */
  double coarse_all;     /* per sample forward: every box above p (the replicated tree) */
  double coarse_halo;    /* bytes per iteration: the busiest rank's coarse-map halo */
  int p, lmin, levels_far[64];
} count;

static double *grid(int N, int d) {
  int side = (int)lround(pow(N, 1.0 / d));
  double *x = malloc(sizeof(double) * (size_t)N * d);
  for (int i = 0; i < N; i++)
    for (int c = 0, rest = i; c < d; c++, rest /= side) x[(size_t)i * d + c] = ((rest % side) + 0.5) / side;
  return x;
}

static h2_model_config config(int leaf) {
  return (h2_model_config){.leaf_size = leaf, .rank = 8, .zeta = 3, .activation = H2_ACT_RELU, .eta = 0.75, .seed = 1,
                           .layout_only = 1};
}

/* s: the one-rank model of the same points (its whole structure) */
static int count_split(const double *x, int N, int d, int leaf, int pm, const h2_model *s, count *out) {
  h2_model_config cfg = config(leaf);
  memset(out, 0, sizeof *out);
  int p = 0;
  while ((1 << p) < pm) p++;
  out->p = p;
  int sample[6] = {0, pm / 2, pm - 1, -1, -1, -1};
  for (int s = 0; s < 6; s++) {
    int mr = sample[s];
    if (mr < 0 || mr >= pm) continue;
    h2_partition part = {.comm = MPI_COMM_SELF, .pm = pm, .mrank = mr, .p = p};
    h2_model m;
    if (h2_model_build(&m, x, N, d, &cfg, 1, &part)) return fprintf(stderr, "%s\n", h2_error_message()), 1;
    out->lmin = m.lmin;
    double own = h2_model_flops(&m) - h2_model_coarse_flops(&m), hb = halo_bytes(&m.halo_close, &m.close);
    for (int l = p > m.lmin ? p : m.lmin; l <= m.L; l++)
      if (m.far[l].active) hb += halo_bytes(&m.halo_far[l], &m.far[l]);
    out->own_flops = fmax(out->own_flops, own);
    out->halo = fmax(out->halo, hb);
    h2_model_free(&m);
  }
  /* the coarse tree from the whole structure (one rank holding everything) */
  const double rr = 8.0 * s->r * s->r; /* two children's transfers, up and down */
  for (int l = s->lmin; l < p && l <= s->L; l++) {
    const h2_bsmap *f = &s->far[l];
    for (int i = 0; i < f->nrows; i++) {
      double c = (f->active ? map_row_flops(f, i) : 0) + rr;
      out->coarse_max_box = fmax(out->coarse_max_box, c);
      /* its halo: every interaction-list box is another rank's (one box per
       * rank above p); forward the row's columns in, reverse them out, and
       * the same for the rows that read this box */
      const h2_pattern *pt = f->pat;
      double links = (double)(pt->rowptr[i + 1] - pt->rowptr[i]) + (double)(pt->colptr[i + 1] - pt->colptr[i]);
      out->coarse_halo = fmax(out->coarse_halo, f->active ? f->zeta * links * s->r * NB * sizeof(float) : 0);
      out->coarse_all += c;
    }
  }
  return 0;
}

/* seconds per iteration of the busiest rank */
static double t_before(const count *c, int pm) {
  double lg = c->p, blk = 8.0 * NB * sizeof(float);
  double t = 3.0 * NB * (c->own_flops + c->coarse_all) / RATE + 6 * LAT + c->halo / BW + 2 * lg * LAT;
  if (c->lmin < c->p) t += 2 * (lg * LAT + (pm - 1) * blk / BW);
  return t;
}
static double t_after(const count *c, int pm) {
  double lg = c->p, blk = 8.0 * NB * sizeof(float), hops = c->lmin < c->p ? c->p - c->lmin : 0;
  (void)pm;
  return 3.0 * NB * (c->own_flops + (hops > 0 ? c->coarse_max_box : 0)) / RATE + 6 * LAT +
         (c->halo + c->coarse_halo) / BW + 4 * hops * (LAT + blk / BW) + 2 * lg * LAT;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int weak = argc > 1 && !strcmp(argv[1], "--weak");
  if (argc < (weak ? 6 : 5)) {
    fprintf(stderr, "usage: %s N D LEAF PM... | --weak D LEAF POINTS_PER_RANK P...\n", argv[0]);
    MPI_Finalize();
    return 1;
  }
  if (!weak) {
    int N = atoi(argv[1]), d = atoi(argv[2]), leaf = atoi(argv[3]);
    double *x = grid(N, d), t0b = 0, t0a = 0;
    int pm0 = 0;
    h2_model_config cfg = config(leaf);
    h2_model s;
    if (h2_model_build(&s, x, N, d, &cfg, 1, NULL)) return fprintf(stderr, "%s\n", h2_error_message()), MPI_Finalize(), 1;
    printf("# N=%d d=%d leaf=%d; per iteration of the busiest rank (ms), efficiency vs the first P_m\n", N, d, leaf);
    printf("# P_m  p lmin  own_MFLOP coarse_before_MFLOP coarse_after_MFLOP halo_KB coarse_halo_KB  t_before t_after  E_before E_after\n");
    for (int a = 4; a < argc; a++) {
      int pm = atoi(argv[a]);
      count c;
      if (count_split(x, N, d, leaf, pm, &s, &c)) return MPI_Finalize(), 1;
      double tb = t_before(&c, pm), ta = t_after(&c, pm);
      if (!pm0) pm0 = pm, t0b = tb, t0a = ta;
      int coarse = c.lmin < c.p;
      printf("%5d %2d %4d  %9.2f %12.3f %12.4f %8.1f %8.2f  %8.4f %8.4f  %5.1f%% %5.1f%%\n", pm, c.p, c.lmin,
             3e-6 * NB * c.own_flops, 3e-6 * NB * c.coarse_all, coarse ? 3e-6 * NB * c.coarse_max_box : 0,
             c.halo / 1e3, c.coarse_halo / 1e3, 1e3 * tb, 1e3 * ta, 100 * t0b * pm0 / (tb * pm),
             100 * t0a * pm0 / (ta * pm));
      fflush(stdout);
    }
    h2_model_free(&s);
    free(x);
  } else {
    int d = atoi(argv[2]), leaf = atoi(argv[3]), pts = atoi(argv[4]);
    /* counts at 64 ranks; the replicated tree per level from the same structure */
    int N = pts * 64;
    double *x = grid(N, d);
    count c;
    h2_model_config cfg = config(leaf);
    h2_model s;
    if (h2_model_build(&s, x, N, d, &cfg, 1, NULL)) return fprintf(stderr, "%s\n", h2_error_message()), MPI_Finalize(), 1;
    if (count_split(x, N, d, leaf, 64, &s, &c)) return MPI_Finalize(), 1;
    /* mean cost of a box on the deepest levels of this structure: the replicated tree of
     * P ranks has 2^l such boxes on level l < log2 P */
    double per_box = 0;
    int lb = s.L - 1;
    for (int i = 0; i < s.far[lb].nrows; i++) per_box += map_row_flops(&s.far[lb], i) + 8.0 * s.r * s.r;
    per_box /= s.far[lb].nrows;
    double t1 = 3.0 * NB * c.own_flops / RATE; /* one rank: no messages, no coarse tree */
    printf("# weak scaling, %d points per rank, d=%d leaf=%d: own %.2f MFLOP per iteration, coarse box <= %.3f MFLOP, "
           "replicated box %.3f MFLOP; t(1) = %.3f ms\n", pts, d, leaf, 3e-6 * NB * c.own_flops,
           3e-6 * NB * c.coarse_max_box, 3e-6 * NB * per_box, 1e3 * t1);
    printf("# P  p  t_before t_after (ms)  E_before E_after (vs one rank)\n");
    for (int a = 5; a < argc; a++) {
      int P = atoi(argv[a]), p = 0;
      while ((1 << p) < P) p++;
      count e = c;
      e.p = p;
      e.coarse_all = 0;
      for (int l = c.lmin; l < p; l++) e.coarse_all += (double)(1 << l) * per_box;
      if (P == 1) e.halo = e.coarse_halo = 0;
      if (e.lmin >= p) e.coarse_halo = 0;
      double tb = P == 1 ? t1 : t_before(&e, P), ta = P == 1 ? t1 : t_after(&e, P);
      printf("%5d %2d  %8.4f %8.4f  %5.1f%% %5.1f%%\n", P, p, 1e3 * tb, 1e3 * ta, 100 * t1 / tb, 100 * t1 / ta);
    }
    h2_model_free(&s);
    free(x);
  }
  MPI_Finalize();
  return 0;
}
