/* halo.h — the model partition of docs/design.md §4 and the halo exchange of one
 * distributed block-sparse map.
 *
 * Partition: a model group of P_m = 2^p ranks; rank m owns the subtree of
 * box m on level p: on every level l >= p the boxes
 * [m 2^(l-p), (m+1) 2^(l-p)).  The owner of box b of level l >= p is
 * b >> (l - p).  Levels < p are the coarse tree (coarse.h): box b of level
 * l < p is owned by rank (2b + 1) 2^(p-l-1), the owner of the first leaf of
 * its second child, so each rank but 0 owns exactly one box above level p
 * and rank 0 none.  Every level therefore has one owner per box range, and
 * the same exchange serves fine and coarse maps.
 *
 * Exchange lists are derived once from the block cluster tree (every rank
 * holds the whole pattern): a rank receives exactly the halo slots its own
 * rows reference (contiguous per owner, because halo slots are in box order
 * and owners hold box ranges) and sends the own slots that other ranks' rows
 * reference.  Rows are split into interior (all inputs own) and boundary
 * rows so that interior rows are computed while messages are in flight. */
#ifndef H2NN_HALO_H
#define H2NN_HALO_H

#include <mpi.h>
#include <stdint.h>

#include "h2nn/core/bsl.h"
#include "h2nn/util/real.h"

#define h2_halo_build H2_PREC(h2_halo_build)
#define h2_box_owner H2_PREC(h2_box_owner)
#define h2_own_boxes H2_PREC(h2_own_boxes)
#define h2_halo_free H2_PREC(h2_halo_free)
#define h2_halo_forward_start H2_PREC(h2_halo_forward_start)
#define h2_halo_wait H2_PREC(h2_halo_wait)
#define h2_halo_progress H2_PREC(h2_halo_progress)
#define h2_halo_reverse_start H2_PREC(h2_halo_reverse_start)
#define h2_halo_reverse_finish H2_PREC(h2_halo_reverse_finish)

typedef struct {
  MPI_Comm comm;  /* the model group */
  int pm, mrank;  /* group size (2^p) and this rank's index in it */
  int p;          /* partition level */
} h2_partition;

/* Owner (model rank) of box `box` of level `level` (any level 0..L). */
int h2_box_owner(const h2_partition *part, int level, int box);
/* The boxes of `level` this rank owns: [*first, *first + *n) (*n may be 0
 * above level p, then *first is 0). */
void h2_own_boxes(const h2_partition *part, int level, int *first, int *n);

typedef struct {
  int active;               /* the map has halo traffic on some rank of the group */
  int nnb;                  /* neighbour ranks (sending to or receiving from) */
  int *nb;                  /* [nnb] rank in the model group */
  int *rslot0, *rslot1;     /* [nnb] halo slots [rslot0, rslot1) owned by nb[i] */
  int64_t *sptr;            /* [nnb+1] */
  int *sslot;               /* own slots that nb[i] needs: sslot[sptr[i] .. sptr[i+1]) */
  int *rows_int, n_int;     /* rows whose inputs are all own */
  int *rows_bnd, n_bnd;     /* rows with a halo input */
  real *sbuf;               /* packed own slots (forward send / reverse receive) */
  int64_t sbuf_len;
  MPI_Request *req;         /* 2 nnb */
  MPI_Comm comm;            /* the model group */
  int nreq, tag;
  double bytes;             /* bytes sent by this rank, accumulated */
  double wait_seconds;      /* time spent waiting for messages, accumulated */
} h2_halo;

/* level: the map's level (close map: L); B: batch capacity; tag: unique per map. */
int h2_halo_build(h2_halo *h, const h2_bsmap *f, int level, const h2_partition *part, int B, int tag);
void h2_halo_free(h2_halo *h);

/* Forward: send own slots of layer-k buffer z that others need, receive
 * this rank's halo slots of z in place.  Complete with h2_halo_wait. */
void h2_halo_forward_start(h2_halo *h, const h2_bsmap *f, int k, real *z, int nb);
void h2_halo_wait(h2_halo *h);

/* Let MPI advance the exchange in flight (MPI_Testall) while the caller
 * computes: messages above the transport's eager limit move only when both
 * sides enter MPI, so a rank calls this between chunks of interior rows
 * instead of leaving all the progress to h2_halo_wait. */
void h2_halo_progress(h2_halo *h);

/* Backward: send the gradients accumulated in this rank's halo slots of dz
 * (layer k) to their owners; finish adds the gradients received for own
 * slots into dz. */
void h2_halo_reverse_start(h2_halo *h, const h2_bsmap *f, int k, real *dz, int nb);
void h2_halo_reverse_finish(h2_halo *h, const h2_bsmap *f, int k, real *dz, int nb);

#endif
