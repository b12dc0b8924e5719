/* cli/cli_opts.h: option conventions shared by duet's commands (issue 20),
 * beside the helpers of cli.h.
 *
 * Every command parses its options with getopt_long, so `--opt=value` and
 * `--opt value` both work (and `--` ends the options). Two options mean the
 * same thing wherever they appear:
 *   -q, --quiet    no progress line and no information lines on standard
 *                  error, only errors;
 *   -v, --verbose  extra diagnostic lines on standard error.
 * Standard output (the command's result) is the same with either. Giving
 * both is a usage error. */
#ifndef DUET_CLI_OPTS_H
#define DUET_CLI_OPTS_H

#include <stdio.h>

/* Verbosity levels. */
enum { CLI_QUIET = -1, CLI_NORMAL = 0, CLI_VERBOSE = 1 };

/* The getopt_long entries of -q/--quiet and -v/--verbose (short codes 'q'
 * and 'v'; add "qv" to the short-option string). */
#define CLI_OPT_QUIET_VERBOSE {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'}

/* The two --help lines of -q and -v, the description starting at column
 * `col` (the column the command's other option descriptions start at). */
void cli_help_quiet_verbose(FILE *f, int col);

/* After parsing: the verbosity from the counts of -q and -v seen. Prints
 * "duet: <cmd>: -q/--quiet and -v/--verbose contradict each other" and
 * returns -2 when both were given; else CLI_QUIET, CLI_NORMAL or CLI_VERBOSE. */
int cli_verbosity(const char *cmd, int n_quiet, int n_verbose);

/* "duet: <cmd>: <message>" on stderr when verbosity >= CLI_NORMAL
 * (cli_info) or >= CLI_VERBOSE (cli_debug). */
void cli_info(int verbosity, const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void cli_debug(int verbosity, const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A string option's value must not be empty: prints "duet: <cmd>: option
 * '--<long_name>' needs a value (see duet <cmd> --help)" and returns 2 when
 * it is, else returns 0. */
int cli_need_value(const char *cmd, const char *long_name, const char *value);

/* Refuse operands a command does not take: when optind < argc prints
 * "duet: <cmd>: unexpected argument '<arg>' (see duet <cmd> --help)" and
 * returns 2, else 0. */
int cli_no_operands(const char *cmd, int argc, char **argv);

/* Write s as a JSON string (with the quotes): '"', '\\' and control
 * characters escaped (\n, \t, \r, \b, \f, else \u00XX), valid UTF-8 copied
 * as is, and each byte that is not part of valid UTF-8 (a non-UTF-8 file
 * name) written as \ufffd, so the output is always valid JSON. NULL is
 * written as null. */
void cli_json_string(FILE *f, const char *s);

/* Write v as a JSON number with `digits` significant digits (%.*g; 17
 * round-trips a double); NaN and infinities, which JSON cannot hold, are
 * written as null. */
void cli_json_number(FILE *f, double v, int digits);

/* 1 when s is exactly a JSON number (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?). */
int cli_json_is_number(const char *s);

#endif
