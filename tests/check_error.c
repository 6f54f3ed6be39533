/* check_error.c — the error path's macros (util/error.h): H2_CHECK records
 * the message and returns the code; with MPI_ERRORS_RETURN set
 * (h2_mpi_errors_return), a failing MPI call comes back through H2_MPI as
 * H2_EMPI with MPI's reason, instead of aborting the job. */
#include <check.h>
#include <mpi.h>
#include <string.h>

#include "h2nn/util/error.h"

static int positive(int n) {
  H2_CHECK(n > 0, H2_EINPUT, "n must be positive, got %d", n);
  return 0;
}

static int bad_bcast(void) {
  int x = 0;
  H2_MPI(MPI_Bcast(&x, -1, MPI_INT, 0, MPI_COMM_WORLD)); /* a negative count: MPI_ERR_COUNT */
  return 0;
}

START_TEST(check_macro) {
  h2_error_clear();
  ck_assert_int_eq(positive(3), 0);
  ck_assert_str_eq(h2_error_message(), "");
  ck_assert_int_eq(positive(-2), H2_EINPUT);
  ck_assert_str_eq(h2_error_message(), "n must be positive, got -2");
  ck_assert(strstr(h2_error_where(), "check_error.c:"));
}
END_TEST

START_TEST(mpi_errors_return) {
  ck_assert_int_eq(h2_mpi_errors_return(MPI_COMM_WORLD), 0);
  h2_error_clear();
  ck_assert_int_eq(bad_bcast(), H2_EMPI);
  ck_assert_msg(!strncmp(h2_error_message(), "MPI: ", 5), "message '%s'", h2_error_message());
  ck_assert_int_gt(strlen(h2_error_message()), 5);
  /* the communicator still works, and the failure can be agreed on like any other */
  ck_assert_int_eq(h2_error_sync(MPI_COMM_WORLD, H2_EMPI), H2_EMPI);
  ck_assert_int_eq(h2_error_sync(MPI_COMM_WORLD, 0), 0);
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("error");
  TCase *tc = tcase_create("error");
  tcase_add_test(tc, check_macro);
  tcase_add_test(tc, mpi_errors_return);
  suite_add_tcase(s, tc);
  return s;
}
