/* cli/cli.h: shared helpers of the duet command-line front end. The CLI is a
 * thin layer: it parses options, calls the library, prints one-line errors
 * ("duet: FILE: problem") and maps failures to exit status 1 (usage: 2). */
#ifndef DUET_CLI_H
#define DUET_CLI_H

#include "../common/status.h"

#define DUET_CMD(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef DUET_CMD

/* Print "duet: <what>: <message>" on stderr (what may be NULL). */
void cli_error(const char *what, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Print "duet: <what>: <err or strerror(st)>" and return 1. */
int cli_fail(const char *what, duet_status st, const duet_err *err);

/* Parse helpers: return 0 and set *out on success; print an error naming
 * `opt` and return -1 when `s` is not a complete number in [lo, hi]. */
int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out);
/* --shard i/N: sets *i and *n (1 <= i <= N) and returns 0, or prints the
 * error and returns -1. */
int cli_parse_shard(const char *s, int *i, int *n);

/* One-line message for a getopt_long failure, for parsers that set
 * opterr = 0 and start their short-option string with ':': c is what
 * getopt_long returned (':' missing argument, '?' unknown option). Prints
 * "duet: <cmd>: ..." naming the option and pointing at `duet <cmd> --help`;
 * returns 2 (the usage exit status). */
int cli_bad_option(const char *cmd, int c, int argc, char **argv);

/* Make the folder `path` and its parents (like mkdir -p). 0 or -1 (errno set). */
int cli_mkdirs(const char *path);

/* The separation model a command uses: `opt` (its --model value) if given,
 * else $DUET_MODEL if set and non-empty, else NULL (the model built into
 * libduet). A named file that cannot be read gets one error line naming it,
 * where the name came from and how to fall back to the built-in model;
 * *out is then untouched. Returns 0 or 1 (the exit status). */
int cli_model_path(const char *cmd, const char *opt, const char **out);

#endif
