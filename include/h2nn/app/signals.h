/* signals.h — the signals a batch system or a user sends to stop or save a
 * training run (SIGTERM, SIGINT, SIGUSR1: stop with a checkpoint; SIGUSR2:
 * checkpoint now and continue).
 *
 * The handler is async-signal-safe: it only sets a volatile sig_atomic_t.
 * The training loop reads the flags at an iteration boundary
 * (h2_signals_poll) and agrees on them across the ranks by one reduction
 * (src/app/train.c), so that every rank stops after the same iteration.
 *
 * These flags are the one piece of global mutable state in h2nn that is not
 * an explicit argument: a signal handler has nowhere else to write (the
 * error record of util/error.c is thread-local, like errno). */
#ifndef H2NN_APP_SIGNALS_H
#define H2NN_APP_SIGNALS_H

/* Bits of an event word: the stop signals seen, a save request, and (set by
 * the training loop, not by a signal) the wall-time budget. */
enum {
  H2_EV_SIGTERM = 1 << 0,
  H2_EV_SIGINT = 1 << 1,
  H2_EV_SIGUSR1 = 1 << 2,
  H2_EV_SAVE = 1 << 3,      /* SIGUSR2: write a checkpoint, then continue */
  H2_EV_TIME = 1 << 4,      /* the wall-time budget is (nearly) used up */
  H2_EV_STOP_SIGNAL = H2_EV_SIGTERM | H2_EV_SIGINT | H2_EV_SIGUSR1
};

/* Install the handlers (sigaction, SA_RESTART).  Call once, early (before
 * MPI_Init, so that a signal during start-up is not fatal either: training
 * then stops at its first iteration boundary). */
int h2_signals_install(void);

/* Back to the default actions (modes other than training). */
void h2_signals_uninstall(void);

/* The events since the start (stop signals stay set) plus H2_EV_SAVE if a
 * SIGUSR2 arrived since the previous call (*save_seen carries the count
 * already handled; start it at 0). */
int h2_signals_poll(unsigned *save_seen);

/* Name of the first stop signal in an event word ("SIGTERM", ...), or NULL. */
const char *h2_signals_name(int events);

/* Block the four signals in the calling thread (they stay pending and are
 * handled at h2_signals_resume, which unblocks them), e.g. around a
 * checkpoint write, so that no system call of the writer is interrupted.  A
 * signal delivered meanwhile to another thread only sets its flag. */
void h2_signals_defer(void);
void h2_signals_resume(void);

#endif
