/* fuzz/fuzz_w2v_corpus.c: libFuzzer target for the word2vec corpus readers:
 * the text corpus reader (recommender/word2vec.h, duet_w2v_corpus_read_stream) and
 * the HetRec Last.fm corpus builder (recommender/w2v_corpus.h,
 * duet_w2v_hetrec_build, duet_w2v_hetrec_tag_token).
 *
 * Build and run through fuzz/run.sh. The first input byte chooses the mode:
 *  - even: text corpus. The rest of the input is read as a corpus, either
 *    as is or (bit 1 set) after a run of spaces that puts the reader's
 *    64 KiB chunk boundary somewhere in the first 64 bytes of the input
 *    (the second byte says where), so tokens, UTF-8 sequences and CR/LF
 *    pairs cut by a chunk boundary are exercised. Checked against an
 *    independent tokenizer and UTF-8 validator written here: the status
 *    (OK, or DUET_ERR_FORMAT naming the first line with a NUL byte or
 *    invalid UTF-8 in a token), the numbers of sentences, tokens and
 *    distinct tokens (on error: those of the lines before the bad one,
 *    the bad line's tokens rolled back), the corpus written back by
 *    duet_w2v_corpus_write_file equals the expected normalised text (tokens
 *    joined by one space, one sentence per line), and reading the same
 *    bytes again into the same corpus appends (counts double, distinct
 *    unchanged).
 *  - odd: HetRec. The rest is split at "\n==\n" into tags.dat,
 *    user_taggedartists.dat and user_artists.dat (a missing part: that file
 *    is absent), written to a scratch folder; options (sentence kinds,
 *    min_tag_users, max_tags, seed) come from the second byte. Checked: a
 *    rejection gives *out == NULL and a one-line message; an accepted
 *    corpus has artist + user sentences == sentences, tokens == the
 *    corpus's tokens, at most one user sentence per data line of
 *    user_artists.dat, only "artist:<integer>" and "tag:..." tokens, at
 *    least one artist token per sentence; building again gives the same bytes (deterministic), and
 *    writing, reading back and writing again gives the same bytes. Every
 *    tags.dat line is also passed to duet_w2v_hetrec_tag_token: a result is
 *    "tag:" + valid UTF-8 without whitespace or upper-case ASCII. */
#define _GNU_SOURCE
#include "../recommender/w2v_corpus.h"
#include "../recommender/word2vec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_CHECK(c)                                                                       \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "fuzz_w2v_corpus: property failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* scratch paths (harness state, not library state) */
static char dir_path[256], out_path[300], out2_path[300], file_path[3][300];
static const char *const hetrec_names[3] = {"tags.dat", "user_taggedartists.dat", "user_artists.dat"};

static void remove_scratch(void)
{
    remove(out_path);
    remove(out2_path);
    for (int k = 0; k < 3; k++) remove(file_path[k]);
    rmdir(dir_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("FUZZ_TMPDIR");
    if (!dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir_path, sizeof dir_path, "%s/duet_fuzz_w2vc_%ld", dir, (long)getpid());
    if (mkdir(dir_path, 0700) != 0) {
        perror(dir_path);
        abort();
    }
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir_path);
    snprintf(out2_path, sizeof out2_path, "%s/out2.txt", dir_path);
    for (int k = 0; k < 3; k++) snprintf(file_path[k], sizeof file_path[k], "%s/%s", dir_path, hetrec_names[k]);
    atexit(remove_scratch);
    return 0;
}

/* Independent UTF-8 check (decode; reject overlongs, surrogates, > U+10FFFF). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (i + k >= n) return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

static int ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    FUZZ_CHECK(fp != NULL);
    size_t cap = 4096, len = 0;
    unsigned char *b = malloc(cap);
    FUZZ_CHECK(b != NULL);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            b = realloc(b, cap);
            FUZZ_CHECK(b != NULL);
        }
        size_t got = fread(b + len, 1, cap - len, fp);
        if (got == 0) break;
        len += got;
    }
    fclose(fp);
    *n = len;
    return b;
}

typedef struct tokref {
    const unsigned char *s;
    size_t n;
} tokref;

static int cmp_tokref(const void *x, const void *y)
{
    const tokref *a = x, *b = y;
    size_t m = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->s, b->s, m);
    if (c) return c;
    return (a->n > b->n) - (a->n < b->n);
}

/* The expected result of reading buf[0..n) as a corpus. */
typedef struct expect {
    int bad;              /* 1 = the reader must fail on line bad_line */
    unsigned long long bad_line;
    size_t sentences, tokens, distinct;
    unsigned char *text;  /* the normalised corpus of the kept sentences */
    size_t text_len;
} expect;

static void expect_corpus(const unsigned char *buf, size_t n, expect *x)
{
    memset(x, 0, sizeof *x);
    x->text = malloc(n + 1);
    tokref *toks = malloc((n / 2 + 1) * sizeof *toks);
    FUZZ_CHECK(x->text && toks);
    size_t n_toks = 0, line_start = 0;
    unsigned long long line = 1;
    while (line_start < n) {
        size_t e = line_start;
        while (e < n && buf[e] != '\n') e++;
        /* tokens of buf[line_start, e) */
        size_t first_tok = n_toks, text_mark = x->text_len;
        int bad = 0;
        size_t i = line_start;
        while (i < e) {
            while (i < e && ws(buf[i])) i++;
            if (i >= e) break;
            size_t j = i;
            while (j < e && !ws(buf[j])) j++;
            if (memchr(buf + i, 0, j - i) != NULL || !utf8_ok(buf + i, j - i)) {
                bad = 1;
                break;
            }
            toks[n_toks++] = (tokref){buf + i, j - i};
            if (n_toks > first_tok + 1) x->text[x->text_len++] = ' ';
            memcpy(x->text + x->text_len, buf + i, j - i);
            x->text_len += j - i;
            i = j;
        }
        if (bad) {
            x->bad = 1;
            x->bad_line = line;
            n_toks = first_tok;
            x->text_len = text_mark;
            break;
        }
        if (n_toks > first_tok) {
            x->text[x->text_len++] = '\n';
            x->sentences++;
        }
        line++;
        line_start = e + 1;
    }
    x->tokens = n_toks;
    qsort(toks, n_toks, sizeof *toks, cmp_tokref);
    for (size_t k = 0; k < n_toks; k++) x->distinct += k == 0 || cmp_tokref(&toks[k], &toks[k - 1]) != 0;
    free(toks);
}

static FILE *open_bytes(const unsigned char *buf, size_t n)
{
    FILE *fp = n ? fmemopen((void *)buf, n, "rb") : fopen("/dev/null", "rb");
    FUZZ_CHECK(fp != NULL);
    return fp;
}

static void check_written(const duet_w2v_corpus *c, const unsigned char *text, size_t len)
{
    duet_err e;
    duet_err_clear(&e);
    FUZZ_CHECK(duet_w2v_corpus_write_file(c, out_path, &e) == DUET_OK);
    size_t got_n;
    unsigned char *got = read_file(out_path, &got_n);
    if (got_n != len || memcmp(got, text, len) != 0)
        fprintf(stderr, "written corpus (%zu bytes) differs from the expected (%zu bytes)\n", got_n, len);
    FUZZ_CHECK(got_n == len && memcmp(got, text, len) == 0);
    free(got);
}

static void text_mode(const uint8_t *data, size_t size)
{
    size_t pad = 0;
    if (size >= 2 && (data[0] & 2)) pad = 65536 - (data[1] % 64);
    const uint8_t *in = data + (size >= 2 ? 2 : size);
    size_t n_in = size >= 2 ? size - 2 : 0;
    unsigned char *buf = malloc(pad + n_in + 1);
    FUZZ_CHECK(buf != NULL);
    memset(buf, ' ', pad);
    if (n_in) memcpy(buf + pad, in, n_in);
    size_t n = pad + n_in;

    expect x;
    expect_corpus(buf, n, &x);

    duet_w2v_corpus *c = NULL;
    duet_err e;
    duet_err_clear(&e);
    FUZZ_CHECK(duet_w2v_corpus_new(&c, &e) == DUET_OK);
    FILE *fp = open_bytes(buf, n);
    duet_status st = duet_w2v_corpus_read_stream(c, fp, &e);
    fclose(fp);
    if (x.bad) {
        char want[64];
        snprintf(want, sizeof want, "line %llu: ", x.bad_line);
        if (st != DUET_ERR_FORMAT || strncmp(e.msg, want, strlen(want)) != 0)
            fprintf(stderr, "expected a format error on line %llu, got status %d: %s\n", x.bad_line, (int)st,
                    e.msg);
        FUZZ_CHECK(st == DUET_ERR_FORMAT && strncmp(e.msg, want, strlen(want)) == 0);
        FUZZ_CHECK(strchr(e.msg, '\n') == NULL);
    } else {
        if (st != DUET_OK) fprintf(stderr, "expected success, got status %d: %s\n", (int)st, e.msg);
        FUZZ_CHECK(st == DUET_OK);
    }
    if (duet_w2v_corpus_n_sentences(c) != x.sentences || duet_w2v_corpus_n_tokens(c) != x.tokens ||
        duet_w2v_corpus_n_distinct(c) != x.distinct)
        fprintf(stderr, "sentences %zu/%zu tokens %zu/%zu distinct %zu/%zu (got/expected)\n",
                duet_w2v_corpus_n_sentences(c), x.sentences, duet_w2v_corpus_n_tokens(c), x.tokens,
                duet_w2v_corpus_n_distinct(c), x.distinct);
    FUZZ_CHECK(duet_w2v_corpus_n_sentences(c) == x.sentences);
    FUZZ_CHECK(duet_w2v_corpus_n_tokens(c) == x.tokens);
    FUZZ_CHECK(duet_w2v_corpus_n_distinct(c) == x.distinct);
    check_written(c, x.text, x.text_len);

    /* appending the same bytes again */
    fp = open_bytes(buf, n);
    duet_status st2 = duet_w2v_corpus_read_stream(c, fp, &e);
    fclose(fp);
    FUZZ_CHECK(st2 == st);
    FUZZ_CHECK(duet_w2v_corpus_n_sentences(c) == 2 * x.sentences);
    FUZZ_CHECK(duet_w2v_corpus_n_tokens(c) == 2 * x.tokens);
    FUZZ_CHECK(duet_w2v_corpus_n_distinct(c) == x.distinct);
    duet_w2v_corpus_free(c);
    free(x.text);
    free(buf);
}

/* "tag:" + valid UTF-8, no whitespace, no upper-case ASCII, accepted as a
 * corpus token. */
static void check_tag_token(const char *s, size_t n)
{
    char *tok = NULL;
    duet_err e;
    duet_err_clear(&e);
    FUZZ_CHECK(duet_w2v_hetrec_tag_token(s, n, &tok, &e) == DUET_OK);
    if (!tok) return;
    size_t len = strlen(tok);
    FUZZ_CHECK(len > 4 && memcmp(tok, "tag:", 4) == 0 && len <= 4 + 2 * n);
    FUZZ_CHECK(utf8_ok((const unsigned char *)tok, len));
    for (size_t i = 0; i < len; i++) FUZZ_CHECK(!ws((unsigned char)tok[i]) && !(tok[i] >= 'A' && tok[i] <= 'Z'));
    duet_w2v_corpus *c;
    FUZZ_CHECK(duet_w2v_corpus_new(&c, &e) == DUET_OK);
    const char *one[1] = {tok};
    FUZZ_CHECK(duet_w2v_corpus_add_sentence(c, one, 1, &e) == DUET_OK);
    duet_w2v_corpus_free(c);
    free(tok);
}

static duet_status build(const duet_w2v_hetrec_opts *o, duet_w2v_corpus **c, duet_w2v_hetrec_stats *stats, duet_err *e)
{
    duet_err_clear(e);
    memset(stats, 0, sizeof *stats);
    duet_status st = duet_w2v_hetrec_build(o, c, stats, e);
    if (st != DUET_OK) {
        FUZZ_CHECK(*c == NULL);
        FUZZ_CHECK(e->msg[0] != '\0' && strchr(e->msg, '\n') == NULL);
    } else {
        FUZZ_CHECK(*c != NULL);
    }
    return st;
}

static void hetrec_mode(const uint8_t *data, size_t size)
{
    uint8_t opt = size >= 2 ? data[1] : 0;
    const uint8_t *in = data + (size >= 2 ? 2 : size);
    size_t n_in = size >= 2 ? size - 2 : 0;
    static const char sep[] = "\n==\n";
    const size_t sep_len = sizeof sep - 1;
    size_t ua_lines = 0;
    for (int k = 0; k < 3; k++) {
        remove(file_path[k]);
        if (n_in == 0 && k > 0) continue;
        const uint8_t *end = memmem(in, n_in, sep, sep_len);
        size_t part = end ? (size_t)(end - in) : n_in;
        FILE *fp = fopen(file_path[k], "wb");
        FUZZ_CHECK(fp != NULL);
        FUZZ_CHECK(part == 0 || fwrite(in, 1, part, fp) == part);
        FUZZ_CHECK(fclose(fp) == 0);
        if (k == 0) {
            /* every line through the tag normaliser */
            size_t a = 0;
            while (a < part) {
                const uint8_t *nl = memchr(in + a, '\n', part - a);
                size_t b = nl ? (size_t)(nl - in) : part;
                check_tag_token((const char *)in + a, b - a);
                a = b + 1;
            }
        }
        if (k == 2)
            for (size_t i = 0; i < part; i++) ua_lines += in[i] == '\n';
        if (k == 2) ua_lines++;
        if (!end) {
            n_in = 0;
            in += part;
            continue;
        }
        in += part + sep_len;
        n_in -= part + sep_len;
    }
    duet_w2v_hetrec_opts o;
    duet_w2v_hetrec_opts_default(&o);
    o.dir = dir_path;
    o.artist_sentences = (opt & 3) != 2;
    o.user_sentences = (opt & 3) != 1;
    if ((opt & 3) == 3 && (opt & 4)) o.artist_sentences = o.user_sentences = 0;
    o.min_tag_users = 1 + ((opt >> 3) & 3);
    o.max_tags = (opt >> 5) & 3;
    o.seed = 1 + (opt >> 7);

    duet_w2v_corpus *c = NULL, *c2 = NULL, *c3 = NULL;
    duet_w2v_hetrec_stats stats, stats2;
    duet_err e;
    duet_status st = build(&o, &c, &stats, &e);
    duet_status st2 = build(&o, &c2, &stats2, &e);
    FUZZ_CHECK(st == st2);
    if (st != DUET_OK) return;
    FUZZ_CHECK(o.artist_sentences || stats.artist_sentences == 0);
    FUZZ_CHECK(o.user_sentences || stats.user_sentences == 0);
    FUZZ_CHECK(stats.artist_sentences + stats.user_sentences == duet_w2v_corpus_n_sentences(c));
    FUZZ_CHECK(duet_w2v_corpus_n_sentences(c) >= 1);
    FUZZ_CHECK(stats.tokens == duet_w2v_corpus_n_tokens(c));
    FUZZ_CHECK(stats.user_sentences <= ua_lines);
    FUZZ_CHECK(memcmp(&stats, &stats2, sizeof stats) == 0);
    /* deterministic, and write -> read -> write is stable */
    FUZZ_CHECK(duet_w2v_corpus_write_file(c, out_path, &e) == DUET_OK);
    FUZZ_CHECK(duet_w2v_corpus_write_file(c2, out2_path, &e) == DUET_OK);
    size_t n1, n2;
    unsigned char *b1 = read_file(out_path, &n1), *b2 = read_file(out2_path, &n2);
    FUZZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    free(b2);
    FUZZ_CHECK(duet_w2v_corpus_read_file(out_path, &c3, &e) == DUET_OK);
    FUZZ_CHECK(duet_w2v_corpus_n_sentences(c3) == duet_w2v_corpus_n_sentences(c));
    FUZZ_CHECK(duet_w2v_corpus_n_tokens(c3) == duet_w2v_corpus_n_tokens(c));
    FUZZ_CHECK(duet_w2v_corpus_n_distinct(c3) == duet_w2v_corpus_n_distinct(c));
    FUZZ_CHECK(duet_w2v_corpus_write_file(c3, out2_path, &e) == DUET_OK);
    b2 = read_file(out2_path, &n2);
    FUZZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    /* tokens: artist:<integer> or tag:...; every sentence has an artist */
    size_t a = 0;
    while (a < n1) {
        unsigned char *nl = memchr(b1 + a, '\n', n1 - a);
        FUZZ_CHECK(nl != NULL);
        size_t b = (size_t)(nl - b1);
        int artists = 0;
        size_t i = a;
        while (i < b) {
            size_t j = i;
            while (j < b && b1[j] != ' ') j++;
            if (j - i > 7 && memcmp(b1 + i, "artist:", 7) == 0) {
                artists++;
                char num[32];
                FUZZ_CHECK(j - i - 7 < sizeof num);
                memcpy(num, b1 + i + 7, j - i - 7);
                num[j - i - 7] = '\0';
                char *end;
                (void)strtol(num, &end, 10);
                FUZZ_CHECK(*end == '\0');
            } else {
                FUZZ_CHECK(j - i > 4 && memcmp(b1 + i, "tag:", 4) == 0);
            }
            i = j + 1;
        }
        FUZZ_CHECK(artists >= 1);
        a = b + 1;
    }
    free(b1);
    free(b2);
    duet_w2v_corpus_free(c);
    duet_w2v_corpus_free(c2);
    duet_w2v_corpus_free(c3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || (data[0] & 1) == 0) text_mode(data, size);
    else hetrec_mode(data, size);
    return 0;
}
