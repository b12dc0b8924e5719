/* cli/cli_opts.c: option conventions shared by the commands (see cli_opts.h). */
#include "cli_opts.h"
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_help_quiet_verbose(FILE *f, int col)
{
    int pad = col - (int)strlen("  -q, --quiet");
    if (pad < 1) pad = 1;
    fprintf(f, "  -q, --quiet%*sno progress or information lines on stderr, only errors\n", pad, "");
    pad = col - (int)strlen("  -v, --verbose");
    if (pad < 1) pad = 1;
    fprintf(f, "  -v, --verbose%*sextra diagnostic lines on stderr\n", pad, "");
}

int cli_verbosity(const char *cmd, int n_quiet, int n_verbose)
{
    if (n_quiet && n_verbose) {
        cli_error(cmd, "-q/--quiet and -v/--verbose contradict each other");
        return -2;
    }
    return n_quiet ? CLI_QUIET : n_verbose ? CLI_VERBOSE : CLI_NORMAL;
}

static void vline(const char *cmd, const char *fmt, va_list ap)
{
    fputs("duet: ", stderr);
    if (cmd) fprintf(stderr, "%s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_info(int verbosity, const char *cmd, const char *fmt, ...)
{
    if (verbosity < CLI_NORMAL) return;
    va_list ap;
    va_start(ap, fmt);
    vline(cmd, fmt, ap);
    va_end(ap);
}

void cli_debug(int verbosity, const char *cmd, const char *fmt, ...)
{
    if (verbosity < CLI_VERBOSE) return;
    va_list ap;
    va_start(ap, fmt);
    vline(cmd, fmt, ap);
    va_end(ap);
}

int cli_need_value(const char *cmd, const char *long_name, const char *value)
{
    if (value && value[0]) return 0;
    cli_error(cmd, "option '--%s' needs a value (see duet %s --help)", long_name, cmd);
    return 2;
}

int cli_no_operands(const char *cmd, int argc, char **argv)
{
    if (optind >= argc) return 0;
    cli_error(cmd, "unexpected argument '%s' (see duet %s --help)", argv[optind], cmd);
    return 2;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static int utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    int n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07;
    else return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0; /* also stops at the terminating NUL */
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void cli_json_string(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            p++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\t': fputs("\\t", f); break;
            case '\r': fputs("\\r", f); break;
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            default: fprintf(f, "\\u%04x", c); break;
            }
            p++;
        } else {
            int n = utf8_len(p);
            if (n == 0) {
                fputs("\\ufffd", f);
                p++;
            } else {
                fwrite(p, 1, (size_t)n, f);
                p += n;
            }
        }
    }
    fputc('"', f);
}

void cli_json_number(FILE *f, double v, int digits)
{
    if (!isfinite(v)) fputs("null", f);
    else fprintf(f, "%.*g", digits, v);
}

static int skip_digits(const char **p)
{
    const char *s = *p;
    while (**p >= '0' && **p <= '9') (*p)++;
    return *p > s;
}

int cli_json_is_number(const char *s)
{
    if (!s) return 0;
    if (*s == '-') s++;
    if (*s == '0') s++;
    else if (*s < '1' || *s > '9' || !skip_digits(&s)) return 0;
    if (*s == '.') {
        s++;
        if (!skip_digits(&s)) return 0;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!skip_digits(&s)) return 0;
    }
    return *s == '\0';
}
