/* kernels_avx2.c — the AVX2 + FMA kernel set (isa.h).  This file alone is
 * compiled with -mavx2 -mfma (CMakeLists.txt); isa.c hands out its table
 * only on a CPU that runs AVX2 and FMA.
 *
 * Block products: the AVX-512 scheme (A broadcast, B streamed, C in
 * registers, one kernel per compile-time tile shape) on 8-float ymm vectors.
 * 16 ymm registers hold a 4 x 3 tile of C (12 accumulators), the 3 vectors of
 * B's row and the broadcast of A: 12 FMAs per 7 loads, enough to keep both
 * FMA pipes busy while hiding their latency (4 cycles x 2 pipes = 8
 * independent chains).  A 64-wide batch is 8 vectors: column chunks of 3, 3
 * and 2 (a width of 4 vectors goes as 2 + 2). */
#include "h2nn/core/isa.h"

#if defined(H2NN_X86_KERNELS)
#include <immintrin.h>

#include "kernels_common.h"

enum { TILE_R = 4, TILE_NV = 3 };

/* C[R x 8 NV] (row stride ldc) = epilogue( init + sum_k a(r, k) B[k, 8 NV] ): as in kernels_avx512.c,
 * with the transposition T a compile-time constant too.  The accumulators are named variables, not an
 * array: GCC kept an array of 12 ymm accumulators in registers but also stored all of them to the stack
 * in every k step (12 dead stores per 12 FMAs, saturating the store port). */
#define ACC(X) X(0, 0) X(0, 1) X(0, 2) X(1, 0) X(1, 1) X(1, 2) X(2, 0) X(2, 1) X(2, 2) X(3, 0) X(3, 1) X(3, 2)
#define INIT(r, v)                                                                                         \
  __m256 c##r##v = _mm256_setzero_ps();                                                                    \
  if (r < R_ && v < NV_)                                                                                     \
    c##r##v = bias ? _mm256_set1_ps(bias[r]) : beta ? _mm256_loadu_ps(C + (size_t)r * ldc + 8 * v) : c##r##v;
#define ROW(r)                                                                                             \
  if (r < R_) {                                                                                             \
    __m256 a = _mm256_broadcast_ss(T_ ? A + (size_t)k * lda + r : A + (size_t)r * lda + k);                 \
    c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);                                                             \
    if (NV_ > 1) c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);                                                 \
    if (NV_ > 2) c##r##2 = _mm256_fmadd_ps(a, b2, c##r##2);                                                 \
  }
#define STORE(r, v)                                                                                        \
  if (r < R_ && v < NV_) _mm256_storeu_ps(C + (size_t)r * ldc + 8 * v, relu ? _mm256_max_ps(c##r##v, zero) : c##r##v);
#define KERNEL(T, R, NV)                                                                                   \
  static void kern_##T##_##R##_##NV(int K, const float *A, int lda, const float *B, int ldb, int beta,      \
                                    const float *bias, int relu, float *C, int ldc) {                      \
    enum { T_ = T, R_ = R, NV_ = NV };                                                                     \
    ACC(INIT)                                                                                              \
    for (int k = 0; k < K; k++) {                                                                          \
      const float *Bk = B + (size_t)k * ldb;                                                               \
      __m256 b0 = _mm256_loadu_ps(Bk);                                                                     \
      __m256 b1 = NV > 1 ? _mm256_loadu_ps(Bk + 8) : b0;                                                   \
      __m256 b2 = NV > 2 ? _mm256_loadu_ps(Bk + 16) : b0;                                                  \
      ROW(0) ROW(1) ROW(2) ROW(3)                                                                          \
    }                                                                                                      \
    const __m256 zero = _mm256_setzero_ps();                                                               \
    ACC(STORE)                                                                                             \
  }
#define KERNELS(T, R) KERNEL(T, R, 1) KERNEL(T, R, 2) KERNEL(T, R, 3)
KERNELS(0, 1)
KERNELS(0, 2)
KERNELS(0, 3)
KERNELS(0, 4)
KERNELS(1, 1)
KERNELS(1, 2)
KERNELS(1, 3)
KERNELS(1, 4)
typedef void kernel_fn(int, const float *, int, const float *, int, int, const float *, int, float *, int);
/* KERNEL_TABLE[trans][rows - 1][nv - 1] */
static kernel_fn *const KERNEL_TABLE[2][TILE_R][TILE_NV] = {
    {{kern_0_1_1, kern_0_1_2, kern_0_1_3},
     {kern_0_2_1, kern_0_2_2, kern_0_2_3},
     {kern_0_3_1, kern_0_3_2, kern_0_3_3},
     {kern_0_4_1, kern_0_4_2, kern_0_4_3}},
    {{kern_1_1_1, kern_1_1_2, kern_1_1_3},
     {kern_1_2_1, kern_1_2_2, kern_1_2_3},
     {kern_1_3_1, kern_1_3_2, kern_1_3_3},
     {kern_1_4_1, kern_1_4_2, kern_1_4_3}}};

static void gemm(int trans, int M, int K, int nb, const float *A, int lda, const float *B, int beta,
                 const float *bias, int relu, float *C) {
  for (int j = 0; j < nb;) {
    int left = (nb - j) / 8;
    int nv = left <= TILE_NV ? left : left == TILE_NV + 1 ? 2 : TILE_NV;
    for (int i = 0; i < M; i += TILE_R) {
      int rows = M - i < TILE_R ? M - i : TILE_R;
      KERNEL_TABLE[trans != 0][rows - 1][nv - 1](K, trans ? A + i : A + (size_t)i * lda, lda, B + j, nb, beta,
                                     bias ? bias + i : NULL, relu, C + (size_t)i * nb + j, nb);
    }
    j += 8 * nv;
  }
}

/* Y[8 x 8] (row stride ldy) = X^T for the 8 x 8 tile X (row stride ldx) of which only the first `rows`
 * rows are read, the others taken as zero: unpack, shuffle, lane permute. */
static inline void transpose8(int rows, const float *X, int ldx, float *Y, int ldy) {
  __m256 r[8], t[8], s[8];
  for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_loadu_ps(X + (size_t)i * ldx) : _mm256_setzero_ps();
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int i = 0; i < 4; i++) {
    r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
  }
  for (int i = 0; i < 8; i++) _mm256_storeu_ps(Y + (size_t)i * ldy, r[i]);
}

/* 8 x 8 register tiles (kernels_common.h) */
static void transpose_pad(int K, int nb, const float *X, float *XT, int kpad) {
  k_transpose_pad_tiled(8, transpose8, K, nb, X, XT, kpad);
}

static void transpose(int rows, int cols, const float *A, int lda, float *B, int ldb) {
  k_transpose_tiled(8, transpose8, rows, cols, A, lda, B, ldb);
}

const h2_kernels h2_kernels_avx2 = {
    .name = "avx2",
    .vlen = 8,
    .gemm = gemm,
    .transpose = transpose,
    .transpose_pad = transpose_pad,
    .relu_bias_grad = k_relu_bias_grad,
    .loss_sums64 = k_loss_sums64,
    .adam = k_adam,
};
#endif
