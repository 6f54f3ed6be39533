/* kernels_avx512.c — the AVX-512 kernel set (isa.h).  This file alone is
 * compiled with -mavx512f -mavx2 -mfma (CMakeLists.txt); isa.c hands out its
 * table only on a CPU that runs AVX-512F. */
#include "h2nn/core/isa.h"

#if defined(H2NN_X86_KERNELS)
#include <immintrin.h>

#include "kernels_common.h"

/* C[R x 16 NV] = epilogue( init + sum_k a(r, k) B[k, 16 NV] ), a(r, k) = A[r lda + k] or, transposed,
 * A[k lda + r]; init = bias[r] (bias != NULL), else C itself (beta), else 0; epilogue = max(0, .) with
 * relu, else the identity.  R and NV are compile-time constants, so the R x NV accumulators stay in
 * registers and the k loop has no branches: twice the speed of one kernel with a run-time row count
 * (105 -> 210 GFLOP/s on 40 x 120 x 64, docs/performance.md). */
#define KERNEL(R, NV)                                                                                      \
  static void kern_##R##_##NV(int trans, int K, const float *A, int lda, const float *B, int ldb, int beta, \
                              const float *bias, int relu, float *C, int ldc) {                             \
    __m512 c[R][NV];                                                                                        \
    for (int r = 0; r < R; r++)                                                                             \
      for (int v = 0; v < NV; v++)                                                                          \
        c[r][v] = bias ? _mm512_set1_ps(bias[r])                                                            \
                  : beta ? _mm512_loadu_ps(C + (size_t)r * ldc + 16 * v)                                    \
                         : _mm512_setzero_ps();                                                             \
    for (int k = 0; k < K; k++) {                                                                           \
      __m512 b[NV];                                                                                         \
      for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_ps(B + (size_t)k * ldb + 16 * v);                    \
      for (int r = 0; r < R; r++) {                                                                         \
        __m512 a = _mm512_set1_ps(trans ? A[(size_t)k * lda + r] : A[(size_t)r * lda + k]);                 \
        for (int v = 0; v < NV; v++) c[r][v] = _mm512_fmadd_ps(a, b[v], c[r][v]);                            \
      }                                                                                                     \
    }                                                                                                       \
    if (relu)                                                                                               \
      for (int r = 0; r < R; r++)                                                                           \
        for (int v = 0; v < NV; v++) c[r][v] = _mm512_max_ps(c[r][v], _mm512_setzero_ps());                 \
    for (int r = 0; r < R; r++)                                                                             \
      for (int v = 0; v < NV; v++) _mm512_storeu_ps(C + (size_t)r * ldc + 16 * v, c[r][v]);                \
  }
#define KERNELS(R) KERNEL(R, 1) KERNEL(R, 2) KERNEL(R, 3) KERNEL(R, 4)
KERNELS(1)
KERNELS(2)
KERNELS(3)
KERNELS(4)
typedef void kernel_fn(int, int, const float *, int, const float *, int, int, const float *, int, float *, int);
/* KERNEL_TABLE[rows - 1][nv - 1] */
static kernel_fn *const KERNEL_TABLE[4][4] = {{kern_1_1, kern_1_2, kern_1_3, kern_1_4},
                                              {kern_2_1, kern_2_2, kern_2_3, kern_2_4},
                                              {kern_3_1, kern_3_2, kern_3_3, kern_3_4},
                                              {kern_4_1, kern_4_2, kern_4_3, kern_4_4}};

static void gemm(int trans, int M, int K, int nb, const float *A, int lda, const float *B, int beta,
                 const float *bias, int relu, float *C) {
  for (int j = 0; j < nb; j += 64) {
    int nv = (nb - j) / 16 < 4 ? (nb - j) / 16 : 4;
    for (int i = 0; i < M; i += 4) {
      int rows = M - i < 4 ? M - i : 4;
      KERNEL_TABLE[rows - 1][nv - 1](trans, K, trans ? A + i : A + (size_t)i * lda, lda, B + j, nb, beta,
                                     bias ? bias + i : NULL, relu, C + (size_t)i * nb + j, nb);
    }
  }
}

/* Y[16 x 16] (row stride ldy) = X^T for the 16 x 16 tile X (row stride ldx) of which only the first
 * `rows` rows are read, the others taken as zero: unpack, unpack, two lane shuffles. */
static inline void transpose16(int rows, const float *X, int ldx, float *Y, int ldy) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(X + (size_t)i * ldx) : _mm512_setzero_ps();
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#define PD(x) _mm512_castps_pd(x)
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(PD(t[i]), PD(t[i + 2])));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(PD(t[i]), PD(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(PD(t[i + 1]), PD(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(PD(t[i + 1]), PD(t[i + 3])));
  }
#undef PD
  for (int h = 0; h < 16; h += 8)
    for (int i = 0; i < 4; i++) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
    }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
  for (int i = 0; i < 16; i++) _mm512_storeu_ps(Y + (size_t)i * ldy, r[i]);
}

/* 16 x 16 register tiles (kernels_common.h) */
static void transpose_pad(int K, int nb, const float *X, float *XT, int kpad) {
  k_transpose_pad_tiled(16, transpose16, K, nb, X, XT, kpad);
}

static void transpose(int rows, int cols, const float *A, int lda, float *B, int ldb) {
  k_transpose_tiled(16, transpose16, rows, cols, A, lda, B, ldb);
}

const h2_kernels h2_kernels_avx512 = {
    .name = "avx512",
    .vlen = 16,
    .gemm = gemm,
    .transpose = transpose,
    .transpose_pad = transpose_pad,
    .relu_bias_grad = k_relu_bias_grad,
    .loss_sums64 = k_loss_sums64,
    .adam = k_adam,
};
#endif
