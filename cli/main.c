/* cli/main.c: the `duet` binary's entry point: dispatch to subcommands listed
 * in cli/commands.def, global --help and --version, and shared helpers. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef DUET_VERSION
#define DUET_VERSION "0.0.0"
#endif

typedef struct cli_command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} cli_command;

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("duet %s\n", DUET_VERSION);
    return 0;
}

static const cli_command commands[] = {
    {"version", cmd_version, "print duet's version"},
#define DUET_CMD(name, fn, summary) {name, fn, summary},
#include "commands.def"
#undef DUET_CMD
};
static const size_t n_commands = sizeof commands / sizeof commands[0];

void cli_error(const char *what, const char *fmt, ...)
{
    va_list ap;
    fputs("duet: ", stderr);
    if (what) fprintf(stderr, "%s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_model_path(const char *cmd, const char *opt, const char **out)
{
    const char *env = getenv("DUET_MODEL");
    const char *path = opt ? opt : (env && *env ? env : NULL);
    if (path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            cli_error(cmd, "model %s (from %s): cannot open: %s; %s to use the built-in model", path,
                      opt ? "--model" : "$DUET_MODEL", strerror(errno),
                      opt ? "leave out --model" : "unset DUET_MODEL");
            return 1;
        }
        fclose(f);
    }
    *out = path;
    return 0;
}

int cli_fail(const char *what, duet_status st, const duet_err *err)
{
    cli_error(what, "%s", duet_err_msg(err, st));
    return 1;
}

int cli_bad_option(const char *cmd, int c, int argc, char **argv)
{
    const char *arg = optind - 1 < argc ? argv[optind - 1] : "?";
    int is_long = arg[0] == '-' && arg[1] == '-';
    if (c == ':')
        cli_error(cmd, "option '%s' needs a value (see duet %s --help)", arg, cmd);
    else if (is_long && optopt != 0 && strchr(arg, '='))
        cli_error(cmd, "option '%.*s' takes no value (see duet %s --help)", (int)(strchr(arg, '=') - arg), arg, cmd);
    else if (optopt > 0 && optopt < 128 && !is_long)
        cli_error(cmd, "unknown option '-%c' (see duet %s --help)", optopt, cmd);
    else
        cli_error(cmd, "unknown option '%s' (see duet %s --help)", arg, cmd);
    return 2;
}

int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_error(NULL, "%s: expected an integer in [%ld, %ld], got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_shard(const char *s, int *i, int *n)
{
    int a, b, used = 0;
    if (!s || sscanf(s, "%d/%d%n", &a, &b, &used) != 2 || s[used] || b < 1 || a < 1 || a > b) {
        cli_error(NULL, "--shard: expected i/N with 1 <= i <= N, got '%s'", s ? s : "");
        return -1;
    }
    *i = a;
    *n = b;
    return 0;
}

int cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        cli_error(NULL, "%s: expected a number in [%g, %g], got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            buf[i] = c;
        }
    }
    struct stat sb;
    if (stat(path, &sb) != 0) return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: duet [--help] [--version] COMMAND [ARGS...]\n\n"
            "duet separates singing voice from accompaniment, describes songs with\n"
            "numbers and recommends songs.\n\ncommands:\n");
    for (size_t i = 0; i < n_commands; i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`duet help COMMAND` or `duet COMMAND --help` shows a command's options.\n");
}

static const cli_command *find(const char *name)
{
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *c = argv[1];
    if (!strcmp(c, "--help") || !strcmp(c, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(c, "--version") || !strcmp(c, "-V")) {
        printf("duet %s\n", DUET_VERSION);
        return 0;
    }
    if (!strcmp(c, "help")) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        const cli_command *cmd = find(argv[2]);
        if (!cmd) {
            cli_error(NULL, "unknown command '%s' (see duet --help)", argv[2]);
            return 2;
        }
        char *hargv[] = {argv[2], "--help", NULL};
        return cmd->fn(2, hargv);
    }
    const cli_command *cmd = find(c);
    if (!cmd) {
        cli_error(NULL, "unknown command '%s' (see duet --help)", c);
        return 2;
    }
    return cmd->fn(argc - 1, argv + 1);
}
