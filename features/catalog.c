/* features/catalog.c: catalog lists, the resumable append-only feature TSV
 * and the parallel catalog runner (design notes in catalog.h). */
#define _GNU_SOURCE
#include "catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/atomic_file.h"
#include "../common/strmap.h"

/* ---- LIST ---- */

void duet_catalog_free(duet_catalog *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].id);
        free(c->items[i].path);
    }
    free(c->items);
    memset(c, 0, sizeof *c);
}

static int cmp_item_id(const void *a, const void *b)
{
    const duet_catalog_item *x = *(const duet_catalog_item *const *)a, *y = *(const duet_catalog_item *const *)b;
    return strcmp(x->id, y->id);
}

duet_status duet_catalog_read(const char *list_path, duet_catalog *out, duet_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(list_path, "rb");
    if (!f) return duet_err_set(err, DUET_ERR_IO, "cannot open list: %s", strerror(errno));
    const char *slash = strrchr(list_path, '/');
    size_t dir_len = slash ? (size_t)(slash - list_path) + 1 : 0; /* including the '/' */
    char *line = NULL;
    size_t cap = 0, items_cap = 0;
    ssize_t len;
    long lineno = 0;
    duet_status st = DUET_OK;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0 || line[0] == '#') continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "list line %ld: expected item_id<TAB>path", lineno);
            break;
        }
        *tab = '\0';
        const char *id = line, *path = tab + 1;
        if (out->n == 0 && (!strcmp(id, "item_id") || !strcmp(id, "item")) && !strcmp(path, "path")) continue;
        if (!id[0] || !path[0] || strchr(path, '\t')) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "list line %ld: empty item id or path, or extra columns",
                              lineno);
            break;
        }
        if (out->n == items_cap) {
            size_t nc = items_cap ? items_cap * 2 : 64;
            duet_catalog_item *ni = realloc(out->items, nc * sizeof *ni);
            if (!ni) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                break;
            }
            out->items = ni;
            items_cap = nc;
        }
        duet_catalog_item *it = &out->items[out->n];
        it->id = strdup(id);
        size_t pl = strlen(path), extra = path[0] == '/' ? 0 : dir_len;
        it->path = malloc(extra + pl + 1);
        if (!it->id || !it->path) {
            free(it->id);
            free(it->path);
            st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
            break;
        }
        memcpy(it->path, list_path, extra);
        memcpy(it->path + extra, path, pl + 1);
        out->n++;
    }
    int rerr = ferror(f);
    free(line);
    fclose(f);
    if (st == DUET_OK && rerr) st = duet_err_set(err, DUET_ERR_IO, "cannot read list");
    if (st == DUET_OK && out->n > 1) {
        const duet_catalog_item **s = malloc(out->n * sizeof *s);
        if (!s) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        else {
            for (size_t i = 0; i < out->n; i++) s[i] = &out->items[i];
            qsort(s, out->n, sizeof *s, cmp_item_id);
            for (size_t i = 1; i < out->n; i++)
                if (!strcmp(s[i]->id, s[i - 1]->id)) {
                    st = duet_err_set(err, DUET_ERR_FORMAT, "list: duplicate item id '%s'", s[i]->id);
                    break;
                }
            free(s);
        }
    }
    if (st != DUET_OK) duet_catalog_free(out);
    return st;
}

int duet_catalog_in_shard(const char *id, int shard_i, int shard_n)
{
    return duet_shard_has(id, shard_i, shard_n);
}

/* ---- output ---- */

struct duet_catalog_out {
    int fd;
    char *path;
    size_t n_features;
    char **ids; /* sorted ids found on open */
    size_t n_ids;
    char **failed; /* sorted ids of the failure rows among them (pointers into ids) */
    size_t n_failed;
    omp_lock_t lock;
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *make_header(const duet_feature_set *names)
{
    size_t len = strlen("item") + strlen("\terror\n") + 1;
    for (size_t i = 0; i < names->n; i++) len += strlen(names->names[i]) + 1;
    char *h = malloc(len), *p = h;
    if (!h) return NULL;
    p += sprintf(p, "item");
    for (size_t i = 0; i < names->n; i++) p += sprintf(p, "\t%s", names->names[i]);
    sprintf(p, "\terror\n");
    return h;
}

void duet_catalog_out_close(duet_catalog_out *o)
{
    if (!o) return;
    if (o->fd >= 0) close(o->fd);
    for (size_t i = 0; i < o->n_ids; i++) free(o->ids[i]);
    free(o->ids);
    free(o->failed);
    free(o->path);
    omp_destroy_lock(&o->lock);
    free(o);
}

/* Read an existing output: check the header, collect ids, cut a torn tail. */
static duet_status scan_existing(duet_catalog_out *o, const char *path, const char *header, duet_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return duet_err_set(err, DUET_ERR_IO, "cannot read output: %s", strerror(errno));
    char *line = NULL;
    size_t cap = 0, ids_cap = 0, failed_cap = 0;
    ssize_t len;
    off_t good = 0;
    duet_status st = DUET_OK;
    int first = 1;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (line[len - 1] != '\n') break; /* torn last line: cut below */
        if (first) {
            first = 0;
            if (strcmp(line, header) != 0) {
                st = duet_err_set(err, DUET_ERR_FORMAT,
                                  "existing output has a different header (another feature set); "
                                  "write to a new file");
                break;
            }
        } else {
            /* a row with values ends in an empty error field: "...\t\n" */
            int failed = !(len >= 2 && line[len - 2] == '\t');
            char *tab = strchr(line, '\t');
            if (tab) *tab = '\0';
            else line[len - 1] = '\0';
            if (o->n_ids == ids_cap) {
                size_t nc = ids_cap ? ids_cap * 2 : 256;
                char **ni = realloc(o->ids, nc * sizeof *ni);
                if (!ni) {
                    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                    break;
                }
                o->ids = ni;
                ids_cap = nc;
            }
            if (!(o->ids[o->n_ids] = strdup(line))) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                break;
            }
            if (failed) {
                if (o->n_failed == failed_cap) {
                    size_t nc = failed_cap ? failed_cap * 2 : 64;
                    char **nf = realloc(o->failed, nc * sizeof *nf);
                    if (!nf) {
                        free(o->ids[o->n_ids]);
                        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                        break;
                    }
                    o->failed = nf;
                    failed_cap = nc;
                }
                o->failed[o->n_failed++] = o->ids[o->n_ids];
            }
            o->n_ids++;
        }
        good += len;
    }
    free(line);
    fclose(f);
    if (st == DUET_OK && first) /* not even a whole header line */
        st = duet_err_set(err, DUET_ERR_FORMAT, "existing output has no complete header line");
    if (st != DUET_OK) return st;
    struct stat sb;
    if (stat(path, &sb) == 0 && sb.st_size > good && truncate(path, good) != 0)
        return duet_err_set(err, DUET_ERR_IO, "cannot cut the incomplete last row: %s", strerror(errno));
    /* a header without rows (killed before the first row) leaves ids NULL:
     * qsort(NULL, 0) is undefined behaviour (UBSan) */
    if (o->n_ids > 1) qsort(o->ids, o->n_ids, sizeof *o->ids, cmp_str);
    if (o->n_failed > 1) qsort(o->failed, o->n_failed, sizeof *o->failed, cmp_str);
    return DUET_OK;
}

duet_status duet_catalog_out_open(const char *path, const duet_feature_set *names, duet_catalog_out **out,
                                  duet_err *err)
{
    *out = NULL;
    duet_catalog_out *o = calloc(1, sizeof *o);
    char *header = make_header(names);
    if (!o || !header) {
        free(o);
        free(header);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    o->fd = -1;
    o->n_features = names->n;
    omp_init_lock(&o->lock);
    if (!(o->path = strdup(path))) {
        free(header);
        duet_catalog_out_close(o);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    duet_status st = DUET_OK;
    struct stat sb;
    if (stat(path, &sb) == 0 && sb.st_size > 0) {
        if (!S_ISREG(sb.st_mode)) st = duet_err_set(err, DUET_ERR_IO, "output is not a regular file");
        else st = scan_existing(o, path, header, err);
    } else {
        duet_atomic_file *af;
        st = duet_atomic_open(path, &af, err);
        if (st == DUET_OK) {
            if (fputs(header, duet_atomic_fp(af)) < 0) {
                duet_atomic_abort(af);
                st = duet_err_set(err, DUET_ERR_IO, "cannot write output header");
            } else {
                st = duet_atomic_commit(af, err);
            }
        }
    }
    free(header);
    if (st == DUET_OK) {
        o->fd = open(path, O_WRONLY | O_APPEND);
        if (o->fd < 0) st = duet_err_set(err, DUET_ERR_IO, "cannot open output for appending: %s", strerror(errno));
    }
    if (st != DUET_OK) {
        duet_catalog_out_close(o);
        return st;
    }
    *out = o;
    return DUET_OK;
}

int duet_catalog_out_has(const duet_catalog_out *o, const char *id)
{
    return o->n_ids && bsearch(&id, o->ids, o->n_ids, sizeof *o->ids, cmp_str) != NULL;
}

size_t duet_catalog_out_n_existing(const duet_catalog_out *o) { return o->n_ids; }

int duet_catalog_out_failed(const duet_catalog_out *o, const char *id)
{
    return o->n_failed && bsearch(&id, o->failed, o->n_failed, sizeof *o->failed, cmp_str) != NULL;
}

size_t duet_catalog_out_n_failed(const duet_catalog_out *o) { return o->n_failed; }

/* retry_failed: rewrite the output without the failure rows of the items
 * in `drop` (sorted ids, n_drop > 0), atomically, keep the file's mode,
 * reopen it for appending and forget those ids. */
static duet_status drop_rows(duet_catalog_out *o, char **drop, size_t n_drop, duet_err *err)
{
    struct stat sb;
    FILE *in = fopen(o->path, "rb");
    if (!in || fstat(fileno(in), &sb) != 0) {
        int e = errno;
        if (in) fclose(in);
        return duet_err_set(err, DUET_ERR_IO, "cannot read output: %s", strerror(e));
    }
    duet_atomic_file *af;
    duet_status st = duet_atomic_open(o->path, &af, err);
    if (st != DUET_OK) {
        fclose(in);
        return st;
    }
    (void)fchmod(duet_atomic_fd(af), sb.st_mode & 07777);
    FILE *out = duet_atomic_fp(af);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int first = 1;
    while ((len = getline(&line, &cap, in)) >= 0) {
        if (!first) { /* the id: up to the first tab (rows are whole lines, see scan_existing) */
            char *key = line, *cut = strchr(line, '\t');
            if (!cut) cut = line + len - 1;
            char saved = *cut;
            *cut = '\0';
            int gone = bsearch(&key, drop, n_drop, sizeof *drop, cmp_str) != NULL;
            *cut = saved;
            if (gone) continue;
        }
        first = 0;
        if (fwrite(line, 1, (size_t)len, out) != (size_t)len) break;
    }
    free(line);
    int bad = ferror(in) || ferror(out);
    fclose(in);
    if (bad) {
        duet_atomic_abort(af);
        return duet_err_set(err, DUET_ERR_IO, "cannot rewrite the output without its failed rows");
    }
    st = duet_atomic_commit(af, err);
    if (st != DUET_OK) return st;
    /* the descriptor still points at the old file */
    close(o->fd);
    o->fd = open(o->path, O_WRONLY | O_APPEND);
    if (o->fd < 0) return duet_err_set(err, DUET_ERR_IO, "cannot open output for appending: %s", strerror(errno));
    size_t w = 0;
    for (size_t i = 0; i < o->n_failed; i++) /* before the ids they point to are freed */
        if (!bsearch(&o->failed[i], drop, n_drop, sizeof *drop, cmp_str)) o->failed[w++] = o->failed[i];
    o->n_failed = w;
    w = 0;
    for (size_t i = 0; i < o->n_ids; i++) {
        if (bsearch(&o->ids[i], drop, n_drop, sizeof *drop, cmp_str)) free(o->ids[i]);
        else o->ids[w++] = o->ids[i];
    }
    o->n_ids = w;
    return DUET_OK;
}

duet_status duet_catalog_format_row(const duet_catalog_out *o, const char *id, const duet_feature_set *fs,
                                    const char *error, char **row, duet_err *err)
{
    *row = NULL;
    int ok = fs && !error;
    if (ok && fs->n != o->n_features)
        return duet_err_set(err, DUET_ERR_SHAPE, "%zu features for a header of %zu", fs->n, o->n_features);
    size_t cap = strlen(id) + (error ? strlen(error) : 0) + o->n_features * (ok ? 26 : 1) + 8;
    char *r = malloc(cap), *p = r;
    if (!r) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    size_t idl = strlen(id);
    memcpy(p, id, idl);
    p += idl;
    for (size_t i = 0; i < o->n_features; i++) {
        *p++ = '\t';
        if (ok) p += snprintf(p, 26, "%.9g", fs->values[i]);
    }
    *p++ = '\t';
    if (error)
        for (const char *e = error; *e; e++) *p++ = (*e == '\t' || *e == '\n' || *e == '\r') ? ' ' : *e;
    *p++ = '\n';
    *p = '\0';
    *row = r;
    return DUET_OK;
}

duet_status duet_catalog_out_append(duet_catalog_out *o, const char *id, const char *row, duet_err *err)
{
    (void)id;
    size_t len = strlen(row);
    duet_status st = DUET_OK;
    omp_set_lock(&o->lock);
    off_t before = lseek(o->fd, 0, SEEK_END);
    ssize_t w;
    do {
        w = write(o->fd, row, len);
    } while (w < 0 && errno == EINTR);
    if (w != (ssize_t)len) {
        int e = w < 0 ? errno : ENOSPC;
        if (before >= 0 && ftruncate(o->fd, before) != 0) { /* best effort: keep only whole rows */
        }
        st = duet_err_set(err, DUET_ERR_IO, "cannot append to output: %s", strerror(e));
    } else if (fsync(o->fd) != 0) {
        st = duet_err_set(err, DUET_ERR_IO, "cannot sync output: %s", strerror(errno));
    }
    omp_unset_lock(&o->lock);
    return st;
}

/* ---- describing files ---- */

duet_status duet_describe_file(duet_describer *d, const char *path, duet_separate_fn separate, void *sep_user,
                               duet_feature_set *fs, duet_err *err)
{
    duet_audio mix = {0}, voc = {0}, acc = {0};
    duet_status st = duet_audio_read(path, NULL, &mix, NULL, err);
    if (st != DUET_OK) return st;
    if (mix.frames == 0) {
        duet_audio_free(&mix);
        return duet_err_set(err, DUET_ERR_EMPTY, "no audio samples");
    }
    if (separate) {
        st = separate(sep_user, &mix, &voc, &acc, err);
        if (st == DUET_OK) st = duet_describe(d, &mix, &voc, &acc, fs, err);
    } else {
        st = duet_describe(d, &mix, NULL, NULL, fs, err);
    }
    duet_audio_free(&mix);
    duet_audio_free(&voc);
    duet_audio_free(&acc);
    return st;
}

duet_status duet_catalog_run(const duet_catalog *c, duet_catalog_out *o, const duet_catalog_opts *opts,
                             duet_catalog_stats *stats, duet_err *err)
{
    memset(stats, 0, sizeof *stats);
    if (!opts || opts->jobs < 1 || opts->jobs > 256 || opts->shard_n < 1 || opts->shard_i < 1 ||
        opts->shard_i > opts->shard_n)
        return duet_err_set(err, DUET_ERR_ARG, "bad catalog options (jobs 1..256, shard i/N with 1 <= i <= N)");
    size_t *pending = malloc((c->n ? c->n : 1) * sizeof *pending), n_pending = 0;
    if (!pending) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    if (opts->retry_failed && o->n_failed) {
        /* the selected items with a failure row: remove those rows first */
        char **drop = malloc((c->n ? c->n : 1) * sizeof *drop);
        size_t n_drop = 0;
        if (!drop) {
            free(pending);
            return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < c->n; i++)
            if (duet_catalog_in_shard(c->items[i].id, opts->shard_i, opts->shard_n) &&
                duet_catalog_out_failed(o, c->items[i].id))
                drop[n_drop++] = c->items[i].id;
        duet_status st = DUET_OK;
        if (n_drop) {
            if (n_drop > 1) qsort(drop, n_drop, sizeof *drop, cmp_str);
            st = drop_rows(o, drop, n_drop, err);
        }
        free(drop);
        if (st != DUET_OK) {
            free(pending);
            return st;
        }
        stats->retried = n_drop;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (!duet_catalog_in_shard(c->items[i].id, opts->shard_i, opts->shard_n)) continue;
        stats->selected++;
        if (duet_catalog_out_has(o, c->items[i].id)) {
            stats->skipped++;
            stats->skipped_failed += duet_catalog_out_failed(o, c->items[i].id);
        } else {
            pending[n_pending++] = i;
        }
    }
    duet_status fatal = DUET_OK;
    duet_err fatal_err = {0};
    size_t done = 0;
    if (opts->progress) opts->progress(opts->progress_user, 0, n_pending, 0);
#pragma omp parallel num_threads(opts->jobs)
    {
        duet_describer *d = NULL;
        duet_err derr = {0};
        duet_status dst = duet_describer_new(&d, &derr);
#pragma omp for schedule(dynamic, 1)
        for (size_t k = 0; k < n_pending; k++) {
            int stop;
#pragma omp atomic read
            stop = fatal;
            if (stop) continue;
            const duet_catalog_item *it = &c->items[pending[k]];
            duet_feature_set fs;
            duet_feature_set_init(&fs);
            duet_err e = {0};
            duet_status st = dst;
            if (st != DUET_OK) e = derr;
            else st = duet_describe_file(d, it->path, opts->separate, opts->separate_user, &fs, &e);
            char *row = NULL;
            duet_err we = {0};
            duet_status ws = duet_catalog_format_row(o, it->id, st == DUET_OK ? &fs : NULL,
                                                     st == DUET_OK ? NULL : duet_err_msg(&e, st), &row, &we);
            if (ws == DUET_OK) ws = duet_catalog_out_append(o, it->id, row, &we);
            free(row);
            duet_feature_set_free(&fs);
#pragma omp critical(duet_catalog_stats)
            {
                if (ws != DUET_OK) {
                    if (fatal == DUET_OK) {
                        fatal_err = we;
#pragma omp atomic write
                        fatal = ws;
                    }
                } else {
                    if (st == DUET_OK) stats->described++;
                    else stats->failed++;
                    done++;
                    if (opts->progress) opts->progress(opts->progress_user, done, n_pending, stats->failed);
                }
            }
        }
        duet_describer_free(d);
    }
    free(pending);
    if (fatal != DUET_OK) {
        if (err) *err = fatal_err;
        return fatal;
    }
    return DUET_OK;
}

/* ---- merging shards ---- */

typedef struct merge_row {
    char *id;      /* points into line */
    char *line;    /* the whole row with its newline (owned) */
    int part;
    int failed;
} merge_row;

static int cmp_row_id(const void *a, const void *b)
{
    return strcmp(((const merge_row *)a)->id, ((const merge_row *)b)->id);
}

static void free_rows(merge_row *r, size_t n)
{
    for (size_t i = 0; i < n; i++) free(r[i].line);
    free(r);
}

duet_status duet_catalog_merge(const char *const *parts, int n_parts, const duet_catalog *cat, const char *out_path,
                               duet_catalog_merge_report report, void *user, duet_catalog_merge_stats *stats,
                               duet_err *err)
{
    duet_catalog_merge_stats z;
    memset(&z, 0, sizeof z);
    if (!stats) stats = &z;
    memset(stats, 0, sizeof *stats);
    if (!parts || n_parts < 1 || !out_path) return duet_err_set(err, DUET_ERR_ARG, "merge: no parts or no output");
    char *header = NULL;
    merge_row *rows = NULL;
    size_t n = 0, cap = 0;
    duet_status st = DUET_OK;
    for (int k = 0; k < n_parts && !st; k++) {
        FILE *f = fopen(parts[k], "rb");
        if (!f) {
            st = duet_err_set(err, DUET_ERR_IO, "%s: cannot read: %s", parts[k], strerror(errno));
            break;
        }
        char *line = NULL;
        size_t lcap = 0;
        ssize_t len;
        int first = 1;
        while (!st && (len = getline(&line, &lcap, f)) >= 0) {
            if (len == 0 || line[len - 1] != '\n') {
                st = duet_err_set(err, DUET_ERR_FORMAT,
                                  "%s: the last line is incomplete (the shard did not finish: run it again)", parts[k]);
                break;
            }
            if (first) {
                first = 0;
                if (!header) {
                    if (strncmp(line, "item\t", 5) != 0)
                        st = duet_err_set(err, DUET_ERR_FORMAT, "%s: not a duet features catalog output", parts[k]);
                    else if (!(header = strdup(line)))
                        st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                } else if (strcmp(header, line) != 0) {
                    st = duet_err_set(err, DUET_ERR_FORMAT, "%s: its header differs from %s's (other features?)",
                                      parts[k], parts[0]);
                }
                continue;
            }
            char *tab = strchr(line, '\t'), *last = strrchr(line, '\t');
            if (!tab || tab == line) {
                st = duet_err_set(err, DUET_ERR_FORMAT, "%s: a row without an item id", parts[k]);
                break;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                merge_row *nr = realloc(rows, sizeof *nr * cap);
                if (!nr) {
                    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                    break;
                }
                rows = nr;
            }
            merge_row *r = &rows[n];
            if (!(r->line = strdup(line))) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                break;
            }
            r->id = r->line;
            r->line[tab - line] = 0; /* id ends at the first tab; restored when written */
            r->part = k;
            r->failed = last[1] != '\n';
            n++;
        }
        free(line);
        if (!st && first) st = duet_err_set(err, DUET_ERR_FORMAT, "%s: empty (no header)", parts[k]);
        fclose(f);
        stats->parts++;
    }
    if (!st && n > 1) {
        qsort(rows, n, sizeof *rows, cmp_row_id);
        for (size_t i = 1; i < n; i++)
            if (!strcmp(rows[i].id, rows[i - 1].id)) {
                stats->duplicates++;
                if (report) report(user, "duplicate", rows[i].id, parts[rows[i].part]);
            }
        if (stats->duplicates)
            st = duet_err_set(err, DUET_ERR_FORMAT, "%zu item id(s) appear in more than one row (first: '%s'): "
                              "merge each shard once", stats->duplicates, rows[0].id);
    }
    /* the order to write: catalog order, or id order */
    merge_row **order = NULL;
    size_t n_out = 0;
    if (!st) order = malloc(sizeof *order * (n ? n : 1));
    if (!st && !order) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    if (!st && cat) {
        char *seen = calloc(n ? n : 1, 1);
        if (!seen) st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < cat->n; i++) {
            merge_row key = {cat->items[i].id, NULL, 0, 0};
            merge_row *r = n ? bsearch(&key, rows, n, sizeof *rows, cmp_row_id) : NULL;
            if (!r) {
                stats->missing++;
                if (report) report(user, "missing", cat->items[i].id, NULL);
                continue;
            }
            seen[r - rows] = 1;
            order[n_out++] = r;
        }
        for (size_t i = 0; !st && i < n; i++)
            if (!seen[i]) {
                st = duet_err_set(err, DUET_ERR_FORMAT, "%s: item '%s' is not in the catalog", parts[rows[i].part],
                                  rows[i].id);
                break;
            }
        free(seen);
    } else if (!st) {
        for (size_t i = 0; i < n; i++) order[n_out++] = &rows[i];
    }
    if (!st) {
        duet_atomic_file *af;
        st = duet_atomic_open(out_path, &af, err);
        if (!st) {
            FILE *f = duet_atomic_fp(af);
            fputs(header, f);
            for (size_t i = 0; i < n_out; i++) {
                merge_row *r = order[i];
                fputs(r->id, f);
                fputc('\t', f);
                fputs(r->id + strlen(r->id) + 1, f);
                if (r->failed) {
                    stats->failed++;
                    if (report) {
                        const char *e = strrchr(r->id + strlen(r->id) + 1, '\t');
                        char msg[512];
                        snprintf(msg, sizeof msg, "%s", e ? e + 1 : "");
                        msg[strcspn(msg, "\n")] = 0;
                        report(user, "failed", r->id, msg);
                    }
                }
            }
            stats->rows = n_out;
            if (ferror(f)) {
                duet_atomic_abort(af);
                st = duet_err_set(err, DUET_ERR_IO, "%s: write error", out_path);
            } else {
                st = duet_atomic_commit(af, err);
            }
        }
    }
    free(order);
    free(header);
    free_rows(rows, n);
    return st;
}
