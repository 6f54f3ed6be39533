/* h5sandbox.h — the sandboxed pre-read of an HDF5 file before h2nn opens it.
 *
 * libhdf5 1.10 crashes (SIGSEGV), loops, or allocates without end on some
 * damaged files (docs/reliability.md, "Inside libhdf5"); h2nn cannot fix
 * that inside libhdf5, and in an MPI job such a crash or hang of one rank
 * takes the whole job with it.  So before a file is opened for reading,
 * one process runs tools/h2nn_h5check on it — a separate process that
 * decodes all of the file's metadata under CPU-time, wall-clock and memory
 * limits — and a file on which it crashes, runs out of time or of memory
 * is refused with one line naming the file.  Errors that libhdf5 reports
 * cleanly are left to h2nn's own readers (their messages are precise).
 *
 * The validator is found, in this order: the environment variable
 * H2NN_H5CHECK (a path; "off" opens files without the pre-read), next to
 * the running executable (/proc/self/exe), in ../bin of the shared library
 * libh2nn (when the code runs from it), in the install prefix's bin/, in
 * the build tree.  When none exists the file is refused (the guard never
 * vanishes silently).  H2NN_H5CHECK_TIMEOUT (seconds of CPU time, default
 * 10; wall-clock 3x that) bounds the pre-read.
 *
 * Cost: one posix_spawn (vfork semantics: safe beside MPI's registered
 * memory) and a metadata walk, about 10-50 ms per open for h2nn's files. */
#ifndef H2NN_H5SANDBOX_H
#define H2NN_H5SANDBOX_H

/* Run the pre-read on PATH and wait for it (local: one rank calls it, the
 * caller agrees the result across ranks with h2_error_sync).  0 when the
 * pre-read ended normally (exit status 0 or 1) or is switched off; else an
 * h2 error (H2_EINPUT) whose message names PATH and what libhdf5 did. */
int h2_h5_sandbox_check(const char *path);

#endif
