/* recommender/w2v_corpus.c: the HetRec Last.fm-2k word2vec corpus builder (see
 * w2v_corpus.h for the sentences and the reasons for shuffling). File
 * layouts from the data set's readme.txt: tab-separated, one header line,
 * CRLF or LF line ends; tags.dat is ISO-8859-1. */
#include "w2v_corpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../common/pathfmt.h"
#include "../common/rng.h"

void duet_w2v_hetrec_opts_default(duet_w2v_hetrec_opts *o)
{
    memset(o, 0, sizeof *o);
    o->artist_sentences = 1;
    o->user_sentences = 1;
    o->min_tag_users = 1;
    o->max_tags = 0;
    o->seed = 1;
}

void duet_w2v_hetrec_artist_token(long id, char *buf, size_t size)
{
    snprintf(buf, size, "artist:%ld", id);
}

static int latin1_blank(unsigned char c) { return c <= 0x20 || c == 0x7F || c == 0xA0; }

duet_status duet_w2v_hetrec_tag_token(const char *latin1, size_t n, char **out, duet_err *err)
{
    *out = NULL;
    /* trim */
    size_t a = 0, b = n;
    while (a < b && latin1_blank((unsigned char)latin1[a])) a++;
    while (b > a && latin1_blank((unsigned char)latin1[b - 1])) b--;
    if (a == b) return DUET_OK;
    char *s = malloc(4 + 2 * (b - a) + 1);
    if (!s) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    memcpy(s, "tag:", 4);
    size_t k = 4;
    int in_blank = 0;
    for (size_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)latin1[i];
        if (latin1_blank(c)) {
            if (!in_blank) s[k++] = '_';
            in_blank = 1;
            continue;
        }
        in_blank = 0;
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        else if (c >= 0xC0 && c <= 0xDE && c != 0xD7) c = (unsigned char)(c + 0x20);
        if (c < 0x80) {
            s[k++] = (char)c;
        } else {
            s[k++] = (char)(0xC0 | (c >> 6));
            s[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    s[k] = '\0';
    *out = s;
    return DUET_OK;
}

/* A tab-separated table of integers (all columns but the ones in text_col);
 * calls row() for each data line. */
typedef struct tsv_reader {
    FILE *fp;
    char *line;
    size_t cap;
    long lineno;
    const char *name;
} tsv_reader;

static duet_status tsv_open(tsv_reader *r, const char *dir, const char *name, duet_err *err)
{
    memset(r, 0, sizeof *r);
    r->name = name;
    char *path = duet_path_join(dir, name);
    if (!path) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    r->fp = fopen(path, "rb");
    int e = errno;
    free(path);
    if (!r->fp) return duet_err_set(err, DUET_ERR_IO, "%s: cannot open: %s", name, strerror(e));
    return DUET_OK;
}

static void tsv_close(tsv_reader *r)
{
    if (r->fp) fclose(r->fp);
    free(r->line);
    r->fp = NULL;
    r->line = NULL;
}

/* Next data line (header skipped) with CR/LF removed; returns its length,
 * -1 at the end, -2 on a read error. Empty lines are skipped. */
static long tsv_next(tsv_reader *r)
{
    for (;;) {
        errno = 0;
        ssize_t n = getline(&r->line, &r->cap, r->fp);
        if (n < 0) return ferror(r->fp) ? -2 : -1;
        r->lineno++;
        while (n > 0 && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r')) r->line[--n] = '\0';
        if (r->lineno == 1 || n == 0) continue;
        return (long)n;
    }
}

/* Parse `k` integer columns from the start of line (tab-separated); returns
 * 0 or -1. When rest is not NULL, *rest points after the k-th tab. */
static int parse_ints(char *line, long *vals, int k, char **rest)
{
    char *p = line;
    for (int i = 0; i < k; i++) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno) return -1;
        vals[i] = v;
        if (i < k - 1 || rest) {
            if (*end != '\t') return -1;
            p = end + 1;
        } else {
            if (*end != '\t' && *end != '\0') return -1;
            p = end;
        }
    }
    if (rest) *rest = p;
    return 0;
}

typedef struct triple {
    long a, b, c;
} triple;

static int cmp_triple(const void *x, const void *y)
{
    const triple *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return (p->c > q->c) - (p->c < q->c);
}

/* tag id -> normalised token (sorted arrays, binary search). */
typedef struct tag_entry {
    long id;
    char *token; /* NULL: empty tag */
} tag_entry;

static int cmp_tag_entry(const void *x, const void *y)
{
    const tag_entry *p = x, *q = y;
    return (p->id > q->id) - (p->id < q->id);
}

static const tag_entry *find_tag(const tag_entry *t, size_t n, long id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t[mid].id < id) lo = mid + 1;
        else if (t[mid].id > id) hi = mid;
        else return &t[mid];
    }
    return NULL;
}

/* A sentence under construction: owned token strings. */
typedef struct sentence {
    char **tok;
    size_t n;
} sentence;

typedef struct sent_list {
    sentence *s;
    size_t n, cap;
} sent_list;

static void sent_list_free(sent_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        for (size_t j = 0; j < l->s[i].n; j++) free(l->s[i].tok[j]);
        free(l->s[i].tok);
    }
    free(l->s);
}

static int sent_list_push(sent_list *l, sentence s)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 1024;
        sentence *ns = realloc(l->s, nc * sizeof *ns);
        if (!ns) return -1;
        l->s = ns;
        l->cap = nc;
    }
    l->s[l->n++] = s;
    return 0;
}

static duet_status read_tags(const char *dir, tag_entry **out, size_t *n_out, duet_err *err)
{
    tsv_reader r;
    duet_status st = tsv_open(&r, dir, "tags.dat", err);
    if (st) return st;
    tag_entry *t = NULL;
    size_t n = 0, cap = 0;
    long len;
    while ((len = tsv_next(&r)) >= 0) {
        long id;
        char *rest;
        if (parse_ints(r.line, &id, 1, &rest)) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "tags.dat line %ld: expected '<tagID>\\t<tagValue>'", r.lineno);
            goto fail;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            tag_entry *nt = realloc(t, cap * sizeof *nt);
            if (!nt) goto nomem;
            t = nt;
        }
        t[n].id = id;
        st = duet_w2v_hetrec_tag_token(rest, strlen(rest), &t[n].token, err);
        if (st) goto fail;
        n++;
    }
    if (len == -2) {
        st = duet_err_set(err, DUET_ERR_IO, "tags.dat: read error");
        goto fail;
    }
    tsv_close(&r);
    if (n) qsort(t, n, sizeof *t, cmp_tag_entry); /* t is NULL when n = 0 */
    for (size_t i = 1; i < n; i++)
        if (t[i].id == t[i - 1].id) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "tags.dat: duplicate tag id %ld", t[i].id);
            goto fail2;
        }
    *out = t;
    *n_out = n;
    return DUET_OK;
nomem:
    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
fail:
    tsv_close(&r);
fail2:
    for (size_t i = 0; i < n; i++) free(t[i].token);
    free(t);
    return st;
}

/* Read k integer columns of every row of dir/name into triples (a, b, c). */
static duet_status read_triples(const char *dir, const char *name, int k, triple **out,
                                size_t *n_out, duet_err *err)
{
    tsv_reader r;
    duet_status st = tsv_open(&r, dir, name, err);
    if (st) return st;
    triple *t = NULL;
    size_t n = 0, cap = 0;
    long len;
    while ((len = tsv_next(&r)) >= 0) {
        long v[3] = {0, 0, 0};
        char *rest = NULL;
        if (parse_ints(r.line, v, k, k == 3 ? NULL : &rest)) {
            st = duet_err_set(err, DUET_ERR_FORMAT, "%s line %ld: expected %d tab-separated integers",
                              name, r.lineno, k);
            goto fail;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            triple *nt = realloc(t, cap * sizeof *nt);
            if (!nt) {
                st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
                goto fail;
            }
            t = nt;
        }
        t[n++] = (triple){v[0], v[1], v[2]};
    }
    if (len == -2) {
        st = duet_err_set(err, DUET_ERR_IO, "%s: read error", name);
        goto fail;
    }
    tsv_close(&r);
    *out = t;
    *n_out = n;
    return DUET_OK;
fail:
    tsv_close(&r);
    free(t);
    return st;
}

typedef struct tag_count {
    long tag;
    long users;
} tag_count;

static int cmp_tag_count(const void *x, const void *y)
{
    const tag_count *p = x, *q = y;
    if (p->users != q->users) return p->users > q->users ? -1 : 1;
    return (p->tag > q->tag) - (p->tag < q->tag);
}

static duet_status build_artist_sentences(const duet_w2v_hetrec_opts *o, sent_list *out,
                                          duet_rng *rng, duet_err *err)
{
    tag_entry *tags = NULL;
    size_t n_tags = 0, n_uta = 0;
    triple *uta = NULL;
    tag_count *tc = NULL;
    duet_status st = read_tags(o->dir, &tags, &n_tags, err);
    if (st) return st;
    st = read_triples(o->dir, "user_taggedartists.dat", 3, &uta, &n_uta, err);
    if (st) goto done;
    /* (artist, tag, user) sorted: distinct users per (artist, tag). */
    for (size_t i = 0; i < n_uta; i++) {
        triple x = uta[i];
        if (!find_tag(tags, n_tags, x.c)) {
            st = duet_err_set(err, DUET_ERR_FORMAT,
                              "user_taggedartists.dat: tag id %ld is not in tags.dat", x.c);
            goto done;
        }
        uta[i] = (triple){x.b, x.c, x.a};
    }
    if (n_uta) qsort(uta, n_uta, sizeof *uta, cmp_triple);
    tc = malloc((n_uta ? n_uta : 1) * sizeof *tc);
    if (!tc) goto nomem;
    size_t i = 0;
    while (i < n_uta) {
        long artist = uta[i].a;
        size_t n_tc = 0;
        while (i < n_uta && uta[i].a == artist) {
            long tag = uta[i].b, users = 0, last_user = 0;
            int first = 1;
            while (i < n_uta && uta[i].a == artist && uta[i].b == tag) {
                if (first || uta[i].c != last_user) users++;
                last_user = uta[i].c;
                first = 0;
                i++;
            }
            const tag_entry *te = find_tag(tags, n_tags, tag);
            if (users >= o->min_tag_users && te && te->token) tc[n_tc++] = (tag_count){tag, users};
        }
        qsort(tc, n_tc, sizeof *tc, cmp_tag_count);
        if (o->max_tags > 0 && n_tc > (size_t)o->max_tags) n_tc = (size_t)o->max_tags;
        /* distinct tokens only (two tag ids may normalise alike) */
        sentence s = {malloc((n_tc + 1) * sizeof(char *)), 0};
        if (!s.tok) goto nomem;
        char abuf[32];
        duet_w2v_hetrec_artist_token(artist, abuf, sizeof abuf);
        s.tok[s.n] = strdup(abuf);
        if (!s.tok[s.n]) {
            free(s.tok);
            goto nomem;
        }
        s.n++;
        for (size_t k = 0; k < n_tc; k++) {
            const char *tk = find_tag(tags, n_tags, tc[k].tag)->token;
            int dup = 0;
            for (size_t j = 1; j < s.n && !dup; j++) dup = strcmp(s.tok[j], tk) == 0;
            if (dup) continue;
            s.tok[s.n] = strdup(tk);
            if (!s.tok[s.n]) {
                for (size_t j = 0; j < s.n; j++) free(s.tok[j]);
                free(s.tok);
                goto nomem;
            }
            s.n++;
        }
        if (s.n < 2) {
            for (size_t j = 0; j < s.n; j++) free(s.tok[j]);
            free(s.tok);
            continue;
        }
        duet_rng_shuffle(rng, s.tok, s.n, sizeof(char *));
        if (sent_list_push(out, s)) {
            for (size_t j = 0; j < s.n; j++) free(s.tok[j]);
            free(s.tok);
            goto nomem;
        }
    }
    st = DUET_OK;
    goto done;
nomem:
    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
done:
    for (size_t k = 0; k < n_tags; k++) free(tags[k].token);
    free(tags);
    free(uta);
    free(tc);
    return st;
}

static duet_status build_user_sentences(const duet_w2v_hetrec_opts *o, sent_list *out,
                                        duet_rng *rng, duet_err *err)
{
    triple *ua = NULL;
    size_t n_ua = 0;
    duet_status st = read_triples(o->dir, "user_artists.dat", 3, &ua, &n_ua, err);
    if (st) return st;
    if (n_ua) qsort(ua, n_ua, sizeof *ua, cmp_triple);
    size_t i = 0;
    while (i < n_ua) {
        long user = ua[i].a;
        size_t j = i;
        while (j < n_ua && ua[j].a == user) j++;
        sentence s = {malloc((j - i) * sizeof(char *)), 0};
        if (!s.tok) goto nomem;
        for (size_t k = i; k < j; k++) {
            if (ua[k].c < 0) {
                for (size_t q = 0; q < s.n; q++) free(s.tok[q]);
                free(s.tok);
                st = duet_err_set(err, DUET_ERR_FORMAT,
                                  "user_artists.dat: negative weight for user %ld, artist %ld", user, ua[k].b);
                goto done;
            }
            if (k > i && ua[k].b == ua[k - 1].b) continue; /* duplicate row */
            if (o->keep_play && !o->keep_play(o->keep_ctx, user, ua[k].b)) continue;
            char abuf[32];
            duet_w2v_hetrec_artist_token(ua[k].b, abuf, sizeof abuf);
            s.tok[s.n] = strdup(abuf);
            if (!s.tok[s.n]) {
                for (size_t q = 0; q < s.n; q++) free(s.tok[q]);
                free(s.tok);
                goto nomem;
            }
            s.n++;
        }
        i = j;
        if (s.n == 0) {
            free(s.tok);
            continue;
        }
        duet_rng_shuffle(rng, s.tok, s.n, sizeof(char *));
        if (sent_list_push(out, s)) {
            for (size_t q = 0; q < s.n; q++) free(s.tok[q]);
            free(s.tok);
            goto nomem;
        }
    }
    st = DUET_OK;
    goto done;
nomem:
    st = duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
done:
    free(ua);
    return st;
}

duet_status duet_w2v_hetrec_build(const duet_w2v_hetrec_opts *o, duet_w2v_corpus **out,
                                  duet_w2v_hetrec_stats *stats, duet_err *err)
{
    *out = NULL;
    if (!o || !o->dir || !o->dir[0]) return duet_err_set(err, DUET_ERR_ARG, "no HetRec folder given");
    if (!o->artist_sentences && !o->user_sentences)
        return duet_err_set(err, DUET_ERR_ARG, "neither artist nor user sentences requested");
    duet_rng rng;
    duet_rng_seed(&rng, o->seed);
    sent_list l = {0};
    size_t n_artist = 0;
    duet_status st = DUET_OK;
    duet_w2v_corpus *c = NULL;
    if (o->artist_sentences) {
        st = build_artist_sentences(o, &l, &rng, err);
        if (st) goto done;
    }
    n_artist = l.n;
    if (o->user_sentences) {
        st = build_user_sentences(o, &l, &rng, err);
        if (st) goto done;
    }
    if (l.n == 0) {
        st = duet_err_set(err, DUET_ERR_EMPTY, "no sentences: the HetRec files hold no usable rows");
        goto done;
    }
    /* shuffle sentence order, so artist and user sentences interleave */
    duet_rng_shuffle(&rng, l.s, l.n, sizeof *l.s);
    st = duet_w2v_corpus_new(&c, err);
    if (st) goto done;
    for (size_t i = 0; i < l.n; i++) {
        st = duet_w2v_corpus_add_sentence(c, (const char *const *)l.s[i].tok, l.s[i].n, err);
        if (st) goto done;
    }
    if (stats) {
        stats->artist_sentences = n_artist;
        stats->user_sentences = l.n - n_artist;
        stats->tokens = duet_w2v_corpus_n_tokens(c);
    }
    *out = c;
    c = NULL;
done:
    duet_w2v_corpus_free(c);
    sent_list_free(&l);
    return st;
}
