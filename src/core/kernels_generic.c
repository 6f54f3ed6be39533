/* kernels_generic.c — the portable kernel set (isa.h): plain C compiled for
 * the build's baseline (any x86-64, aarch64, ...).  No block-product kernel:
 * gemm.c sends those to OpenBLAS, which chooses its own kernels for the CPU
 * at run time. */
#include "kernels_common.h"

/* 16 x 16 tiles, element by element */
static void transpose(int rows, int cols, const float *A, int lda, float *B, int ldb) {
  for (int i0 = 0; i0 < rows; i0 += 16)
    for (int j0 = 0; j0 < cols; j0 += 16)
      k_transpose_block(i0, i0 + 16 < rows ? i0 + 16 : rows, j0, j0 + 16 < cols ? j0 + 16 : cols, A, lda, B, ldb);
}

static void transpose_pad(int K, int n, const float *X, float *XT, int kpad) {
  k_transpose_pad_tail(K, n, 0, X, XT, kpad);
}

const h2_kernels h2_kernels_generic = {
    .name = "generic",
    .vlen = 0,
    .gemm = NULL,
    .transpose = transpose,
    .transpose_pad = transpose_pad,
    .relu_bias_grad = k_relu_bias_grad,
    .loss_sums64 = k_loss_sums64,
    .adam = k_adam,
};
