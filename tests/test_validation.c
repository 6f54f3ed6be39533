/* test_validation.c — the validation hold-out: a partition of the /train
 * rows (never a /test row: the ids index /train only), the same on every
 * call (no rank or seed enters), each part ascending. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/app/train.h"

START_TEST(split_is_a_partition) {
  const int64_t count = 1000, nval = 250;
  int64_t *val = malloc(sizeof(int64_t) * nval), *trn = malloc(sizeof(int64_t) * (count - nval));
  int64_t *val2 = malloc(sizeof(int64_t) * nval), *trn2 = malloc(sizeof(int64_t) * (count - nval));
  char *seen = calloc(count, 1);
  ck_assert_int_eq(h2_validation_split(count, nval, val, trn), 0);
  for (int64_t i = 0; i < nval; i++) {
    ck_assert(val[i] >= 0 && val[i] < count);
    ck_assert(i == 0 || val[i] > val[i - 1]);
    ck_assert_int_eq(seen[val[i]]++, 0);
  }
  for (int64_t i = 0; i < count - nval; i++) {
    ck_assert(trn[i] >= 0 && trn[i] < count);
    ck_assert(i == 0 || trn[i] > trn[i - 1]);
    ck_assert_int_eq(seen[trn[i]]++, 0); /* never both trained on and held out */
  }
  for (int64_t i = 0; i < count; i++) ck_assert_int_eq(seen[i], 1);
  /* spread over the file, not a block: both halves of /train contribute */
  int64_t low = 0;
  for (int64_t i = 0; i < nval; i++) low += val[i] < count / 2;
  ck_assert(low > nval / 4 && low < 3 * nval / 4);
  /* reproducible */
  ck_assert_int_eq(h2_validation_split(count, nval, val2, trn2), 0);
  ck_assert_mem_eq(val, val2, sizeof(int64_t) * nval);
  ck_assert_mem_eq(trn, trn2, sizeof(int64_t) * (count - nval));
  free(val), free(trn), free(val2), free(trn2), free(seen);
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("validation");
  TCase *tc = tcase_create("validation");
  tcase_add_test(tc, split_is_a_partition);
  suite_add_tcase(s, tc);
  return s;
}
