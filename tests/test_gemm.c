/* test_gemm.c — the float32 products of gemm.h under EVERY kernel set the
 * CPU runs (isa.h: avx512, avx2, generic = OpenBLAS; the sets it lacks are
 * named as skipped) against a naive double-precision loop:
 * every shape class the network produces (rows not a multiple of 4, inputs
 * not a multiple of 16, batches of 16..128 columns and odd batches that
 * fall back to OpenBLAS), both transpositions, beta 0 and 1, and the weight
 * gradient with and without its workspace, the fused bias + ReLU
 * product (K = 0 included: the bias alone) and the tiled transpose; and the
 * short loops of each set (ReLU mask and bias gradient, loss sums, Adam)
 * bitwise against the generic set; flushing subnormals on and off. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

#include "h2nn/core/gemm.h"
#include "h2nn/core/isa.h"
#include "h2nn/util/rng.h"

static float rnd(uint64_t i, uint32_t s) { return (float)(2 * h2_rng_uniform(5, s, 0, i) - 1); }

/* for every kernel set this CPU runs, made the active one: the body */
#define FOR_EACH_SET                                                       \
  for (int set_ = 0; set_ < H2_ISA_COUNT; set_++)                          \
    if (h2_isa_supported((h2_isa)set_) && !h2_isa_select(h2_isa_name((h2_isa)set_), "test"))
#define SET_NAME (h2_kernels_get()->name)

START_TEST(gemm_matches_reference) {
  FOR_EACH_SET {
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
            ck_assert_msg(worst < 1e-5, "%s: h2_gemm M=%d K=%d nb=%d trans=%d beta=%d: error %g", SET_NAME, M, K, nb, trans, beta, worst);
            free(A), free(B), free(C), free(C0);
          }
  }
  h2_isa_select(NULL, "test");
}
END_TEST

START_TEST(bias_relu_matches_reference) {
  FOR_EACH_SET {
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
          ck_assert_msg(worst < 1e-5, "%s: h2_gemm_bias_relu M=%d K=%d nb=%d relu=%d: error %g", SET_NAME, M, K, nb, relu, worst);
          free(A), free(B), free(C), free(bias);
        }
  }
  h2_isa_select(NULL, "test");
}
END_TEST

START_TEST(grad_matches_reference) {
  FOR_EACH_SET {
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
          ck_assert_msg(worst < 1e-5, "%s: h2_gemm_grad M=%d K=%d nb=%d work=%d: error %g", SET_NAME, M, K, nb, use_work, worst);
          free(Y), free(X), free(G), free(work);
        }
  }
  h2_isa_select(NULL, "test");
}
END_TEST

/* B = A^T with strides wider than the matrices: full 16 x 16 tiles (the
 * register transpose) and ragged edges; nothing outside B's rows written */
START_TEST(transpose_matches_reference) {
  FOR_EACH_SET {
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
          ck_assert_msg(B[j * ldb + i] == (i < rows ? A[i * lda + j] : 1e30f), "%s: h2_transpose %dx%d: B[%d][%d]",
                        SET_NAME, rows, cols, j, i);
      free(A), free(B);
    }
  }
  h2_isa_select(NULL, "test");
}
END_TEST

/* the short loops of every set the CPU runs give bitwise the generic set's results (same arithmetic,
 * no contraction, fixed partial sums): ReLU mask + bias gradient, loss sums (with and without offsets),
 * Adam; odd lengths exercise the vector remainders */
START_TEST(short_loops_match_generic) {
  const h2_kernels *g = h2_isa_table(H2_ISA_GENERIC);
  const int rows = 5, n = 64 + 16 + 3, npts = 7;
  const int64_t na = 1000 + 7;
  for (int set = 1; set < H2_ISA_COUNT; set++) {
    if (!h2_isa_supported((h2_isa)set)) continue;
    const h2_kernels *k = h2_isa_table((h2_isa)set);
    float dz[2][5 * 83], z[5 * 83], db[2][5];
    for (int relu = 0; relu < 2; relu++) {
      for (int i = 0; i < rows * n; i++) dz[0][i] = dz[1][i] = rnd(i, 11), z[i] = rnd(i, 12);
      for (int a = 0; a < rows; a++) db[0][a] = db[1][a] = rnd(a, 13);
      g->relu_bias_grad(rows, n, dz[0], z, relu, db[0]);
      k->relu_bias_grad(rows, n, dz[1], z, relu, db[1]);
      ck_assert_msg(!memcmp(dz[0], dz[1], sizeof dz[0]) && !memcmp(db[0], db[1], sizeof db[0]),
                    "%s: relu_bias_grad (relu %d) differs from generic", k->name, relu);
    }
    float w[7 * 83], t[7 * 83], off[7];
    for (int i = 0; i < npts * n; i++) w[i] = rnd(i, 14), t[i] = rnd(i, 15);
    for (int i = 0; i < npts; i++) off[i] = rnd(i, 16);
    for (int o = 0; o < 2; o++) {
      double se[2][64], st[2][64];
      g->loss_sums64(npts, w, t, o ? off : NULL, n, 3, se[0], st[0]);
      k->loss_sums64(npts, w, t, o ? off : NULL, n, 3, se[1], st[1]);
      ck_assert_msg(!memcmp(se[0], se[1], sizeof se[0]) && !memcmp(st[0], st[1], sizeof st[0]),
                    "%s: loss_sums64 (offset %d) differs from generic", k->name, o);
    }
    float *buf[2][4];
    for (int c = 0; c < 2; c++)
      for (int b = 0; b < 4; b++) {
        buf[c][b] = malloc(sizeof(float) * na);
        for (int64_t i = 0; i < na; i++) buf[c][b][i] = b == 3 ? fabsf(rnd(i, 20 + b)) : rnd(i, 20 + b);
      }
    const h2_adam_coef coef = {.a = 0.01f, .inv_c2 = 3.0f, .eps = 1e-5f, .b1 = 0.9f, .b2 = 0.999f, .ob1 = 0.1f, .ob2 = 0.001f};
    g->adam(na, buf[0][0], buf[0][1], buf[0][2], buf[0][3], &coef);
    k->adam(na, buf[1][0], buf[1][1], buf[1][2], buf[1][3], &coef);
    for (int b = 0; b < 4; b++)
      ck_assert_msg(!memcmp(buf[0][b], buf[1][b], sizeof(float) * na), "%s: adam buffer %d differs from generic", k->name,
                    b);
    for (int c = 0; c < 2; c++)
      for (int b = 0; b < 4; b++) free(buf[c][b]);
  }
}
END_TEST

/* h2_fp_flush_denormals: with flush a subnormal product is 0 and a subnormal
 * input counts as 0; without it IEEE gradual underflow keeps both; Adam's
 * kernel follows the setting (its moments are where subnormals appear) */
START_TEST(denormals_flush_and_keep) {
  volatile float tiny = 1e-30f, sub = 1e-40f; /* 1e-40 is subnormal in float32 */
  ck_assert_int_eq(h2_fp_flush_denormals(0), 0);
  ck_assert_float_gt(tiny * 1e-9f, 0.0f);
  ck_assert_float_gt(sub * 2.0f, 0.0f);
  ck_assert_int_eq(h2_fp_flush_denormals(1), 0);
  ck_assert_float_eq(tiny * 1e-9f, 0.0f);
  ck_assert_float_eq(sub * 2.0f, 0.0f);
  FOR_EACH_SET {
    float p[40], g[40], m[40], v[40];
    for (int i = 0; i < 40; i++) p[i] = 1, g[i] = 0, m[i] = 1e-37f, v[i] = 1;
    const h2_adam_coef c = {.a = 0, .inv_c2 = 1, .eps = 1e-8f, .b1 = 1e-3f, .b2 = 0.99f, .ob1 = 0, .ob2 = 0.01f};
    h2_kernels_get()->adam(40, p, g, m, v, &c); /* m = 1e-40: subnormal, flushed */
    for (int i = 0; i < 40; i++) ck_assert_msg(m[i] == 0, "%s: m[%d] = %g, expected 0 with flushing", SET_NAME, i, m[i]);
  }
  ck_assert_int_eq(h2_fp_flush_denormals(0), 0);
  ck_assert_float_gt(sub * 2.0f, 0.0f);
}
END_TEST

Suite *h2nn_suite(void) {
  /* say which sets run here and which this CPU lacks */
  printf("test_gemm: kernel sets tested:");
  for (int i = 0; i < H2_ISA_COUNT; i++)
    if (h2_isa_supported((h2_isa)i)) printf(" %s", h2_isa_name((h2_isa)i));
  printf("; skipped (not run by this CPU or build):");
  int none = 1;
  for (int i = 0; i < H2_ISA_COUNT; i++)
    if (!h2_isa_supported((h2_isa)i)) printf(" %s", h2_isa_name((h2_isa)i)), none = 0;
  printf("%s\n", none ? " none" : "");
  fflush(stdout);
  Suite *s = suite_create("gemm");
  TCase *tc = tcase_create("gemm");
  tcase_add_test(tc, gemm_matches_reference);
  tcase_add_test(tc, grad_matches_reference);
  tcase_add_test(tc, bias_relu_matches_reference);
  tcase_add_test(tc, transpose_matches_reference);
  tcase_add_test(tc, short_loops_match_generic);
  tcase_add_test(tc, denormals_flush_and_keep);
  suite_add_tcase(s, tc);
  return s;
}
