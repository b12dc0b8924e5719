/* separation/sep_json.h: a small JSON reader that builds a tree, for the
 * separation metrics' reference files (mir_eval's outputNN.json, museval's
 * JSON) and for reading back eval-sep's own JSON. Accepts RFC 8259 JSON plus
 * the NaN, Infinity and -Infinity tokens Python's json module writes.
 * Nesting is limited to 64 levels. */
#ifndef DUET_SEPARATION_SEP_JSON_H
#define DUET_SEPARATION_SEP_JSON_H

#include <stddef.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum duet_sep_json_type { SJ_NULL, SJ_BOOL, SJ_NUM, SJ_STR, SJ_ARR, SJ_OBJ } duet_sep_json_type;

typedef struct duet_sep_json {
    duet_sep_json_type type;
    double num;              /* SJ_NUM (and SJ_BOOL: 0/1) */
    char *str;               /* SJ_STR (owned) */
    int n;                   /* items of SJ_ARR / SJ_OBJ */
    char **keys;             /* SJ_OBJ keys (owned) */
    struct duet_sep_json *items;  /* SJ_ARR / SJ_OBJ values (owned) */
} duet_sep_json;

/* Parse text[0..n) into *out (to be freed with duet_sep_json_free). Errors:
 * DUET_ERR_FORMAT (with the byte offset), DUET_ERR_NOMEM. */
duet_status duet_sep_json_parse(const char *text, size_t n, duet_sep_json *out, duet_err *err);

/* Read and parse a file. Errors: DUET_ERR_IO, plus those of duet_sep_json_parse. */
duet_status duet_sep_json_load(const char *path, duet_sep_json *out, duet_err *err);

void duet_sep_json_free(duet_sep_json *v);

/* Member `key` of an object, or NULL (also when v is not an object). */
const duet_sep_json *duet_sep_json_get(const duet_sep_json *v, const char *key);

/* Item i of an array, or NULL. */
const duet_sep_json *duet_sep_json_at(const duet_sep_json *v, int i);

/* The number of a SJ_NUM, NaN for null or anything else. */
double duet_sep_json_num(const duet_sep_json *v);

#ifdef __cplusplus
}
#endif

#endif
