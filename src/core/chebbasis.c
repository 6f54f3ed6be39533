/* chebbasis.c — Chebyshev nodes, Lagrange basis, leaf projections and
 * transfers on the cells of a cluster tree (see chebbasis.h). */
#include "h2nn/core/chebbasis.h"

#include <math.h>

#define H2_PI 3.14159265358979323846

static void cell_of(const h2_tree *t, int id, double *lo, double *hi) {
  double wmax = h2_tree_cell_width(t, id);
  for (int c = 0; c < t->d; c++) {
    lo[c] = t->lo[3 * id + c];
    hi[c] = t->hi[3 * id + c];
    double w = hi[c] - lo[c], pad = wmax > 0 ? 1e-3 * wmax : 1e-3 * fmax(1.0, fabs(lo[c]));
    if (w < pad) {
      lo[c] -= 0.5 * pad;
      hi[c] += 0.5 * pad;
    }
  }
}

static double node1(double lo, double hi, int p, int m) {
  return 0.5 * (lo + hi) + 0.5 * (hi - lo) * cos((2.0 * m + 1.0) * H2_PI / (2.0 * p));
}

int h2_cheb_order(int r, int d) {
  for (int p = 1; p <= r; p++) {
    int q = 1;
    for (int c = 0; c < d; c++) q *= p;
    if (q == r) return p;
    if (q > r) break;
  }
  return 0;
}

void h2_cheb_nodes(const h2_tree *t, int id, int p, double *nodes) {
  double lo[3], hi[3];
  int d = t->d, n = 1;
  cell_of(t, id, lo, hi);
  for (int c = 0; c < d; c++) n *= p;
  for (int a = 0; a < n; a++)
    for (int c = 0, rest = a; c < d; c++, rest /= p) nodes[a * d + c] = node1(lo[c], hi[c], p, rest % p);
}

void h2_cheb_basis(const h2_tree *t, int id, int p, const double *x, double *out) {
  double lo[3], hi[3], l1[3][64];
  int d = t->d, n = 1;
  cell_of(t, id, lo, hi);
  for (int c = 0; c < d; c++) {
    n *= p;
    for (int m = 0; m < p; m++) {
      double xm = node1(lo[c], hi[c], p, m), v = 1;
      for (int q = 0; q < p; q++)
        if (q != m) v *= (x[c] - node1(lo[c], hi[c], p, q)) / (xm - node1(lo[c], hi[c], p, q));
      l1[c][m] = v;
    }
  }
  for (int a = 0; a < n; a++) {
    double v = 1;
    for (int c = 0, rest = a; c < d; c++, rest /= p) v *= l1[c][rest % p];
    out[a] = v;
  }
}

void h2_cheb_leaf_basis(const h2_tree *t, int id, int p, double *basis, double *Vt) {
  const int d = t->d;
  int r = 1;
  for (int c = 0; c < d; c++) r *= p;
  int64_t n = t->size[id];
  for (int64_t s = 0; s < n; s++) {
    h2_cheb_basis(t, id, p, t->xt + (t->start[id] + s) * d, basis);
    for (int a = 0; a < r; a++) Vt[a * n + s] = basis[a];
  }
}

void h2_cheb_transfer(const h2_tree *t, int level, int c, int p, double *nodes, double *basis, double *T) {
  const int d = t->d;
  int r = 1;
  for (int k = 0; k < d; k++) r *= p;
  int id = h2_box_id(level, c), parent = h2_box_id(level - 1, c / 2);
  h2_cheb_nodes(t, id, p, nodes);
  for (int a = 0; a < r; a++) {
    h2_cheb_basis(t, parent, p, nodes + a * d, basis);
    for (int b = 0; b < r; b++) T[b * r + a] = basis[b];
  }
}
