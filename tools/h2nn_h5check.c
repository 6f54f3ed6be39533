/* h2nn_h5check — the sandboxed HDF5 pre-read (docs/reliability.md, "Inside
 * libhdf5").
 *
 *   h2nn_h5check [--timeout SECONDS] [--memory MB] [--] FILE.h5
 *
 * Owns: decoding all of FILE's metadata with libhdf5, alone in a process
 * of its own under hard limits, so that a file which makes libhdf5 1.10
 * crash, loop or allocate without end (three such checkpoints were found by
 * fuzzing) takes down this process, not an MPI job.  h2nn_mpi, h2nn_history
 * and the library run it on rank 0 before they open a file
 * (src/io/h5sandbox.c), and refuse the file when it does not end cleanly.
 *
 * It opens FILE read-only with HDF5's default (sec2) driver, no MPI, and
 * touches everything h2nn's readers may touch, by the same calls: every
 * link (listed group by group with H5Literate, then H5Lexists and H5Oopen by
 * its full path; h2nn's own fixed names looked up, present or not; and a lookup
 * of a name that is absent in every group), every attribute of every object
 * (H5Aexists, H5Aopen by name, read whole in its native type — variable-
 * length strings and sequences included, then reclaimed), every dataset's
 * type, dataspace, creation properties and storage size (not its values).
 * An error that libhdf5 reports cleanly is noted and the walk goes on (the
 * readers of h2nn refuse such a file themselves, with a precise message).
 *
 * Limits, set before the file is touched: CPU time and wall-clock time
 * (--timeout, default 10 s: RLIMIT_CPU, then SIGXCPU/SIGKILL; alarm(),
 * SIGALRM) and address space (--memory, default 512 MB on top of what the
 * process maps at start; RLIMIT_AS — not under AddressSanitizer, whose
 * shadow memory needs terabytes of address space: there ASan's own
 * hard_rss_limit_mb is set instead).
 *
 * Exit status: 0 every object decoded; 1 libhdf5 reported errors (the first
 * one printed); 2 usage or FILE cannot be opened at all; 3 out of memory
 * under the limit; 4 a sanitizer report (ASan/UBSan builds); killed by a
 * signal when libhdf5 crashed (SIGSEGV, SIGBUS, SIGABRT ...) or ran out of
 * time (SIGXCPU, SIGALRM, SIGKILL).  Everything printed goes to stdout, one
 * line.  A SIGSEGV or SIGBUS after the address space came near the limit
 * is reported as out of memory (status 3): libhdf5 then dereferences the
 * NULL of an allocation that failed. */
#define _GNU_SOURCE /* setrlimit, alarm */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "h2nn/io/h5util.h"

#if defined(__SANITIZE_ADDRESS__)
#define H2_H5CHECK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H2_H5CHECK_ASAN 1
#endif
#endif

#ifdef H2_H5CHECK_ASAN
/* Under the sanitizers: a report ends the process with status 4, and the
 * resident size is capped (RLIMIT_AS cannot be used with ASan). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "exitcode=4:hard_rss_limit_mb=768:allocator_may_return_null=1:detect_leaks=0"; }
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "exitcode=4:print_stacktrace=1"; }
#endif

#define ABSENT_NAME "h2nn_h5check_absent"
/* Largest attribute read whole (bytes); larger ones are noted as errors. */
#define MAX_ATTR_BYTES ((size_t)64 << 20)

typedef struct {
  hid_t file;
  long links, datasets, groups, attrs;
  int nerrors;
  int oom; /* an allocation inside libhdf5 failed */
  size_t base;   /* address space mapped at start (bytes) */
  haddr_t *seen; /* groups walked */
  long ngroups;
  char first[2048];
} walk;

static herr_t stack_cb(unsigned n, const H5E_error2_t *e, void *data) {
  walk *w = data;
  if (e->min_num == H5E_CANTALLOC || e->min_num == H5E_NOSPACE) w->oom = 1;
  (void)n;
  return 0;
}

static herr_t first_desc_cb(unsigned n, const H5E_error2_t *e, void *data) {
  char *buf = data;
  if (n == 0 && e && e->desc) snprintf(buf, 256, "%s", e->desc);
  return 0;
}

/* Note a failed call on OBJ (the HDF5 error stack says why), then go on. */
static void note(walk *w, const char *what, const char *obj) {
  char why[256] = "";
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, stack_cb, w);
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_desc_cb, why);
  H5Eclear2(H5E_DEFAULT);
  if (errno == ENOMEM) w->oom = 1;
  if (w->nerrors++ == 0) snprintf(w->first, sizeof w->first, "%s %s: %s", what, obj, why[0] ? why : "failed");
}

/* Type TYPE is safe to convert: every numeric part has a plausible bit
 * layout (HDF5 trusts it; h2nn refuses such types before reading). */
static int convertible(hid_t type, int depth) {
  char why[160];
  if (depth > 8) return 0;
  if (h2_h5_numeric_layout(type, why, sizeof why) != 0) return 0;
  H5T_class_t c = H5Tget_class(type);
  int ok = 1;
  if (c == H5T_COMPOUND) {
    int n = H5Tget_nmembers(type);
    if (n < 0) return 0;
    for (int i = 0; i < n && ok; i++) {
      hid_t m = H5Tget_member_type(type, (unsigned)i);
      ok = m >= 0 && convertible(m, depth + 1);
      if (m >= 0) H5Tclose(m);
    }
  } else if (c == H5T_ARRAY || c == H5T_VLEN || c == H5T_ENUM) {
    hid_t b = H5Tget_super(type);
    ok = b >= 0 && convertible(b, depth + 1);
    if (b >= 0) H5Tclose(b);
  }
  H5Eclear2(H5E_DEFAULT);
  return ok;
}

/* Read attribute NAME of OBJ (at PATH) whole in its native type. */
static void read_attr(walk *w, hid_t obj, const char *path, const char *name) {
  char where[1400];
  snprintf(where, sizeof where, "%s of %s", name, path);
  htri_t ex = H5Aexists(obj, name);
  if (ex <= 0) {
    if (ex < 0) note(w, "cannot look up attribute", where);
    return;
  }
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) {
    note(w, "cannot open attribute", where);
    return;
  }
  w->attrs++;
  hid_t t = H5Aget_type(a), s = H5Aget_space(a), mt = -1;
  hssize_t n = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
  if (t < 0 || s < 0 || n < 0) {
    note(w, "cannot query attribute", where);
  } else if (!convertible(t, 0)) {
    /* a damaged numeric type: h2nn refuses it by name before any read */
  } else if ((mt = H5Tget_native_type(t, H5T_DIR_ASCEND)) < 0) {
    note(w, "no native type for attribute", where);
  } else {
    size_t esize = H5Tget_size(mt);
    if (esize == 0 || (size_t)n > MAX_ATTR_BYTES / esize) {
      if (w->nerrors++ == 0)
        snprintf(w->first, sizeof w->first, "attribute %s: %lld values of %zu bytes, more than %zu MB", where,
                 (long long)n, esize, MAX_ATTR_BYTES >> 20);
    } else if (n > 0) {
      void *buf = calloc((size_t)n, esize);
      if (!buf) {
        w->oom = 1;
      } else {
        /* anything variable-length inside (sequences, strings) is allocated by the read */
        int vl = H5Tdetect_class(mt, H5T_VLEN) > 0 || H5Tis_variable_str(mt) > 0;
        H5Eclear2(H5E_DEFAULT);
        if (H5Aread(a, mt, buf) < 0) note(w, "cannot read attribute", where);
        else if (vl && H5Dvlen_reclaim(mt, s, H5P_DEFAULT, buf) < 0) note(w, "cannot free attribute", where);
        free(buf);
      }
    }
  }
  if (mt >= 0) H5Tclose(mt);
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  H5Aclose(a);
}

typedef struct {
  walk *w;
  hid_t obj;
  const char *path;
} attr_ctx;

static herr_t attr_cb(hid_t obj, const char *name, const H5A_info_t *info, void *data) {
  attr_ctx *c = data;
  read_attr(c->w, c->obj, c->path, name);
  (void)obj, (void)info;
  return 0;
}

/* The attribute names h2nn's readers look up on groups (a checkpoint's
 * /model and /optimizer, an input file's root: src/io/checkpoint.c,
 * src/app/validation.c, the option table of src/app/options.c), whether the
 * file has them or not: a lookup by name takes another path through the
 * object header (and the attribute index of dense storage) than a listing. */
static const char *const group_attr_names[] = {
    "format_version", "N", "d", "rank", "zeta", "leaf_size", "close_hidden", "far_hidden", "seed", "eta",
    "input_scale", "output_scale", "activation", "step", "wall_time", "lr_schedule", "warmup", "lr_final",
    "ema_decay", "validation_fraction", "plateau_best", "plateau_bad", "plateau_factor", "best_validation_error",
    "best_iteration", "lr_peak", "iterations", "batch_size", "lr", "beta1", "beta2", "adam_eps", "lr_horizon",
    "ema", "eval_every", "eval_samples", "checkpoint_every", ABSENT_NAME};

/* Every attribute of OBJ (listed, then each read by name); on groups also
 * the names h2nn looks up; on every object the lookup of an absent name. */
static void attrs(walk *w, hid_t obj, const char *path, int is_group) {
  attr_ctx c = {w, obj, path};
  hsize_t idx = 0;
  if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, attr_cb, &c) < 0)
    note(w, "cannot list the attributes of", path);
  if (is_group)
    for (size_t i = 0; i < sizeof group_attr_names / sizeof group_attr_names[0]; i++)
      read_attr(w, obj, path, group_attr_names[i]);
  else if (H5Aexists(obj, ABSENT_NAME) < 0)
    note(w, "cannot look up an attribute of", path);
}

static void dataset(walk *w, hid_t d, const char *path) {
  w->datasets++;
  hid_t t = H5Dget_type(d), s = H5Dget_space(d), p = H5Dget_create_plist(d);
  if (t < 0 || s < 0 || p < 0) note(w, "cannot query dataset", path);
  if (s >= 0) {
    hsize_t dims[H5S_MAX_RANK];
    if (H5Sget_simple_extent_dims(s, dims, NULL) < 0) note(w, "cannot get the shape of dataset", path);
  }
  if (p >= 0) {
    H5D_layout_t l = H5Pget_layout(p);
    if (l == H5D_CHUNKED) {
      hsize_t cd[H5S_MAX_RANK];
      if (H5Pget_chunk(p, H5S_MAX_RANK, cd) < 0) note(w, "cannot get the chunks of dataset", path);
    }
  }
  H5Eclear2(H5E_DEFAULT);
  (void)H5Dget_storage_size(d);
  H5Eclear2(H5E_DEFAULT);
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  if (p >= 0) H5Pclose(p);
}

/* Groups already walked (object addresses): hard links may form cycles. */
#define MAX_GROUPS 100000

typedef struct {
  char path[4096];
  int is_group;
} child;

static void group(walk *w, hid_t g, const char *path, int depth);

/* The object at PATH, opened by its full path as h2nn's readers do. */
static void object(walk *w, const char *path, int depth) {
  hid_t o = H5Oopen(w->file, path, H5P_DEFAULT);
  if (o < 0) {
    note(w, "cannot open object", path);
    return;
  }
  H5I_type_t ty = H5Iget_type(o);
  attrs(w, o, path, ty == H5I_GROUP);
  if (ty == H5I_DATASET) dataset(w, o, path);
  if (ty == H5I_GROUP) group(w, o, path, depth);
  H5Oclose(o);
}

typedef struct {
  walk *w;
  const char *path;
  child *kids;
  size_t n, cap;
} list_ctx;

static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
  list_ctx *c = data;
  c->w->links++;
  /* soft links: their target has a hard link of its own; external links are never followed */
  if (info->type != H5L_TYPE_HARD) return 0;
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 16;
    child *k = realloc(c->kids, cap * sizeof *k);
    if (!k) {
      c->w->oom = 1;
      return -1;
    }
    c->kids = k, c->cap = cap;
  }
  snprintf(c->kids[c->n].path, sizeof c->kids[c->n].path, "%s/%s", strcmp(c->path, "/") ? c->path : "", name);
  c->n++;
  (void)g;
  return 0;
}

/* Group G at PATH: a lookup of an absent name (every lookup decodes the
 * group's local heap or its link index first), then each link — listed by
 * H5Literate, past a link that fails — looked up by its full path and
 * walked. */
static void group(walk *w, hid_t g, const char *path, int depth) {
  H5O_info_t oi;
  if (H5Oget_info2(g, &oi, H5O_INFO_BASIC) < 0) {
    note(w, "cannot get the header of group", path);
    return;
  }
  for (long i = 0; i < w->ngroups; i++)
    if (w->seen[i] == oi.addr) return;
  if (w->ngroups == MAX_GROUPS || depth > 64) {
    if (w->nerrors++ == 0) snprintf(w->first, sizeof w->first, "more than %d groups or 64 levels", MAX_GROUPS);
    return;
  }
  w->seen[w->ngroups++] = oi.addr;
  w->groups++;
  if (H5Lexists(g, ABSENT_NAME, H5P_DEFAULT) < 0) note(w, "cannot look up a name in group", path);
  list_ctx c = {w, path, NULL, 0, 0};
  H5G_info_t gi;
  hsize_t nlinks = H5Gget_info(g, &gi) < 0 ? 0 : gi.nlinks;
  H5Eclear2(H5E_DEFAULT);
  hsize_t idx = 0;
  for (int tries = 0; tries < 1000; tries++) {
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, list_cb, &c) >= 0) break;
    note(w, "cannot list the links of group", path);
    if (w->oom || ++idx >= nlinks) break; /* go on past the failing link */
  }
  for (size_t i = 0; i < c.n; i++) {
    htri_t ex = H5Lexists(w->file, c.kids[i].path, H5P_DEFAULT);
    if (ex < 0) note(w, "cannot look up", c.kids[i].path);
    else if (ex > 0) object(w, c.kids[i].path, depth + 1);
  }
  free(c.kids);
}

/* The fixed names h2nn's readers look up (src/io/checkpoint.c,
 * input_file.c, history.c), whether the file has them or not: a lookup
 * decodes every group on the way. */
static void lookups(walk *w) {
  static const char *const names[] = {
      "/model/points", "/model/output_mean", "/model/perm", "/model/leaf_sizes", "/optimizer/m", "/optimizer/v",
      "/ema", "/history/iteration", "/history/wall_time", "/history/train_loss", "/history/train_error",
      "/history/test_error", "/points", "/train/input", "/train/output", "/test/input", "/test/output"};
  char buf[64];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    /* prefix by prefix, as h2_h5_exists does (H5Lexists needs every parent) */
    for (const char *p = names[i] + 1;; p++) {
      if (*p != '/' && *p) continue;
      snprintf(buf, sizeof buf, "%.*s", (int)(p - names[i]), names[i]);
      htri_t ex = H5Lexists(w->file, buf, H5P_DEFAULT);
      if (ex < 0) note(w, "cannot look up", buf);
      if (ex <= 0 || !*p) break;
    }
  }
}

static int usage(const char *prog) {
  fprintf(stdout, "usage: %s [--timeout SECONDS] [--memory MB] [--] FILE.h5\n", prog);
  return 2;
}

/* Address space mapped now (bytes; 0 when unknown). */
static size_t mapped_now(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (!f) return 0;
  if (fscanf(f, "%lu", &pages) != 1) pages = 0;
  fclose(f);
  return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Largest address space mapped so far (bytes; 0 when unknown). */
static size_t peak_mapped(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  unsigned long kb = 0;
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmPeak: %lu kB", &kb) == 1) break;
  fclose(f);
  return (size_t)kb << 10;
}

#ifndef H2_H5CHECK_ASAN
/* A crash after the address space reached the limit is libhdf5 using the
 * NULL of an allocation that failed there (it does not check them all):
 * memory exhaustion (status 3), not a crash of its own.  Async-signal-safe:
 * open/read of /proc/self/status and _exit only. */
static size_t oom_threshold; /* set once before the walk; read by the handler */

static void on_fault(int sig) {
  char buf[2048];
  size_t kb = 0;
  int fd = open("/proc/self/status", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (n > 0) {
    buf[n] = 0;
    char *p = strstr(buf, "VmPeak:");
    if (p)
      for (p += 7; *p == ' ' || *p == '\t' || (*p >= '0' && *p <= '9'); p++)
        if (*p >= '0' && *p <= '9') kb = 10 * kb + (size_t)(*p - '0');
  }
  if (kb && (kb << 10) >= oom_threshold) _exit(3);
  signal(sig, SIG_DFL); /* returning re-executes the fault: killed by SIG */
}

static void catch_faults(size_t threshold) {
  static char stack[64 << 10]; /* the fault may be a stack overflow */
  stack_t ss = {.ss_sp = stack, .ss_size = sizeof stack};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  oom_threshold = threshold;
  sigaltstack(&ss, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
}
#endif

static int set_limits(long timeout, long memory_mb, size_t base) {
  struct rlimit cpu = {(rlim_t)timeout, (rlim_t)timeout + 1};
  if (setrlimit(RLIMIT_CPU, &cpu) != 0) return -1;
  alarm((unsigned)(3 * timeout)); /* a wait that burns no CPU */
#ifndef H2_H5CHECK_ASAN
  struct rlimit as = {(rlim_t)(base + ((size_t)memory_mb << 20)), 0};
  as.rlim_max = as.rlim_cur;
  struct rlimit old;
  if (getrlimit(RLIMIT_AS, &old) == 0 && old.rlim_cur != RLIM_INFINITY && old.rlim_cur < as.rlim_cur) return 0;
  if (setrlimit(RLIMIT_AS, &as) != 0) return -1;
  catch_faults(base + ((size_t)memory_mb << 19));
#else
  (void)memory_mb;
#endif
  return 0;
}

int main(int argc, char **argv) {
  long timeout = 10, memory_mb = 512;
  const char *path = NULL;
  int opts = 1;
  for (int i = 1; i < argc; i++) {
    char *end;
    if (opts && !strcmp(argv[i], "--")) {
      opts = 0;
    } else if (opts && (!strcmp(argv[i], "--timeout") || !strcmp(argv[i], "--memory")) && i + 1 < argc) {
      long v = strtol(argv[i + 1], &end, 10);
      if (*end || v < 1 || v > 1000000) return usage(argv[0]);
      if (argv[i][2] == 't') timeout = v;
      else memory_mb = v;
      i++;
    } else if ((opts && argv[i][0] == '-') || path) {
      return usage(argv[0]);
    } else {
      path = argv[i];
    }
  }
  if (!path) return usage(argv[0]);
  walk w = {.file = -1, .base = mapped_now()};
  if (set_limits(timeout, memory_mb, w.base) != 0) {
    printf("%s: cannot set the resource limits: %s\n", path, strerror(errno));
    return 2;
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
#if H5_VERSION_GE(1, 10, 7)
  if (fapl >= 0) H5Pset_file_locking(fapl, 0, 1);
#endif
  w.file = fapl < 0 ? -1 : H5Fopen(path, H5F_ACC_RDONLY, fapl);
  if (w.file < 0) {
    note(&w, "cannot open", path);
    printf("%s: %s\n", path, w.first);
    return w.oom && peak_mapped() >= w.base + ((size_t)memory_mb << 19) ? 3 : 1;
  }
  H5Pclose(fapl);
  w.seen = malloc(MAX_GROUPS * sizeof *w.seen);
  if (!w.seen) {
    printf("%s: out of memory\n", path);
    return 3;
  }
  lookups(&w);
  object(&w, "/", 0);
  free(w.seen);
  if (H5Fclose(w.file) < 0) note(&w, "cannot close", path);
  /* an allocation that failed while the address space used stayed well
   * below the limit was one absurd request, refused the same way without a
   * limit: an error like any other, not memory exhaustion */
  if (w.oom && peak_mapped() < w.base + ((size_t)memory_mb << 19)) w.oom = 0;
  if (w.oom) {
    printf("%s: out of memory (limit %ld MB) while decoding it\n", path, memory_mb);
    return 3;
  }
  if (w.nerrors) {
    printf("%s: %d error(s), the first: %s\n", path, w.nerrors, w.first);
    return 1;
  }
  printf("%s: ok (%ld links, %ld groups, %ld datasets, %ld attributes)\n", path, w.links, w.groups, w.datasets,
         w.attrs);
  return 0;
}
