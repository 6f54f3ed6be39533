/* fuzz_common.h — shared by the libFuzzer targets of tests/fuzz/: MPI is
 * initialised once (the readers run on MPI_COMM_SELF), and each input is
 * written to a private temporary file, since the readers take a path (the
 * fuzz build reads it through HDF5's core driver, src/io/h5util.c).  The sandboxed HDF5
 * pre-read (src/io/h5sandbox.c) is switched off: the targets fuzz h2nn's
 * readers in-process, and a crash inside libhdf5 is a finding to triage. */
#ifndef H2NN_FUZZ_COMMON_H
#define H2NN_FUZZ_COMMON_H
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* setenv */
#endif

#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h2nn/util/error.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) MPI_Init(argc, argv);
  /* Every file open creates HDF5's metadata cache, a 528 KB block that its
   * free lists (64 KB per list by default) hand back to malloc at close;
   * under ASan a block that size is an mmap, a poisoned shadow and a
   * quarantine each time, a third of an execution.  Kept on the free list
   * (2 MB per list) it is reused.  In the fuzz build only: the ordinary
   * replay keeps HDF5's defaults, the heap layout h2nn's programs run with
   * (libhdf5's own overflows on some kept findings crash or not depending
   * on that layout, docs/reliability.md). */
#ifdef H2NN_FUZZ
  H5set_free_list_limits(4 << 20, 2 << 20, -1, -1, -1, -1);
#endif
  setenv("H2NN_H5CHECK", "off", 1);
  const char *dir = getenv("TMPDIR");
  snprintf(fuzz_path, sizeof fuzz_path, "%s/h2nn_fuzz.%ld.h5", dir && *dir ? dir : "/tmp", (long)getpid());
  return 0;
}

/* The input as a file at fuzz_path; 0 on success. */
static int fuzz_write_file(const uint8_t *data, size_t size) {
  FILE *f = fopen(fuzz_path, "wb");
  if (!f) return -1;
  size_t n = size ? fwrite(data, 1, size, f) : 0;
  return fclose(f) != 0 || n != size ? -1 : 0;
}

/* An allocation h2nn could not make (H2_EMEM) on an input of a few KB is a
 * finding: runscripts/fuzz.sh caps every single allocation at 1 GB
 * (ASAN_OPTIONS max_allocation_size_mb, since libhdf5 asks for 8 GB on some
 * damaged headers and ASan poisons all of it, 0.3 s each), so a size taken
 * from the file before its storage is checked (#18, docs/reliability.md)
 * fails here instead of growing the process; abort to keep the input. */
static int fuzz_check(int err) {
  if (err == H2_EMEM) {
    fprintf(stderr, "fuzz: out of memory on a small input: %s\n", h2_error_message());
    abort();
  }
  return err;
}

#endif
