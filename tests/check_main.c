/* check_main.c — shared main() for the Check unit-test programs.
 * Each test file defines `Suite *h2nn_suite(void)`.  MPI is initialised once
 * (singleton) and tests run without fork so they may call MPI. */
#include <check.h>
#include <mpi.h>
#include <stdlib.h>

Suite *h2nn_suite(void);

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  SRunner *sr = srunner_create(h2nn_suite());
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  MPI_Finalize();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
