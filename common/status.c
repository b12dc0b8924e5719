/* common/status.c: duet_strerror and the duet_err helpers. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *duet_strerror(duet_status s)
{
    switch (s) {
    case DUET_OK: return "success";
    case DUET_ERR_NOMEM: return "out of memory";
    case DUET_ERR_IO: return "input/output error";
    case DUET_ERR_FORMAT: return "malformed or unrecognised data";
    case DUET_ERR_ARG: return "invalid argument";
    case DUET_ERR_RANGE: return "value out of range";
    case DUET_ERR_NAN: return "NaN or infinite value in data";
    case DUET_ERR_SHAPE: return "shape mismatch";
    case DUET_ERR_UNSUPPORTED: return "unsupported";
    case DUET_ERR_EMPTY: return "empty input";
    case DUET_ERR_NOTFOUND: return "not found";
    case DUET_ERR_INTERNAL: return "internal error";
    case DUET_ERR_CANCELLED: return "cancelled";
    }
    return "unknown error";
}

void duet_err_clear(duet_err *err)
{
    if (err) {
        err->status = DUET_OK;
        err->msg[0] = '\0';
    }
}

duet_status duet_err_set(duet_err *err, duet_status s, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->status = s;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        /* keep it one line */
        for (char *p = err->msg; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
    }
    return s;
}

const char *duet_err_msg(const duet_err *err, duet_status s)
{
    if (err && err->msg[0]) return err->msg;
    return duet_strerror(s);
}

void duet_check_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "duet: internal check failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
