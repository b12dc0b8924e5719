/* common/status.h: status codes shared by every duet module, and the error
 * detail record that library functions fill for the CLI to print.
 *
 * Library functions return a duet_status; DUET_OK (0) is success. Functions
 * that can say more take an optional `duet_err *err` (may be NULL) and write a
 * one-line, human-readable detail into it (no trailing newline, no file name
 * unless the function was given one). Only the CLI prints. */
#ifndef DUET_COMMON_STATUS_H
#define DUET_COMMON_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum duet_status {
    DUET_OK = 0,
    DUET_ERR_NOMEM,      /* allocation failed */
    DUET_ERR_IO,         /* read/write/open failed (errno-based detail) */
    DUET_ERR_FORMAT,     /* input is not in the expected format / corrupt */
    DUET_ERR_ARG,        /* invalid argument (bad size, rate, option value) */
    DUET_ERR_RANGE,      /* value out of supported range / over a safety cap */
    DUET_ERR_NAN,        /* NaN or Inf encountered in data */
    DUET_ERR_SHAPE,      /* tensor / buffer shape mismatch */
    DUET_ERR_UNSUPPORTED,/* legal input that this build cannot handle */
    DUET_ERR_EMPTY,      /* empty input where data is required */
    DUET_ERR_NOTFOUND,   /* a named item (tensor, user, token, file) is missing */
    DUET_ERR_INTERNAL,   /* an invariant failed; a bug */
    DUET_ERR_CANCELLED   /* the caller's cancel flag was raised (e.g. on SIGINT) */
} duet_status;

/* One-line detail for the last failure of a call. Zero-initialise before use
 * (or call duet_err_clear). Fixed size: no ownership questions. */
typedef struct duet_err {
    duet_status status;
    char msg[512];
} duet_err;

/* Static English description of a status code. Never returns NULL. */
const char *duet_strerror(duet_status s);

/* Reset an error record (NULL is allowed and ignored). */
void duet_err_clear(duet_err *err);

/* Record status `s` with a printf-style message in `err` (NULL is allowed:
 * then only the status is returned). Returns `s`, so callers can write
 * `return duet_err_set(err, DUET_ERR_FORMAT, "bad header at byte %d", n);` */
duet_status duet_err_set(duet_err *err, duet_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Message to show for a failed call: err->msg when set, else duet_strerror(s). */
const char *duet_err_msg(const duet_err *err, duet_status s);

/* An assert that stays on in release builds: prints file:line and aborts. */
#define DUET_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond)) duet_check_fail(#cond, __FILE__, __LINE__);              \
    } while (0)
void duet_check_fail(const char *expr, const char *file, int line);

#ifdef __cplusplus
}
#endif

#endif
