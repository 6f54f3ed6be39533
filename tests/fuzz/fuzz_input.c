/* fuzz_input.c — libFuzzer target: the input-file validator (open: the
 * structure of /points and the sample datasets, /points values; scan: every
 * sample value) and the option attributes, on arbitrary bytes.  A crash, a
 * sanitizer report or a hang (libFuzzer's -timeout) is a finding; a refusal
 * is the expected outcome. */
#include "fuzz_common.h"

#include "h2nn/io/input_file.h"
#include "h2nn/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (fuzz_write_file(data, size)) return 0;
  h2_input in;
  if (fuzz_check(h2_input_open(&in, fuzz_path, MPI_COMM_SELF)) == 0) {
    h2_input_stats st;
    double *mean = in.N <= (1 << 20) ? calloc((size_t)in.N, sizeof *mean) : NULL;
    fuzz_check(h2_input_scan(&in, MPI_COMM_SELF, (size_t)1 << 20, &st, mean));
    free(mean);
    static const char *const attrs[] = {"leaf_size", "rank", "lr", "eta", "batch_size", "iterations"};
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++) {
      double v;
      int found;
      fuzz_check(h2_input_attr(&in, attrs[i], &v, &found));
    }
    h2_input_close(&in, MPI_COMM_SELF);
  }
  h2_error_clear();
  unlink(fuzz_path);
  return 0;
}
