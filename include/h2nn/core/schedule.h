/* schedule.h — the learning rate as a function of the step: constant,
 * cosine, step or plateau decay after a linear warm-up.  Pure functions of
 * (schedule, step[, plateau state]): the same on every rank and on resume.
 *
 * Step t = 1, 2, ... is the Adam step being taken.  With W warm-up steps and
 * a horizon of T steps (the run's --iterations):
 *   t <= W:           lr * t / W                       (every kind)
 *   u = (t - W) / (T - W), clamped to [0, 1]:
 *   constant:         lr
 *   cosine:           lr_final + (lr - lr_final) (1 + cos(pi u)) / 2
 *   step:             max(lr_final, lr * 0.1^k), k = milestones u >= 1/2, u >= 3/4 passed
 *   plateau:          max(lr_final, lr * f), f halved whenever the watched
 *                     error has not improved by 0.1 % for H2_PLATEAU_PATIENCE
 *                     evaluations in a row (h2_plateau_observe). */
#ifndef H2NN_SCHEDULE_H
#define H2NN_SCHEDULE_H

#include <stdint.h>

typedef enum { H2_LR_CONSTANT = 0, H2_LR_COSINE = 1, H2_LR_STEP = 2, H2_LR_PLATEAU = 3 } h2_lr_kind;
#define H2_LR_KIND_NAMES "constant, cosine, step, plateau"

#define H2_PLATEAU_PATIENCE 3
#define H2_PLATEAU_FACTOR 0.5
#define H2_PLATEAU_MIN_GAIN 1e-3
#define H2_STEP_FACTOR 0.1

typedef struct {
  int kind;         /* h2_lr_kind */
  double lr;        /* peak learning rate (after warm-up) */
  double lr_final;  /* end of the cosine decay; floor of step and plateau */
  int64_t warmup;   /* linear warm-up steps (0: none) */
  int64_t total;    /* horizon T: the decay ends at step T */
} h2_lr_schedule;

/* The plateau schedule's state: changes only at evaluations; stored in
 * checkpoints so that a resumed run continues with the same rates. */
typedef struct {
  double best;      /* lowest watched error so far (INFINITY: none yet) */
  int64_t bad;      /* evaluations since the last improvement */
  double factor;    /* current multiplier of lr (1 at the start) */
} h2_plateau;

/* "cosine" -> H2_LR_COSINE; -1 when unknown. */
int h2_lr_kind_from_name(const char *name);
const char *h2_lr_kind_name(int kind);

void h2_plateau_init(h2_plateau *p);
/* Record one evaluation's error (after warm-up only: call it then). */
void h2_plateau_observe(h2_plateau *p, double error);

/* The learning rate of step t (1-based); p is used by the plateau kind only
 * (NULL means factor 1). */
double h2_lr_at(const h2_lr_schedule *s, const h2_plateau *p, int64_t t);

#endif
