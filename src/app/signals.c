/* signals.c — stop and save requests from signals (see signals.h). */
#define _POSIX_C_SOURCE 200809L
#include "h2nn/app/signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "h2nn/util/error.h"

/* The one unavoidable global mutable state (signals.h): written only by the
 * handler, read by the training loop. */
static volatile sig_atomic_t g_stop_term, g_stop_int, g_stop_usr1;
static volatile sig_atomic_t g_save_count; /* SIGUSR2s received (only the handler writes it) */

static void on_signal(int sig) {
  switch (sig) {
    case SIGTERM: g_stop_term = 1; break;
    case SIGINT: g_stop_int = 1; break;
    case SIGUSR1: g_stop_usr1 = 1; break;
    case SIGUSR2: g_save_count = g_save_count + 1; break;
    default: break;
  }
}

static const int handled[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
#define NHANDLED (int)(sizeof handled / sizeof handled[0])

static void mask(int how) {
  sigset_t set;
  sigemptyset(&set);
  for (int i = 0; i < NHANDLED; i++) sigaddset(&set, handled[i]);
  pthread_sigmask(how, &set, NULL);
}

int h2_signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < NHANDLED; i++) sigaddset(&sa.sa_mask, handled[i]); /* one handler at a time */
  for (int i = 0; i < NHANDLED; i++)
    if (sigaction(handled[i], &sa, NULL) != 0)
      H2_FAIL(H2_EINTERNAL, "cannot install the handler of signal %d: %s", handled[i], strerror(errno));
  /* a launcher may have started us with them blocked: a stop request sent
   * meanwhile is pending and is taken now */
  mask(SIG_UNBLOCK);
  return 0;
}

void h2_signals_uninstall(void) {
  for (int i = 0; i < NHANDLED; i++) signal(handled[i], SIG_DFL);
}

int h2_signals_poll(unsigned *save_seen) {
  int ev = (g_stop_term ? H2_EV_SIGTERM : 0) | (g_stop_int ? H2_EV_SIGINT : 0) | (g_stop_usr1 ? H2_EV_SIGUSR1 : 0);
  unsigned saves = (unsigned)g_save_count;
  if (saves != *save_seen) {
    *save_seen = saves;
    ev |= H2_EV_SAVE;
  }
  return ev;
}

const char *h2_signals_name(int ev) {
  if (ev & H2_EV_SIGTERM) return "SIGTERM";
  if (ev & H2_EV_SIGINT) return "SIGINT";
  if (ev & H2_EV_SIGUSR1) return "SIGUSR1";
  return NULL;
}

void h2_signals_defer(void) { mask(SIG_BLOCK); }
void h2_signals_resume(void) { mask(SIG_UNBLOCK); }
