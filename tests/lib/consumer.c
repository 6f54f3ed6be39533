/* consumer.c — a program that uses h2nn as an installed library would: it
 * includes only <h2nn/h2nn.h> and is built against the installed package
 * (find_package(h2nn) or pkg-config) by tests/programs/library_consumer.sh.
 *
 *   consumer CKPT IN.bin OUT.bin NSAMPLES
 *
 * IN.bin: NSAMPLES x N float32 inputs (original point order, as h5dump -b
 * writes /test/input); OUT.bin: the operator's outputs as float32, the
 * layout of h2nn_mpi --predict's /test/prediction.  The samples are split
 * over the ranks at multiples of 64 (as --predict splits them), each rank
 * applies the operator to its share, rank 0 gathers and writes.  Also
 * checks the error path: opening a missing checkpoint fails on every rank
 * with a message naming it, the caller's communicator keeps its error
 * handler, and a NaN input fails naming its sample. */
#include <h2nn/h2nn.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
  fprintf(stderr, "consumer: %s\n", what);
  MPI_Abort(MPI_COMM_WORLD, 1);
  return 1;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc != 5) return fail("usage: consumer CKPT IN.bin OUT.bin NSAMPLES");
  const int64_t ns = atoll(argv[4]);

  h2nn_operator *op = (h2nn_operator *)1;
  int err = h2nn_open("no_such_checkpoint.h5", MPI_COMM_WORLD, &op);
  if (err != H2NN_ERR_INPUT || op != NULL || !strstr(h2nn_error_message(), "no_such_checkpoint.h5"))
    return fail("opening a missing checkpoint did not fail with H2NN_ERR_INPUT naming it");
  if (rank == 0) printf("consumer: expected error: %s\n", h2nn_error_message());
  MPI_Errhandler eh;
  MPI_Comm_get_errhandler(MPI_COMM_WORLD, &eh);
  if (eh != MPI_ERRORS_ARE_FATAL) return fail("h2nn_open changed the error handler of MPI_COMM_WORLD");
  MPI_Errhandler_free(&eh);

  if (h2nn_open(argv[1], MPI_COMM_WORLD, &op)) {
    fprintf(stderr, "consumer: %s\n", h2nn_error_message());
    return fail("h2nn_open failed");
  }
  const int64_t N = h2nn_num_points(op);
  if (N < 1 || h2nn_dim(op) < 1 || h2nn_dim(op) > 3 || !h2nn_points(op)) return fail("bad point cloud");
  double *bad = calloc((size_t)(2 * N), sizeof(double));
  if (!bad) return fail("out of memory");
  bad[N + 3] = 0.0 / 0.0; /* sample 1, point 3: NaN */
  if (h2nn_apply(op, 2, bad, bad) != H2NN_ERR_INPUT || !strstr(h2nn_error_message(), "sample 1"))
    return fail("a NaN input did not fail with H2NN_ERR_INPUT naming the sample");
  free(bad);

  /* this rank's samples: whole chunks of 64 */
  int64_t chunks = (ns + 63) / 64, first = chunks * rank / size * 64, last = chunks * (rank + 1) / size * 64;
  if (first > ns) first = ns;
  if (last > ns) last = ns;
  int64_t n = last - first;
  float *f = malloc(sizeof(float) * (size_t)(n * N + 1));
  double *x = malloc(sizeof(double) * (size_t)(n * N + 1));
  if (!f || !x) return fail("out of memory");
  FILE *in = fopen(argv[2], "rb");
  if (!in || fseek(in, (long)(first * N * 4), SEEK_SET) || fread(f, 4, (size_t)(n * N), in) != (size_t)(n * N))
    return fail("cannot read the inputs");
  fclose(in);
  for (int64_t i = 0; i < n * N; i++) x[i] = f[i];
  if (h2nn_apply(op, n, x, x)) {
    fprintf(stderr, "consumer: %s\n", h2nn_error_message());
    return fail("h2nn_apply failed");
  }
  for (int64_t i = 0; i < n * N; i++) f[i] = (float)x[i];
  h2nn_free(op);

  int *counts = malloc(sizeof(int) * (size_t)size), *displs = malloc(sizeof(int) * (size_t)size);
  float *all = rank == 0 ? malloc(sizeof(float) * (size_t)(ns * N)) : NULL;
  int mine = (int)(n * N);
  MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rank == 0)
    for (int q = 0, pos = 0; q < size; pos += counts[q], q++) displs[q] = pos;
  MPI_Gatherv(f, mine, MPI_FLOAT, all, counts, displs, MPI_FLOAT, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    FILE *out = fopen(argv[3], "wb");
    if (!out || fwrite(all, 4, (size_t)(ns * N), out) != (size_t)(ns * N) || fclose(out)) return fail("cannot write");
    printf("consumer: applied the operator to %lld samples of %lld points on %d ranks\n", (long long)ns,
           (long long)N, size);
  }
  free(f), free(x), free(all), free(counts), free(displs);
  MPI_Finalize();
  return 0;
}
