/* fuzz_checkpoint.c — libFuzzer target: the checkpoint reader (header:
 * attributes, points, output mean, optimizer step; the model built from it;
 * the state: every parameter group, both Adam moments, the history) and the
 * history reader of h2nn_history, on arbitrary bytes.  Models beyond 4096
 * points are not built (time, not correctness: the header was validated). */
#include "fuzz_common.h"

#include "h2nn/io/checkpoint.h"
#include "h2nn/io/h5util.h"
#include "h2nn/io/history.h"
#include "h2nn/model/model.h"
#include "h2nn/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (fuzz_write_file(data, size)) return 0;
  h2_ckpt_header h;
  if (fuzz_check(h2_ckpt_read_header(fuzz_path, MPI_COMM_SELF, &h)) == 0) {
    h2_model m;
    memset(&m, 0, sizeof m);
    if (h.N <= 4096 && fuzz_check(h2_model_build(&m, h.points, h.N, h.d, &h.cfg, 8, NULL)) == 0) {
      real *p = calloc((size_t)m.nparams + 1, sizeof *p), *m1 = calloc((size_t)m.nparams + 1, sizeof *m1),
           *v1 = calloc((size_t)m.nparams + 1, sizeof *v1);
      h2_adam adam = {0};
      h2_history hist = {0};
      if (p && m1 && v1) fuzz_check(h2_ckpt_read_state(fuzz_path, MPI_COMM_SELF, &m, p, m1, v1, &adam, &hist));
      h2_history_free(&hist);
      free(p), free(m1), free(v1);
      h2_model_free(&m);
    }
    h2_ckpt_header_free(&h);
  }
  hid_t f = -1;
  if (fuzz_check(h2_h5_open_read(&f, fuzz_path, MPI_COMM_SELF)) == 0) {
    h2_history hist = {0};
    fuzz_check(h2_history_read(f, fuzz_path, &hist));
    h2_history_free(&hist);
    h2_h5_close(&f, MPI_COMM_SELF);
  }
  h2_error_clear();
  unlink(fuzz_path);
  return 0;
}
