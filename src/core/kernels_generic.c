/* kernels_generic.c — the portable kernel set (isa.h): plain C compiled for
 * the build's baseline (any x86-64, aarch64, ...).  No block-product kernel:
 * gemm.c sends those to OpenBLAS, which chooses its own kernels for the CPU
 * at run time. */
#include "kernels_common.h"

/* 16 x 16 tiles, element by element (no register tile: kernels_common.h's drivers with NULL) */
static void transpose(int rows, int cols, const float *A, int lda, float *B, int ldb) {
  k_transpose_tiled(16, NULL, rows, cols, A, lda, B, ldb);
}

static void transpose_pad(int K, int n, const float *X, float *XT, int kpad) {
  k_transpose_pad_tiled(16, NULL, K, n, X, XT, kpad);
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
