/* h2nn_gen.c — the dataset generator program (docs/design.md §7, docs/datasets.md).
 *
 *   h2nn_gen rte|custom|kernel --n N --samples S --seed X --output FILE.h5
 *            [--dim D --geometry grid|random|sphere --kernel log|inverse|gaussian
 *             --test-fraction F]
 *
 * Owns: the option table (util/cli.c parses it and prints --help from it), the
 * split of the samples over the ranks (contiguous ranges of the training
 * and of the test set), the chunked compute-and-write loop with its
 * progress lines, and the provenance attributes.  The data themselves come
 * from rte.c (rte), datagen.c (custom, geometries, bump inputs) and
 * kernelgen.c (kernel outputs). */
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/core/isa.h"
#include "h2nn/gen/datagen.h"
#include "h2nn/util/cli.h"
#include "h2nn/util/error.h"
#include "h2nn/util/split.h"
#include "h2nn/io/input_file.h"
#include "h2nn/gen/kernelgen.h"
#include "h2nn/gen/rte.h"

#define PROG "h2nn_gen"
#define H2_STR(x) #x
#define H2_XSTR(x) H2_STR(x)
/* Bytes of double-precision sample data one rank computes per chunk. */
#define CHUNK_BYTES ((size_t)32 << 20)
#define PROGRESS_SECONDS 2.0

/* ------------------------------------------------------------ options */

typedef struct {
  int64_t n, samples, seed, dim;
  double test_fraction;
  const char *output, *geometry, *kernel;
  const char *generator;
} gen_options;

/* One table for the parser and --help (util/cli.h); the ranges are checked
 * by check_options, whose messages say what the generators need. */
#define OFF(f) offsetof(gen_options, f)
#define ANY -9.2e18, 9.2e18
static const h2_opt_spec option_table[] = {
    {"n", H2_OPT_INT, "320", "N", "number of points N (kernel + grid: rounded to the nearest m^dim)", OFF(n), 0, ANY},
    {"samples", H2_OPT_INT, "20000", "S", "number of samples, train + test", OFF(samples), 0, ANY},
    {"seed", H2_OPT_INT, "0", "X", "random seed (samples, random points)", OFF(seed), 0, ANY},
    {"output", H2_OPT_STRING, NULL, "FILE.h5", "output file (required)", OFF(output), 0, ANY},
    {"test-fraction", H2_OPT_REAL, "0.333333333333333333", "F",
     "fraction of the samples in the test set (1/3: train:test = 2:1)", OFF(test_fraction), 0, ANY},
    {"dim", H2_OPT_INT, "2", "D", "kernel only: dimension 1, 2 or 3 (sphere: 3)", OFF(dim), 0, ANY},
    {"geometry", H2_OPT_STRING, "grid", "G",
     "kernel only: grid (uniform grid), random (uniform in the unit cube), sphere (unit sphere)", OFF(geometry), 0,
     ANY},
    {"kernel", H2_OPT_STRING, "log", "K",
     "kernel only: log (-log r), inverse (1/r), gaussian (exp(-r^2/(2 s^2)), s = " H2_XSTR(H2_GAUSSIAN_SIGMA) ")",
     OFF(kernel), 0, ANY},
};
#define NOPT ((int)(sizeof option_table / sizeof option_table[0]))

static const h2_cli cli = {
    .program = PROG,
    .usage = PROG " rte|custom|kernel --output FILE.h5 [options]",
    .description = "Writes an h2nn input file (docs/design.md §5) with train and test samples.\n"
                   "  rte     docs/datasets.md §1: mu_s -> mean intensity u (1-D slab RTE)\n"
                   "  custom  docs/datasets.md §2: w = A q, a_ij = (x_i+x_j)^2/(N^5 |x_i-x_j|)\n"
                   "  kernel  docs/datasets.md §3: w = A q, a_ij = k(|x_i-x_j|) on a point cloud",
    .opts = option_table,
    .nopts = NOPT,
};

/* Parse argv into *op (the generator is the one positional argument);
 * given[k] tells whether option k appeared. */
static int parse_options(int argc, char **argv, gen_options *op, int *given, int *help) {
  memset(op, 0, sizeof *op);
  int npos = 0;
  const char *pos[1] = {NULL};
  H2_TRY(h2_cli_parse(&cli, argc, argv, op, given, pos, 1, &npos, help));
  op->generator = pos[0];
  return 0;
}

static int opt_index(const char *name) { return h2_cli_find(&cli, name); }

/* Semantic checks of the parsed options. */
static int check_options(gen_options *op, const int *given) {
  if (!op->generator) H2_FAIL(H2_EINPUT, "missing generator: expected rte, custom or kernel");
  int is_kernel = !strcmp(op->generator, "kernel");
  if (!is_kernel && strcmp(op->generator, "rte") && strcmp(op->generator, "custom"))
    H2_FAIL(H2_EINPUT, "unknown generator '%s' (expected rte, custom or kernel)", op->generator);
  if (op->n < 2) H2_FAIL(H2_EINPUT, "--n must be at least 2, got %lld", (long long)op->n);
  if (op->n > INT32_MAX)
    H2_FAIL(H2_EINPUT, "--n must be at most %d, got %lld", INT32_MAX, (long long)op->n);
  if (op->samples < 2)
    H2_FAIL(H2_EINPUT, "--samples must be at least 2, got %lld", (long long)op->samples);
  if (op->seed < 0) H2_FAIL(H2_EINPUT, "--seed must be >= 0, got %lld", (long long)op->seed);
  if (!op->output || !op->output[0]) H2_FAIL(H2_EINPUT, "missing --output FILE.h5");
  if (!(op->test_fraction > 0 && op->test_fraction < 1))
    H2_FAIL(H2_EINPUT, "--test-fraction must be between 0 and 1 (exclusive), got %g",
            op->test_fraction);
  int64_t ntest = llround((double)op->samples * op->test_fraction);
  if (ntest < 1 || ntest >= op->samples)
    H2_FAIL(H2_EINPUT,
            "--samples %lld with --test-fraction %g leaves %lld test and %lld training samples; "
            "both need at least one",
            (long long)op->samples, op->test_fraction, (long long)ntest,
            (long long)(op->samples - ntest));
  if (!is_kernel) {
    const char *only[] = {"dim", "geometry", "kernel"};
    for (int k = 0; k < 3; k++)
      if (given[opt_index(only[k])])
        H2_FAIL(H2_EINPUT, "--%s applies only to the kernel generator (%s is 1-D on the RTE grid)",
                only[k], op->generator);
    return 0;
  }
  h2_geometry g;
  int kk;
  H2_TRY(h2_geometry_parse(op->geometry, &g));
  H2_TRY(h2_datagen_kernel_parse(op->kernel, &kk));
  if (g == H2_GEOM_SPHERE && !given[opt_index("dim")]) op->dim = 3;
  if (op->dim < 1 || op->dim > 3)
    H2_FAIL(H2_EINPUT, "--dim must be 1, 2 or 3, got %lld", (long long)op->dim);
  if (g == H2_GEOM_SPHERE && op->dim != 3)
    H2_FAIL(H2_EINPUT, "--geometry sphere (the unit sphere's surface) needs --dim 3, got %lld",
            (long long)op->dim);
  return 0;
}

/* ------------------------------------------------------------ generation */

typedef enum { GEN_RTE, GEN_CUSTOM, GEN_KERNEL } gen_kind;

typedef struct {
  gen_kind kind;
  int N, d;
  double *points;   /* N x d */
  h2_rte_ws rte;    /* GEN_RTE */
  double *A;        /* GEN_CUSTOM: N x N */
  const gen_options *op;
} generator;

/* Inputs and outputs (double, row-major count x N) of the global samples
 * [g0, g0 + count). */
static int compute_samples(generator *gen, int64_t g0, int64_t count, double *in, double *out,
                           void (*tick)(void *, int64_t), void *tick_ctx) {
  const int N = gen->N;
  const uint64_t seed = (uint64_t)gen->op->seed;
  if (count == 0) return 0; /* an idle collective round */
  switch (gen->kind) {
    case GEN_RTE:
      for (int64_t s = 0; s < count; s++) {
        h2_rte_sample_mus(seed, g0 + s, N, in + s * N, NULL);
        H2_TRY(h2_rte_solve(&gen->rte, in + s * N, out + s * N));
        tick(tick_ctx, 1);
      }
      return 0;
    case GEN_CUSTOM:
      for (int64_t s = 0; s < count; s++) h2_rte_sample_mus(seed, g0 + s, N, in + s * N, NULL);
      H2_TRY(h2_custom_apply(N, gen->A, in, count, out));
      tick(tick_ctx, count);
      return 0;
    case GEN_KERNEL:
      for (int64_t s = 0; s < count; s++)
        h2_datagen_bumps(gen->points, N, gen->d, seed, g0 + s, in + s * N);
      H2_TRY(h2_kernelgen_apply(gen->op->kernel, gen->points, N, gen->d, in, count, out));
      tick(tick_ctx, count);
      return 0;
  }
  H2_FAIL(H2_EINTERNAL, "unknown generator");
}

typedef struct {
  int rank, size;
  int64_t total, local_total, local_done;
  double t0, last;
  const char *what;
} progress;

/* Rank 0 prints about every PROGRESS_SECONDS; the global count is
 * estimated from rank 0's share (all ranks have equal shares +- 1). */
static void progress_tick(void *ctx, int64_t n) {
  progress *p = ctx;
  p->local_done += n;
  if (p->rank != 0) return;
  double now = MPI_Wtime();
  if (now - p->last < PROGRESS_SECONDS || p->local_total == 0) return;
  p->last = now;
  double frac = (double)p->local_done / (double)p->local_total;
  double done = frac * (double)p->total, el = now - p->t0;
  double rate = done / (el > 0 ? el : 1e-9);
  double eta = rate > 0 ? ((double)p->total - done) / rate : 0;
  printf("%s: %s: %lld/%lld samples (%.0f%%), %.1f samples/s, elapsed %.0f s, ETA %.0f s\n", PROG,
         p->what, (long long)done, (long long)p->total, 100.0 * frac, rate, el, eta);
  fflush(stdout);
}

static int setup(generator *gen, const gen_options *op, int64_t *n_actual) {
  memset(gen, 0, sizeof *gen);
  gen->op = op;
  gen->kind = !strcmp(op->generator, "rte")      ? GEN_RTE
              : !strcmp(op->generator, "custom") ? GEN_CUSTOM
                                                 : GEN_KERNEL;
  if (gen->kind == GEN_KERNEL) {
    h2_geometry g;
    int64_t count;
    H2_TRY(h2_geometry_parse(op->geometry, &g));
    H2_TRY(h2_geometry_count(g, (int)op->dim, op->n, &count));
    if (count > INT32_MAX)
      H2_FAIL(H2_EINPUT, "--n %lld gives %lld grid points, at most %d supported",
              (long long)op->n, (long long)count, INT32_MAX);
    gen->N = (int)count;
    gen->d = (int)op->dim;
    H2_TRY(H2_MALLOC(gen->points, (size_t)gen->N * gen->d));
    H2_TRY(h2_geometry_points(g, gen->d, count, (uint64_t)op->seed, gen->points));
  } else {
    gen->N = (int)op->n;
    gen->d = 1;
    H2_TRY(H2_MALLOC(gen->points, gen->N));
    for (int i = 0; i < gen->N; i++) gen->points[i] = (i + 0.5) / gen->N;
    if (gen->kind == GEN_RTE) H2_TRY(h2_rte_ws_init(&gen->rte, gen->N));
    if (gen->kind == GEN_CUSTOM) {
      H2_TRY(H2_MALLOC(gen->A, (size_t)gen->N * gen->N));
      H2_TRY(h2_custom_matrix(gen->N, gen->A));
    }
  }
  *n_actual = gen->N;
  return 0;
}

static void teardown(generator *gen) {
  free(gen->points);
  free(gen->A);
  if (gen->kind == GEN_RTE) h2_rte_ws_free(&gen->rte);
  memset(gen, 0, sizeof *gen);
}

/* the generator and the sample buffers of one run */
static void release(generator *gen, double *din, double *dout, float *fin, float *fout) {
  free(din);
  free(dout);
  free(fin);
  free(fout);
  teardown(gen);
}

/* Compute and write this rank's rows [r0, r1) of set `which` (global
 * sample index = base + row) in chunks; every rank runs the same number of
 * collective rounds. */
static int generate_set(generator *gen, h2_input_writer *w, MPI_Comm comm, int which,
                        int64_t base, int64_t r0, int64_t r1, int64_t chunk, double *din,
                        double *dout, float *fin, float *fout, progress *prog) {
  const int64_t N = gen->N;
  long long mine = (r1 - r0 + chunk - 1) / chunk, rounds = 0;
  H2_MPI(MPI_Allreduce(&mine, &rounds, 1, MPI_LONG_LONG, MPI_MAX, comm));
  for (long long r = 0; r < rounds; r++) {
    int64_t first = r0 + r * chunk;
    int64_t count = first < r1 ? (r1 - first < chunk ? r1 - first : chunk) : 0;
    int err = compute_samples(gen, base + first, count, din, dout, progress_tick, prog);
    if (!err) {
      for (int64_t k = 0; k < count * N; k++) {
        fin[k] = (float)din[k];
        fout[k] = (float)dout[k];
      }
    }
    H2_TRY(h2_error_sync(comm, err));
    H2_TRY(h2_input_writer_rows(w, which, count ? first : 0, count, fin, fout));
  }
  return 0;
}

static int run(const gen_options *op, MPI_Comm comm) {
  int rank, size, err = 0;
  H2_MPI(MPI_Comm_rank(comm, &rank));
  H2_MPI(MPI_Comm_size(comm, &size));
  double t0 = MPI_Wtime();
  generator gen;
  int64_t N = 0;
  err = setup(&gen, op, &N);
  H2_TRY(h2_error_sync(comm, err));

  const int64_t S = op->samples, ntest = llround((double)S * op->test_fraction),
                ntrain = S - ntest;
  int64_t tr0, tr1, te0, te1;
  h2_split_rows(ntrain, rank, size, &tr0, &tr1);
  h2_split_rows(ntest, rank, size, &te0, &te1);
  int64_t chunk = (int64_t)(CHUNK_BYTES / ((size_t)N * sizeof(double)));
  int64_t local_max = (tr1 - tr0) > (te1 - te0) ? (tr1 - tr0) : (te1 - te0);
  if (chunk > local_max) chunk = local_max;
  if (chunk > 4096) chunk = 4096;
  if (chunk < 1) chunk = 1;

  double *din = NULL, *dout = NULL;
  float *fin = NULL, *fout = NULL;
  err = H2_MALLOC(din, (size_t)chunk * N);
  if (!err) err = H2_MALLOC(dout, (size_t)chunk * N);
  if (!err) err = H2_MALLOC(fin, (size_t)chunk * N);
  if (!err) err = H2_MALLOC(fout, (size_t)chunk * N);
  err = h2_error_sync(comm, err);

  char what[128];
  if (gen.kind == GEN_KERNEL)
    snprintf(what, sizeof what, "kernel %s, %s %lldD, N=%lld", op->kernel, op->geometry,
             (long long)op->dim, (long long)N);
  else
    snprintf(what, sizeof what, "%s N=%lld", op->generator, (long long)N);
  if (!err && rank == 0) {
    printf("%s: %s: %lld samples (%lld train, %lld test) on %d rank%s -> %s\n", PROG, what,
           (long long)S, (long long)ntrain, (long long)ntest, size, size > 1 ? "s" : "",
           op->output);
    if (gen.kind == GEN_KERNEL && N != op->n)
      printf("%s: grid of %lld^%lld points: N = %lld (requested %lld)\n", PROG,
             (long long)llround(pow((double)N, 1.0 / (double)op->dim)), (long long)op->dim,
             (long long)N, (long long)op->n);
    h2_blas_warn(stdout, PROG); /* the RTE solver's LU and the kernel products are OpenBLAS's */
    fflush(stdout);
  }

  h2_input_writer w;
  if (!err) err = h2_input_writer_open(&w, op->output, comm, gen.points, N, gen.d, ntrain, ntest);
  if (err) {
    release(&gen, din, dout, fin, fout);
    H2_TRY(err);
  }
  progress prog = {rank, size, S, (tr1 - tr0) + (te1 - te0), 0, t0, t0, what};
  err = generate_set(&gen, &w, comm, H2_INPUT_TRAIN, 0, tr0, tr1, chunk, din, dout, fin, fout,
                     &prog);
  if (!err)
    err = generate_set(&gen, &w, comm, H2_INPUT_TEST, ntrain, te0, te1, chunk, din, dout, fin,
                       fout, &prog);
  if (!err) {
    h2_attr attrs[16];
    int na = 0;
    attrs[na++] = (h2_attr){.name = "generator", .type = H2_ATTR_STRING, .s = op->generator};
    attrs[na++] = (h2_attr){.name = "n", .type = H2_ATTR_INT64, .i = N};
    attrs[na++] = (h2_attr){.name = "samples", .type = H2_ATTR_INT64, .i = S};
    /* not "seed": that root attribute would become the training seed of h2nn_mpi */
    attrs[na++] = (h2_attr){.name = "generator_seed", .type = H2_ATTR_INT64, .i = op->seed};
    attrs[na++] = (h2_attr){.name = "train_samples", .type = H2_ATTR_INT64, .i = ntrain};
    attrs[na++] = (h2_attr){.name = "test_samples", .type = H2_ATTR_INT64, .i = ntest};
    attrs[na++] = (h2_attr){.name = "test_fraction", .type = H2_ATTR_DOUBLE, .d = op->test_fraction};
    if (gen.kind == GEN_RTE)
      attrs[na++] = (h2_attr){.name = "mu_a", .type = H2_ATTR_DOUBLE, .d = H2_RTE_MU_A};
    if (gen.kind == GEN_KERNEL) {
      attrs[na++] = (h2_attr){.name = "dim", .type = H2_ATTR_INT64, .i = op->dim};
      attrs[na++] = (h2_attr){.name = "geometry", .type = H2_ATTR_STRING, .s = op->geometry};
      attrs[na++] = (h2_attr){.name = "kernel", .type = H2_ATTR_STRING, .s = op->kernel};
      attrs[na++] = (h2_attr){.name = "n_requested", .type = H2_ATTR_INT64, .i = op->n};
      if (!strcmp(op->kernel, "gaussian"))
        attrs[na++] =
            (h2_attr){.name = "kernel_sigma", .type = H2_ATTR_DOUBLE, .d = H2_GAUSSIAN_SIGMA};
    }
    err = h2_input_writer_attrs(&w, attrs, na);
  }
  err = h2_input_writer_close(&w, err);
  release(&gen, din, dout, fin, fout);
  H2_TRY(err);
  double secs = MPI_Wtime() - t0;
  if (rank == 0) {
    printf("%s: wrote %s: %s, %lld samples (%lld train, %lld test), seed %lld, %.2f s on %d "
           "rank%s (%.1f samples/s)\n",
           PROG, op->output, what, (long long)S, (long long)ntrain, (long long)ntest,
           (long long)op->seed, secs, size, size > 1 ? "s" : "", (double)S / secs);
    fflush(stdout);
  }
  return 0;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0;
  if (h2_mpi_errors_return(comm) || MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) {
    h2_error_report(comm, PROG);
    MPI_Finalize();
    return 1;
  }
  gen_options op;
  int given[NOPT], help = 0;
  int err = parse_options(argc, argv, &op, given, &help);
  if (!err && !help) err = check_options(&op, given);
  err = h2_error_sync(comm, err);
  if (!err && help) {
    if (rank == 0) h2_cli_print_help(&cli);
    MPI_Finalize();
    return 0;
  }
  if (!err) err = run(&op, comm);
  if (err) h2_error_report(comm, PROG);
  MPI_Finalize();
  return err ? 1 : 0;
}
