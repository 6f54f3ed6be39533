/* kernels_common.h — the short loops of every kernel set (isa.h) and the
 * tiling drivers of its transposes (around each set's own register tile),
 * written once and included by each kernels_<isa>.c, which is compiled with
 * its ISA's flags: the compiler vectorises the same source for AVX-512, AVX2
 * or the baseline.  They use no FMA contraction and keep their summation order
 * (fixed partial sums), so every set gives bitwise the same results here;
 * only the block products differ between sets (in rounding). */
#ifndef H2NN_KERNELS_COMMON_H
#define H2NN_KERNELS_COMMON_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "h2nn/core/isa.h"
#include "relu_mask.h"

/* ReLU mask and bias gradient in one pass; 16 partial sums so that it vectorises */
static void k_relu_bias_grad(int rows, int n, float *dz, const float *z, int relu, float *db) {
  for (int a = 0; a < rows; a++) {
    float *d = dz + (int64_t)a * n;
    const float *za = z + (int64_t)a * n;
    float part[16] = {0};
    int c = 0;
    for (; c + 16 <= n; c += 16)
      for (int u = 0; u < 16; u++) {
        float v = relu && !(za[c + u] > 0) ? 0 : d[c + u];
        d[c + u] = v;
        part[u] += v;
      }
    float s = 0;
    H2_RELU_MASK_SUM(d, za, c, n, relu, s);
    for (int u = 0; u < 16; u++) s += part[u];
    db[a] += s;
  }
}

/* 8 x 8 double accumulators in GCC vector types (the plain loop was left scalar by the compiler) */
typedef double k_v8d __attribute__((vector_size(64)));
typedef float k_v8f __attribute__((vector_size(32)));
static void k_loss_sums64(int64_t npts, const float *w, const float *t, const float *offset, int n, int s0, double *se,
                          double *st) {
  k_v8d ae[8] = {0}, at[8] = {0};
  for (int64_t i = 0; i < npts; i++) {
    const float *wi = w + i * n + s0, *ti = t + i * n + s0;
    double o = offset ? offset[i] : 0;
    for (int v = 0; v < 8; v++) {
      k_v8f wv, tv;
      memcpy(&wv, wi + 8 * v, sizeof wv);
      memcpy(&tv, ti + 8 * v, sizeof tv);
      k_v8d wd = __builtin_convertvector(wv, k_v8d), td = __builtin_convertvector(tv, k_v8d);
      k_v8d e = wd - td, ts = td + o;
      ae[v] += e * e;
      at[v] += ts * ts;
    }
  }
  memcpy(se, ae, sizeof ae);
  memcpy(st, at, sizeof at);
}

static void k_adam(int64_t n, float *restrict p, float *restrict g, float *restrict m, float *restrict v,
                   const h2_adam_coef *c) {
  const float a = c->a, inv_c2 = c->inv_c2, eps = c->eps, b1 = c->b1, b2 = c->b2, ob1 = c->ob1, ob2 = c->ob2;
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i];
    g[i] = 0;
    float mi = b1 * m[i] + ob1 * gi, vi = b2 * v[i] + ob2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= a * mi / (sqrtf(vi * inv_c2) + eps);
  }
}

/* B = A^T, entries (i0..i1) x (j0..j1) of A, element by element (the edges of the tiled transposes) */
static void k_transpose_block(int i0, int i1, int j0, int j1, const float *A, int lda, float *B, int ldb) {
  for (int j = j0; j < j1; j++)
    for (int i = i0; i < i1; i++) B[(size_t)j * ldb + i] = A[(size_t)i * lda + j];
}

/* XT[j, k] = X[k, j] for columns j0..n-1 (all k < kpad, zero beyond K) */
static void k_transpose_pad_tail(int K, int n, int j0, const float *X, float *XT, int kpad) {
  for (int j = j0; j < n; j++)
    for (int k = 0; k < kpad; k++) XT[(size_t)j * kpad + k] = k < K ? X[(size_t)k * n + j] : 0;
}

/* The two transposes of every set, driven by W x W tiles.  tile(rows, X, ldx, Y, ldy) writes
 * Y[W x W] (row stride ldy) = X^T for the W x W tile X (row stride ldx) of which only the first `rows`
 * rows are read, the others taken as zero (a set's register transpose); NULL: no register tile, element
 * by element.  Always inlined, so each kernels_<isa>.c gets its own copy with W and tile constant and
 * the tile function inlined. */
typedef void k_tile_fn(int rows, const float *X, int ldx, float *Y, int ldy);

/* B (cols x rows, row stride ldb) = A^T, A (rows x cols, row stride lda): whole tiles by `tile`,
 * ragged edges element by element */
static inline __attribute__((always_inline)) void k_transpose_tiled(int W, k_tile_fn *tile, int rows, int cols,
                                                                    const float *A, int lda, float *B, int ldb) {
  for (int i0 = 0; i0 < rows; i0 += W)
    for (int j0 = 0; j0 < cols; j0 += W) {
      int i1 = i0 + W < rows ? i0 + W : rows, j1 = j0 + W < cols ? j0 + W : cols;
      if (tile && i1 - i0 == W && j1 - j0 == W) tile(W, A + (size_t)i0 * lda + j0, lda, B + (size_t)j0 * ldb + i0, ldb);
      else k_transpose_block(i0, i1, j0, j1, A, lda, B, ldb);
    }
}

/* XT (nb x kpad) = X^T zero-padded, X (K x nb), kpad a multiple of W: whole column tiles by `tile`
 * (rows beyond K read as zero), the last nb mod W columns element by element */
static inline __attribute__((always_inline)) void k_transpose_pad_tiled(int W, k_tile_fn *tile, int K, int nb,
                                                                        const float *X, float *XT, int kpad) {
  int nbw = tile ? nb / W * W : 0;
  for (int j0 = 0; j0 < nbw; j0 += W)
    for (int i0 = 0; i0 < kpad; i0 += W) {
      int rows = K - i0 < W ? K - i0 : W;
      tile(rows > 0 ? rows : 0, X + (size_t)(rows > 0 ? i0 : 0) * nb + j0, nb, XT + (size_t)j0 * kpad + i0, kpad);
    }
  k_transpose_pad_tail(K, nb, nbw, X, XT, kpad);
}

#endif
