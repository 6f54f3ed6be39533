/* cheb.h — Chebyshev-interpolation H2 approximation of a kernel matrix
 * (docs/design.md §6): tensor Chebyshev nodes per box, Lagrange projection/transfer
 * operators, kernel blocks, and setting a zeta = 1 network's weights so that
 * its forward pass IS the H2 matrix-vector product:
 *   Vt_k[a][t] = L^k_a(x_t),  Ut_k = Vt_k^T,  T_c[b][a] = L^p_b(xi^c_a),
 *   S_c = T_c^T,  far W_ij = k(xi^i, xi^j),  close W_ij = k(x_i, x_j). */
#ifndef H2NN_CHEB_H
#define H2NN_CHEB_H

#include "h2nn/model/model.h"
#include "h2nn/core/chebbasis.h"
#include "h2nn/core/tree.h"

#define h2_cheb_set_weights H2_PREC(h2_cheb_set_weights)
#define h2_cheb_set_transfers H2_PREC(h2_cheb_set_transfers)

/* Set the linear paths (leaf Vt, Ut and transfers T, S) to the Chebyshev
 * operators of the model's boxes (rank r = p^d); other weights untouched. */
int h2_cheb_set_transfers(const h2_model *m, real *params);

/* Set all weights of a zeta = 1 model (rank r = p^d) from kernel `kind`. */
int h2_cheb_set_weights(const h2_model *m, int kind, real *params);

#endif
