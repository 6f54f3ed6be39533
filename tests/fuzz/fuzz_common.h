/* fuzz_common.h — shared by the libFuzzer targets of tests/fuzz/: MPI is
 * initialised once (the readers run on MPI_COMM_SELF), and each input is
 * written to a private temporary file, since the readers take a path (the
 * parallel-HDF5 driver reads files, not memory).  The sandboxed HDF5
 * pre-read (src/io/h5sandbox.c) is switched off: the targets fuzz h2nn's
 * readers in-process, and a crash inside libhdf5 is a finding to triage. */
#ifndef H2NN_FUZZ_COMMON_H
#define H2NN_FUZZ_COMMON_H
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* setenv */
#endif

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) MPI_Init(argc, argv);
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

#endif
