/* schedule.c — learning-rate schedules (see schedule.h): pure functions of
 * the step and, for the plateau kind, of the state kept by the caller. */
#include "h2nn/core/schedule.h"

#include <math.h>
#include <string.h>

static const char *const names[] = {"constant", "cosine", "step", "plateau"};

int h2_lr_kind_from_name(const char *name) {
  for (int k = 0; k < 4; k++)
    if (name && !strcmp(name, names[k])) return k;
  return -1;
}

const char *h2_lr_kind_name(int kind) { return kind >= 0 && kind < 4 ? names[kind] : "?"; }

void h2_plateau_init(h2_plateau *p) {
  p->best = INFINITY;
  p->bad = 0;
  p->factor = 1;
}

void h2_plateau_observe(h2_plateau *p, double error) {
  if (!isfinite(error)) return;
  if (error < p->best * (1 - H2_PLATEAU_MIN_GAIN)) {
    p->best = error;
    p->bad = 0;
    return;
  }
  if (error < p->best) p->best = error;
  if (++p->bad >= H2_PLATEAU_PATIENCE) {
    p->factor *= H2_PLATEAU_FACTOR;
    p->bad = 0;
  }
}

double h2_lr_at(const h2_lr_schedule *s, const h2_plateau *p, int64_t t) {
  if (t < 1) t = 1;
  if (s->warmup > 0 && t <= s->warmup) return s->lr * (double)t / (double)s->warmup;
  double u = s->total > s->warmup ? (double)(t - s->warmup) / (double)(s->total - s->warmup) : 1;
  if (u > 1) u = 1;
  switch (s->kind) {
    case H2_LR_COSINE: return s->lr_final + (s->lr - s->lr_final) * 0.5 * (1 + cos(3.14159265358979323846 * u));
    case H2_LR_STEP: {
      double lr = s->lr * (u >= 0.75 ? H2_STEP_FACTOR * H2_STEP_FACTOR : u >= 0.5 ? H2_STEP_FACTOR : 1);
      return lr > s->lr_final ? lr : s->lr_final;
    }
    case H2_LR_PLATEAU: {
      double lr = s->lr * (p ? p->factor : 1);
      return lr > s->lr_final ? lr : s->lr_final;
    }
    default: return s->lr;
  }
}
