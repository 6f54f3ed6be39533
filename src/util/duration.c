/* duration.c — parse wall-clock durations (see duration.h). */
#include "h2nn/util/duration.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"

#define EXPECTED "expected a positive duration: seconds (90), with a unit (90s, 30m, 1.5h, 2d) or clock form (M:SS, H:MM:SS, D-H:MM:SS)"

/* a non-negative integer field of clock form; *p advanced past its digits */
static int field(const char **p, long *v) {
  if (!isdigit((unsigned char)**p)) return -1;
  char *end;
  errno = 0;
  *v = strtol(*p, &end, 10);
  if (errno || *v > 100000000) return -1;
  *p = end;
  return 0;
}

static int parse_clock(const char *s, double *sec) {
  long days = 0, f[3] = {0, 0, 0};
  int n = 0, has_days = strchr(s, '-') != NULL;
  const char *p = s;
  if (has_days) {
    if (field(&p, &days) || *p != '-') return -1;
    p++;
  }
  for (;;) {
    if (n == 3 || field(&p, &f[n])) return -1;
    n++;
    if (!*p) break;
    if (*p != ':') return -1;
    p++;
  }
  double h = 0, m = 0, x = 0;
  if (has_days) { /* D-H, D-H:MM, D-H:MM:SS */
    h = (double)f[0], m = n > 1 ? (double)f[1] : 0, x = n > 2 ? (double)f[2] : 0;
  } else if (n == 2) { /* M:SS */
    m = (double)f[0], x = (double)f[1];
  } else if (n == 3) { /* H:MM:SS */
    h = (double)f[0], m = (double)f[1], x = (double)f[2];
  } else {
    return -1;
  }
  if ((n > 1 && f[n - 1] > 59) || (n == 3 && f[1] > 59) || (has_days && n > 1 && f[1] > 59)) return -1;
  *sec = ((days * 24.0 + h) * 60.0 + m) * 60.0 + x;
  return 0;
}

int h2_duration_parse(const char *text, double *seconds) {
  *seconds = 0;
  if (!text || !*text) H2_FAIL(H2_EINPUT, "empty: " EXPECTED);
  double v = 0;
  if (strchr(text, ':') || (strchr(text, '-') && isdigit((unsigned char)text[0]))) {
    if (parse_clock(text, &v)) H2_FAIL(H2_EINPUT, "'%s': " EXPECTED, text);
  } else {
    char *end;
    errno = 0;
    v = strtod(text, &end);
    if (end == text || errno || !isfinite(v)) H2_FAIL(H2_EINPUT, "'%s': " EXPECTED, text);
    double unit = 1;
    if (*end) {
      if (end[1]) H2_FAIL(H2_EINPUT, "'%s': " EXPECTED, text);
      switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: H2_FAIL(H2_EINPUT, "'%s': unknown unit '%c': " EXPECTED, text, *end);
      }
    }
    v *= unit;
  }
  if (!(v > 0) || !isfinite(v)) H2_FAIL(H2_EINPUT, "'%s': " EXPECTED, text);
  *seconds = v;
  return 0;
}
