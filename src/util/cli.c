/* cli.c — table-driven option parsing and --help (see cli.h). */
#include "h2nn/util/cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2nn/util/error.h"

int h2_cli_find(const h2_cli *cli, const char *name) {
  for (int i = 0; i < cli->nopts; i++)
    if (!strcmp(cli->opts[i].name, name)) return i;
  return -1;
}

/* "must be positive", "must be at least 1", "must be between 0 and 1" ... */
static int range_error(const h2_opt_spec *o, double v, const char *source) {
  const double big = 1e17;
  if (o->min > 0 && o->min < 1e-300 && o->max >= big) {
    if (v > 0) /* a subnormal: positive, but below the smallest normal double */
      H2_FAIL(H2_EINPUT, "%s --%s: must be at least %g (the smallest normal double), got %g", source, o->name, o->min,
              v);
    H2_FAIL(H2_EINPUT, "%s --%s: must be positive, got %g", source, o->name, v);
  }
  if (o->max >= big && v > o->max) H2_FAIL(H2_EINPUT, "%s --%s: must be at most %g, got %g", source, o->name, o->max, v);
  if (o->max >= big) H2_FAIL(H2_EINPUT, "%s --%s: must be at least %g, got %g", source, o->name, o->min, v);
  H2_FAIL(H2_EINPUT, "%s --%s: must be between %g and %g, got %g", source, o->name, o->min, o->max, v);
}

/* Integer bounds of an H2_OPT_INT option, exact in 64 bits (the table's
 * doubles are whole numbers; a maximum at or beyond 2^63 means none). */
static void int_bounds(const h2_opt_spec *o, long long *lo, long long *hi) {
  *lo = o->min <= -9.2e18 ? LLONG_MIN : (long long)o->min;
  *hi = o->max >= 9.2e18 ? LLONG_MAX : (long long)o->max;
}

static int int_range_error(const h2_opt_spec *o, long long v, const char *source) {
  long long lo, hi;
  int_bounds(o, &lo, &hi);
  if ((hi == LLONG_MAX || o->max >= 1e17) && v > hi)
    H2_FAIL(H2_EINPUT, "%s --%s: must be at most %lld, got %lld", source, o->name, hi, v);
  if (hi == LLONG_MAX || o->max >= 1e17)
    H2_FAIL(H2_EINPUT, "%s --%s: must be at least %lld, got %lld", source, o->name, lo, v);
  H2_FAIL(H2_EINPUT, "%s --%s: must be between %lld and %lld, got %lld", source, o->name, lo, hi, v);
}

static int set_value(const h2_opt_spec *o, const char *text, void *out, const char *source) {
  char *field = (char *)out + o->offset, *end = NULL;
  errno = 0;
  switch (o->type) {
    case H2_OPT_INT: {
      long long v = strtoll(text, &end, 10), lo, hi;
      if (!*text || *end || (errno && errno != ERANGE))
        H2_FAIL(H2_EINPUT, "%s --%s: expected an integer, got '%s'", source, o->name, text);
      int_bounds(o, &lo, &hi);
      if (errno == ERANGE)
        H2_FAIL(H2_EINPUT, "%s --%s: %s is outside the 64-bit integer range (at most %lld)", source, o->name, text, hi);
      /* checked here, in 64 bits, before any narrowing by the caller */
      if (v < lo || v > hi) return int_range_error(o, v, source);
      *(int64_t *)field = v;
      break;
    }
    case H2_OPT_REAL: {
      double v = strtod(text, &end);
      if (!*text || *end || (errno && errno != ERANGE) || isnan(v))
        H2_FAIL(H2_EINPUT, "%s --%s: expected a number, got '%s'", source, o->name, text);
      if (errno == ERANGE && fabs(v) > 1)
        H2_FAIL(H2_EINPUT, "%s --%s: %s is outside the range of double precision", source, o->name, text);
      if (v < o->min || v > o->max || (errno == ERANGE && o->min > 0)) /* underflow: a subnormal or 0 */
        return range_error(o, v, source);
      *(double *)field = v;
      break;
    }
    case H2_OPT_STRING: *(const char **)field = text; break;
    case H2_OPT_FLAG: *(int *)field = 1; break;
  }
  return 0;
}

int h2_cli_parse(const h2_cli *cli, int argc, char **argv, void *out, int *set, const char **pos, int maxpos,
                 int *npos, int *help) {
  *npos = 0;
  *help = 0;
  for (int i = 0; i < cli->nopts; i++) {
    set[i] = 0;
    const h2_opt_spec *o = &cli->opts[i];
    if (o->type == H2_OPT_FLAG) *(int *)((char *)out + o->offset) = 0;
    else if (o->type == H2_OPT_STRING) *(const char **)((char *)out + o->offset) = o->deflt;
    else H2_TRY(set_value(o, o->deflt, out, "default"));
  }
  for (int a = 1; a < argc; a++) {
    const char *arg = argv[a];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      *help = 1;
      return 0;
    }
    if (strncmp(arg, "--", 2) || !arg[2]) {
      if (arg[0] == '-' && arg[1] && arg[1] != '-' && arg[1] != '.' && (arg[1] < '0' || arg[1] > '9'))
        H2_FAIL(H2_EINPUT, "unknown option '%s' (see --help)", arg);
      if (*npos >= maxpos) H2_FAIL(H2_EINPUT, "unexpected argument '%s' (see --help)", arg);
      pos[(*npos)++] = arg;
      continue;
    }
    char name[128];
    const char *eq = strchr(arg + 2, '=');
    size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (len >= sizeof name) H2_FAIL(H2_EINPUT, "unknown option '%s' (see --help)", arg);
    memcpy(name, arg + 2, len);
    name[len] = 0;
    int i = h2_cli_find(cli, name);
    if (i < 0) H2_FAIL(H2_EINPUT, "unknown option '--%s' (see --help)", name);
    const h2_opt_spec *o = &cli->opts[i];
    const char *val = NULL;
    if (o->type == H2_OPT_FLAG) {
      if (eq) H2_FAIL(H2_EINPUT, "option --%s takes no value", name);
      val = "1";
    } else if (eq) {
      val = eq + 1;
    } else {
      if (a + 1 >= argc) H2_FAIL(H2_EINPUT, "option --%s needs a value (%s)", name, o->meta ? o->meta : "value");
      val = argv[++a];
    }
    H2_TRY(set_value(o, val, out, "option"));
    set[i] = 1;
  }
  return 0;
}

int h2_cli_apply_number(const h2_cli *cli, int i, double value, void *out, const int *set, const char *source) {
  const h2_opt_spec *o = &cli->opts[i];
  if (set[i] || !o->file_attr) return 0;
  char text[64];
  if (o->type == H2_OPT_INT) {
    if (!isfinite(value) || value != floor(value))
      H2_FAIL(H2_EINPUT, "%s: attribute %s must be an integer, got %g", source, o->name, value);
    if (fabs(value) >= 9.2e18)
      H2_FAIL(H2_EINPUT, "%s --%s: %g is outside the 64-bit integer range", source, o->name, value);
    snprintf(text, sizeof text, "%.0f", value);
  } else if (o->type == H2_OPT_REAL) {
    snprintf(text, sizeof text, "%.17g", value);
  } else {
    return 0;
  }
  return set_value(o, text, out, source);
}

void h2_cli_print_help(const h2_cli *cli) {
  printf("Usage: %s\n\n%s\n\nOptions:\n", cli->usage, cli->description);
  for (int i = 0; i < cli->nopts; i++) {
    const h2_opt_spec *o = &cli->opts[i];
    char left[64];
    if (o->type == H2_OPT_FLAG) snprintf(left, sizeof left, "--%s", o->name);
    else snprintf(left, sizeof left, "--%s %s", o->name, o->meta ? o->meta : "V");
    printf("  %-26s %s", left, o->help);
    if (o->deflt && o->type != H2_OPT_FLAG) printf(" [default: %s]", o->deflt);
    if (o->file_attr) {
      char attr[64];
      snprintf(attr, sizeof attr, "%s", o->name);
      for (char *c = attr; *c; c++)
        if (*c == '-') *c = '_';
      printf(" (input attribute %s)", attr);
    }
    printf("\n");
  }
  printf("  %-26s %s\n", "--help", "print this help and exit");
  if (cli->epilogue) printf("\n%s\n", cli->epilogue);
}
