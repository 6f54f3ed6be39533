/* kernel.h — the smooth kernels k(x, y) known by name (docs/datasets.md §3,
 * docs/design.md §6): used by the Chebyshev H2 construction, the kernel generator and
 * the dense references.  The diagonal (r = 0) is set to 0 by convention. */
#ifndef H2NN_KERNEL_H
#define H2NN_KERNEL_H

#include <math.h>
#include <string.h>

enum { H2_KERNEL_LOG = 0, H2_KERNEL_INVERSE = 1, H2_KERNEL_GAUSSIAN = 2, H2_KERNEL_CUSTOM = 3, H2_KERNEL_COUNT = 4 };

/* The names, for messages: "log, inverse, gaussian or custom". */
#define H2_KERNEL_NAMES "log, inverse, gaussian or custom"

/* Width of the gaussian kernel exp(-r^2 / (2 sigma^2)). */
#define H2_GAUSSIAN_SIGMA 0.1

static inline int h2_kernel_from_name(const char *name) {
  if (!strcmp(name, "log")) return H2_KERNEL_LOG;
  if (!strcmp(name, "inverse")) return H2_KERNEL_INVERSE;
  if (!strcmp(name, "gaussian")) return H2_KERNEL_GAUSSIAN;
  if (!strcmp(name, "custom")) return H2_KERNEL_CUSTOM;
  return -1;
}

static inline const char *h2_kernel_name(int kind) {
  static const char *names[] = {"log", "inverse", "gaussian", "custom"};
  return kind >= 0 && kind < H2_KERNEL_COUNT ? names[kind] : "?";
}

/* k(x, y) for points of dimension d; 0 when x == y.
 *   log       -log r
 *   inverse   1 / r
 *   gaussian  exp(-r^2 / (2 sigma^2))
 *   custom    |x + y|^2 / r   (the paper's Table 2 operator without its 1/N^5,
 *                              docs/datasets.md §2) */
static inline double h2_kernel_eval(int kind, const double *x, const double *y, int d) {
  double r2 = 0;
  for (int c = 0; c < d; c++) r2 += (x[c] - y[c]) * (x[c] - y[c]);
  if (r2 == 0) return 0;
  switch (kind) {
    case H2_KERNEL_LOG: return -0.5 * log(r2);
    case H2_KERNEL_INVERSE: return 1.0 / sqrt(r2);
    case H2_KERNEL_CUSTOM: {
      double s2 = 0;
      for (int c = 0; c < d; c++) s2 += (x[c] + y[c]) * (x[c] + y[c]);
      return s2 / sqrt(r2);
    }
    default: return exp(-r2 / (2 * H2_GAUSSIAN_SIGMA * H2_GAUSSIAN_SIGMA));
  }
}

#endif
