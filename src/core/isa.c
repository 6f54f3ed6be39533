/* isa.c — which kernel set runs (isa.h): the CPU check and the start-up choice. */
#include "h2nn/core/isa.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cblas.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "h2nn/util/error.h"

extern const h2_kernels h2_kernels_generic;
#if defined(H2NN_X86_KERNELS)
extern const h2_kernels h2_kernels_avx2, h2_kernels_avx512;
#endif

static const char *const NAMES[H2_ISA_COUNT] = {"generic", "avx2", "avx512"};

/* The active set: see isa.h (set at start-up, read-only afterwards). */
static const h2_kernels *g_active;

const h2_kernels *h2_isa_table(h2_isa isa) {
  switch (isa) {
  case H2_ISA_GENERIC: return &h2_kernels_generic;
#if defined(H2NN_X86_KERNELS)
  case H2_ISA_AVX2: return &h2_kernels_avx2;
  case H2_ISA_AVX512: return &h2_kernels_avx512;
#endif
  default: return NULL;
  }
}

const char *h2_isa_name(h2_isa isa) { return isa >= 0 && isa < H2_ISA_COUNT ? NAMES[isa] : "?"; }

int h2_isa_supported(h2_isa isa) {
  if (!h2_isa_table(isa)) return 0;
#if defined(H2NN_X86_KERNELS)
  /* __builtin_cpu_supports also checks that the OS saves the ymm / zmm state (XGETBV) */
  __builtin_cpu_init();
  if (isa == H2_ISA_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == H2_ISA_AVX512)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return isa == H2_ISA_GENERIC;
}

static h2_isa best(void) {
  for (int i = H2_ISA_COUNT - 1; i > 0; i--)
    if (h2_isa_supported((h2_isa)i)) return (h2_isa)i;
  return H2_ISA_GENERIC;
}

const h2_kernels *h2_kernels_get(void) {
  if (!g_active) g_active = h2_isa_table(best());
  return g_active;
}

int h2_isa_select(const char *name, const char *what) {
  if (!name || !*name || !strcmp(name, "auto")) {
    g_active = h2_isa_table(best());
    return 0;
  }
  for (int i = 0; i < H2_ISA_COUNT; i++) {
    if (strcmp(name, NAMES[i])) continue;
    if (!h2_isa_table((h2_isa)i))
      H2_FAIL(H2_EINPUT, "%s %s: this build has no %s kernels (not built for x86-64); use generic or auto", what, name,
              name);
    if (!h2_isa_supported((h2_isa)i))
      H2_FAIL(H2_EINPUT, "%s %s: this CPU cannot run the %s kernels (it lacks %s); the best it can run is %s", what,
              name, name, i == H2_ISA_AVX512 ? "AVX-512F" : "AVX2 or FMA", NAMES[best()]);
    g_active = h2_isa_table((h2_isa)i);
    return 0;
  }
  H2_FAIL(H2_EINPUT, "%s '%s': expected generic, avx2, avx512 or auto", what, name);
}

const char *h2_blas_core(void) {
  const char *core = openblas_get_corename();
  return core ? core : "?";
}

const char *h2_blas_fallback(void) {
  const char *set = getenv("OPENBLAS_CORETYPE");
  if (set && *set) return NULL;
#if defined(H2NN_X86_KERNELS)
  static const char *const generic_cores[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai",
                                              "Coppermine", "Northwood", "Banias", "Atom", "Unknown"};
  const char *core = h2_blas_core();
  int generic = 0;
  for (size_t i = 0; i < sizeof generic_cores / sizeof *generic_cores; i++)
    if (!strcasecmp(core, generic_cores[i])) generic = 1;
  if (!generic) return NULL;
  if (h2_isa_supported(H2_ISA_AVX512)) return "SkylakeX";
  if (h2_isa_supported(H2_ISA_AVX2)) return "Haswell";
#endif
  return NULL;
}

void h2_blas_warn(FILE *out, const char *prog) {
  const char *fix = h2_blas_fallback();
  if (fix)
    fprintf(out, "%s: warning: OpenBLAS does not recognise this CPU and runs its SSE3 kernels (%s), several times "
            "slower than the CPU allows; export OPENBLAS_CORETYPE=%s before mpirun (docs/performance.md)\n",
            prog, h2_blas_core(), fix);
}

int h2_fp_flush_denormals(int flush) {
#if defined(__x86_64__) || defined(__i386__)
  const unsigned bits = 0x8040; /* FTZ (bit 15): subnormal results -> 0; DAZ (bit 6): subnormal inputs -> 0 */
  _mm_setcsr(flush ? _mm_getcsr() | bits : _mm_getcsr() & ~bits);
  return 0;
#elif defined(__aarch64__)
  uint64_t fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  fpcr = flush ? fpcr | (1ull << 24) : fpcr & ~(1ull << 24); /* FZ */
  __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
  return 0;
#else
  if (!flush) return 0;
  H2_FAIL(H2_EINPUT, "--denormals flush: not supported on this CPU architecture; use --denormals keep");
#endif
}
