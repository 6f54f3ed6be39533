/* isa.h — kernel sets: the instruction-set-specific inner loops of h2nn, one
 * table per set, all compiled into every binary, and the choice of one at
 * start-up.
 *
 * Sets (float32 only; the double-precision build uses plain C and OpenBLAS):
 *   avx512   AVX-512F register-blocked block products (4 rows x 64 columns
 *            in 16 zmm), 16 x 16 register transposes      (kernels_avx512.c)
 *   avx2     AVX2 + FMA: 4 rows x 24 columns in 12 ymm, 8 x 8 register
 *            transposes                                    (kernels_avx2.c)
 *   generic  portable C (any CPU, aarch64 included): block products through
 *            OpenBLAS, which picks its own kernels at run time (kernels_generic.c)
 * The short loops (ReLU mask and bias gradient, loss sums, Adam) and the
 * transposes' tiling around each set's register tile are written once
 * (kernels_common.h) and compiled into each set with its ISA flags, so
 * the compiler vectorises them for that ISA.  Each kernel file alone gets its
 * ISA's compiler flags (CMakeLists.txt); nothing outside it does, so the
 * default build runs on any x86-64 (or aarch64) CPU.
 *
 * The choice is the one piece of process-wide state of the core library: a
 * pointer to one of the constant tables, set by h2_isa_select() at start-up
 * (h2nn_mpi's main, before any kernel runs; the tests switch between sets)
 * and only read afterwards.  It is state rather than an argument because
 * every block product, transpose and update of every layer would otherwise
 * carry it through the model, halo and data code for no information: like
 * OpenBLAS's own core choice, it is a property of the process, not of a call.
 * Without a call to h2_isa_select, the first kernel call picks the best set
 * the CPU supports. */
#ifndef H2NN_ISA_H
#define H2NN_ISA_H

#include <stdint.h>
#include <stdio.h>

/* The x86 kernel sets exist on x86-64 builds (H2NN_NO_X86_KERNELS leaves them
 * out, e.g. for a compiler without AVX-512 support, or to check the portable
 * path's build on x86). */
#if defined(__x86_64__) && !defined(H2NN_NO_X86_KERNELS)
#define H2NN_X86_KERNELS 1
#endif

typedef enum { H2_ISA_GENERIC = 0, H2_ISA_AVX2 = 1, H2_ISA_AVX512 = 2, H2_ISA_COUNT = 3 } h2_isa;

/* Adam's per-step constants (adam.h): a = lr / (1-b1^t), inv_c2 = 1 / (1-b2^t) */
typedef struct {
  float a, inv_c2, eps, b1, b2, ob1, ob2;
} h2_adam_coef;

typedef struct {
  const char *name; /* "generic", "avx2", "avx512" */
  int vlen;         /* floats per vector register: gemm needs a column count divisible by it */
  /* C (M x n, row stride n) = epilogue(init + op(A) B), B (K x n, row stride n), n % vlen == 0, K > 0;
   * op(A) = A (M x K, row stride lda) or with trans A^T for A (K x M, lda); init = bias[r] per row
   * (bias != NULL), else C (beta), else 0; epilogue = max(0, .) with relu.  NULL: no such kernel,
   * the caller uses OpenBLAS. */
  void (*gemm)(int trans, int M, int K, int n, const float *A, int lda, const float *B, int beta, const float *bias,
               int relu, float *C);
  /* B (cols x rows, row stride ldb) = A^T, A (rows x cols, row stride lda) */
  void (*transpose)(int rows, int cols, const float *A, int lda, float *B, int ldb);
  /* XT (n x kpad, kpad >= K a multiple of 16) = X^T with columns K.. zero, X (K x n) */
  void (*transpose_pad)(int K, int n, const float *X, float *XT, int kpad);
  /* for each of the rows a: dz[a, :] = 0 where z[a, :] <= 0 (with relu), db[a] += sum_s dz[a, s];
   * dz and z (rows x n) */
  void (*relu_bias_grad)(int rows, int n, float *dz, const float *z, int relu, float *db);
  /* se[s] += sum_i (w[i, s0+s] - t[i, s0+s])^2, st[s] += sum_i (t[i, s0+s] + offset[i])^2 for
   * s < 64 (offset NULL: 0); w, t (npts x n), in double */
  void (*loss_sums64)(int64_t npts, const float *w, const float *t, const float *offset, int n, int s0, double *se,
                      double *st);
  /* Adam on n entries: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= a m / (sqrt(v inv_c2) + eps); g = 0 */
  void (*adam)(int64_t n, float *p, float *g, float *m, float *v, const h2_adam_coef *c);
} h2_kernels;

/* The active set (picks the best one the CPU supports on first use). */
const h2_kernels *h2_kernels_get(void);

/* Choose the set: name NULL, "" or "auto": the best the CPU supports; "generic", "avx2" or
 * "avx512": that one.  Fails (H2_EINPUT, one line naming `what`, e.g. "--isa" or "H2NN_ISA")
 * for an unknown name or a set this CPU cannot run; the active set is then unchanged. */
int h2_isa_select(const char *name, const char *what);

/* 1 if this build has the set and the CPU (and OS) can run it */
int h2_isa_supported(h2_isa isa);
/* The set's table (NULL if this build has none, e.g. avx2 on aarch64), supported or not. */
const h2_kernels *h2_isa_table(h2_isa isa);
const char *h2_isa_name(h2_isa isa);

/* OpenBLAS's own run-time kernel choice (the products the generic set and the
 * double-precision build hand to it): its core name, e.g. "SkylakeX".  When
 * OpenBLAS does not know the CPU it falls back to SSE3 kernels ("Prescott"):
 * Debian 12's 0.3.21 does so on Intel Sapphire/Emerald Rapids, 5-7x below
 * the CPU's speed.  h2_blas_fallback() then returns the OPENBLAS_CORETYPE that
 * matches the CPU's vectors ("SkylakeX" for AVX-512, "Haswell" for AVX2), and
 * NULL when OpenBLAS's choice is fine or OPENBLAS_CORETYPE is already set. */
const char *h2_blas_core(void);
const char *h2_blas_fallback(void);
/* One warning line "PROG: warning: OpenBLAS does not recognise this CPU ..."
 * naming the OPENBLAS_CORETYPE to export, when h2_blas_fallback() says so. */
void h2_blas_warn(FILE *out, const char *prog);

/* Subnormal floats (below 1.2e-38) for the calling thread: flush = 1 makes
 * results and inputs that small zero (x86 MXCSR FTZ + DAZ, aarch64 FPCR FZ),
 * flush = 0 restores IEEE gradual underflow.  On x86 every operation that
 * meets a subnormal takes a microcode assist of ~100 cycles: with Adam's
 * beta2 = 0.99 the moments of parameters whose gradient has died decay into
 * that range and the update loop ran 50% slower (docs/performance.md).
 * h2nn_mpi flushes by default (--denormals); the library (h2nn.h) leaves the
 * caller's setting alone.  Returns 0, or H2_EINPUT for a CPU it cannot set. */
int h2_fp_flush_denormals(int flush);

#endif
