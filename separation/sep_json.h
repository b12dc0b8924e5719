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

typedef enum sep_json_type { SJ_NULL, SJ_BOOL, SJ_NUM, SJ_STR, SJ_ARR, SJ_OBJ } sep_json_type;

typedef struct sep_json {
    sep_json_type type;
    double num;              /* SJ_NUM (and SJ_BOOL: 0/1) */
    char *str;               /* SJ_STR (owned) */
    int n;                   /* items of SJ_ARR / SJ_OBJ */
    char **keys;             /* SJ_OBJ keys (owned) */
    struct sep_json *items;  /* SJ_ARR / SJ_OBJ values (owned) */
} sep_json;

/* Parse text[0..n) into *out (to be freed with sep_json_free). Errors:
 * DUET_ERR_FORMAT (with the byte offset), DUET_ERR_NOMEM. */
duet_status sep_json_parse(const char *text, size_t n, sep_json *out, duet_err *err);

/* Read and parse a file. Errors: DUET_ERR_IO, plus those of sep_json_parse. */
duet_status sep_json_load(const char *path, sep_json *out, duet_err *err);

void sep_json_free(sep_json *v);

/* Member `key` of an object, or NULL (also when v is not an object). */
const sep_json *sep_json_get(const sep_json *v, const char *key);

/* Item i of an array, or NULL. */
const sep_json *sep_json_at(const sep_json *v, int i);

/* The number of a SJ_NUM, NaN for null or anything else. */
double sep_json_num(const sep_json *v);

#ifdef __cplusplus
}
#endif

#endif
