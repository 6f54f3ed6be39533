/* gemm.c — products with the minibatch as the wide dimension (gemm.h): the
 * float32 build runs the active kernel set's block products and transposes
 * (isa.h) where it has them, OpenBLAS otherwise; the float64 build always
 * OpenBLAS. */
#include "h2nn/core/gemm.h"

#include <string.h>

#ifndef H2NN_DOUBLE
#include "h2nn/core/isa.h"
#endif

/* B (cols x rows, row stride ldb) = A^T, A (rows x cols, row stride lda) */
void h2_transpose(int rows, int cols, const real *A, int lda, real *B, int ldb) {
#ifndef H2NN_DOUBLE
  h2_kernels_get()->transpose(rows, cols, A, lda, B, ldb);
#else
  for (int j = 0; j < cols; j++)
    for (int i = 0; i < rows; i++) B[(size_t)j * ldb + i] = A[(size_t)i * lda + j];
#endif
}

void h2_gemm(int transA, int M, int K, int nb, const real *A, int lda, const real *B, real beta, real *C) {
  if (M == 0 || nb == 0) return;
  if (K == 0) {
    if (beta == 0) memset(C, 0, sizeof(real) * (size_t)M * nb);
    return;
  }
#ifndef H2NN_DOUBLE
  const h2_kernels *ks = h2_kernels_get();
  if (ks->gemm && nb % ks->vlen == 0) {
    ks->gemm(transA, M, K, nb, A, lda, B, beta != 0, NULL, 0, C);
    return;
  }
#endif
  cblas_xgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, CblasNoTrans, M, nb, K, 1, A, lda, B, nb, beta, C, nb);
}

void h2_gemm_bias_relu(int M, int K, int nb, const real *A, int lda, const real *B, const real *bias, int relu,
                       real *C) {
  if (M == 0 || nb == 0) return;
#ifndef H2NN_DOUBLE
  const h2_kernels *ks = h2_kernels_get();
  if (ks->gemm && nb % ks->vlen == 0 && K > 0) {
    ks->gemm(0, M, K, nb, A, lda, B, 0, bias, relu, C);
    return;
  }
#endif
  for (int a = 0; a < M; a++)
    for (int s = 0; s < nb; s++) C[(size_t)a * nb + s] = bias[a];
  if (K > 0) cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, nb, K, 1, A, lda, B, nb, 1, C, nb);
  if (relu)
    for (size_t t = 0; t < (size_t)M * nb; t++) C[t] = C[t] > 0 ? C[t] : 0;
}

void h2_gemm_grad(int M, int K, int nb, const real *Y, const real *X, real *G, int ldg, real *work) {
  if (M == 0 || K == 0 || nb == 0) return;
#ifndef H2NN_DOUBLE
  const h2_kernels *ks = h2_kernels_get();
  if (ks->gemm && work && K >= 4) {
    /* XT (nb x K16) = X^T zero-padded; T (M x K16) = Y XT; G += T[:, :K] */
    int k16 = (K + 15) / 16 * 16;
    float *XT = work, *T = work + (size_t)k16 * nb;
    ks->transpose_pad(K, nb, X, XT, k16);
    ks->gemm(0, M, nb, k16, Y, nb, XT, 0, NULL, 0, T);
    for (int i = 0; i < M; i++)
      for (int k = 0; k < K; k++) G[(size_t)i * ldg + k] += T[(size_t)i * k16 + k];
    return;
  }
#else
  (void)work;
#endif
  cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, nb, 1, Y, nb, X, nb, 1, G, ldg);
}
