/* datagen.c — the custom operator (docs/datasets.md §2), point geometries,
 * the dense reference product of the kernels of kernel.h, and bump inputs
 * (docs/datasets.md §3).  See datagen.h for the contract. */
#include "h2nn/gen/datagen.h"

#include "h2nn/util/error.h"
#include "h2nn/util/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
/* Memory for one block of kernel rows in the dense product. */
#define DENSE_BLOCK_BYTES ((size_t)32 << 20)

/* ------------------------------------------------------------ custom */

int h2_custom_matrix(int N, double *A) {
  if (N < 2) H2_FAIL(H2_EINPUT, "custom operator: N must be at least 2, got %d", N);
  const double h = 1.0 / N, scale = 1.0 / pow((double)N, 5.0);
  for (int i = 0; i < N; i++) {
    const double xi = (i + 0.5) * h;
    double *row = A + (size_t)i * N;
    for (int j = 0; j < N; j++) {
      const double xj = (j + 0.5) * h;
      row[j] = scale * h2_kernel_eval(H2_KERNEL_CUSTOM, &xi, &xj, 1); /* 0 on the diagonal */
    }
  }
  return 0;
}

int h2_custom_apply(int N, const double *A, const double *in, int64_t nsamples, double *out) {
  if (N < 1 || nsamples < 0)
    H2_FAIL(H2_EINTERNAL, "custom apply: bad sizes N = %d, %lld samples", N, (long long)nsamples);
  if (nsamples == 0) return 0;
  if (nsamples > INT32_MAX) H2_FAIL(H2_EINTERNAL, "custom apply: too many samples per call");
  /* out (ns x N) = in (ns x N) * A^T */
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nsamples, N, N, 1.0, in, N, A, N,
              0.0, out, N);
  return 0;
}

/* ------------------------------------------------------------ geometry */

static const char *const geom_names[] = {"grid", "random", "sphere"};

int h2_geometry_parse(const char *name, h2_geometry *g) {
  for (int k = 0; k < 3; k++)
    if (!strcmp(name, geom_names[k])) {
      *g = (h2_geometry)k;
      return 0;
    }
  H2_FAIL(H2_EINPUT, "unknown geometry '%s' (expected grid, random or sphere)", name);
}

const char *h2_geometry_name(h2_geometry g) {
  return (unsigned)g < 3 ? geom_names[g] : "?";
}

static int64_t ipow(int64_t m, int d) {
  int64_t r = 1;
  for (int k = 0; k < d; k++) r *= m;
  return r;
}

int h2_geometry_count(h2_geometry g, int dim, int64_t n, int64_t *count) {
  if (dim < 1 || dim > 3) H2_FAIL(H2_EINPUT, "dimension must be 1, 2 or 3, got %d", dim);
  if (n < 1) H2_FAIL(H2_EINPUT, "number of points must be positive, got %lld", (long long)n);
  switch (g) {
    case H2_GEOM_GRID: {
      int64_t m = (int64_t)floor(pow((double)n, 1.0 / dim));
      while (ipow(m + 1, dim) <= n) m++; /* guard against pow rounding */
      while (m > 1 && ipow(m, dim) > n) m--;
      int64_t lo = ipow(m, dim), hi = ipow(m + 1, dim);
      if (hi - n <= n - lo) m++;
      if (m < 2) m = 2;
      *count = ipow(m, dim);
      return 0;
    }
    case H2_GEOM_RANDOM:
      *count = n;
      return 0;
    case H2_GEOM_SPHERE:
      if (dim != 3)
        H2_FAIL(H2_EINPUT, "geometry sphere (the unit sphere's surface in 3-D) needs dimension 3, "
                           "got %d", dim);
      *count = n;
      return 0;
  }
  H2_FAIL(H2_EINPUT, "unknown geometry %d", (int)g);
}

int h2_geometry_points(h2_geometry g, int dim, int64_t count, uint64_t seed, double *points) {
  int64_t expect;
  if (count < 1) H2_FAIL(H2_EINPUT, "geometry: count must be positive, got %lld", (long long)count);
  switch (g) {
    case H2_GEOM_GRID: {
      H2_TRY(h2_geometry_count(g, dim, count, &expect));
      if (expect != count)
        H2_FAIL(H2_EINTERNAL, "grid geometry: %lld is not a %d-th power", (long long)count, dim);
      int64_t m = (int64_t)llround(pow((double)count, 1.0 / dim));
      while (ipow(m, dim) > count) m--;
      while (ipow(m, dim) < count) m++;
      for (int64_t i = 0; i < count; i++) {
        int64_t r = i;
        for (int k = 0; k < dim; k++) {
          points[i * dim + k] = ((double)(r % m) + 0.5) / (double)m;
          r /= m;
        }
      }
      return 0;
    }
    case H2_GEOM_RANDOM:
      if (dim < 1 || dim > 3) H2_FAIL(H2_EINPUT, "dimension must be 1, 2 or 3, got %d", dim);
      for (int64_t i = 0; i < count; i++)
        for (int k = 0; k < dim; k++)
          points[i * dim + k] =
              h2_rng_uniform(seed, H2_STREAM_DATA + 2, 0, (uint64_t)i * 3 + (uint64_t)k);
      return 0;
    case H2_GEOM_SPHERE: {
      H2_TRY(h2_geometry_count(g, dim, count, &expect));
      const double golden = PI * (3.0 - sqrt(5.0));
      for (int64_t i = 0; i < count; i++) {
        double z = 1.0 - (2.0 * (double)i + 1.0) / (double)count;
        double r = sqrt(fmax(0.0, 1.0 - z * z)), phi = golden * (double)i;
        points[i * 3 + 0] = r * cos(phi);
        points[i * 3 + 1] = r * sin(phi);
        points[i * 3 + 2] = z;
      }
      return 0;
    }
  }
  H2_FAIL(H2_EINPUT, "unknown geometry %d", (int)g);
}

/* ------------------------------------------------------------ kernels */

int h2_datagen_kernel_parse(const char *name, int *kind) {
  *kind = h2_kernel_from_name(name);
  if (*kind < 0)
    H2_FAIL(H2_EINPUT, "unknown kernel '%s' (expected " H2_KERNEL_NAMES ")", name);
  return 0;
}

int h2_datagen_kernel_dense(const char *kernel, const double *points, int N, int d,
                            const double *in, int64_t nsamples, double *out) {
  int k = H2_KERNEL_LOG;
  H2_TRY(h2_datagen_kernel_parse(kernel, &k));
  if (N < 1 || d < 1 || d > 3 || nsamples < 0 || nsamples > INT32_MAX)
    H2_FAIL(H2_EINPUT, "dense kernel product: bad sizes N = %d, d = %d, %lld samples", N, d,
            (long long)nsamples);
  if (nsamples == 0) return 0;
  int B = (int)(DENSE_BLOCK_BYTES / ((size_t)N * sizeof(double)));
  if (B < 1) B = 1;
  if (B > N) B = N;
  double *blk;
  H2_TRY(H2_MALLOC(blk, (size_t)B * N));
  for (int i0 = 0; i0 < N; i0 += B) {
    int nb = N - i0 < B ? N - i0 : B;
    for (int r = 0; r < nb; r++) {
      const double *xi = points + (size_t)(i0 + r) * d;
      double *row = blk + (size_t)r * N;
      for (int j = 0; j < N; j++)
        row[j] = j == i0 + r ? 0.0 : h2_kernel_eval(k, xi, points + (size_t)j * d, d);
    }
    /* out[:, i0:i0+nb] = in (ns x N) * blk^T (N x nb) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nsamples, nb, N, 1.0, in, N, blk,
                N, 0.0, out + i0, N);
  }
  free(blk);
  return 0;
}

/* ------------------------------------------------------------ inputs */

void h2_datagen_bumps(const double *points, int N, int d, uint64_t seed, int64_t sample,
                      double *q) {
  const uint32_t box = (uint32_t)sample;
  const uint64_t hi = (uint64_t)sample >> 32 << 32;
  uint64_t k = 0;
#define U() h2_rng_uniform(seed, H2_STREAM_DATA + 1, box, hi | k++)
  int nb = 1 + (int)(3.0 * U());
  if (nb > 3) nb = 3;
  for (int i = 0; i < N; i++) q[i] = 0;
  for (int b = 0; b < nb; b++) {
    int64_t ci = (int64_t)(U() * N);
    if (ci >= N) ci = N - 1;
    double s = 0.1 + 0.2 * U();
    double sign = U() < 0.5 ? -1.0 : 1.0;
    double w = sign * (0.5 + U());
    const double *c = points + ci * d, f = -0.5 / (s * s);
    for (int i = 0; i < N; i++) {
      double r2 = 0;
      for (int t = 0; t < d; t++) r2 += (points[(size_t)i * d + t] - c[t]) * (points[(size_t)i * d + t] - c[t]);
      q[i] += w * exp(f * r2);
    }
  }
#undef U
}
