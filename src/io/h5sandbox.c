/* h5sandbox.c — the sandboxed pre-read of an HDF5 file (see h5sandbox.h).
 *
 * Owns: finding tools/h2nn_h5check, starting it with posix_spawn (no fork:
 * glibc's posix_spawn uses CLONE_VM|CLONE_VFORK, so nothing of the MPI
 * process — its registered memory, its threads — is copied or touched),
 * waiting for it under a deadline, and turning how it ended into one line
 * naming the file.  The child gets an empty signal mask, default signal
 * actions and a process group of its own (a job-level signal to the rank's
 * group is not a crash of libhdf5), /dev/null for stdin and stderr, and a
 * pipe for its one-line report. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr, pipe2, posix_spawn_file_actions_addclosefrom_np */
#endif
#include "h2nn/io/h5sandbox.h"

#include "h2nn/util/error.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define H5CHECK_NAME "h2nn_h5check"
/* Address space the pre-read may map on top of its start-up (MB). */
#define H5CHECK_MEMORY_MB 512
#define H5CHECK_TIMEOUT_DEFAULT 10

/* Defaults compiled in by CMakeLists.txt (paths of the install and the build tree). */
#ifndef H2NN_H5CHECK_INSTALLED
#define H2NN_H5CHECK_INSTALLED ""
#endif
#ifndef H2NN_H5CHECK_BUILT
#define H2NN_H5CHECK_BUILT ""
#endif
#ifndef H2NN_LIB_TO_BIN
#define H2NN_LIB_TO_BIN "../bin"
#endif

static int executable(const char *p) { return p[0] && access(p, X_OK) == 0; }

/* DIR of FILE into OUT ("" when FILE has no '/'). */
static void dir_of(const char *file, char *out, size_t size) {
  snprintf(out, size, "%s", file);
  char *s = strrchr(out, '/');
  if (s) *s = 0;
  else out[0] = 0;
}

/* The validator's path into EXE; 1 found, 0 switched off, -1 with an error set. */
static int locate(const char *path, char *exe, size_t size) {
  const char *env = getenv("H2NN_H5CHECK");
  if (env && *env) {
    if (!strcmp(env, "off") || !strcmp(env, "0")) return 0;
    if (!executable(env)) {
      h2_error_set(__FILE__, __LINE__, H2_EINPUT,
                   "%s: not opened: H2NN_H5CHECK=%s is not an executable (the HDF5 pre-read h2nn_h5check; "
                   "H2NN_H5CHECK=off opens files without it)",
                   path, env);
      return -1;
    }
    snprintf(exe, size, "%s", env);
    return 1;
  }
  char self[PATH_MAX] = "", dir[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = 0;
    dir_of(self, dir, sizeof dir);
    snprintf(exe, size, "%s/%s", dir, H5CHECK_NAME);
    if (executable(exe)) return 1;
  }
  /* running from libh2nn.so: the bin/ of the prefix it is installed in */
  Dl_info dl;
  if (dladdr((void *)h2_h5_sandbox_check, &dl) && dl.dli_fname && strcmp(dl.dli_fname, self) != 0 &&
      strchr(dl.dli_fname, '/')) {
    char lib[PATH_MAX];
    dir_of(realpath(dl.dli_fname, lib) ? lib : dl.dli_fname, dir, sizeof dir);
    snprintf(exe, size, "%s/%s/%s", dir, H2NN_LIB_TO_BIN, H5CHECK_NAME);
    if (executable(exe)) return 1;
  }
  const char *fixed[2] = {H2NN_H5CHECK_INSTALLED, H2NN_H5CHECK_BUILT};
  for (int i = 0; i < 2; i++)
    if (executable(fixed[i])) {
      snprintf(exe, size, "%s", fixed[i]);
      return 1;
    }
  h2_error_set(__FILE__, __LINE__, H2_EINPUT,
               "%s: not opened: the HDF5 pre-read %s was not found (next to %s, nor in %s): install it next to "
               "the program or set H2NN_H5CHECK to its path (H2NN_H5CHECK=off opens files without it; "
               "docs/reliability.md)",
               path, H5CHECK_NAME, self[0] ? self : "the program", H2NN_H5CHECK_INSTALLED);
  return -1;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Read the child's report from FD until EOF or DEADLINE (into LINE, first line only). */
static void read_report(int fd, double deadline, char *line, size_t size) {
  size_t used = 0;
  line[0] = 0;
  for (;;) {
    double left = deadline - now();
    if (left <= 0) return;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, (int)(left * 1000) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    size_t take = (size_t)n < size - 1 - used ? (size_t)n : size - 1 - used;
    memcpy(line + used, buf, take);
    used += take;
    line[used] = 0;
  }
}

/* Wait for PID until DEADLINE, then kill it; its status into *status, 1 when we killed it. */
static int reap(pid_t pid, double deadline, int *status) {
  int killed = 0;
  long nap_us = 200;
  for (;;) {
    pid_t r = waitpid(pid, status, killed ? 0 : WNOHANG);
    if (r == pid) return killed;
    if (r < 0 && errno != EINTR) {
      *status = -1; /* ECHILD: SIGCHLD ignored by someone, the status is lost */
      return killed;
    }
    if (r == 0 && now() > deadline) {
      kill(pid, SIGKILL);
      killed = 1;
      continue;
    }
    struct timespec t = {0, nap_us * 1000};
    nanosleep(&t, NULL);
    if (nap_us < 10000) nap_us *= 2;
  }
}

static const char *trouble =
    "while decoding the file's metadata in a sandboxed pre-read (h2nn_h5check): the file is damaged; "
    "h2nn did not open it";

int h2_h5_sandbox_check(const char *path) {
  char exe[PATH_MAX + 64];
  int found = locate(path, exe, sizeof exe);
  if (found < 0) return H2_EINPUT;
  if (found == 0) return 0;

  long timeout = H5CHECK_TIMEOUT_DEFAULT;
  const char *t = getenv("H2NN_H5CHECK_TIMEOUT");
  if (t && *t) {
    char *end;
    long v = strtol(t, &end, 10);
    H2_CHECK(!*end && v >= 1 && v <= 86400, H2_EINPUT,
             "H2NN_H5CHECK_TIMEOUT=%s: expected whole seconds, 1..86400 (the HDF5 pre-read's CPU-time limit)", t);
    timeout = v;
  }
  char targ[32], marg[32];
  snprintf(targ, sizeof targ, "%ld", timeout);
  snprintf(marg, sizeof marg, "%d", H5CHECK_MEMORY_MB);
  char *argv[] = {exe, "--timeout", targ, "--memory", marg, "--", (char *)path, NULL};

  int fds[2];
  H2_CHECK(pipe2(fds, O_CLOEXEC) == 0, H2_EIO, "%s: cannot start the HDF5 pre-read: pipe: %s", path,
           strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  int e = posix_spawn_file_actions_init(&fa);
  if (!e) e = posix_spawnattr_init(&attr);
  if (e) {
    close(fds[0]), close(fds[1]);
    H2_FAIL(H2_EIO, "%s: cannot start the HDF5 pre-read: %s", path, strerror(e));
  }
  sigset_t none, dfl;
  sigemptyset(&none);
  sigemptyset(&dfl);
  const int sigs[] = {SIGALRM, SIGXCPU, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGPIPE,
                      SIGTERM, SIGINT,  SIGHUP,  SIGUSR1, SIGUSR2, SIGQUIT};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&dfl, sigs[i]);
  e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (!e) e = posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  if (!e) e = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  if (!e) e = posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* MPI's sockets and files stay ours */
#endif
  if (!e) e = posix_spawnattr_setsigmask(&attr, &none);
  if (!e) e = posix_spawnattr_setsigdefault(&attr, &dfl);
  if (!e) e = posix_spawnattr_setpgroup(&attr, 0);
  if (!e) e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  if (!e) e = posix_spawn(&pid, exe, &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (e) {
    close(fds[0]);
    H2_FAIL(H2_EIO, "%s: cannot start the HDF5 pre-read %s: %s", path, exe, strerror(e));
  }

  /* the child's own limits end it first (CPU: timeout, wall: 3 x timeout) */
  double deadline = now() + 3.0 * (double)timeout + 10.0;
  char line[512];
  read_report(fds[0], deadline, line, sizeof line);
  close(fds[0]);
  int status = 0;
  int killed = reap(pid, deadline, &status);
  char *nl = strchr(line, '\n');
  if (nl) *nl = 0;

  if (status == -1) return 0; /* not ours to judge (ECHILD); h2nn's own reader follows */
  if (killed || (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGALRM)))
    H2_FAIL(H2_EINPUT, "%s: HDF5 did not finish within %ld s of CPU time (an endless loop inside libhdf5) %s", path,
            timeout, trouble);
  if (WIFSIGNALED(status)) {
    int s = WTERMSIG(status);
    if (s == SIGKILL) /* not by us: the kernel's out-of-memory killer, or a user */
      H2_FAIL(H2_EINPUT, "%s: the HDF5 pre-read was killed (signal 9: out of memory?) %s", path, trouble);
    if (s == SIGTERM || s == SIGINT || s == SIGHUP || s == SIGQUIT || s == SIGUSR1 || s == SIGUSR2)
      H2_FAIL(H2_EINPUT, "%s: not opened: the HDF5 pre-read (h2nn_h5check) was stopped by signal %d (%s)", path, s,
              strsignal(s));
    H2_FAIL(H2_EINPUT, "%s: HDF5 crashed (signal %d, %s) %s", path, s, strsignal(s), trouble);
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 0 || code == 1) return 0; /* decoded; errors libhdf5 reports cleanly are h2nn's readers' to word */
  if (code == 3)
    H2_FAIL(H2_EINPUT, "%s: HDF5 needed more than %d MB of memory %s", path, H5CHECK_MEMORY_MB, trouble);
  if (code == 4)
    H2_FAIL(H2_EINPUT, "%s: HDF5 made an invalid memory access (sanitizer report) %s", path, trouble);
  H2_FAIL(H2_EIO, "%s: not opened: the HDF5 pre-read %s failed (exit status %d)%s%s", path, exe, code,
          line[0] ? ": " : "", line);
}
