/* check_duration.c — the wall-time budget's parser (util/duration.c):
 * every accepted form gives the seconds written by hand, and every
 * malformed, zero, negative or non-finite text is refused with a message
 * saying what is expected. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "h2nn/util/duration.h"
#include "h2nn/util/error.h"

START_TEST(test_accepted) {
  struct { const char *text; double seconds; } ok[] = {
      {"90", 90},          {"90s", 90},       {"2.5", 2.5},         {"30m", 1800},     {"1.5h", 5400},
      {"2d", 172800},      {"1:30", 90},      {"59:59", 3599},      {"1:30:00", 5400}, {"0:00:07", 7},
      {"100:00:00", 360000}, {"1-0", 86400},  {"2-3", 2 * 86400 + 3 * 3600}, {"1-2:03", 86400 + 7200 + 180},
      {"1-02:03:04", 86400 + 7200 + 180 + 4}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    double s = -1;
    ck_assert_msg(h2_duration_parse(ok[i].text, &s) == 0, "'%s' refused: %s", ok[i].text, h2_error_message());
    ck_assert_msg(fabs(s - ok[i].seconds) < 1e-9, "'%s' -> %g s, expected %g", ok[i].text, s, ok[i].seconds);
  }
}
END_TEST

START_TEST(test_refused) {
  const char *bad[] = {"", "-5", "0", "0s", "0:00", "abc", "5x", "5mm", "1:60", "1:75:00", "1:2:3:4", ":30",
                       "1:", "inf", "nan", "1e400", "-1-2:00:00", "1-", "1-2:60", "30 m", "--5"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    double s = -1;
    ck_assert_msg(h2_duration_parse(bad[i], &s) == H2_EINPUT, "'%s' accepted as %g s", bad[i], s);
    ck_assert_msg(strstr(h2_error_message(), "expected a positive duration") != NULL, "'%s': message '%s'", bad[i],
                  h2_error_message());
  }
  double s = -1;
  ck_assert_int_eq(h2_duration_parse(NULL, &s), H2_EINPUT);
}
END_TEST

Suite *h2nn_suite(void) {
  Suite *s = suite_create("duration");
  TCase *tc = tcase_create("duration");
  tcase_add_test(tc, test_accepted);
  tcase_add_test(tc, test_refused);
  suite_add_tcase(s, tc);
  return s;
}
