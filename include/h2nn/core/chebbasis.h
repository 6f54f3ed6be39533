/* chebbasis.h — Chebyshev interpolation on the cells of a cluster tree:
 * tensor nodes per box, the Lagrange basis, and the two operators built from
 * them, the leaf projection Vt and the child-to-parent transfer T.  Pure
 * geometry in float64, shared by the network's kernel start (model/cheb.c)
 * and the kernel-dataset generator (gen/kernelgen.c). */
#ifndef H2NN_CHEBBASIS_H
#define H2NN_CHEBBASIS_H

#include "h2nn/core/tree.h"

/* Number of nodes per dimension for rank r = p^d (0 if r is not a d-th power). */
int h2_cheb_order(int r, int d);

/* p^d tensor Chebyshev nodes of box `id` (cell of the tree; degenerate sides
 * widened).  nodes: [p^d * d], multi-index a = a0 + p a1 + p^2 a2. */
void h2_cheb_nodes(const h2_tree *t, int id, int p, double *nodes);

/* Lagrange basis of box `id` at point x: out[a], a < p^d. */
void h2_cheb_basis(const h2_tree *t, int id, int p, const double *x, double *out);

/* Vt (r x n, r = p^d, n = points of leaf box id): Vt[a][s] = L^id_a(x_s).
 * basis: scratch of r doubles. */
void h2_cheb_leaf_basis(const h2_tree *t, int id, int p, double *basis, double *Vt);

/* T (r x r) of box c of `level`: T[b][a] = L^parent_b(xi^c_a), the parent's
 * basis at the child's nodes.  nodes: scratch of r d, basis: of r doubles. */
void h2_cheb_transfer(const h2_tree *t, int level, int c, int p, double *nodes, double *basis, double *T);

#endif
