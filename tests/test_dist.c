/* test_dist.c — distribution (docs/design.md §4), run under mpiexec with 1..8 ranks.
 * For every split P = P_d x P_m (P_m a power of two dividing P):
 *  - halo lists: each rank receives exactly the remote boxes its own rows
 *    reference, and what a sends to b is what b expects from a;
 *  - forward outputs, every parameter gradient (summed over replicas) and the
 *    input gradient equal those of a one-rank model on the whole batch
 *    (double precision; 1-D and 2-D, ragged leaves, zeta 3, coarse tree);
 *  - the coarse tree (levels above p) is distributed: every rank owns at
 *    most one box above p (rank 0 none), is an end of at most four of its
 *    edges, and its coarse work (counted flops) is at most one box's map and
 *    transfers, a bound taken from the one-rank model, whatever P_m.
 * H2NN_TEST_MIN_PM (environment) skips the splits with fewer model-parallel
 * ranks (the 32- and 64-rank runs, whose small splits the smaller runs cover).
 * Assertions are MC_CHECK (mpi_check.h): a failure on one rank fails the
 * test on every rank, with that rank's message, instead of a hang. */
#include <check.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_common.h"
#include "mpi_check.h"

#define NB 6 /* global batch */

static void check_halo(const h2_bsmap *f, const h2_halo *h, int level, const h2_partition *part) {
  /* (1) every halo slot is referenced by an own row; (2) every remote column is a halo slot */
  for (int s = f->nrows; s < f->nslots; s++) {
    int used = 0;
    for (int64_t e = 0; e < f->rowptr[f->nrows]; e++) used |= f->colslot[e] == s;
    MC_CHECK(used, "halo slot %d (box %d) is not needed", s, f->slot_box[s]);
    MC_CHECK((f->slot_box[s] >> (level - part->p)) != part->mrank, "halo slot %d (box %d) is an own box", s, f->slot_box[s]);
  }
  for (int i = 0; i < f->nrows; i++)
    for (int64_t g = f->pat->rowptr[f->first_row + i]; g < f->pat->rowptr[f->first_row + i + 1]; g++) {
      int box = f->pat->col[g], own = box >= f->first_row && box < f->first_row + f->nrows, found = own;
      for (int s = f->nrows; s < f->nslots && !found; s++) found = f->slot_box[s] == box;
      MC_CHECK(found, "column box %d of row %d is neither own nor received", box, f->first_row + i);
    }
  /* (3) sends of a to b == receives of b from a (box lists) */
  int pm = part->pm, *scnt = calloc(pm, sizeof(int)), *rcnt = calloc(pm, sizeof(int));
  for (int i = 0; i < h->nnb; i++) scnt[h->nb[i]] = (int)(h->sptr[i + 1] - h->sptr[i]);
  int *expect = calloc(pm, sizeof(int));
  for (int i = 0; i < h->nnb; i++) expect[h->nb[i]] = h->rslot1[i] - h->rslot0[i];
  MC_SYNC(MPI_COMM_WORLD);
  MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, part->comm);
  for (int q = 0; q < pm; q++) MC_CHECK(rcnt[q] == expect[q], "rank %d sends %d boxes, %d expected", q, rcnt[q], expect[q]);
  int *sdis = calloc(pm + 1, sizeof(int)), *rdis = calloc(pm + 1, sizeof(int));
  for (int q = 0; q < pm; q++) sdis[q + 1] = sdis[q] + scnt[q], rdis[q + 1] = rdis[q] + rcnt[q];
  int *sbox = malloc(sizeof(int) * (sdis[pm] + 1)), *rbox = malloc(sizeof(int) * (rdis[pm] + 1));
  for (int i = 0; i < h->nnb; i++)
    for (int64_t e = h->sptr[i]; e < h->sptr[i + 1]; e++) sbox[sdis[h->nb[i]] + (e - h->sptr[i])] = f->slot_box[h->sslot[e]];
  MC_SYNC(MPI_COMM_WORLD);
  MPI_Alltoallv(sbox, scnt, sdis, MPI_INT, rbox, rcnt, rdis, MPI_INT, part->comm);
  for (int i = 0; i < h->nnb; i++)
    for (int s = h->rslot0[i]; s < h->rslot1[i]; s++)
      MC_CHECK_INT_EQ(rbox[rdis[h->nb[i]] + (s - h->rslot0[i])], f->slot_box[s]);
  free(scnt), free(rcnt), free(expect), free(sdis), free(rdis), free(sbox), free(rbox);
}

/* Visit every parameter block this rank holds together with the same block
 * in the one-rank model's layout. */
typedef void (*pair_fn)(real *dist, real *ser, int64_t n, void *ctx);

static void for_each_pair(const h2_model *dm, real *dv, const h2_model *sm, real *sv, pair_fn fn, void *ctx) {
  for (int l = -1; l <= dm->L; l++) {
    if (l >= 0 && (l < dm->lmin || !dm->far[l].active)) continue;
    const h2_bsmap *fd = l < 0 ? &dm->close : &dm->far[l], *fs = l < 0 ? &sm->close : &sm->far[l];
    int64_t od = l < 0 ? dm->off_close : dm->off_far[l], os = l < 0 ? sm->off_close : sm->off_far[l];
    for (int k = 1; k <= dm->zeta; k++)
      for (int i = 0; i < fd->nrows; i++) {
        int g = fd->first_row + i;
        fn(dv + od + BS_WOFF(fd, k, i), sv + os + BS_WOFF(fs, k, g), BS_W(fd, k, i) * BS_ROWIN(fd, k, i), ctx);
        fn(dv + od + BS_BOFF(fd, k, i), sv + os + BS_BOFF(fs, k, g), BS_W(fd, k, i), ctx);
      }
  }
  if (!dm->has_far) return;
  for (int k = 0; k < dm->close.nrows; k++) {
    int g = dm->close.first_row + k;
    int64_t n = dm->leaf_voff[k + 1] - dm->leaf_voff[k];
    fn(dv + dm->off_V + dm->leaf_voff[k], sv + sm->off_V + sm->leaf_voff[g], n, ctx);
    fn(dv + dm->off_U + dm->leaf_voff[k], sv + sm->off_U + sm->leaf_voff[g], n, ctx);
  }
  int64_t rr = (int64_t)dm->r * dm->r;
  for (int l = dm->lmin + 1; l <= dm->L; l++) {
    int first = 2 * dm->far[l - 1].first_row, n = 2 * dm->far[l - 1].nrows; /* held with the parent */
    fn(dv + dm->off_T[l], sv + sm->off_T[l] + first * rr, n * rr, ctx);
    fn(dv + dm->off_S[l], sv + sm->off_S[l] + first * rr, n * rr, ctx);
  }
}

static void copy_pair(real *dist, real *ser, int64_t n, void *ctx) {
  int64_t *count = ctx;
  memcpy(dist, ser, sizeof(real) * (size_t)n);
  *count += n;
}

typedef struct { double diff, scale; } cmp_acc;
static void cmp_pair(real *dist, real *ser, int64_t n, void *ctx) {
  cmp_acc *c = ctx;
  for (int64_t i = 0; i < n; i++) c->diff = fmax(c->diff, fabs(dist[i] - ser[i])), c->scale = fmax(c->scale, fabs(ser[i]));
}

/* sample s, original point i */
static real q_of(int s, int64_t i) { return (real)tm_uniform((uint64_t)i * 16 + s, 21); }
static real t_of(int s, int64_t i) { return (real)tm_uniform((uint64_t)i * 16 + s, 22); }

/* The most one box of a level above p can cost: its map's row (counted
 * like h2_model_flops) plus the transfers to its two children. */
static double one_box_bound(const h2_model *sm, int p) {
  double worst = 0;
  for (int l = sm->lmin; l < p && l <= sm->L; l++) {
    const h2_bsmap *f = &sm->far[l];
    for (int i = 0; i < f->nrows && f->active; i++) {
      double s = 0;
      for (int k = 1; k <= f->zeta; k++) s += 2.0 * BS_W(f, k, i) * (double)BS_ROWIN(f, k, i);
      worst = fmax(worst, s);
    }
  }
  return worst + 4.0 * 2.0 * sm->r * sm->r;
}

/* Coarse-tree ownership and work of this rank (see the file comment). */
static void check_coarse_work(const h2_model *dm, const h2_model *sm, const h2_partition *part, int P) {
  int owned = 0;
  for (int l = dm->lmin; l < part->p && l <= dm->L; l++) owned += dm->far[l].nrows;
  MC_CHECK(owned <= 1, "P_m=%d: model rank %d owns %d boxes above level p", part->pm, part->mrank, owned);
  MC_CHECK(part->mrank != 0 || owned == 0, "P_m=%d: model rank 0 owns a box above level p", part->pm);
  MC_CHECK(dm->co.nedge <= 4, "P_m=%d: model rank %d is an end of %d coarse edges", part->pm, part->mrank,
                dm->co.nedge);
  double mine = h2_model_coarse_flops(dm), most = 0, bound = one_box_bound(sm, part->p);
  MPI_Allreduce(&mine, &most, 1, MPI_DOUBLE, MPI_MAX, part->comm);
  MC_CHECK(most <= bound, "P_m=%d: %g coarse flops per sample on one rank, more than one box's %g", part->pm, most,
                bound);
  double flops = h2_model_flops(dm), total = 0;
  MPI_Allreduce(&flops, &total, 1, MPI_DOUBLE, MPI_SUM, part->comm);
  MC_CHECK(fabs(total - h2_model_flops(sm)) <= 1e-9 * total, "P_m=%d: flops over the group %g, one rank %g",
                part->pm, total, h2_model_flops(sm));
  double bytes = h2_model_coarse_bytes(dm), bmax = 0;
  MPI_Allreduce(&bytes, &bmax, 1, MPI_DOUBLE, MPI_MAX, part->comm);
  int me;
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  if (me == 0 && dm->coarse)
    fprintf(stderr, "  P=%d P_m=%d: coarse tree per rank at most %.0f flops per sample (bound %.0f), %.0f bytes sent "
            "in two passes\n", P, part->pm, most, bound, bmax);
}

static void agreement(int N, int d, int leaf, int rank) {
  int P, me;
  MPI_Comm_size(MPI_COMM_WORLD, &P);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  double *x = tm_points(N, d, 0, 17);
  h2_model_config cfg = tm_config(leaf, rank, 3);
  /* the one-rank reference, on every rank */
  h2_model sm;
  MC_CHECK_INT_EQ(h2_model_build(&sm, x, N, d, &cfg, NB, NULL), 0);
  MC_SYNC(MPI_COMM_WORLD);
  real *sp = calloc(sm.nparams, sizeof(real)), *sg = calloc(sm.nparams, sizeof(real));
  MC_CHECK_INT_EQ(h2_model_init_xavier(&sm, sp), 0);
  for (int64_t i = 0; i < sm.nparams; i++)
    if (sp[i] == 0) sp[i] = (real)(0.05 * tm_uniform((uint64_t)i, 23)); /* non-zero biases */
  real *st = malloc(sizeof(real) * N * NB), *sdq = malloc(sizeof(real) * N * NB);
  for (int64_t t = 0; t < N; t++)
    for (int s = 0; s < NB; s++) sm.zc[0][t * NB + s] = q_of(s, sm.tree.perm[t]), st[t * NB + s] = t_of(s, sm.tree.perm[t]);
  h2_model_forward(&sm, sp, NB);
  real *sw = malloc(sizeof(real) * N * NB); /* the output: the loss gradient overwrites it */
  memcpy(sw, sm.zc[sm.zeta], sizeof(real) * N * NB);
  double sums[2 * NB];
  h2_loss_partial(&sm, st, NULL, NB, sums);
  h2_loss_finish(&sm, st, NB, sums, NB, 1, NULL);
  h2_model_backward(&sm, sp, sg, NB, 1, NULL);
  memcpy(sdq, sm.dq, sizeof(real) * N * NB);

  int splits = 0, min_pm = getenv("H2NN_TEST_MIN_PM") ? atoi(getenv("H2NN_TEST_MIN_PM")) : 1;
  for (int pm = 1; pm <= P; pm *= 2) {
    if (P % pm || pm > (1 << sm.L) || pm < min_pm) continue;
    splits++;
    int pd = P / pm, mrank = me % pm, drank = me / pm;
    h2_partition part = {.pm = pm, .mrank = mrank, .p = 0};
    while ((1 << part.p) < pm) part.p++;
    MC_SYNC(MPI_COMM_WORLD);
    MPI_Comm replica;
    MPI_Comm_split(MPI_COMM_WORLD, drank, mrank, &part.comm);
    MPI_Comm_split(MPI_COMM_WORLD, mrank, drank, &replica);
    int b0 = NB * drank / pd, nb = NB * (drank + 1) / pd - b0;
    h2_model dm;
    MC_CHECK_INT_EQ(h2_model_build(&dm, x, N, d, &cfg, NB, &part), 0);
    MC_SYNC(MPI_COMM_WORLD);
    MC_CHECK(pm == 1 || dm.coarse || dm.lmin >= part.p, "coarse flag");
    /* tests/dist/dist_assert_agree.sh: a failure on one rank only must fail the test on every rank */
    const char *inject = getenv("H2NN_TEST_FAIL_RANK");
    MC_CHECK(!inject || atoi(inject) != me, "failure injected on rank %d (H2NN_TEST_FAIL_RANK)", me);
    for (int l = dm.lmin; l <= dm.L; l++)
      if (l >= part.p && dm.far[l].active) check_halo(&dm.far[l], &dm.halo_far[l], l, &part);
    check_halo(&dm.close, &dm.halo_close, dm.L, &part);
    real *dp = calloc(dm.nparams + 1, sizeof(real)), *dg = calloc(dm.nparams + 1, sizeof(real));
    /* Xavier is P-independent: the distributed init equals the reference's own blocks */
    MC_CHECK_INT_EQ(h2_model_init_xavier(&dm, dp), 0);
    real *sx = calloc(sm.nparams, sizeof(real));
    MC_CHECK_INT_EQ(h2_model_init_xavier(&sm, sx), 0);
    cmp_acc ci = {0, 1e-300};
    for_each_pair(&dm, dp, &sm, sx, cmp_pair, &ci);
    MC_CHECK(ci.diff == 0, "P_m=%d: Xavier init differs from one rank by %g", pm, ci.diff);
    free(sx);
    int64_t copied = 0;
    for_each_pair(&dm, dp, &sm, sp, copy_pair, &copied);
    MC_CHECK_INT_EQ(copied, dm.nparams);
    /* this replica's samples on this rank's points */
    int64_t n_own = BS_AOFF(&dm.close, 0, dm.close.nrows), t0 = dm.tree.start[h2_box_id(dm.L, dm.close.first_row)];
    real *dt = malloc(sizeof(real) * (n_own * nb + 1));
    for (int64_t t = 0; t < n_own; t++)
      for (int s = 0; s < nb; s++)
        dm.zc[0][t * nb + s] = q_of(b0 + s, dm.tree.perm[t0 + t]), dt[t * nb + s] = t_of(b0 + s, dm.tree.perm[t0 + t]);
    /* first the slice-by-slice backward (no stored gradient): it hands over
     * exactly the gradient of the stored-gradient pass below */
    real *q0 = malloc(sizeof(real) * (n_own * nb + 1));
    memcpy(q0, dm.zc[0], sizeof(real) * (size_t)(n_own * nb));
    real *pcopy = malloc(sizeof(real) * (dm.nparams + 1));
    memcpy(pcopy, dp, sizeof(real) * (size_t)dm.nparams);
    tm_hook hs = {NULL, pcopy, calloc(dm.nparams + 1, sizeof(real)), calloc(dm.nparams + 1, sizeof(int))};
    const h2_grad_hook hook_s = {tm_hook_fn, &hs};
    {
      double ss[2 * NB];
      MC_SYNC(MPI_COMM_WORLD);
      h2_model_forward(&dm, dp, nb);
      h2_loss_partial(&dm, dt, NULL, nb, ss);
      MPI_Allreduce(MPI_IN_PLACE, ss, 2 * nb, MPI_DOUBLE, MPI_SUM, part.comm);
      h2_loss_finish(&dm, dt, nb, ss, NB, 1, NULL);
      h2_model_backward(&dm, pcopy, NULL, nb, 1, &hook_s);
      memcpy(dm.zc[0], q0, sizeof(real) * (size_t)(n_own * nb));
    }
    h2_model_forward(&dm, dp, nb);
    cmp_acc cw = {0, 1e-300};
    for (int64_t t = 0; t < n_own; t++)
      for (int s = 0; s < nb; s++) {
        double a = dm.zc[dm.zeta][t * nb + s], b = sw[(t0 + t) * NB + b0 + s];
        cw.diff = fmax(cw.diff, fabs(a - b)), cw.scale = fmax(cw.scale, fabs(b));
      }
    MC_CHECK(cw.diff <= 1e-12 * cw.scale, "P=%d P_m=%d: forward differs by %g (scale %g)", P, pm, cw.diff, cw.scale);
    double dsums[2 * NB];
    h2_loss_partial(&dm, dt, NULL, nb, dsums);
    MPI_Allreduce(MPI_IN_PLACE, dsums, 2 * nb, MPI_DOUBLE, MPI_SUM, part.comm);
    h2_loss_finish(&dm, dt, nb, dsums, NB, 1, NULL);
    /* with the contract-checking hook: parameters are poisoned as they are handed over */
    tm_hook hk = {dg, dp, calloc(dm.nparams + 1, sizeof(real)), calloc(dm.nparams + 1, sizeof(int))};
    const h2_grad_hook hook = {tm_hook_fn, &hk};
    h2_model_backward(&dm, dp, dg, nb, 1, &hook);
    int64_t bad = tm_hook_violations(&hk, dm.nparams);
    MC_CHECK(bad == 0, "P=%d P_m=%d: %lld of %lld gradients broke the hook contract", P, pm, (long long)bad,
                  (long long)dm.nparams);
    for (int64_t t = 0; t < n_own * nb; t++) MC_CHECK(isfinite(dm.dq[t]), "dq read a handed-over parameter");
    int64_t bad_s = 0;
    for (int64_t i = 0; i < dm.nparams; i++) bad_s += hs.count[i] != 1 || hs.snap[i] != dg[i];
    MC_CHECK(bad_s == 0, "P=%d P_m=%d: slice-by-slice backward: %lld of %lld gradients differ or not handed over once",
                  P, pm, (long long)bad_s, (long long)dm.nparams);
    free(hk.snap), free(hk.count), free(hs.snap), free(hs.count), free(q0), free(pcopy);
    MC_SYNC(MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, dg, (int)dm.nparams, H2_MPI_REAL, MPI_SUM, replica);
    cmp_acc cg = {0, 1e-300};
    for_each_pair(&dm, dg, &sm, sg, cmp_pair, &cg);
    MC_CHECK(cg.diff <= 1e-10 * cg.scale, "P=%d P_m=%d: gradients differ by %g (scale %g)", P, pm, cg.diff, cg.scale);
    cmp_acc cq = {0, 1e-300};
    for (int64_t t = 0; t < n_own; t++)
      for (int s = 0; s < nb; s++) {
        double a = dm.dq[t * nb + s], b = sdq[(t0 + t) * NB + b0 + s];
        cq.diff = fmax(cq.diff, fabs(a - b)), cq.scale = fmax(cq.scale, fabs(b));
      }
    MC_CHECK(cq.diff <= 1e-10 * cq.scale, "P=%d P_m=%d: input gradient differs by %g", P, pm, cq.diff);
    if (me == 0)
      fprintf(stderr, "dist N=%d d=%d: P=%d = %d x %d (coarse levels: %d): forward %.1e, gradients %.1e, dq %.1e\n", N,
              d, P, pd, pm, dm.coarse ? part.p - dm.lmin : 0, cw.diff / cw.scale, cg.diff / cg.scale, cq.diff / cq.scale);
    check_coarse_work(&dm, &sm, &part, P);
    free(dp), free(dg), free(dt);
    MC_SYNC(MPI_COMM_WORLD);
    h2_model_free(&dm);
    MPI_Comm_free(&part.comm);
    MPI_Comm_free(&replica);
  }
  MC_CHECK(splits >= 1, "no split of the ranks was tested");
  free(sp), free(sg), free(st), free(sdq), free(sw), free(x);
  h2_model_free(&sm);
  MC_SYNC(MPI_COMM_WORLD);
}

START_TEST(agree_1d) { agreement(777, 1, 9, 4); }
END_TEST
START_TEST(agree_2d) { agreement(1000, 2, 23, 4); }
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("dist");
  TCase *tc = tcase_create("dist");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, agree_1d);
  tcase_add_test(tc, agree_2d);
  suite_add_tcase(s, tc);
  return s;
}
