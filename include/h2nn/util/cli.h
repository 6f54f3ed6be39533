/* cli.h — command-line options from ONE table: the parser, --help and the
 * input file's configuration attributes are all generated from it.
 *
 * Precedence (docs/design.md §7): project default < input-file root attribute (same
 * name with '_' for '-') < command line. */
#ifndef H2NN_CLI_H
#define H2NN_CLI_H

#include <stddef.h>
#include <stdint.h>

typedef enum { H2_OPT_INT, H2_OPT_REAL, H2_OPT_STRING, H2_OPT_FLAG } h2_opt_type;

typedef struct {
  const char *name;    /* long option without "--" */
  h2_opt_type type;
  const char *deflt;   /* default value as text (NULL: none) */
  const char *meta;    /* value placeholder in --help */
  const char *help;
  size_t offset;       /* field in the options struct */
  int file_attr;       /* may be set by an input-file root attribute */
  double min, max;     /* numeric range (inclusive) */
} h2_opt_spec;

typedef struct {
  const char *program, *usage, *description, *epilogue;
  const h2_opt_spec *opts;
  int nopts;
} h2_cli;

/* Parse argv into the struct at `out` (defaults first).  Positional arguments
 * are collected into pos[0..*npos) (at most maxpos).  `set[i]` records which
 * options came from the command line.  --help prints the help and sets
 * *help = 1.  Errors name the option and what was expected. */
int h2_cli_parse(const h2_cli *cli, int argc, char **argv, void *out, int *set, const char **pos, int maxpos,
                 int *npos, int *help);

/* Apply a numeric value (e.g. from a file attribute) to option i unless the
 * command line set it.  Range-checked; `source` names where it came from. */
int h2_cli_apply_number(const h2_cli *cli, int i, double value, void *out, const int *set, const char *source);

void h2_cli_print_help(const h2_cli *cli);

/* Index of option `name` in the table, or -1. */
int h2_cli_find(const h2_cli *cli, const char *name);

#endif
