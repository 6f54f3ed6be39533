/* mpi_check.h — Check assertions that agree across the ranks of an MPI test.
 *
 * A plain ck_assert that fails on one rank leaves that rank's test while the
 * others wait in the next collective: a hang until the ctest timeout, with
 * no message.  Here a failed MC_CHECK only records the first failure on its
 * rank (file, line, message) and lets the rank go on; MC_SYNC(comm), placed
 * before every collective step and at the end of the test, agrees on
 * whether any rank failed and, if one did, makes EVERY rank fail the test
 * with the lowest failing rank's message ("rank R: file:line: ...").  All
 * ranks thus leave the test at the same point and the next test starts in
 * step.  Checks whose failure would make the following code crash (a model
 * that was not built) are followed by an MC_SYNC at once. */
#ifndef H2NN_TEST_MPI_CHECK_H
#define H2NN_TEST_MPI_CHECK_H

#include <check.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  int failed;
  char msg[900];
} mc_state;

static mc_state mc_first; /* this rank's first failure since the last MC_SYNC */

#define MC_CHECK(cond, ...)                                                                          \
  do {                                                                                               \
    if (!(cond) && !mc_first.failed) {                                                               \
      int mc_n_ = snprintf(mc_first.msg, sizeof mc_first.msg, "%s:%d: ", __FILE__, __LINE__);        \
      snprintf(mc_first.msg + mc_n_, sizeof mc_first.msg - (size_t)mc_n_, "" __VA_ARGS__);           \
      if (!mc_first.msg[mc_n_]) snprintf(mc_first.msg + mc_n_, sizeof mc_first.msg - (size_t)mc_n_, \
                                         "assertion %s failed", #cond);                              \
      mc_first.failed = 1;                                                                           \
    }                                                                                                \
  } while (0)

#define MC_CHECK_INT_EQ(a, b) \
  MC_CHECK((a) == (b), "%s == %s failed: %lld != %lld", #a, #b, (long long)(a), (long long)(b))

static inline void mc_sync(MPI_Comm comm) {
  int rank, lowest;
  MPI_Comm_rank(comm, &rank);
  int mine = mc_first.failed ? rank : 1 << 30;
  MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, comm);
  if (lowest == 1 << 30) return;
  char msg[sizeof mc_first.msg];
  memcpy(msg, mc_first.msg, sizeof msg);
  MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, lowest, comm);
  msg[sizeof msg - 1] = 0;
  memset(&mc_first, 0, sizeof mc_first);
  ck_abort_msg("rank %d: %s", lowest, msg);
}
#define MC_SYNC(comm) mc_sync(comm)

#endif
