/* test_schedule.c — learning-rate schedules and the weights' moving average
 * against values computed by hand. */
#include <check.h>
#include <math.h>

#include "h2nn/core/adam.h"
#include "h2nn/core/ema.h"
#include "h2nn/core/schedule.h"

/* lr 0.01, final 0.001, warm-up 10 of a 110-step run: u = (t - 10) / 100 */
static h2_lr_schedule sched(int kind) {
  return (h2_lr_schedule){.kind = kind, .lr = 0.01, .lr_final = 0.001, .warmup = 10, .total = 110};
}

START_TEST(warmup_is_linear) {
  for (int k = H2_LR_CONSTANT; k <= H2_LR_PLATEAU; k++) {
    h2_lr_schedule s = sched(k);
    ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 1), 0.001, 1e-15);
    ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 5), 0.005, 1e-15);
    ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 10), 0.01, 1e-15);
  }
  h2_lr_schedule s = sched(H2_LR_CONSTANT);
  s.warmup = 0;
  ck_assert_double_eq(h2_lr_at(&s, NULL, 1), 0.01);
  ck_assert_double_eq(h2_lr_at(&s, NULL, 1000), 0.01);
}
END_TEST

START_TEST(cosine_hand_values) {
  h2_lr_schedule s = sched(H2_LR_COSINE);
  /* t = 10: u = 0, the peak; t = 35: u = 1/4, 0.001 + 0.009 (1 + cos(pi/4)) / 2;
   * t = 60: u = 1/2, the midpoint 0.0055; t = 110: u = 1, lr_final; beyond: lr_final */
  ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 10), 0.01, 1e-15);
  ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 35), 0.001 + 0.0045 * (1 + sqrt(0.5)), 1e-15);
  ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 60), 0.0055, 1e-15);
  ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 110), 0.001, 1e-15);
  ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 500), 0.001, 1e-15);
  /* decreasing after the warm-up */
  for (int t = 11; t <= 110; t++) ck_assert(h2_lr_at(&s, NULL, t) < h2_lr_at(&s, NULL, t - 1));
}
END_TEST

START_TEST(step_hand_values) {
  h2_lr_schedule s = sched(H2_LR_STEP);
  s.lr_final = 0;
  /* milestones at u = 1/2 (t = 60) and u = 3/4 (t = 85) */
  ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 59), 0.01, 1e-15);
  ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 60), 0.001, 1e-15);
  ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 84), 0.001, 1e-15);
  ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 85), 0.0001, 1e-15);
  s.lr_final = 0.0005; /* the floor */
  ck_assert_double_eq_tol(h2_lr_at(&s, NULL, 85), 0.0005, 1e-15);
}
END_TEST

START_TEST(plateau_hand_values) {
  h2_lr_schedule s = sched(H2_LR_PLATEAU);
  h2_plateau p;
  h2_plateau_init(&p);
  ck_assert_double_eq_tol(h2_lr_at(&s, &p, 50), 0.01, 1e-15);
  h2_plateau_observe(&p, 1.0);   /* best 1 */
  h2_plateau_observe(&p, 0.5);   /* best 0.5 */
  h2_plateau_observe(&p, 0.4999); /* < 0.1 % better: stall 1 */
  h2_plateau_observe(&p, 0.6);   /* stall 2 */
  ck_assert_double_eq(p.factor, 1);
  ck_assert_int_eq(p.bad, 2);
  h2_plateau_observe(&p, 0.7);   /* stall 3: halve */
  ck_assert_double_eq(p.factor, 0.5);
  ck_assert_int_eq(p.bad, 0);
  ck_assert_double_eq_tol(p.best, 0.4999, 1e-15);
  ck_assert_double_eq_tol(h2_lr_at(&s, &p, 50), 0.005, 1e-15);
  h2_plateau_observe(&p, 0.1);   /* improvement resets the count */
  ck_assert_int_eq(p.bad, 0);
  for (int i = 0; i < 9; i++) h2_plateau_observe(&p, 0.2); /* three more halvings: 1/16, floored at 0.001 */
  ck_assert_double_eq(p.factor, 0.0625);
  ck_assert_double_eq_tol(h2_lr_at(&s, &p, 50), 0.001, 1e-15);
}
END_TEST

START_TEST(names) {
  ck_assert_int_eq(h2_lr_kind_from_name("cosine"), H2_LR_COSINE);
  ck_assert_int_eq(h2_lr_kind_from_name("plateau"), H2_LR_PLATEAU);
  ck_assert_int_eq(h2_lr_kind_from_name("linear"), -1);
  ck_assert_str_eq(h2_lr_kind_name(H2_LR_STEP), "step");
}
END_TEST

/* EMA: d_t = min(decay, (1 + t) / (10 + t)); e += (1 - d) (p - e). */
START_TEST(ema_hand_values) {
  ck_assert_double_eq_tol(h2_ema_decay_at(0.999, 1), 2.0 / 11.0, 1e-15);
  ck_assert_double_eq_tol(h2_ema_decay_at(0.999, 100), 101.0 / 110.0, 1e-15);
  ck_assert_double_eq_tol(h2_ema_decay_at(0.9, 1000), 0.9, 1e-15);
  /* three steps on two weights with decay 0.5 (ramp: 2/11, 3/12 = 0.25, 4/13; the
   * decay itself from t = 8 on: 9/18) */
  ck_assert_double_eq_tol(h2_ema_decay_at(0.5, 8), 0.5, 1e-15);
  ck_assert_double_eq_tol(h2_ema_decay_at(0.5, 7), 8.0 / 17.0, 1e-15);
  real e[2] = {1, -1};
  const real p1[2] = {2, 0}, p2[2] = {4, 2}, p3[2] = {0, 0};
  h2_ema_update(e, p1, 2, h2_ema_decay_at(0.5, 1));
  ck_assert_double_eq_tol(e[0], 2.0 / 11.0 * 1 + 9.0 / 11.0 * 2, 1e-6);
  ck_assert_double_eq_tol(e[1], 2.0 / 11.0 * -1, 1e-6);
  double x0 = 2.0 / 11.0 + 18.0 / 11.0, x1 = -2.0 / 11.0;
  h2_ema_update(e, p2, 2, h2_ema_decay_at(0.5, 2));
  x0 = 0.25 * x0 + 0.75 * 4, x1 = 0.25 * x1 + 0.75 * 2;
  ck_assert_double_eq_tol(e[0], x0, 1e-6);
  ck_assert_double_eq_tol(e[1], x1, 1e-6);
  h2_ema_update(e, p3, 2, h2_ema_decay_at(0.5, 3));
  ck_assert_double_eq_tol(e[0], 4.0 / 13.0 * x0, 1e-6);
  ck_assert_double_eq_tol(e[1], 4.0 / 13.0 * x1, 1e-6);
}
END_TEST

/* Adam takes the learning rate the schedule sets before each step: two
 * steps with lr 0.001 then 0.002 move p by lr * mhat / (sqrt(vhat) + eps). */
START_TEST(adam_takes_scheduled_lr) {
  h2_lr_schedule s = {.kind = H2_LR_CONSTANT, .lr = 0.002, .warmup = 2, .total = 10};
  h2_adam opt = {.lr = 0.0025, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-5, .step = 0};
  real p[1] = {1}, g[1] = {0.5}, m[1] = {0}, v[1] = {0};
  opt.lr = h2_lr_at(&s, NULL, opt.step + 1);
  h2_adam_step(&opt, p, g, m, v, 1);
  double p1 = 1 - 0.001 * 0.5 / (0.5 + 1e-5);
  ck_assert_double_eq_tol(p[0], p1, 1e-7);
  g[0] = 0.5;
  opt.lr = h2_lr_at(&s, NULL, opt.step + 1);
  h2_adam_step(&opt, p, g, m, v, 1);
  ck_assert_double_eq_tol(p[0], p1 - 0.002 * 0.5 / (0.5 + 1e-5), 1e-7);
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("schedule");
  TCase *tc = tcase_create("schedule");
  tcase_add_test(tc, warmup_is_linear);
  tcase_add_test(tc, cosine_hand_values);
  tcase_add_test(tc, step_hand_values);
  tcase_add_test(tc, plateau_hand_values);
  tcase_add_test(tc, names);
  tcase_add_test(tc, ema_hand_values);
  tcase_add_test(tc, adam_takes_scheduled_lr);
  suite_add_tcase(s, tc);
  return s;
}
