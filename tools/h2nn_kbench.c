/* h2nn_kbench — kernel benchmarks for docs/performance.md and runscripts/bench.sh
 * (not installed).
 *   h2nn_kbench peak [SET]     FMA peak of one core for a kernel set (default:
 *                              the best this CPU runs): a register-only loop of
 *                              independent multiply-adds at the set's width;
 *                              prints "peak SET GFLOPS" (best of 7 trials)
 *   h2nn_kbench shapes [SET]   GFLOP/s of the set's block product on the
 *                              network's shapes (batch 64), against OpenBLAS
 *                              and, when built with it, LIBXSMM with its JIT
 *                              held to the set's ISA (generic: SSE4.2 "wsm",
 *                              avx2: "hsw", avx512: AVX-512F "skx"), so that
 *                              an AVX-512 host measures LIBXSMM's AVX2 code
 *                              against the avx2 set; the generic set has no
 *                              block kernel of its own (OpenBLAS is its block
 *                              product): "-" in its column
 * Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time,
 * so that the other tenants of a shared host do not count (their cache
 * pollution still does: best of several rounds). */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#ifdef H2NN_HAVE_LIBXSMM
#include <libxsmm.h>
#endif

#include <cblas.h>

#include "h2nn/core/isa.h"
#include "h2nn/util/error.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* the timing of every benchmark: GFLOP/s of one call probe(ctx, n) doing n units of work of `flop`
 * flops each; a call shorter than `sec` seconds is too short to time and is repeated with n doubled
 * (*n keeps the grown count for the caller's next call).  A probe returns a value to consume. */
typedef double probe_fn(const void *ctx, long n);
static double timed_gflops(probe_fn *probe, const void *ctx, long *n, double flop, double sec) {
  volatile double sink = 0;
  double dt;
  for (;;) {
    double t0 = now();
    sink += probe(ctx, *n);
    if ((dt = now() - t0) >= sec) break;
    *n *= 2;
  }
  (void)sink;
  return flop * *n / dt * 1e-9;
}

/* ---- FMA peak: NACC independent accumulators, c = c a + b, flops = 2 x lanes x NACC per step */
typedef float v4f __attribute__((vector_size(16)));
#define G12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
static double peak_generic(const void *ctx, long n) { /* the baseline's 128-bit vectors, multiply and add (no FMA) */
  const v4f a = {1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f}, b = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
#define DG(i) v4f c##i = b * (float)i;
#define FG(i) c##i = c##i * a + b;
#define SG(i) r += c##i[0];
  G12(DG)
  for (long s = 0; s < n; s++) {
    G12(FG)
  }
  float r = 0;
  G12(SG)
  (void)ctx;
  return r;
}
#if defined(__x86_64__)
/* named accumulators (an array of vectors may be kept in memory at -O2: then the loop measures the
 * store-to-load latency, not the FMA units) */
#define ACC12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define ACC24(X) ACC12(X) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)
__attribute__((target("avx2,fma"))) static double peak_avx2(const void *ctx, long n) {
  const __m256 a = _mm256_set1_ps(1.0000001f), b = _mm256_set1_ps(1e-7f);
#define D2(i) __m256 c##i = _mm256_set1_ps((float)i);
#define F2(i) c##i = _mm256_fmadd_ps(c##i, a, b);
#define S2(i) r += _mm256_cvtss_f32(c##i);
  ACC12(D2)
  for (long s = 0; s < n; s++) {
    ACC12(F2)
  }
  float r = 0;
  ACC12(S2)
  (void)ctx;
  return r;
}
__attribute__((target("avx512f,avx2,fma"))) static double peak_avx512(const void *ctx, long n) {
  const __m512 a = _mm512_set1_ps(1.0000001f), b = _mm512_set1_ps(1e-7f);
#define D5(i) __m512 c##i = _mm512_set1_ps((float)i);
#define F5(i) c##i = _mm512_fmadd_ps(c##i, a, b);
#define S5(i) r += _mm512_cvtss_f32(c##i);
  ACC24(D5)
  for (long s = 0; s < n; s++) {
    ACC24(F5)
  }
  float r = 0;
  ACC24(S5)
  (void)ctx;
  return r;
}
#endif

/* best GFLOP/s of `trials` runs of the probe of at least `sec` seconds each */
static double peak_runs(h2_isa isa, double sec, int trials) {
  probe_fn *fn = peak_generic;
  double flops_step = 2 * 4 * 12;
#if defined(__x86_64__)
  if (isa == H2_ISA_AVX2) fn = peak_avx2, flops_step = 2 * 8 * 12;
  if (isa == H2_ISA_AVX512) fn = peak_avx512, flops_step = 2 * 16 * 24;
#endif
  long n = 100000;
  double best = 0;
  for (int t = 0; t < trials; t++) {
    double g = timed_gflops(fn, NULL, &n, flops_step, sec);
    best = g > best ? g : best;
  }
  return best;
}
static double peak(h2_isa isa, double sec) { return peak_runs(isa, sec, 1); }

/* ---- block products on the network's shapes */
typedef struct {
  int M, K, trans;
  const char *what;
} shape;
static const shape SHAPES[] = {{40, 120, 0, "close map, forward (leaf 40, 3 neighbours)"},
                               {120, 40, 1, "its transpose (backward, input gradient)"},
                               {8, 24, 0, "far map (rank 8, 3 neighbours)"},
                               {16, 48, 0, "far map, 16 x 48"},
                               {80, 240, 0, "leaf 80 close map"}};

enum { M_KERNEL, M_OPENBLAS, M_LIBXSMM, M_PEAK, M_COUNT };
typedef struct {
  const h2_kernels *ks;
  h2_isa isa;
  int method; /* M_KERNEL, M_OPENBLAS or M_LIBXSMM */
  int M, K, trans, lda, nb;
  const float *A, *B;
  float *C;
#ifdef H2NN_HAVE_LIBXSMM
  libxsmm_smmfunction xsmm;
#endif
} bench;

/* reps calls of b->method (a probe_fn; the products land in b->C) */
static double run(const void *ctx, long reps) {
  const bench *b = ctx;
  for (long r = 0; r < reps; r++) switch (b->method) {
    case M_KERNEL: b->ks->gemm(b->trans, b->M, b->K, b->nb, b->A, b->lda, b->B, 0, NULL, 0, b->C); break;
    case M_OPENBLAS:
      cblas_sgemm(CblasRowMajor, b->trans ? CblasTrans : CblasNoTrans, CblasNoTrans, b->M, b->nb, b->K, 1, b->A, b->lda,
                  b->B, b->nb, 0, b->C, b->nb);
      break;
#ifdef H2NN_HAVE_LIBXSMM
    case M_LIBXSMM: b->xsmm(b->B, b->A, b->C); break;
#endif
    }
  return 0;
}

/* The methods timed in interleaved rounds (each round runs every method once for ~20 ms), so that
 * all see the same phases of a shared host; best of 9 rounds. */
static int shapes(h2_isa isa) {
  const h2_kernels *ks = h2_isa_table(isa);
  const int nb = 64;
  const char *xsmm_arch = "not built";
#ifdef H2NN_HAVE_LIBXSMM
  xsmm_arch = libxsmm_get_target_arch();
#endif
  /* OpenBLAS's core as it chose it (or OPENBLAS_CORETYPE): Debian 12's 0.3.21 takes some newer CPUs
   * for "Prescott" and runs SSE3 kernels (docs/performance.md) */
  printf("| shape M x K x 64 | | h2nn %s GFLOP/s | OpenBLAS (%s) | LIBXSMM (%s) | %s FMA peak (same rounds) | h2nn %% "
         "of peak |\n| --- | --- | --- | --- | --- | --- | --- |\n",
         ks->name, openblas_get_corename(), xsmm_arch, ks->name);
  for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++) {
    const shape *sh = &SHAPES[s];
    int M = sh->M, K = sh->K, lda = sh->trans ? M : K;
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * nb), *C = malloc(sizeof(float) * M * nb);
    for (int i = 0; i < M * K; i++) A[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
    for (int i = 0; i < K * nb; i++) B[i] = (float)((i * 53) % 97) / 97.0f - 0.5f;
    bench b = {.ks = ks, .isa = isa, .M = M, .K = K, .trans = sh->trans, .lda = lda, .nb = nb, .A = A, .B = B, .C = C};
    int have[M_COUNT] = {ks->gemm != NULL, 1, 0, 1};
#ifdef H2NN_HAVE_LIBXSMM
    /* row-major C = op(A) B is column-major C^T = B^T op(A)^T: m = 64, n = M, k = K */
    {
      const float alpha = 1, beta = 0;
      const libxsmm_blasint m = nb, n = M, k = K, ldb_ = nb, lda_ = lda, ldc_ = nb;
      const int flags = sh->trans ? LIBXSMM_GEMM_FLAG_TRANS_B : LIBXSMM_GEMM_FLAG_NONE;
      b.xsmm = libxsmm_smmdispatch(m, n, k, &ldb_, &lda_, &ldc_, &alpha, &beta, &flags, NULL);
      if (b.xsmm) {
        b.xsmm(B, A, C);
        double worst = 0;
        for (int i = 0; i < M; i++)
          for (int j = 0; j < nb; j++) {
            double ref = 0;
            for (int q = 0; q < K; q++) ref += (double)(sh->trans ? A[q * M + i] : A[i * K + q]) * B[q * nb + j];
            worst = fmax(worst, fabs(C[i * nb + j] - ref));
          }
        have[M_LIBXSMM] = worst < 1e-3;
        if (!have[M_LIBXSMM]) fprintf(stderr, "h2nn_kbench: LIBXSMM kernel for %d x %d wrong (error %g)\n", M, K, worst);
      }
    }
#endif
    double flop = 2.0 * M * K * nb, best[M_COUNT] = {0};
    long reps[M_COUNT] = {16, 16, 16, 16};
    for (int t = 0; t < 9; t++)
      for (int m = 0; m < M_COUNT; m++) {
        if (!have[m]) continue;
        if (m == M_PEAK) {
          double g = peak(isa, 0.02);
          best[m] = g > best[m] ? g : best[m];
          continue;
        }
        b.method = m;
        double g = timed_gflops(run, &b, &reps[m], flop, 0.02);
        best[m] = g > best[m] ? g : best[m];
      }
    for (int m = 0; m < M_COUNT; m++)
      if (!have[m]) best[m] = NAN;
    char kern[32] = "-", pct[32] = "-", xs[32] = "-";
    if (have[M_KERNEL]) {
      snprintf(kern, sizeof kern, "%.1f", best[M_KERNEL]);
      snprintf(pct, sizeof pct, "%.0f%%", 100 * best[M_KERNEL] / best[M_PEAK]);
    }
    if (have[M_LIBXSMM]) snprintf(xs, sizeof xs, "%.1f", best[M_LIBXSMM]);
    printf("| %d x %d%s | %s | %s | %.1f | %s | %.1f | %s |\n", M, K, sh->trans ? " (A^T)" : "", sh->what, kern,
           best[M_OPENBLAS], xs, best[M_PEAK], pct);
    free(A), free(B), free(C);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "peak") && strcmp(argv[1], "shapes"))) {
    fprintf(stderr, "usage: h2nn_kbench peak|shapes [generic|avx2|avx512]\n");
    return 2;
  }
  int err = h2_isa_select(argc > 2 ? argv[2] : getenv("H2NN_ISA"), "h2nn_kbench");
  if (err) {
    fprintf(stderr, "h2nn_kbench: error: %s\n", h2_error_message());
    return 1;
  }
  const h2_kernels *ks = h2_kernels_get();
  h2_isa isa = H2_ISA_GENERIC;
  for (int i = 0; i < H2_ISA_COUNT; i++)
    if (h2_isa_table((h2_isa)i) == ks) isa = (h2_isa)i;
#ifdef H2NN_HAVE_LIBXSMM
  libxsmm_init();
  /* LIBXSMM's JIT held to the set's ISA (on an AVX-512 CPU it would otherwise generate AVX-512 code for
   * every set); LIBXSMM_TARGET in the environment still overrides */
  if (!getenv("LIBXSMM_TARGET")) libxsmm_set_target_arch(isa == H2_ISA_AVX512 ? "skx" : isa == H2_ISA_AVX2 ? "hsw" : "wsm");
#endif
  if (!strcmp(argv[1], "peak")) printf("peak %s %.2f\n", ks->name, peak_runs(isa, 0.05, 9));
  else shapes(isa);
  return 0;
}
