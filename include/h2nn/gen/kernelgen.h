/* kernelgen.h — outputs of the kernel-operator datasets (docs/datasets.md §3).
 *
 * Implemented in src/kernelgen.c with the Chebyshev H2 product of the
 * double-precision model (linear in N); datagen.h's h2_datagen_kernel_dense
 * is the O(N^2) reference with the same signature and meaning. */
#ifndef H2NN_KERNELGEN_H
#define H2NN_KERNELGEN_H

#include <stdint.h>

/* out = A in for `nsamples` samples; in and out are nsamples x N row-major
 * in the original point order; a_ij = k(x_i, x_j) for the kernel named
 * `kernel` (kernel.h: log, inverse, gaussian, custom), a_ii = 0.  points: N x d. */
int h2_kernelgen_apply(const char *kernel, const double *points, int N, int d, const double *in,
                       int64_t nsamples, double *out);

#endif
