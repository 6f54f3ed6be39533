/* datagen.h — data for the generators of docs/datasets.md §2 and §3.
 *
 * Owns: the custom operator of the paper's Section 3.3 on the RTE grid,
 * the point geometries (uniform grid, uniform random, unit sphere), the
 * dense reference product of the named kernels of kernel.h, and the
 * Gaussian-bump inputs of the kernel datasets.  Every random draw is keyed
 * by (seed, stream, sample/point) through rng.h, so data do not depend on
 * the number of ranks or on which rank computes them. */
#ifndef H2NN_DATAGEN_H
#define H2NN_DATAGEN_H

#include <stdint.h>

#include "h2nn/core/kernel.h"

/* ------------------------------------------------------------ custom (§2) */

/* The N x N custom operator on x_i = (i + 1/2)/N (0-based), row-major:
 * a_ij = (x_i + x_j)^2 / (N^5 |x_i - x_j|), a_ii = 0. */
int h2_custom_matrix(int N, double *A);
/* out = A in for nsamples row-major samples (nsamples x N each): one GEMM
 * (out = in A^T).  A is any N x N row-major matrix. */
int h2_custom_apply(int N, const double *A, const double *in, int64_t nsamples, double *out);

/* ------------------------------------------------------------ geometry (§3) */

typedef enum { H2_GEOM_GRID = 0, H2_GEOM_RANDOM = 1, H2_GEOM_SPHERE = 2 } h2_geometry;

/* "grid", "random", "sphere" (fails with H2_EINPUT naming the choices). */
int h2_geometry_parse(const char *name, h2_geometry *g);
const char *h2_geometry_name(h2_geometry g);
/* The number of points actually generated for a request of about n:
 * grid: m^dim with m = the integer nearest to n^(1/dim) (m >= 2; of two
 * equally near counts the larger); random, sphere: n.  Fails for dim
 * outside 1..3 and for sphere with dim != 3. */
int h2_geometry_count(h2_geometry g, int dim, int64_t n, int64_t *count);
/* points (count x dim, row-major) of the geometry, count from
 * h2_geometry_count:
 *  grid    cell centres ((i_0 + 1/2)/m, ..., (i_{dim-1} + 1/2)/m) of the unit
 *          cube, point index i_0 + m i_1 + m^2 i_2 (first coordinate fastest);
 *          in 1-D this is the RTE grid;
 *  random  independent uniform points of [0,1]^dim (seeded);
 *  sphere  the Fibonacci lattice on the unit sphere (deterministic):
 *          z_i = 1 - (2i+1)/count, phi_i = i * pi (3 - sqrt 5). */
int h2_geometry_points(h2_geometry g, int dim, int64_t count, uint64_t seed, double *points);

/* ------------------------------------------------------------ kernels (§3) */

/* The kernels themselves (names, H2_KERNEL_*, H2_GAUSSIAN_SIGMA,
 * h2_kernel_eval) are defined once, in kernel.h. */

/* Kernel id of `name` (kernel.h); fails with H2_EINPUT naming the choices. */
int h2_datagen_kernel_parse(const char *name, int *kind);

/* Dense reference: out = A in, a_ij = k(x_i, x_j) (kernel.h), a_ii = 0, for
 * nsamples row-major samples (nsamples x N) in the original point order.
 * Builds A in row blocks of bounded memory and applies each with one GEMM;
 * O(N^2) per sample, meant for N up to a few thousand. */
int h2_datagen_kernel_dense(const char *kernel, const double *points, int N, int d,
                            const double *in, int64_t nsamples, double *out);

/* Input q (length N) of sample `sample` for a kernel dataset: a random sum
 * of 1..3 Gaussian bumps  sum_b w_b exp(-|x - c_b|^2 / (2 s_b^2))  with
 * centre c_b a random point of the cloud, width s_b = 0.1 + 0.2 U and
 * weight w_b = +-(0.5 + U), drawn from (seed, H2_STREAM_DATA + 1, sample). */
void h2_datagen_bumps(const double *points, int N, int d, uint64_t seed, int64_t sample,
                      double *q);

#endif
