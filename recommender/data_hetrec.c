/* recommender/data_hetrec.c: the HetRec 2011 Last.fm-2k and KGCN
 * loaders (data.h). */
#include "data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_impl.h"
#include "../common/pathfmt.h"

/* ------------------------------------------------------------ HetRec */

static duet_status expect_header(linereader *lr, const char *header, duet_err *err)
{
    int r = duet_rec_data_lr_next(lr, err);
    if (r < 0) return lr->st;
    if (r == 0) return duet_err_set(err, DUET_ERR_EMPTY, "%s: empty file", lr->path);
    if (strcmp(lr->buf, header) != 0)
        return duet_err_set(err, DUET_ERR_FORMAT, "%s:1: expected the header '%s'", lr->path, header);
    return DUET_OK;
}

/* ISO-8859-1 to UTF-8 (each byte >= 0x80 becomes two bytes). Caller frees. */
static char *latin1_to_utf8(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) n += *p >= 0x80 ? 2 : 1;
    char *o = malloc(n + 1), *q = o;
    if (!o) return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80) *q++ = (char)*p;
        else {
            *q++ = (char)(0xC0 | (*p >> 6));
            *q++ = (char)(0x80 | (*p & 0x3F));
        }
    }
    *q = '\0';
    return o;
}

static duet_status hetrec_artists(duet_rec_dataset *ds, const char *dir, duet_err *err)
{
    char *p = duet_path_join(dir, "artists.dat");
    if (!p) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    linereader lr;
    duet_status st = duet_rec_data_lr_open(&lr, p, duet_rec_data_ds_limits(ds), err);
    if (!st) st = expect_header(&lr, "id\tname\turl\tpictureURL", err);
    if (!st && !(ds->item_names = calloc((size_t)ds->n_items, sizeof *ds->item_names)))
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    int r = 1;
    char *f[5];
    while (!st && (r = duet_rec_data_lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        int nf = duet_rec_data_split_tabs(lr.buf, f, 4);
        if (nf < 2 || nf > 4) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected id, name, url, pictureURL", p,
                              (long long)lr.line);
            break;
        }
        int32_t i = duet_rec_dataset_find_item(ds, f[0]);
        if (i < 0) {
            ds->n_skipped++;
            continue;
        }
        free(ds->item_names[i]);
        if (!(ds->item_names[i] = strdup(f[1]))) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    if (!st && r < 0) st = lr.st;
    duet_rec_data_lr_close(&lr);
    free(p);
    return st;
}

static duet_status hetrec_tags(duet_rec_dataset *ds, const char *dir, duet_err *err)
{
    char *p1 = duet_path_join(dir, "tags.dat"), *p2 = duet_path_join(dir, "user_taggedartists.dat");
    char **tagtok = NULL; /* tag id -> token index as (int32) via array */
    int32_t *tag_index = NULL;
    long max_tag = -1;
    tripvec ti = {0}, tu = {0};
    int32_t tcap = ds->n_tokens;
    duet_status st = DUET_OK;
    linereader lr = {0};
    char *f[8];
    int r = 1;
    (void)tagtok;
    if (!p1 || !p2) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* tags.dat: tag ids up to a few tens of thousands; index by id. */
    st = duet_rec_data_lr_open(&lr, p1, duet_rec_data_ds_limits(ds), err);
    if (!st) st = expect_header(&lr, "tagID\ttagValue", err);
    size_t tcap_ids = 0;
    while (!st && (r = duet_rec_data_lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        long id;
        int nf = duet_rec_data_split_tabs(lr.buf, f, 2);
        if (nf != 2 || duet_rec_data_parse_id(f[0], &id) != 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `tagID<TAB>tagValue`", p1, (long long)lr.line);
            break;
        }
        if (id >= duet_rec_data_ds_limits(ds)->max_ids) {
            st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: tag id %ld is over the limit %d", p1, (long long)lr.line,
                              id, duet_rec_data_ds_limits(ds)->max_ids);
            break;
        }
        if ((size_t)id >= tcap_ids) {
            size_t nc = (size_t)id * 2 + 64;
            if (nc > (size_t)duet_rec_data_ds_limits(ds)->max_ids) nc = (size_t)duet_rec_data_ds_limits(ds)->max_ids;
            int32_t *n2 = realloc(tag_index, nc * sizeof *n2);
            if (!n2) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                break;
            }
            for (size_t k = tcap_ids; k < nc; k++) n2[k] = -1;
            tag_index = n2;
            tcap_ids = nc;
        }
        if (tag_index[id] >= 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: tag id %ld repeated", p1, (long long)lr.line, id);
            break;
        }
        char *u8 = latin1_to_utf8(f[1]);
        char *tok = u8 ? malloc(strlen(u8) + 5) : NULL;
        if (tok) sprintf(tok, "tag:%s", u8);
        int32_t t = tok ? duet_rec_data_ds_token(ds, &tcap, tok) : -1;
        free(u8);
        free(tok);
        if (t < 0) {
            st = duet_rec_data_intern_error(&lr, t, "tokens", duet_rec_data_ds_limits(ds)->max_ids, err);
            break;
        }
        tag_index[id] = t;
        if (id > max_tag) max_tag = id;
    }
    if (!st && r < 0) st = lr.st;
    duet_rec_data_lr_close(&lr);
    if (st) goto done;
    st = duet_rec_data_lr_open(&lr, p2, duet_rec_data_ds_limits(ds), err);
    if (!st) st = expect_header(&lr, "userID\tartistID\ttagID\tday\tmonth\tyear", err);
    while (!st && (r = duet_rec_data_lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        long tag;
        int nf = duet_rec_data_split_tabs(lr.buf, f, 6);
        if (nf != 6 || duet_rec_data_parse_id(f[2], &tag) != 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected 6 fields userID artistID tagID day month year",
                              p2, (long long)lr.line);
            break;
        }
        if (tag > max_tag || tag_index[tag] < 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: tag id %ld is not in tags.dat", p2, (long long)lr.line,
                              tag);
            break;
        }
        int32_t u = duet_rec_dataset_find_user(ds, f[0]), i = duet_rec_dataset_find_item(ds, f[1]);
        if (i < 0 && u < 0) {
            ds->n_skipped++;
            continue;
        }
        if ((i >= 0 && duet_rec_data_tv_push(&ti, i, tag_index[tag], 1.0f, lr.line) != 0) ||
            (u >= 0 && duet_rec_data_tv_push(&tu, u, tag_index[tag], 1.0f, lr.line) != 0)) {
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            break;
        }
        if (i < 0 || u < 0) ds->n_skipped++;
    }
    if (!st && r < 0) st = lr.st;
    duet_rec_data_lr_close(&lr);
    if (st) goto done;
    duet_rec_data_fix_token_cols(ds);
    st = duet_rec_data_merge_attr(&ds->item_attr, ds->n_items, ds->n_tokens, &ti, err);
    if (!st) st = duet_rec_data_merge_attr(&ds->user_attr, ds->n_users, ds->n_tokens, &tu, err);
    duet_rec_data_fix_token_cols(ds);
done:
    duet_rec_data_lr_close(&lr);
    free(ti.t);
    free(tu.t);
    free(tag_index);
    free(p1);
    free(p2);
    return st;
}

static duet_status hetrec_friends(duet_rec_dataset *ds, const char *dir, duet_err *err)
{
    char *p = duet_path_join(dir, "user_friends.dat");
    if (!p) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    linereader lr;
    tripvec tv = {0};
    duet_status st = duet_rec_data_lr_open(&lr, p, duet_rec_data_ds_limits(ds), err);
    if (!st) st = expect_header(&lr, "userID\tfriendID", err);
    int r = 1;
    char *f[3];
    while (!st && (r = duet_rec_data_lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        if (duet_rec_data_split_tabs(lr.buf, f, 2) != 2) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `userID<TAB>friendID`", p, (long long)lr.line);
            break;
        }
        int32_t a = duet_rec_dataset_find_user(ds, f[0]), b = duet_rec_dataset_find_user(ds, f[1]);
        if (a < 0 || b < 0) {
            ds->n_skipped++;
            continue;
        }
        if (duet_rec_data_tv_push(&tv, a, b, 1.0f, lr.line) != 0)
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    if (!st && r < 0) st = lr.st;
    if (!st) st = duet_rec_csr_from_triples(&ds->friends, ds->n_users, ds->n_users, tv.t, tv.n, 1, p, err);
    if (!st)
        for (int64_t k = 0; k < ds->friends.nnz; k++) ds->friends.values[k] = 1.0f;
    duet_rec_data_lr_close(&lr);
    free(tv.t);
    free(p);
    return st;
}

duet_status duet_rec_load_hetrec(const char *dir, duet_rec_dataset **out, duet_err *err)
{
    *out = NULL;
    duet_rec_dataset *ds;
    duet_status st = duet_rec_data_ds_new(&ds, NULL, err);
    if (st) return st;
    char *p = duet_path_join(dir, "user_artists.dat");
    linereader lr;
    if (!p) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    if (!st) {
        st = duet_rec_data_lr_open(&lr, p, duet_rec_data_ds_limits(ds), err);
        if (!st) {
            st = expect_header(&lr, "userID\tartistID\tweight", err);
            if (!st) st = duet_rec_data_read_interactions(&lr, ds, 0, 3, 3, 0, err);
            duet_rec_data_lr_close(&lr);
        }
    }
    free(p);
    if (!st) st = hetrec_artists(ds, dir, err);
    if (!st) st = hetrec_tags(ds, dir, err);
    if (!st) st = hetrec_friends(ds, dir, err);
    if (st) {
        duet_rec_dataset_free(ds);
        return st;
    }
    *out = ds;
    return DUET_OK;
}

duet_status duet_rec_load_kgcn(duet_rec_dataset *ds, const char *dir, duet_err *err)
{
    char *p1 = duet_path_join(dir, "item_index2entity_id.txt"), *p2 = duet_path_join(dir, "kg.txt");
    int32_t *ent_item = NULL; /* entity -> item or -1 */
    size_t ent_cap = 0;
    tripvec tv = {0};
    int32_t tcap = ds->n_tokens;
    linereader lr = {0};
    duet_status st = DUET_OK;
    char *f[4], tok[512];
    int r = 1;
    if (!p1 || !p2) {
        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        goto done;
    }
    st = duet_rec_data_lr_open(&lr, p1, duet_rec_data_ds_limits(ds), err);
    while (!st && (r = duet_rec_data_lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        long e;
        if (duet_rec_data_split_tabs(lr.buf, f, 2) != 2 || duet_rec_data_parse_id(f[1], &e) != 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `item<TAB>entity-index`", p1, (long long)lr.line);
            break;
        }
        if (e >= duet_rec_data_ds_limits(ds)->max_ids) {
            st = duet_err_set(err, DUET_ERR_RANGE, "%s:%lld: entity index %ld is over the limit %d", p1,
                              (long long)lr.line, e, duet_rec_data_ds_limits(ds)->max_ids);
            break;
        }
        if ((size_t)e >= ent_cap) {
            size_t nc = (size_t)e * 2 + 64;
            if (nc > (size_t)duet_rec_data_ds_limits(ds)->max_ids) nc = (size_t)duet_rec_data_ds_limits(ds)->max_ids;
            int32_t *n2 = realloc(ent_item, nc * sizeof *n2);
            if (!n2) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                break;
            }
            for (size_t k = ent_cap; k < nc; k++) n2[k] = -1;
            ent_item = n2;
            ent_cap = nc;
        }
        int32_t i = duet_rec_dataset_find_item(ds, f[0]);
        if (i < 0) ds->n_skipped++;
        else if (ent_item[e] >= 0) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: entity %ld mapped twice", p1, (long long)lr.line, e);
            break;
        } else ent_item[e] = i;
    }
    if (!st && r < 0) st = lr.st;
    duet_rec_data_lr_close(&lr);
    if (st) goto done;
    st = duet_rec_data_lr_open(&lr, p2, duet_rec_data_ds_limits(ds), err);
    while (!st && (r = duet_rec_data_lr_next(&lr, err)) == 1) {
        if (!lr.buf[0]) continue;
        long h, t;
        if (duet_rec_data_split_tabs(lr.buf, f, 3) != 3 || duet_rec_data_parse_id(f[0], &h) != 0 || duet_rec_data_parse_id(f[2], &t) != 0 || !*f[1] ||
            strlen(f[1]) > 400) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s:%lld: expected `head<TAB>relation<TAB>tail`", p2,
                              (long long)lr.line);
            break;
        }
        int32_t ih = (size_t)h < ent_cap ? ent_item[h] : -1, it = (size_t)t < ent_cap ? ent_item[t] : -1;
        if (ih < 0 && it < 0) continue; /* a relation between two non-item entities */
        if (ih >= 0) {
            snprintf(tok, sizeof tok, "kg:%s=%ld", f[1], t);
            int32_t k = duet_rec_data_ds_token(ds, &tcap, tok);
            if (k == -2) goto toomany;
            if (k < 0 || duet_rec_data_tv_push(&tv, ih, k, 1.0f, lr.line) != 0) goto nomem;
        }
        if (it >= 0) {
            snprintf(tok, sizeof tok, "kg:~%s=%ld", f[1], h);
            int32_t k = duet_rec_data_ds_token(ds, &tcap, tok);
            if (k == -2) goto toomany;
            if (k < 0 || duet_rec_data_tv_push(&tv, it, k, 1.0f, lr.line) != 0) goto nomem;
        }
    }
    if (!st && r < 0) st = lr.st;
    if (st) goto done;
    duet_rec_data_fix_token_cols(ds);
    st = duet_rec_data_merge_attr(&ds->item_attr, ds->n_items, ds->n_tokens, &tv, err);
    goto done;
toomany:
    st = duet_rec_data_intern_error(&lr, -2, "tokens", duet_rec_data_ds_limits(ds)->max_ids, err);
    goto done;
nomem:
    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
done:
    duet_rec_data_fix_token_cols(ds);
    duet_rec_data_lr_close(&lr);
    free(tv.t);
    free(ent_item);
    free(p1);
    free(p2);
    return st;
}

