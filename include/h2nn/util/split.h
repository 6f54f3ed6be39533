/* split.h — the balanced split of `total` rows over the ranks of a
 * communicator: rank k owns rows [r0, r1), contiguous, in rank order, the
 * first total % size ranks one row more.  (Input-file scans and the dataset
 * generator split samples this way.) */
#ifndef H2NN_SPLIT_H
#define H2NN_SPLIT_H

#include <stdint.h>

static inline void h2_split_rows(int64_t total, int rank, int size, int64_t *r0, int64_t *r1) {
  int64_t q = total / size, r = total % size;
  *r0 = rank * q + (rank < r ? rank : r);
  *r1 = *r0 + q + (rank < r ? 1 : 0);
}

#endif
