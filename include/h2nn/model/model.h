/* model.h — the H2 network of docs/design.md §2 on one rank: structure, the flat
 * parameter layout, activation buffers, forward and backward.
 *
 * Flat parameter buffer (one per rank; gradients and Adam moments share it):
 *   [close map G_0 | far maps G_l, l = lmin..L | leaf Vt_k | leaf Ut_k |
 *    transfer_up T_c, levels lmin+1..L | transfer_down S_c, same levels]
 *   - maps: see bsl.h (per layer: W rows side by side, then biases);
 *   - Vt_k (r x n_k) and Ut_k (n_k x r) row-major, own leaves in tree order;
 *   - T_c, S_c (r x r) row-major, own boxes c of the level in tree order —
 *     exactly the checkpoint order of docs/design.md §5.
 *
 * Activations (nb = columns in use, <= batch capacity B): every vector of
 * the network is stored box by box, each box a (width x nb) row-major block:
 *   q    = zc[0]       input, tree order (own leaves, then halo leaves)
 *   w    = zc[zeta]    output (close map output + leaf interpolation)
 *   qh_l = zf[l][0],  wh_l = zf[l][zeta]  coefficients of level l.
 * Gradients: dq, dw (same layout as q, w), dqh[l], dwh[l].
 *
 * Distribution (docs/design.md §4, halo.h, coarse.h): on every level this rank holds the rows
 * of the boxes it owns (bsl slots: own rows, then halo): on levels >= p its
 * subtree's boxes, on each level < p (the coarse tree) at most one box, and
 * no box above p on model rank 0.  T_c, S_c are held with the parent c/2.
 * Above p the upward and downward passes are point-to-point blocks between
 * the owners of a parent and its children (coarse.h) and the coarse maps
 * exchange halos like the others: no rank computes a box it does not own.
 * With one rank (p = 0) everything is own. */
#ifndef H2NN_MODEL_H
#define H2NN_MODEL_H

#include <stdint.h>

#include "h2nn/core/bsl.h"
#include "h2nn/dist/coarse.h"
#include "h2nn/dist/halo.h"
#include "h2nn/core/pattern.h"
#include "h2nn/util/real.h"
#include "h2nn/core/tree.h"

#define h2_model_build H2_PREC(h2_model_build)
#define h2_model_build_on H2_PREC(h2_model_build_on)
#define h2_geometry_build H2_PREC(h2_geometry_build)
#define h2_geometry_free H2_PREC(h2_geometry_free)
#define h2_model_free H2_PREC(h2_model_free)
#define h2_model_forward H2_PREC(h2_model_forward)
#define h2_model_backward H2_PREC(h2_model_backward)
#define h2_model_init_xavier H2_PREC(h2_model_init_xavier)
#define h2_model_flops H2_PREC(h2_model_flops)
#define h2_model_activation_bytes H2_PREC(h2_model_activation_bytes)
#define h2_model_comm_bytes H2_PREC(h2_model_comm_bytes)
#define h2_model_coarse_bytes H2_PREC(h2_model_coarse_bytes)
#define h2_model_coarse_flops H2_PREC(h2_model_coarse_flops)
#define h2_model_comm_wait H2_PREC(h2_model_comm_wait)
#define h2_model_target_buffer H2_PREC(h2_model_target_buffer)

typedef struct {
  int leaf_size;    /* points per leaf at most */
  int rank;         /* r: coefficients per box on far levels */
  int zeta;         /* layers per map */
  int activation;   /* H2_ACT_* */
  int close_hidden; /* hidden width per leaf in G_0 (0 = the leaf's size) */
  int far_hidden;   /* hidden width per box in G_l (0 = r) */
  double eta;       /* admissibility */
  uint64_t seed;
  int input_grad;   /* keep a buffer for dL/dq (tests; training does not need it) */
  int layout_only;  /* build structure, layouts and halo lists, size the activation arena
                       (mem_len) but allocate no activations (the planner, --plan) */
} h2_model_config;

/* The geometry every rank of a model group shares: the cluster tree and the
 * block tree of all N points (they depend on the points, leaf_size and eta
 * only, not on the partition). */
typedef struct {
  h2_tree tree;
  h2_blocktree bt;
} h2_geometry;

typedef struct {
  h2_model_config cfg;
  h2_partition part;         /* model group; serial: pm = 1, p = 0 */
  int borrowed;              /* tree and bt are a shared h2_geometry's (h2_model_build_on): not freed with the model */
  int coarse;                /* far levels above p exist (lmin < p) */
  h2_tree tree;
  h2_blocktree bt;
  int N, d, L, lmin, r, zeta;
  int has_far;               /* lmin <= L */
  int B;                     /* batch capacity of the activation buffers */
  h2_bsmap close;            /* G_0 on level L */
  h2_bsmap *far;             /* far[l], l = lmin..L (far[l].active may be 0) */
  /* parameter layout */
  int64_t nparams, off_close, *off_far, off_V, off_U, *off_T, *off_S;
  int64_t *leaf_voff;        /* [own leaves + 1] offset of Vt_k / Ut_k within the V / U groups */
  int64_t n_params_V;        /* r * (points of own leaves) */
  /* activations and their gradients */
  real **zc, ***zf;
  real *dq, *dw, **dqh, **dwh, *dscr[2], *scratch, *gwork, *gslice;
  int64_t dscr_len;          /* reals in dscr[0] (and dscr[1] when allocated): the close map's hidden gradients */
  real *(*dsf)[2];           /* dsf[l]: far level l's hidden-gradient buffers ([1] only when needed) */
  real *mem;                 /* one arena for all of the above */
  int64_t mem_len;
  h2_halo halo_close, *halo_far;
  h2_coarse co;              /* the coarse tree's edges this rank is an end of */
} h2_model;

/* Build tree, block tree, layouts, halo lists and buffers.  points: N x d
 * original order (every rank).  part == NULL: one rank owns everything. */
int h2_model_build(h2_model *m, const double *points, int N, int d, const h2_model_config *cfg,
                   int batch_capacity, const h2_partition *part);

/* The same in two steps, for a program that builds many ranks' layouts of
 * one problem on one process (the planner, h2nn_mpi --plan): the geometry
 * once (h2_geometry_build: tree and block tree, the costly part at large N),
 * then each rank's model on it (h2_model_build_on: same result as
 * h2_model_build; the model borrows g's tree and block tree, which must
 * outlive it and were built with cfg's leaf_size and eta). */
int h2_geometry_build(h2_geometry *g, const double *points, int N, int d, const h2_model_config *cfg);
void h2_geometry_free(h2_geometry *g);
int h2_model_build_on(h2_model *m, const h2_geometry *g, const h2_model_config *cfg, int batch_capacity,
                      const h2_partition *part);

/* Bytes this rank sent in halo exchanges and coarse-tree blocks so far,
 * and seconds spent waiting for them. */
double h2_model_comm_bytes(const h2_model *m);
/* The coarse tree's share of h2_model_comm_bytes: its edges and the halos
 * of the maps above level p. */
double h2_model_coarse_bytes(const h2_model *m);
double h2_model_comm_wait(const h2_model *m);
void h2_model_free(h2_model *m);

/* Xavier/Glorot uniform weights, zero biases (docs/design.md §3), from cfg.seed. */
int h2_model_init_xavier(const h2_model *m, real *params);

/* Forward: reads q from m->zc[0] (own leaves, tree order, nb columns),
 * leaves w in m->zc[zeta]. */
void h2_model_forward(h2_model *m, const real *params, int nb);

/* Backward: reads dL/dw from m->dw; ACCUMULATES parameter gradients into
 * grads (caller zeroes); when want_dq (needs cfg.input_grad), leaves dL/dq
 * in m->dq.  m->dw shares its memory with the output w = zc[zeta]: the last
 * layer has no activation, so the backward pass never reads w.
 * hook (NULL: none) is called exactly once on every slice of the gradient,
 * the slices covering [0, nparams), as soon as the slice is final and its
 * parameters are no longer read by this pass: it may update them (the
 * fused optimizer step).  grads == NULL (needs a hook): the gradient is
 * never stored whole, each slice is computed in a small scratch and only
 * handed to the hook — it saves a parameter-sized buffer. */
void h2_model_backward(h2_model *m, const real *params, real *grads, int nb, int want_dq, const h2_grad_hook *hook);

/* A buffer of at least `need` reals that is free from the start of a forward
 * pass until the loss has been computed (the backward pass's hidden-gradient
 * scratch), or NULL when the model has none large enough: minibatch targets
 * can live there instead of in memory of their own. */
real *h2_model_target_buffer(h2_model *m, int64_t need);

/* Multiply-adds x2 of this rank's share of one forward pass per sample
 * (backward is ~2x this); summed over the model group: the model's. */
double h2_model_flops(const h2_model *m);
/* The part of it above level p (coarse maps and transfers this rank owns):
 * at most one box's, whatever P_m. */
double h2_model_coarse_flops(const h2_model *m);
int64_t h2_model_activation_bytes(const h2_model *m);

#endif

#ifndef H2NN_MODEL_LOSS_DECL
#define H2NN_MODEL_LOSS_DECL
#define h2_loss_partial H2_PREC(h2_loss_partial)
#define h2_loss_finish H2_PREC(h2_loss_finish)
#define h2_model_map_widths H2_PREC(h2_model_map_widths)
/* Loss of docs/design.md §3 in two steps so that a model group can sum the per-sample
 * partial norms over its ranks in between:
 *   h2_loss_partial: sums[2s] = ||w_s - t_s||^2, sums[2s+1] = ||t_s + o||^2
 *     over this rank's points (target t in the layout of w; o = offset per
 *     point, the centred-away mean output, or NULL: the relative error is
 *     that of the uncentred prediction);
 *   h2_loss_finish: with the complete sums, returns the batch loss
 *     mean_s ||w_s - t_s||^2 / ||t_s||^2, stores dL/dw in m->dw (when
 *     set_grad, overwriting w; scaled by 1/total_batch) and adds the relative errors
 *     ||w_s - t_s|| / ||t_s|| to *err_sum. */
void h2_loss_partial(const h2_model *m, const real *target, const real *offset, int nb, double *sums);
double h2_loss_finish(h2_model *m, const real *target, int nb, const double *sums, int total_batch, int set_grad,
                      double *err_sum);
/* widths[k * nboxes + box] of the close map (l < 0) or the far map on level l */
int h2_model_map_widths(const h2_model *m, int l, int **out);
#endif
