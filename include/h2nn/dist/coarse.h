/* coarse.h — the messages of the coarse tree (the levels above the partition
 * level p) between the owners of its boxes (ownership rule: halo.h).
 *
 * The coarse tree's transfers are its edges (l, c): child box c of level l,
 * lmin < l <= p, below its parent c/2 of level l - 1 < p.  The parent's
 * owner holds T_c and S_c.  Each edge carries one r x nb block per phase:
 *   H2_CO_UP     forward upward:   qh_l[c]               child owner -> parent owner
 *   H2_CO_DOWN   forward downward: S_c wh_{l-1}[c/2]     parent owner -> child owner
 *   H2_CO_BUP    backward of DOWN: dwh_l[c]              child owner -> parent owner
 *   H2_CO_BDOWN  backward of UP:   T_c^T dqh_{l-1}[c/2]  parent owner -> child owner
 * An edge whose ends are on one rank is a copy.  A rank is an end of at most
 * four edges (the two below its coarse box, the one above it, the one above
 * its level-p box), so its traffic and work here do not grow with P_m.  The
 * far maps of the coarse levels exchange their halos with h2_halo, like the
 * maps below level p.
 *
 * Use: h2_coarse_post(phase) before the phase (receives in flight), then
 * h2_coarse_send / h2_coarse_recv per edge in dependency order (a tree: no
 * cycle, no deadlock), h2_coarse_complete(phase) when done.  The UP blocks
 * received stay in their buffers until the next forward pass (the backward
 * pass's dT_c needs qh_l[c]). */
#ifndef H2NN_COARSE_H
#define H2NN_COARSE_H

#include <mpi.h>
#include <stdint.h>

#include "h2nn/dist/halo.h"
#include "h2nn/util/real.h"

#define h2_coarse_build H2_PREC(h2_coarse_build)
#define h2_coarse_free H2_PREC(h2_coarse_free)
#define h2_coarse_post H2_PREC(h2_coarse_post)
#define h2_coarse_send H2_PREC(h2_coarse_send)
#define h2_coarse_recv H2_PREC(h2_coarse_recv)
#define h2_coarse_complete H2_PREC(h2_coarse_complete)
#define h2_coarse_block H2_PREC(h2_coarse_block)
#define h2_partition_serial H2_PREC(h2_partition_serial)

enum { H2_CO_UP = 0, H2_CO_DOWN = 1, H2_CO_BUP = 2, H2_CO_BDOWN = 3, H2_CO_NPHASE = 4 };

typedef struct {
  int l, child;                  /* child box of level l; parent child/2 of level l-1 */
  int child_side, parent_side;   /* this rank owns the child / the parent */
  int peer;                      /* the other end (this rank for a local edge) */
  real *rbuf[H2_CO_NPHASE];      /* r x B block received in the phase (NULL: sent from here) */
  real *sbuf[H2_CO_NPHASE];      /* r x B block staged for sending in the phase (NULL: received here) */
} h2_coarse_edge;

typedef struct {
  MPI_Comm comm;
  int me, r, B, nedge;
  h2_coarse_edge *edge;
  MPI_Request *req;              /* [H2_CO_NPHASE * nedge] */
  real *mem;
  double bytes;                  /* bytes sent by this rank, accumulated */
  double wait_seconds;           /* time spent waiting for blocks, accumulated */
  double messages;               /* messages sent by this rank, accumulated */
} h2_coarse;

/* The one-rank partition (pm = 1, p = 0). */
h2_partition h2_partition_serial(void);

/* The edges of this rank for a tree with far levels from lmin; r x B blocks. */
int h2_coarse_build(h2_coarse *co, const h2_partition *part, int lmin, int r, int B);
void h2_coarse_free(h2_coarse *co);

/* Post the receives of `phase` (nb columns per block). */
void h2_coarse_post(h2_coarse *co, int phase, int nb);
/* Send this rank's block of edge (l, child) in `phase` (r x nb, copied). */
void h2_coarse_send(h2_coarse *co, int phase, int l, int child, const real *blk, int nb);
/* Wait for the block of edge (l, child) in `phase`; returns it (r x nb). */
const real *h2_coarse_recv(h2_coarse *co, int phase, int l, int child, int nb);
/* The block of edge (l, child) received earlier in `phase` (no wait). */
const real *h2_coarse_block(const h2_coarse *co, int phase, int l, int child);
/* Wait until every send of `phase` is done. */
void h2_coarse_complete(h2_coarse *co, int phase);

#endif
