/* coarse.c — the edges of the coarse tree a rank is an end of, and their
 * point-to-point blocks (see coarse.h). */
#include "h2nn/dist/coarse.h"

#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"

/* tags above the halo exchange's (64 (l + 1) + k, + 32 reverse) */
enum { CO_TAG0 = 20000 };
static int co_tag(int phase, int l, int child) { return CO_TAG0 + 8 * l + 2 * phase + (child & 1); }

/* the child owner receives DOWN and BDOWN, the parent owner UP and BUP */
static int parent_receives(int phase) { return phase == H2_CO_UP || phase == H2_CO_BUP; }

h2_partition h2_partition_serial(void) { return (h2_partition){.comm = MPI_COMM_SELF, .pm = 1, .mrank = 0, .p = 0}; }

static int add_edge(h2_coarse_edge *e, int *n, int l, int child, int child_side, int parent_side, int peer) {
  for (int i = 0; i < *n; i++)
    if (e[i].l == l && e[i].child == child) {
      e[i].child_side |= child_side, e[i].parent_side |= parent_side;
      return 0;
    }
  e[*n] = (h2_coarse_edge){.l = l, .child = child, .child_side = child_side, .parent_side = parent_side, .peer = peer};
  (*n)++;
  return 0;
}

int h2_coarse_build(h2_coarse *co, const h2_partition *part, int lmin, int r, int B) {
  memset(co, 0, sizeof *co);
  co->comm = part->comm;
  co->me = part->mrank;
  co->r = r;
  co->B = B;
  const int p = part->p, me = part->mrank;
  if (lmin >= p) return 0; /* no level above p has coefficients */
  int cap = 4 * (p - lmin) + 4, n = 0;
  H2_TRY(H2_CALLOC(co->edge, cap));
  for (int l = lmin + 1; l <= p; l++) {
    int first, nown;
    h2_own_boxes(part, l, &first, &nown); /* as child */
    for (int c = first; c < first + nown; c++)
      add_edge(co->edge, &n, l, c, 1, 0, h2_box_owner(part, l - 1, c / 2));
    h2_own_boxes(part, l - 1, &first, &nown); /* as parent */
    for (int q = first; q < first + nown; q++)
      for (int c = 2 * q; c <= 2 * q + 1; c++) add_edge(co->edge, &n, l, c, 0, 1, h2_box_owner(part, l, c));
  }
  for (int i = 0; i < n; i++)
    if (co->edge[i].child_side && co->edge[i].parent_side) co->edge[i].peer = me;
  co->nedge = n;
  /* one r x B block per phase and edge: received here, or staged for sending */
  int64_t blk = (int64_t)r * B;
  H2_TRY(H2_CALLOC(co->mem, (int64_t)H2_CO_NPHASE * n * blk));
  real *m = co->mem;
  for (int i = 0; i < n; i++) {
    h2_coarse_edge *e = &co->edge[i];
    for (int ph = 0; ph < H2_CO_NPHASE; ph++, m += blk) {
      if (parent_receives(ph) ? e->parent_side : e->child_side) e->rbuf[ph] = m;
      else e->sbuf[ph] = m;
    }
  }
  H2_TRY(H2_MALLOC(co->req, H2_CO_NPHASE * n));
  for (int i = 0; i < H2_CO_NPHASE * n; i++) co->req[i] = MPI_REQUEST_NULL;
  return 0;
}

void h2_coarse_free(h2_coarse *co) {
  for (int i = 0; i < H2_CO_NPHASE * co->nedge; i++) /* only after an error: a receive never matched */
    if (co->req[i] != MPI_REQUEST_NULL) {
      if (co->edge[i % co->nedge].rbuf[i / co->nedge]) MPI_Cancel(&co->req[i]);
      MPI_Request_free(&co->req[i]);
    }
  free(co->edge), free(co->req), free(co->mem);
  memset(co, 0, sizeof *co);
}

static int find(const h2_coarse *co, int l, int child) {
  for (int i = 0; i < co->nedge; i++)
    if (co->edge[i].l == l && co->edge[i].child == child) return i;
  return -1;
}

void h2_coarse_post(h2_coarse *co, int phase, int nb) {
  for (int i = 0; i < co->nedge; i++) {
    h2_coarse_edge *e = &co->edge[i];
    int recv = parent_receives(phase) ? e->parent_side : e->child_side;
    if (recv && e->peer != co->me)
      H2_MPI_ABORT(MPI_Irecv(e->rbuf[phase], co->r * nb, H2_MPI_REAL, e->peer, co_tag(phase, e->l, e->child), co->comm,
                             &co->req[phase * co->nedge + i]),
                   co->comm);
  }
}

void h2_coarse_send(h2_coarse *co, int phase, int l, int child, const real *blk, int nb) {
  int i = find(co, l, child);
  if (i < 0) return; /* not an end of this edge: a caller's mistake, nothing to send */
  h2_coarse_edge *e = &co->edge[i];
  size_t n = (size_t)co->r * (size_t)nb;
  if (e->peer == co->me) { /* both ends here */
    memcpy(e->rbuf[phase], blk, sizeof(real) * n);
    return;
  }
  MPI_Request *rq = &co->req[phase * co->nedge + i];
  if (*rq != MPI_REQUEST_NULL) H2_MPI_ABORT(MPI_Wait(rq, MPI_STATUS_IGNORE), co->comm); /* staged last pass */
  memcpy(e->sbuf[phase], blk, sizeof(real) * n);
  H2_MPI_ABORT(MPI_Isend(e->sbuf[phase], (int)n, H2_MPI_REAL, e->peer, co_tag(phase, l, child), co->comm, rq), co->comm);
  co->bytes += (double)n * sizeof(real);
  co->messages += 1;
}

const real *h2_coarse_recv(h2_coarse *co, int phase, int l, int child, int nb) {
  int i = find(co, l, child);
  if (i < 0) return NULL;
  MPI_Request *rq = &co->req[phase * co->nedge + i];
  if (*rq != MPI_REQUEST_NULL) {
    double t0 = MPI_Wtime();
    H2_MPI_ABORT(MPI_Wait(rq, MPI_STATUS_IGNORE), co->comm);
    co->wait_seconds += MPI_Wtime() - t0;
  }
  (void)nb;
  return co->edge[i].rbuf[phase];
}

const real *h2_coarse_block(const h2_coarse *co, int phase, int l, int child) {
  int i = find(co, l, child);
  return i < 0 ? NULL : co->edge[i].rbuf[phase];
}

void h2_coarse_complete(h2_coarse *co, int phase) {
  if (!co->nedge) return;
  double t0 = MPI_Wtime();
  H2_MPI_ABORT(MPI_Waitall(co->nedge, co->req + phase * co->nedge, MPI_STATUSES_IGNORE), co->comm);
  co->wait_seconds += MPI_Wtime() - t0;
}
