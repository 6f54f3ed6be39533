/* test_gemm.c — the float32 products of gemm.h (AVX-512 kernels where the
 * CPU has them, OpenBLAS otherwise) against a naive double-precision loop:
 * every shape class the network produces (rows not a multiple of 4, inputs
 * not a multiple of 16, batches of 16..128 columns and odd batches that
 * fall back to OpenBLAS), both transpositions, beta 0 and 1, and the weight
 * gradient with and without its workspace, the fused bias + ReLU
 * product (K = 0 included: the bias alone) and the tiled transpose. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "h2nn/core/gemm.h"
#include "h2nn/util/rng.h"

static float rnd(uint64_t i, uint32_t s) { return (float)(2 * h2_rng_uniform(5, s, 0, i) - 1); }

START_TEST(gemm_matches_reference) {
  const int Ms[] = {1, 2, 3, 4, 6, 8, 13, 40}, Ks[] = {1, 5, 24, 120}, nbs[] = {16, 32, 48, 64, 80, 128, 7, 33};
  for (int a = 0; a < 8; a++)
    for (int b = 0; b < 4; b++)
      for (int c = 0; c < 8; c++)
        for (int trans = 0; trans < 2; trans++)
          for (int beta = 0; beta < 2; beta++) {
            int M = Ms[a], K = Ks[b], nb = nbs[c];
            float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * nb), *C = malloc(sizeof(float) * M * nb);
            for (int i = 0; i < M * K; i++) A[i] = rnd(i, 1);
            for (int i = 0; i < K * nb; i++) B[i] = rnd(i, 2);
            for (int i = 0; i < M * nb; i++) C[i] = rnd(i, 3);
            double worst = 0;
            float *C0 = malloc(sizeof(float) * M * nb);
            for (int i = 0; i < M * nb; i++) C0[i] = C[i];
            h2_gemm(trans, M, K, nb, A, trans ? M : K, B, (float)beta, C);
            for (int i = 0; i < M; i++)
              for (int j = 0; j < nb; j++) {
                double ref = beta ? C0[i * nb + j] : 0;
                for (int k = 0; k < K; k++) ref += (double)(trans ? A[k * M + i] : A[i * K + k]) * B[k * nb + j];
                worst = fmax(worst, fabs(C[i * nb + j] - ref) / (1 + fabs(ref)));
              }
            ck_assert_msg(worst < 1e-5, "h2_gemm M=%d K=%d nb=%d trans=%d beta=%d: error %g", M, K, nb, trans, beta, worst);
            free(A), free(B), free(C), free(C0);
          }
}
END_TEST

START_TEST(bias_relu_matches_reference) {
  const int Ms[] = {1, 3, 4, 8, 13, 40}, Ks[] = {0, 1, 5, 24, 120}, nbs[] = {16, 64, 80, 128, 7, 33};
  for (int a = 0; a < 6; a++)
    for (int b = 0; b < 5; b++)
      for (int c = 0; c < 6; c++)
        for (int relu = 0; relu < 2; relu++) {
          int M = Ms[a], K = Ks[b], nb = nbs[c];
          float *A = malloc(sizeof(float) * (M * K + 1)), *B = malloc(sizeof(float) * (K * nb + 1));
          float *C = malloc(sizeof(float) * M * nb), *bias = malloc(sizeof(float) * M);
          for (int i = 0; i < M * K; i++) A[i] = rnd(i, 7);
          for (int i = 0; i < K * nb; i++) B[i] = rnd(i, 8);
          for (int i = 0; i < M * nb; i++) C[i] = 1e30f; /* must be overwritten, not added to */
          for (int i = 0; i < M; i++) bias[i] = rnd(i, 9);
          h2_gemm_bias_relu(M, K, nb, A, K, B, bias, relu, C);
          double worst = 0;
          int negatives = 0;
          for (int i = 0; i < M; i++)
            for (int j = 0; j < nb; j++) {
              double ref = bias[i];
              for (int k = 0; k < K; k++) ref += (double)A[i * K + k] * B[k * nb + j];
              negatives += ref < 0;
              if (relu) ref = fmax(ref, 0);
              worst = fmax(worst, fabs(C[i * nb + j] - ref) / (1 + fabs(ref)));
            }
          ck_assert_msg(negatives > 0 || M * nb < 8, "no negative pre-activation: the ReLU is not exercised");
          ck_assert_msg(worst < 1e-5, "h2_gemm_bias_relu M=%d K=%d nb=%d relu=%d: error %g", M, K, nb, relu, worst);
          free(A), free(B), free(C), free(bias);
        }
}
END_TEST

START_TEST(grad_matches_reference) {
  const int Ms[] = {1, 4, 8, 13, 40}, Ks[] = {1, 4, 8, 16, 24, 33, 120}, nbs[] = {16, 64, 80, 7};
  for (int a = 0; a < 5; a++)
    for (int b = 0; b < 7; b++)
      for (int c = 0; c < 4; c++)
        for (int use_work = 0; use_work < 2; use_work++) {
          int M = Ms[a], K = Ks[b], nb = nbs[c], ldg = K + 3;
          float *Y = malloc(sizeof(float) * M * nb), *X = malloc(sizeof(float) * K * nb), *G = malloc(sizeof(float) * M * ldg);
          float *work = use_work ? malloc(sizeof(float) * h2_gemm_grad_work(M, K, nb)) : NULL;
          for (int i = 0; i < M * nb; i++) Y[i] = rnd(i, 4);
          for (int i = 0; i < K * nb; i++) X[i] = rnd(i, 5);
          for (int i = 0; i < M * ldg; i++) G[i] = rnd(i, 6);
          double worst = 0;
          h2_gemm_grad(M, K, nb, Y, X, G, ldg, work);
          for (int i = 0; i < M; i++) {
            for (int k = 0; k < K; k++) {
              double ref = rnd(i * ldg + k, 6);
              for (int j = 0; j < nb; j++) ref += (double)Y[i * nb + j] * X[k * nb + j];
              worst = fmax(worst, fabs(G[i * ldg + k] - ref) / (1 + fabs(ref)));
            }
            for (int k = K; k < ldg; k++) ck_assert(G[i * ldg + k] == rnd(i * ldg + k, 6)); /* padding untouched */
          }
          ck_assert_msg(worst < 1e-5, "h2_gemm_grad M=%d K=%d nb=%d work=%d: error %g", M, K, nb, use_work, worst);
          free(Y), free(X), free(G), free(work);
        }
}
END_TEST

/* B = A^T with strides wider than the matrices: full 16 x 16 tiles (the
 * register transpose) and ragged edges; nothing outside B's rows written */
START_TEST(transpose_matches_reference) {
  const int dims[] = {1, 7, 16, 33, 64, 70};
  for (int a = 0; a < 6; a++)
    for (int b = 0; b < 6; b++) {
      int rows = dims[a], cols = dims[b], lda = cols + 5, ldb = rows + 3;
      float *A = malloc(sizeof(float) * rows * lda), *B = malloc(sizeof(float) * cols * ldb);
      for (int i = 0; i < rows * lda; i++) A[i] = rnd(i, 10);
      for (int i = 0; i < cols * ldb; i++) B[i] = 1e30f;
      h2_transpose(rows, cols, A, lda, B, ldb);
      for (int j = 0; j < cols; j++)
        for (int i = 0; i < ldb; i++)
          ck_assert_msg(B[j * ldb + i] == (i < rows ? A[i * lda + j] : 1e30f), "h2_transpose %dx%d: B[%d][%d]", rows,
                        cols, j, i);
      free(A), free(B);
    }
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("gemm");
  TCase *tc = tcase_create("gemm");
  tcase_add_test(tc, gemm_matches_reference);
  tcase_add_test(tc, grad_matches_reference);
  tcase_add_test(tc, bias_relu_matches_reference);
  tcase_add_test(tc, transpose_matches_reference);
  suite_add_tcase(s, tc);
  return s;
}
