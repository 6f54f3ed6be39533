/* gemm.h — the matrix products of the network, shaped for its data layout:
 * every activation block is (features x nb) row-major with the minibatch nb
 * as the contiguous, wide dimension.
 *
 * For float32 with AVX-512 and nb a multiple of 16, C = op(A) B runs in a
 * register-blocked kernel (4 rows x up to 64 columns of C in 16 zmm
 * registers, A broadcast, B streamed from L1; the row count is a
 * compile-time constant): on the network's small blocks (8x24, 40x120, ...
 * times 64) it reaches ~210 GFLOP/s, 2-4x OpenBLAS called one block at a
 * time (docs/performance.md).  Everything else goes
 * to OpenBLAS. */
#ifndef H2NN_GEMM_H
#define H2NN_GEMM_H

#include "h2nn/util/real.h"

#define h2_gemm H2_PREC(h2_gemm)
#define h2_gemm_grad H2_PREC(h2_gemm_grad)
#define h2_gemm_bias_relu H2_PREC(h2_gemm_bias_relu)
#define h2_transpose H2_PREC(h2_transpose)

/* C (M x nb, row stride nb) = beta C + op(A) B, B (K x nb, row stride nb);
 * op(A) = A (M x K, row stride lda) or, with transA, A^T for A (K x M, lda).
 * beta is 0 or 1. */
void h2_gemm(int transA, int M, int K, int nb, const real *A, int lda, const real *B, real beta, real *C);

/* C (M x nb) = f(A B + bias 1^T), A (M x K, row stride lda), B (K x nb), with
 * f = max(0, .) when relu, else the identity: a layer's bias and ReLU fused
 * into the product's register epilogue (one pass over C instead of three). */
void h2_gemm_bias_relu(int M, int K, int nb, const real *A, int lda, const real *B, const real *bias, int relu,
                       real *C);

/* B (cols x rows, row stride ldb) = A^T for A (rows x cols, row stride lda). */
void h2_transpose(int rows, int cols, const real *A, int lda, real *B, int ldb);

/* G (M x K, row stride ldg) += Y (M x nb) X^T, X (K x nb): weight gradients.
 * With a workspace of h2_gemm_grad_work(M, K, nb) reals (work != NULL), the
 * fast path transposes X into a zero-padded (nb x K16) block and runs the
 * broadcast kernel on Y X^T; otherwise OpenBLAS. */
void h2_gemm_grad(int M, int K, int nb, const real *Y, const real *X, real *G, int ldg, real *work);
static inline long h2_gemm_grad_work(int M, int K, int nb) {
  long k16 = (K + 15) / 16 * 16;
  return k16 * nb + (long)M * k16;
}

#endif
