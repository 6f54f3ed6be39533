/* halo.c — exchange lists and non-blocking halo traffic of a distributed
 * block-sparse map (see halo.h). */
#include "h2nn/dist/halo.h"

#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"

int h2_box_owner(const h2_partition *part, int level, int box) {
  const int p = part->p;
  if (level >= p) return box >> (level - p);
  return (2 * box + 1) << (p - level - 1);
}

void h2_own_boxes(const h2_partition *part, int level, int *first, int *n) {
  const int p = part->p, m = part->mrank;
  if (level >= p) {
    *first = m << (level - p), *n = 1 << (level - p);
    return;
  }
  /* m = (2b + 1) 2^(p-l-1): the lowest set bit of m is bit p-l-1 */
  int sh = p - level - 1;
  if (m != 0 && (m & ((1 << (sh + 1)) - 1)) == (1 << sh)) *first = m >> (sh + 1), *n = 1;
  else *first = 0, *n = 0;
}

static int owner(const h2_partition *part, int box, int level) { return h2_box_owner(part, level, box); }

int h2_halo_build(h2_halo *h, const h2_bsmap *f, int level, const h2_partition *part, int B, int tag) {
  memset(h, 0, sizeof *h);
  h->tag = tag;
  h->comm = part->comm;
  const h2_pattern *pat = f->pat;
  const int me = part->mrank, pm = part->pm;
  /* rows: interior or boundary */
  H2_TRY(H2_MALLOC(h->rows_int, f->nrows));
  H2_TRY(H2_MALLOC(h->rows_bnd, f->nrows));
  for (int i = 0; i < f->nrows; i++) {
    int halo = 0;
    for (int64_t e = f->rowptr[i]; e < f->rowptr[i + 1]; e++) halo |= f->colslot[e] >= f->nrows;
    if (halo) h->rows_bnd[h->n_bnd++] = i;
    else h->rows_int[h->n_int++] = i;
  }
  if (pm == 1) return 0;
  /* for each other rank q: boxes of mine that q's rows reference (send), and
   * halo slots owned by q (receive) */
  int *need, *seen;
  H2_TRY(H2_CALLOC(need, pm));
  H2_TRY(H2_MALLOC(seen, pm));
  int64_t nsend = 0;
  int *slot_of_box; /* own box -> slot */
  H2_TRY(H2_MALLOC(slot_of_box, f->nrows));
  for (int i = 0; i < f->nrows; i++) slot_of_box[i] = i;
  /* send lists: column box j owned by me referenced by a row owned by q != me */
  int64_t *cnt;
  H2_TRY(H2_CALLOC(cnt, pm + 1));
  for (int j = f->first_row; j < f->first_row + f->nrows; j++) {
    for (int q = 0; q < pm; q++) seen[q] = 0;
    for (int64_t e = pat->colptr[j]; e < pat->colptr[j + 1]; e++) {
      int q = owner(part, h2_pattern_block_row(pat, pat->colblk[e]), level);
      if (q != me && !seen[q]) seen[q] = 1, cnt[q + 1]++, need[q] |= 1;
    }
  }
  for (int s = f->nrows; s < f->nslots; s++) need[owner(part, f->slot_box[s], level)] |= 2;
  for (int q = 0; q < pm; q++) h->nnb += need[q] != 0;
  H2_TRY(H2_MALLOC(h->nb, h->nnb));
  H2_TRY(H2_MALLOC(h->rslot0, h->nnb));
  H2_TRY(H2_MALLOC(h->rslot1, h->nnb));
  H2_TRY(H2_CALLOC(h->sptr, h->nnb + 1));
  int n = 0;
  for (int q = 0; q < pm; q++)
    if (need[q]) {
      h->nb[n] = q;
      h->rslot0[n] = h->rslot1[n] = 0;
      for (int s = f->nrows; s < f->nslots; s++)
        if (owner(part, f->slot_box[s], level) == q) {
          if (h->rslot1[n] == 0) h->rslot0[n] = s;
          h->rslot1[n] = s + 1;
        }
      h->sptr[n + 1] = h->sptr[n] + cnt[q + 1];
      n++;
    }
  nsend = h->sptr[h->nnb];
  H2_TRY(H2_MALLOC(h->sslot, nsend > 0 ? nsend : 1));
  /* fill send slots per neighbour in ascending box order */
  int64_t *fill;
  H2_TRY(H2_MALLOC(fill, h->nnb + 1));
  memcpy(fill, h->sptr, sizeof(int64_t) * (size_t)(h->nnb + 1));
  int *nb_index;
  H2_TRY(H2_MALLOC(nb_index, pm));
  for (int q = 0; q < pm; q++) nb_index[q] = -1;
  for (int i = 0; i < h->nnb; i++) nb_index[h->nb[i]] = i;
  for (int j = f->first_row; j < f->first_row + f->nrows; j++) {
    for (int q = 0; q < pm; q++) seen[q] = 0;
    for (int64_t e = pat->colptr[j]; e < pat->colptr[j + 1]; e++) {
      int q = owner(part, h2_pattern_block_row(pat, pat->colblk[e]), level);
      if (q != me && !seen[q]) seen[q] = 1, h->sslot[fill[nb_index[q]]++] = slot_of_box[j - f->first_row];
    }
  }
  /* send buffer: the widest layer's packed own slots */
  int64_t maxlen = 0;
  for (int k = 0; k < f->zeta; k++) {
    int64_t len = 0;
    for (int64_t e = 0; e < nsend; e++) len += BS_W(f, k, h->sslot[e]);
    if (len > maxlen) maxlen = len;
  }
  h->sbuf_len = maxlen * B;
  H2_TRY(H2_MALLOC(h->sbuf, h->sbuf_len > 0 ? h->sbuf_len : 1));
  H2_TRY(H2_MALLOC(h->req, 2 * h->nnb + 1));
  h->active = h->nnb > 0;
  free(need), free(seen), free(slot_of_box), free(cnt), free(fill), free(nb_index);
  return 0;
}

void h2_halo_free(h2_halo *h) {
  free(h->nb), free(h->rslot0), free(h->rslot1), free(h->sptr), free(h->sslot);
  free(h->rows_int), free(h->rows_bnd), free(h->sbuf), free(h->req);
  memset(h, 0, sizeof *h);
}


void h2_halo_forward_start(h2_halo *h, const h2_bsmap *f, int k, real *z, int nb) {
  h->nreq = 0;
  if (!h->nnb) return;
  int64_t off = 0;
  for (int i = 0; i < h->nnb; i++) {
    int64_t r0 = BS_AOFF(f, k, h->rslot0[i]) * nb, r1 = BS_AOFF(f, k, h->rslot1[i]) * nb;
    if (h->rslot1[i] > h->rslot0[i])
      H2_MPI_ABORT(MPI_Irecv(z + r0, (int)(r1 - r0), H2_MPI_REAL, h->nb[i], h->tag + k, h->comm, &h->req[h->nreq++]),
                   h->comm);
  }
  for (int i = 0; i < h->nnb; i++) {
    int64_t start = off;
    for (int64_t e = h->sptr[i]; e < h->sptr[i + 1]; e++) {
      int s = h->sslot[e];
      int64_t n = (int64_t)BS_W(f, k, s) * nb;
      memcpy(h->sbuf + off, z + BS_AOFF(f, k, s) * nb, sizeof(real) * (size_t)n);
      off += n;
    }
    if (h->sptr[i + 1] > h->sptr[i]) {
      H2_MPI_ABORT(MPI_Isend(h->sbuf + start, (int)(off - start), H2_MPI_REAL, h->nb[i], h->tag + k, h->comm,
                             &h->req[h->nreq++]),
                   h->comm);
      h->bytes += (double)(off - start) * sizeof(real);
    }
  }
}

void h2_halo_wait(h2_halo *h) {
  if (!h->nreq) return;
  double t0 = MPI_Wtime();
  H2_MPI_ABORT(MPI_Waitall(h->nreq, h->req, MPI_STATUSES_IGNORE), h->comm);
  h->wait_seconds += MPI_Wtime() - t0;
  h->nreq = 0;
}

void h2_halo_progress(h2_halo *h) {
  if (!h->nreq) return;
  int done = 0;
  H2_MPI_ABORT(MPI_Testall(h->nreq, h->req, &done, MPI_STATUSES_IGNORE), h->comm);
  if (done) h->nreq = 0;
}

void h2_halo_reverse_start(h2_halo *h, const h2_bsmap *f, int k, real *dz, int nb) {
  h->nreq = 0;
  if (!h->nnb) return;
  int64_t off = 0;
  for (int i = 0; i < h->nnb; i++) {
    int64_t start = off;
    for (int64_t e = h->sptr[i]; e < h->sptr[i + 1]; e++) off += (int64_t)BS_W(f, k, h->sslot[e]) * nb;
    if (h->sptr[i + 1] > h->sptr[i])
      H2_MPI_ABORT(MPI_Irecv(h->sbuf + start, (int)(off - start), H2_MPI_REAL, h->nb[i], h->tag + 32 + k, h->comm,
                             &h->req[h->nreq++]),
                   h->comm);
  }
  for (int i = 0; i < h->nnb; i++) {
    int64_t r0 = BS_AOFF(f, k, h->rslot0[i]) * nb, r1 = BS_AOFF(f, k, h->rslot1[i]) * nb;
    if (h->rslot1[i] > h->rslot0[i]) {
      H2_MPI_ABORT(MPI_Isend(dz + r0, (int)(r1 - r0), H2_MPI_REAL, h->nb[i], h->tag + 32 + k, h->comm, &h->req[h->nreq++]),
                   h->comm);
      h->bytes += (double)(r1 - r0) * sizeof(real);
    }
  }
}

void h2_halo_reverse_finish(h2_halo *h, const h2_bsmap *f, int k, real *dz, int nb) {
  h2_halo_wait(h);
  int64_t off = 0;
  for (int64_t e = 0; e < h->sptr[h->nnb]; e++) {
    int s = h->sslot[e];
    int64_t n = (int64_t)BS_W(f, k, s) * nb;
    real *dst = dz + BS_AOFF(f, k, s) * nb;
    for (int64_t t = 0; t < n; t++) dst[t] += h->sbuf[off + t];
    off += n;
  }
}
