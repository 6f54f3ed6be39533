/* real.h — the floating-point type of the network code.
 *
 * The model sources (bsl, model, model_init, cheb, adam) are compiled twice:
 * float32 for training (library h2nn_model_f) and float64 with H2NN_DOUBLE
 * (h2nn_model_d) for the exactness and finite-difference tests and for the
 * kernel generator.  H2_PREC(name) gives every precision-dependent symbol a
 * _f / _d suffix so both libraries can be linked into one program. */
#ifndef H2NN_REAL_H
#define H2NN_REAL_H

#include <cblas.h>

#ifdef H2NN_DOUBLE
typedef double real;
#define H2_PREC(name) name##_d
#define H2_MPI_REAL MPI_DOUBLE
#define cblas_xgemm cblas_dgemm
#define cblas_xaxpy cblas_daxpy
#define cblas_xdot cblas_ddot
#define cblas_xscal cblas_dscal
#define h2_sqrt sqrt
#else
typedef float real;
#define H2_PREC(name) name##_f
#define H2_MPI_REAL MPI_FLOAT
#define cblas_xgemm cblas_sgemm
#define cblas_xaxpy cblas_saxpy
#define cblas_xdot cblas_sdot
#define cblas_xscal cblas_sscal
#define h2_sqrt sqrtf
#endif

#endif
