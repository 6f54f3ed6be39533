/* relu_mask.h — the plain ReLU-mask-and-sum loop of the bias gradient,
 * written once for both precisions: the float32 kernel sets' tail columns
 * (k_relu_bias_grad, kernels_common.h) and the whole rows of the
 * double-precision build (h2_bsl_backward, bsl.c).  A macro, as the element
 * type differs; it adds in column order, one sum, so each caller's
 * summation order is the one it had. */
#ifndef H2NN_RELU_MASK_H
#define H2NN_RELU_MASK_H

/* d[c] = 0 where relu and not z[c] > 0 (NaN included), then s += d[c], for c = c0 .. n-1 in order */
#define H2_RELU_MASK_SUM(d, z, c0, n, relu, s)                                                             \
  for (int c_ = (c0); c_ < (n); c_++) {                                                                     \
    if ((relu) && !((z)[c_] > 0)) (d)[c_] = 0;                                                              \
    (s) += (d)[c_];                                                                                         \
  }

#endif
