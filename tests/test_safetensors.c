/* tests/test_safetensors.c: the safetensors reader and writer (nn/safetensors.h).
 *
 * - round trips of every dtype, 0-d and zero-size tensors, metadata;
 * - the byte strings the reference implementation asserts in its own unit
 *   tests (huggingface/safetensors tensor.rs: test_empty,
 *   test_serialization_forced_alignement), rebuilt from their definitions;
 * - fixtures/safetensors/torch_golden.safetensors, written from PyTorch by
 *   fixtures/gen_safetensors.py, loads with the right values;
 * - duet's writer still produces exactly fixtures/safetensors/duet_written.
 *   safetensors, which gen_safetensors.py reads back and compares with the
 *   same tensors built in torch/numpy and with its own reference-style bytes
 *   (DUET_ST_REGEN=1 rewrites the fixture);
 * - a table of malformed files, each rejected with the expected status and
 *   a message naming the problem, through duet_st_parse and duet_st_load;
 *   every truncation of a valid file rejected; byte flips never crash. */
#include "check.h"
#include "../nn/safetensors.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_FIXTURE_GOLDEN FIXTURE("safetensors/torch_golden.safetensors")
#define ST_FIXTURE_DUET FIXTURE("safetensors/duet_written.safetensors")

static char tmp_path[64];

static const char *tmpfile_path(void)
{
    if (!tmp_path[0]) snprintf(tmp_path, sizeof tmp_path, "/tmp/duet_test_st_%ld.safetensors", (long)getpid());
    return tmp_path;
}

static int write_file(const char *path, const void *buf, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    int ok = fwrite(buf, 1, n, fp) == n;
    return fclose(fp) == 0 && ok;
}

static unsigned char *read_file(const char *path, size_t *n)
{
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz : 1);
    if (b && fread(b, 1, (size_t)sz, fp) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(fp);
    *n = (size_t)sz;
    return b;
}

static float f16_to_f32(uint16_t h)
{
    unsigned e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0) v = ldexpf((float)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexpf((float)(m | 0x400), (int)e - 25);
    return (h & 0x8000) ? -v : v;
}

static float bf16_to_f32(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_dtype_table(void)
{
    static const struct { duet_st_dtype t; const char *name; size_t size; } tab[] = {
        {DUET_ST_F32, "F32", 4}, {DUET_ST_F64, "F64", 8}, {DUET_ST_F16, "F16", 2},
        {DUET_ST_BF16, "BF16", 2}, {DUET_ST_I64, "I64", 8}, {DUET_ST_I32, "I32", 4},
        {DUET_ST_I16, "I16", 2}, {DUET_ST_I8, "I8", 1}, {DUET_ST_U8, "U8", 1},
        {DUET_ST_U64, "U64", 8}, {DUET_ST_U32, "U32", 4}, {DUET_ST_BOOL, "BOOL", 1},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        CHECK(strcmp(duet_st_dtype_name(tab[i].t), tab[i].name) == 0);
        CHECK(duet_st_dtype_size(tab[i].t) == tab[i].size);
    }
    CHECK(duet_st_dtype_size((duet_st_dtype)99) == 0);
}

/* ------------------------------------------------------------------ */
/* Round trip                                                          */

typedef struct rt_case {
    const char *name;
    duet_st_dtype dtype;
    int ndim;
    int64_t shape[DUET_ST_MAX_DIMS];
} rt_case;

static const rt_case rt_cases[] = {
    {"f32.w", DUET_ST_F32, 2, {3, 5}},
    {"f64.w", DUET_ST_F64, 1, {7}},
    {"f16.w", DUET_ST_F16, 3, {1, 3, 1}},
    {"bf16.w", DUET_ST_BF16, 1, {5}},
    {"i64.w", DUET_ST_I64, 1, {3}},
    {"i32.w", DUET_ST_I32, 2, {2, 2}},
    {"i16.w", DUET_ST_I16, 1, {3}},
    {"i8.w", DUET_ST_I8, 1, {5}},
    {"u8.w", DUET_ST_U8, 1, {3}},
    {"u64.w", DUET_ST_U64, 1, {2}},
    {"u32.w", DUET_ST_U32, 1, {3}},
    {"bool.w", DUET_ST_BOOL, 1, {3}},
    {"scalar.f32", DUET_ST_F32, 0, {0}},
    {"scalar.i8", DUET_ST_I8, 0, {0}},
    {"empty.f64", DUET_ST_F64, 2, {0, 4}},
    {"empty.u8", DUET_ST_U8, 1, {0}},
    {"big.8d", DUET_ST_F32, 8, {1, 2, 1, 2, 1, 2, 1, 2}},
    {"\xc3\xa9t\xc3\xa9 \"q\"\\\n", DUET_ST_I16, 1, {1}}, /* non-ASCII, escapes */
};
#define N_RT (sizeof rt_cases / sizeof rt_cases[0])

static size_t rt_bytes(const rt_case *c)
{
    size_t n = duet_st_dtype_size(c->dtype);
    for (int i = 0; i < c->ndim; i++) n *= (size_t)c->shape[i];
    return n;
}

static void rt_fill(unsigned char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(seed * 131u + i * 29u + 7u);
}

static duet_st_writer *rt_writer(void)
{
    duet_st_writer *w = NULL;
    duet_err e;
    duet_err_clear(&e);
    if (duet_st_writer_new(&w, &e)) return NULL;
    for (size_t k = 0; k < N_RT; k++) {
        unsigned char buf[256];
        size_t n = rt_bytes(&rt_cases[k]);
        rt_fill(buf, n, (unsigned)k);
        if (rt_cases[k].dtype == DUET_ST_BOOL)
            for (size_t i = 0; i < n; i++) buf[i] &= 1;
        duet_status st = duet_st_writer_add(w, rt_cases[k].name, rt_cases[k].dtype, rt_cases[k].ndim,
                                            rt_cases[k].shape, n ? buf : NULL, &e);
        CHECK_MSG(st == DUET_OK, "add %s: %s", rt_cases[k].name, e.msg);
        memset(buf, 0, sizeof buf); /* the writer copied */
    }
    CHECK(duet_st_writer_meta(w, "format", "duet", &e) == DUET_OK);
    CHECK(duet_st_writer_meta(w, "version", "0", &e) == DUET_OK);
    CHECK(duet_st_writer_meta(w, "version", "2", &e) == DUET_OK); /* replaces */
    CHECK(duet_st_writer_meta(w, "h\xc3\xa9", "tab\there \"x\"", &e) == DUET_OK);
    return w;
}

static void rt_verify(const duet_st_file *f)
{
    CHECK(duet_st_count(f) == N_RT);
    for (size_t k = 0; k < N_RT; k++) {
        const rt_case *c = &rt_cases[k];
        const duet_st_tensor *t = duet_st_get(f, c->name);
        CHECK_MSG(t != NULL, "missing %s", c->name);
        if (!t) continue;
        CHECK(strcmp(t->name, c->name) == 0);
        CHECK(t->dtype == c->dtype);
        CHECK(t->ndim == c->ndim);
        int64_t numel = 1;
        for (int i = 0; i < c->ndim; i++) {
            CHECK(t->shape[i] == c->shape[i]);
            numel *= c->shape[i];
        }
        CHECK(t->numel == numel);
        size_t n = rt_bytes(c);
        CHECK(t->nbytes == n);
        CHECK(t->data != NULL);
        CHECK((uintptr_t)t->data % 64 == 0);
        unsigned char want[256];
        rt_fill(want, n, (unsigned)k);
        if (c->dtype == DUET_ST_BOOL)
            for (size_t i = 0; i < n; i++) want[i] &= 1;
        CHECK_MSG(n == 0 || memcmp(t->data, want, n) == 0, "data of %s", c->name);
    }
    /* file order: data offsets ascending means dtype rank descending */
    CHECK(duet_st_at(f, N_RT) == NULL);
    CHECK(duet_st_get(f, "absent") == NULL);
    CHECK(duet_st_meta_count(f) == 3);
    CHECK(duet_st_meta(f, "format") && strcmp(duet_st_meta(f, "format"), "duet") == 0);
    CHECK(duet_st_meta(f, "version") && strcmp(duet_st_meta(f, "version"), "2") == 0);
    CHECK(duet_st_meta(f, "h\xc3\xa9") && strcmp(duet_st_meta(f, "h\xc3\xa9"), "tab\there \"x\"") == 0);
    CHECK(duet_st_meta(f, "nope") == NULL);
    const char *k0, *v0, *k2, *v2;
    duet_st_meta_at(f, 0, &k0, &v0);
    duet_st_meta_at(f, 2, &k2, &v2);
    CHECK(k0 && strcmp(k0, "format") == 0);
    CHECK(k2 && strcmp(k2, "version") == 0);
    duet_st_meta_at(f, 3, &k0, &v0);
    CHECK(k0 == NULL && v0 == NULL);
}

static void test_roundtrip(void)
{
    duet_st_writer *w = rt_writer();
    REQUIRE(w);
    duet_err e;
    duet_err_clear(&e);
    void *buf = NULL;
    size_t len = 0;
    REQUIRE(duet_st_writer_serialize(w, &buf, &len, &e) == DUET_OK);
    /* header padded to 8, offsets aligned for every dtype */
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | ((unsigned char *)buf)[i];
    CHECK(n % 8 == 0);
    CHECK(((char *)buf)[8 + n - 1] == ' ' || ((char *)buf)[8 + n - 1] == '}');

    duet_st_file *f = NULL;
    duet_status st = duet_st_parse(buf, len, &f, &e);
    CHECK_MSG(st == DUET_OK, "%s", e.msg);
    if (f) {
        rt_verify(f);
        /* file order by offsets; offsets by dtype rank descending */
        size_t prev = 16;
        for (size_t i = 0; i < duet_st_count(f); i++) {
            size_t sz = duet_st_dtype_size(duet_st_at(f, i)->dtype);
            CHECK(sz <= prev || duet_st_at(f, i)->nbytes == 0);
            if (duet_st_at(f, i)->nbytes) prev = sz;
        }
    }
    duet_st_free(f);

    /* save atomically and load from disk: the same bytes */
    const char *p = tmpfile_path();
    st = duet_st_writer_save(w, p, &e);
    CHECK_MSG(st == DUET_OK, "%s", e.msg);
    size_t flen;
    unsigned char *fb = read_file(p, &flen);
    CHECK(fb && flen == len && memcmp(fb, buf, len) == 0);
    free(fb);
    f = NULL;
    st = duet_st_load(p, &f, &e);
    CHECK_MSG(st == DUET_OK, "%s", e.msg);
    if (f) rt_verify(f);
    duet_st_free(f);

    /* writing twice gives the same bytes (deterministic) */
    void *buf2 = NULL;
    size_t len2 = 0;
    CHECK(duet_st_writer_serialize(w, &buf2, &len2, &e) == DUET_OK);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf2);
    free(buf);
    duet_st_writer_free(w);
    remove(p);
}

/* Byte strings from the reference implementation's unit tests. */
static void test_reference_bytes(void)
{
    duet_err e;
    duet_err_clear(&e);
    duet_st_writer *w = NULL;
    void *buf = NULL;
    size_t len = 0;
    REQUIRE(duet_st_writer_new(&w, &e) == DUET_OK);
    REQUIRE(duet_st_writer_serialize(w, &buf, &len, &e) == DUET_OK);
    CHECK(len == 16 && memcmp(buf, "\x08\0\0\0\0\0\0\0{}      ", 16) == 0);
    free(buf);
    CHECK(duet_st_writer_meta(w, "framework", "pt", &e) == DUET_OK);
    REQUIRE(duet_st_writer_serialize(w, &buf, &len, &e) == DUET_OK);
    const char *m = "(\0\0\0\0\0\0\0{\"__metadata__\":{\"framework\":\"pt\"}}     ";
    CHECK(len == 48 && memcmp(buf, m, 48) == 0);
    free(buf);
    duet_st_writer_free(w);

    REQUIRE(duet_st_writer_new(&w, &e) == DUET_OK);
    float v[6] = {0, 1, 2, 3, 4, 5};
    int64_t shape[4] = {1, 1, 2, 3};
    CHECK(duet_st_writer_add(w, "attn0", DUET_ST_F32, 4, shape, v, &e) == DUET_OK);
    REQUIRE(duet_st_writer_serialize(w, &buf, &len, &e) == DUET_OK);
    const char *h = "H\0\0\0\0\0\0\0{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],"
                    "\"data_offsets\":[0,24]}}       ";
    CHECK(len == 8 + 72 + 24);
    CHECK(memcmp(buf, h, 80) == 0);
    unsigned char le[24];
    for (int i = 0; i < 6; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        for (int b = 0; b < 4; b++) le[4 * i + b] = (unsigned char)(u >> (8 * b));
    }
    CHECK(len >= 104 && memcmp((unsigned char *)buf + 80, le, 24) == 0);
    free(buf);
    duet_st_writer_free(w);
}

/* The tensors gen_safetensors.py's duet_expected() builds. */
static duet_st_writer *duet_fixture_writer(void)
{
    duet_st_writer *w = NULL;
    duet_err e;
    duet_err_clear(&e);
    if (duet_st_writer_new(&w, &e)) return NULL;
    float f32[6];
    for (int i = 0; i < 6; i++) f32[i] = (float)i * 0.5f - 1.0f;
    double f64[3];
    for (int i = 0; i < 3; i++) f64[i] = i / 8.0 + 100;
    uint16_t f16[2] = {0x3c00, 0xc000}, bf16[2] = {0x3f80, 0x4049};
    int64_t i64[2] = {-5, (int64_t)1 << 40};
    int32_t i32[2] = {-7, 7};
    int16_t i16[2] = {-300, 300};
    int8_t i8[3] = {-128, 0, 127};
    uint8_t u8[2] = {0, 255}, bl[3] = {1, 0, 1};
    uint64_t u64[1] = {UINT64_MAX};
    uint32_t u32[1] = {4000000000u};
    float sc = 42.0f;
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s2[1] = {2}, s12[2] = {1, 2}, s1[1] = {1}, s04[2] = {0, 4};
    int ok = 1;
    ok &= !duet_st_writer_add(w, "w.f32", DUET_ST_F32, 2, s23, f32, &e);
    ok &= !duet_st_writer_add(w, "w.f64", DUET_ST_F64, 1, s3, f64, &e);
    ok &= !duet_st_writer_add(w, "w.f16", DUET_ST_F16, 1, s2, f16, &e);
    ok &= !duet_st_writer_add(w, "w.bf16", DUET_ST_BF16, 1, s2, bf16, &e);
    ok &= !duet_st_writer_add(w, "w.i64", DUET_ST_I64, 1, s2, i64, &e);
    ok &= !duet_st_writer_add(w, "w.i32", DUET_ST_I32, 2, s12, i32, &e);
    ok &= !duet_st_writer_add(w, "w.i16", DUET_ST_I16, 1, s2, i16, &e);
    ok &= !duet_st_writer_add(w, "w.i8", DUET_ST_I8, 1, s3, i8, &e);
    ok &= !duet_st_writer_add(w, "w.u8", DUET_ST_U8, 1, s2, u8, &e);
    ok &= !duet_st_writer_add(w, "w.u64", DUET_ST_U64, 1, s1, u64, &e);
    ok &= !duet_st_writer_add(w, "w.u32", DUET_ST_U32, 1, s1, u32, &e);
    ok &= !duet_st_writer_add(w, "w.bool", DUET_ST_BOOL, 1, s3, bl, &e);
    ok &= !duet_st_writer_add(w, "w.scalar", DUET_ST_F32, 0, NULL, &sc, &e);
    ok &= !duet_st_writer_add(w, "w.empty", DUET_ST_F32, 2, s04, NULL, &e);
    ok &= !duet_st_writer_meta(w, "version", "1", &e);
    ok &= !duet_st_writer_meta(w, "format", "duet", &e);
    if (!ok) {
        fprintf(stderr, "  duet_fixture_writer: %s\n", e.msg);
        duet_st_writer_free(w);
        return NULL;
    }
    return w;
}

static void test_duet_written_fixture(void)
{
    duet_st_writer *w = duet_fixture_writer();
    REQUIRE(w);
    duet_err e;
    duet_err_clear(&e);
    const char *regen = getenv("DUET_ST_REGEN");
    if (regen && regen[0] == '1') {
        CHECK_MSG(duet_st_writer_save(w, ST_FIXTURE_DUET, &e) == DUET_OK, "%s", e.msg);
        fprintf(stderr, "  wrote %s; now run /usr/bin/python3 fixtures/gen_safetensors.py\n", ST_FIXTURE_DUET);
    }
    void *buf = NULL;
    size_t len = 0, flen = 0;
    REQUIRE(duet_st_writer_serialize(w, &buf, &len, &e) == DUET_OK);
    unsigned char *fb = read_file(ST_FIXTURE_DUET, &flen);
    CHECK_MSG(fb != NULL, "cannot read %s", ST_FIXTURE_DUET);
    CHECK_MSG(fb && flen == len && memcmp(fb, buf, len) == 0,
              "duet's writer no longer produces the bytes verified by gen_safetensors.py");
    free(fb);
    free(buf);
    duet_st_writer_free(w);
}

static const duet_st_tensor *need(const duet_st_file *f, const char *name, duet_st_dtype dt, int64_t numel)
{
    const duet_st_tensor *t = duet_st_get(f, name);
    CHECK_MSG(t != NULL, "missing %s", name);
    if (!t) return NULL;
    CHECK_MSG(t->dtype == dt && t->numel == numel, "%s: dtype %s numel %lld", name,
              duet_st_dtype_name(t->dtype), (long long)t->numel);
    return t->dtype == dt && t->numel == numel ? t : NULL;
}

static void test_torch_golden(void)
{
    duet_st_file *f = NULL;
    duet_err e;
    duet_err_clear(&e);
    duet_status st = duet_st_load(ST_FIXTURE_GOLDEN, &f, &e);
    CHECK_MSG(st == DUET_OK, "%s", e.msg);
    REQUIRE(f);
    CHECK(duet_st_count(f) == 20);
    CHECK(duet_st_meta(f, "format") && strcmp(duet_st_meta(f, "format"), "duet-test") == 0);
    CHECK(duet_st_meta(f, "note") &&
          strcmp(duet_st_meta(f, "note"), "\xc3\xbcn\xc3\xaf" "code \"quoted\"\n") == 0);

    const float *p;
    int64_t s234[3] = {2, 3, 4};
    CHECK(duet_st_get_f32(f, "f32.ramp", 3, s234, &p, &e) == DUET_OK);
    if (p)
        for (int i = 0; i < 24; i++) CHECK(p[i] == (float)i * 0.25f - 1.5f);
    int64_t s16[4] = {16, 1, 3, 3};
    CHECK(duet_st_get_f32(f, "enc.0.weight", 4, s16, &p, &e) == DUET_OK);
    if (p)
        for (int i = 0; i < 144; i++) CHECK(p[i] == (float)i / 64.0f);

    const duet_st_tensor *a = need(f, "f32.randn", DUET_ST_F32, 15), *b = need(f, "f64.randn", DUET_ST_F64, 15);
    if (a && b) {
        const float *x = a->data;
        const double *y = b->data;
        double ss = 0;
        for (int i = 0; i < 15; i++) {
            CHECK(x[i] == (float)y[i]);
            ss += y[i] * y[i];
        }
        CHECK(ss > 1.0); /* really random normals, not zeros */
    }
    a = need(f, "f16.vals", DUET_ST_F16, 7);
    b = need(f, "f16.as_f32", DUET_ST_F32, 7);
    if (a && b) {
        const uint16_t *h = a->data;
        const float *x = b->data;
        for (int i = 0; i < 7; i++) {
            float v = f16_to_f32(h[i]);
            CHECK_MSG(memcmp(&v, &x[i], 4) == 0, "f16[%d] %g vs %g", i, v, x[i]);
        }
        CHECK(h[0] == 0x3800 && h[1] == 0xc000 && h[2] == 0x7bff && h[5] == 0x8000 && h[6] == 0x7c00);
    }
    a = need(f, "bf16.vals", DUET_ST_BF16, 5);
    b = need(f, "bf16.as_f32", DUET_ST_F32, 5);
    if (a && b) {
        const uint16_t *h = a->data;
        const float *x = b->data;
        for (int i = 0; i < 5; i++) {
            float v = bf16_to_f32(h[i]);
            CHECK(memcmp(&v, &x[i], 4) == 0);
        }
        CHECK(h[0] == 0x3f80 && h[1] == 0xc049);
    }
    if ((a = need(f, "i64.vals", DUET_ST_I64, 5))) {
        const int64_t *v = a->data;
        CHECK(v[0] == INT64_MIN && v[1] == -1 && v[2] == 0 && v[3] == 1 && v[4] == INT64_MAX);
    }
    if ((a = need(f, "i32.vals", DUET_ST_I32, 4))) {
        const int32_t *v = a->data;
        CHECK(v[0] == INT32_MIN && v[1] == -1 && v[2] == 0 && v[3] == INT32_MAX);
    }
    if ((a = need(f, "i16.vals", DUET_ST_I16, 3))) {
        const int16_t *v = a->data;
        CHECK(v[0] == -32768 && v[1] == -1 && v[2] == 32767);
    }
    if ((a = need(f, "i8.vals", DUET_ST_I8, 3))) {
        const int8_t *v = a->data;
        CHECK(v[0] == -128 && v[1] == -1 && v[2] == 127);
    }
    if ((a = need(f, "u8.vals", DUET_ST_U8, 3))) {
        const uint8_t *v = a->data;
        CHECK(v[0] == 0 && v[1] == 1 && v[2] == 255);
    }
    if ((a = need(f, "u32.vals", DUET_ST_U32, 3))) {
        const uint32_t *v = a->data;
        CHECK(v[0] == 0 && v[1] == 1 && v[2] == UINT32_MAX);
    }
    if ((a = need(f, "u64.vals", DUET_ST_U64, 3))) {
        const uint64_t *v = a->data;
        CHECK(v[0] == 0 && v[1] == 1 && v[2] == UINT64_MAX);
    }
    if ((a = need(f, "bool.mask", DUET_ST_BOOL, 4))) {
        const uint8_t *v = a->data;
        CHECK(v[0] == 1 && v[1] == 0 && v[2] == 1 && v[3] == 1);
    }
    CHECK(duet_st_get_f32(f, "scalar", 0, NULL, &p, &e) == DUET_OK);
    CHECK(p && *p == 3.5f);
    int64_t s03[2] = {0, 3};
    CHECK(duet_st_get_f32(f, "empty", 2, s03, &p, &e) == DUET_OK);
    int64_t s1[1] = {1};
    CHECK(duet_st_get_f32(f, "\xc3\xa9nc.w\xc3\xa9ight/\xe4\xb8\xad", 1, s1, &p, &e) == DUET_OK);
    CHECK(p && *p == 7.0f);
    CHECK(duet_st_get_f32(f, "quote\"back\\slash\ttab", 1, s1, &p, &e) == DUET_OK);
    CHECK(p && *p == 8.0f);
    for (size_t i = 0; i < duet_st_count(f); i++) {
        const duet_st_tensor *t = duet_st_at(f, i);
        CHECK((uintptr_t)t->data % duet_st_dtype_size(t->dtype) == 0);
    }
    duet_st_free(f);
}

static void test_get_f32_errors(void)
{
    duet_st_file *f = NULL;
    duet_err e;
    duet_err_clear(&e);
    REQUIRE(duet_st_load(ST_FIXTURE_GOLDEN, &f, &e) == DUET_OK);
    const float *p = (const float *)1;
    int64_t want[4] = {16, 2, 3, 3};
    CHECK(duet_st_get_f32(f, "enc.0.weight", 4, want, &p, &e) == DUET_ERR_SHAPE);
    CHECK_MSG(strcmp(e.msg, "tensor \"enc.0.weight\": expected shape [16,2,3,3], found [16,1,3,3]") == 0,
              "%s", e.msg);
    CHECK(p == NULL);
    CHECK(duet_st_get_f32(f, "enc.0.weight", 3, want, &p, &e) == DUET_ERR_SHAPE);
    CHECK(strstr(e.msg, "expected shape [16,2,3], found [16,1,3,3]") != NULL);
    int64_t s5[1] = {5};
    CHECK(duet_st_get_f32(f, "i64.vals", 1, s5, &p, &e) == DUET_ERR_SHAPE);
    CHECK_MSG(strcmp(e.msg, "tensor \"i64.vals\": expected dtype F32, found I64") == 0, "%s", e.msg);
    CHECK(duet_st_get_f32(f, "dec.9.bias", 1, s5, &p, &e) == DUET_ERR_NOTFOUND);
    CHECK_MSG(strcmp(e.msg, "tensor \"dec.9.bias\" not found") == 0, "%s", e.msg);
    CHECK(duet_st_get_f32(f, "scalar", 1, s5, &p, &e) == DUET_ERR_SHAPE);
    CHECK(strstr(e.msg, "expected shape [5], found []") != NULL);
    duet_st_free(f);
}

/* ------------------------------------------------------------------ */
/* Malformed input                                                     */

/* 8-byte length + header + `data` bytes of 0xab */
static unsigned char *mk(const char *hdr, size_t hlen, size_t data, size_t *len)
{
    unsigned char *b = malloc(8 + hlen + data + 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(b + 8, hdr, hlen);
    memset(b + 8 + hlen, 0xab, data);
    *len = 8 + hlen + data;
    return b;
}

static void expect_bad_buf(const char *label, const unsigned char *b, size_t len, duet_status want,
                           const char *substr)
{
    duet_st_file *f = (duet_st_file *)1;
    duet_err e;
    duet_err_clear(&e);
    duet_status st = duet_st_parse(b, len, &f, &e);
    CHECK_MSG(st == want, "%s: status %d (%s) want %d", label, (int)st, e.msg, (int)want);
    CHECK_MSG(f == NULL, "%s: *out not NULL", label);
    CHECK_MSG(strstr(e.msg, substr) != NULL, "%s: message \"%s\" lacks \"%s\"", label, e.msg, substr);
    CHECK_MSG(e.msg[0] && !strchr(e.msg, '\n'), "%s: not a one-line message", label);
    if (getenv("DUET_ST_VERBOSE")) fprintf(stderr, "  %-28s -> %s\n", label, e.msg);
    /* and through a file */
    const char *p = tmpfile_path();
    CHECK(write_file(p, b, len));
    f = (duet_st_file *)1;
    duet_err e2;
    duet_err_clear(&e2);
    st = duet_st_load(p, &f, &e2);
    CHECK_MSG(st == want, "%s (file): status %d (%s)", label, (int)st, e2.msg);
    CHECK(f == NULL);
    CHECK_MSG(strcmp(e.msg, e2.msg) == 0, "%s: file message \"%s\" differs", label, e2.msg);
    remove(p);
}

static void expect_bad(const char *label, const char *hdr, size_t hlen, size_t data, duet_status want,
                       const char *substr)
{
    size_t len;
    unsigned char *b = mk(hdr, hlen, data, &len);
    expect_bad_buf(label, b, len, want, substr);
    free(b);
}

#define BAD(label, json, data, want, substr) expect_bad(label, json, sizeof(json) - 1, data, want, substr)
#define T(body) "{\"a\":{" body "}}"
#define F32_4 "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"

static void test_malformed_sizes(void)
{
    expect_bad_buf("empty file", (const unsigned char *)"", 0, DUET_ERR_FORMAT, "empty file");
    expect_bad_buf("5 bytes", (const unsigned char *)"\x02\0\0\0\0", 5, DUET_ERR_FORMAT, "too short");
    unsigned char b[32] = {100, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    expect_bad_buf("header length past EOF", b, 20, DUET_ERR_FORMAT, "runs past the end of the file (20 bytes)");
    memset(b, 0, 8);
    b[5] = 1; /* 2^40 */
    expect_bad_buf("header length huge", b, 20, DUET_ERR_RANGE, "exceeds the cap");
    memset(b, 0xff, 8);
    expect_bad_buf("header length 2^64-1", b, 20, DUET_ERR_RANGE, "exceeds the cap");
    memset(b, 0, 8);
    expect_bad_buf("header length 0", b, 8, DUET_ERR_FORMAT, "header is empty");
    BAD("header not an object", "[]", 0, DUET_ERR_FORMAT, "does not start with '{'");
    BAD("leading space", " {}", 0, DUET_ERR_FORMAT, "does not start with '{'");
    BAD("truncated JSON", "{\"a\":{\"dtype\":\"F32\"", 0, DUET_ERR_FORMAT, "end of header");
    BAD("truncated string", "{\"a", 0, DUET_ERR_FORMAT, "unterminated string");
    BAD("trailing junk", "{}x", 0, DUET_ERR_FORMAT, "after the header's closing '}'");
    BAD("NUL padding", "{}\0\0\0\0\0\0", 0, DUET_ERR_FORMAT, "unexpected byte 0x00");
    BAD("second object", "{} {}", 0, DUET_ERR_FORMAT, "after the header's closing '}'");
    BAD("trailing comma", "{\"a\":{" F32_4 "},}", 4, DUET_ERR_FORMAT, "expected a string");
    BAD("data area not covered", T(F32_4), 8, DUET_ERR_FORMAT, "4 bytes at the end of the data area belong to no tensor");
    BAD("data but no tensors", "{}", 3, DUET_ERR_FORMAT, "belong to no tensor");
}

static void test_malformed_tensors(void)
{
    BAD("negative shape", T("\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]"), 0, DUET_ERR_FORMAT,
        "tensor \"a\": negative number");
    BAD("huge shape", T("\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,0]"), 0,
        DUET_ERR_RANGE, "too large");
    BAD("dim over INT64_MAX", T("\"dtype\":\"U8\",\"shape\":[9223372036854775808],\"data_offsets\":[0,0]"), 0,
        DUET_ERR_RANGE, "too large");
    BAD("shape product overflow", T("\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]"),
        0, DUET_ERR_RANGE, "tensor \"a\": shape [4294967296,4294967296]: element count overflows");
    BAD("byte size overflow", T("\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]"), 0,
        DUET_ERR_RANGE, "byte size overflows");
    BAD("9 dims", T("\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]"), 4,
        DUET_ERR_RANGE, "more than 8 dimensions");
    BAD("fractional dim", T("\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "fraction or exponent");
    BAD("exponent dim", T("\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "fraction or exponent");
    BAD("leading zero", T("\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "leading zero");
    BAD("string dim", T("\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "expected a non-negative integer");
    BAD("shape not array", T("\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "'[' opening the shape");
    BAD("nested shape", T("\"dtype\":\"F32\",\"shape\":[[1]],\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "expected a non-negative integer");
    BAD("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, DUET_ERR_FORMAT,
        "tensor \"b\": data_offsets [4,12] overlap tensor \"a\"");
    BAD("same offsets", "{\"a\":{" F32_4 "},\"b\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "overlap tensor \"a\"");
    BAD("zero-size inside another", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8, DUET_ERR_FORMAT, "overlap");
    BAD("gap", T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]"), 8, DUET_ERR_FORMAT,
        "tensor \"a\": gap of 4 unused bytes");
    BAD("offsets past end", T("\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]"), 8, DUET_ERR_FORMAT,
        "tensor \"a\": data_offsets [0,16] run past the end of the data area (8 bytes)");
    BAD("offsets huge", T("\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18446744073709551615,0]"), 8,
        DUET_ERR_FORMAT, "end is before begin");
    BAD("offset over u64", T("\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,18446744073709551616]"), 8,
        DUET_ERR_RANGE, "too large");
    BAD("end < begin", T("\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]"), 8, DUET_ERR_FORMAT,
        "tensor \"a\": data_offsets [8,0]: end is before begin");
    BAD("wrong byte size", T("\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]"), 8, DUET_ERR_FORMAT,
        "tensor \"a\": data_offsets [0,8] hold 8 bytes but F32 shape [3] needs 12");
    BAD("3 offsets", T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,4]"), 4, DUET_ERR_FORMAT,
        "exactly 2 numbers");
    BAD("1 offset", T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]"), 4, DUET_ERR_FORMAT,
        "',' between the two data_offsets");
    BAD("unknown dtype", T("\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "tensor \"a\": unknown dtype \"F33\"");
    BAD("lowercase dtype", T("\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "unknown dtype");
    BAD("unsupported dtype", T("\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[0,2]"), 2,
        DUET_ERR_UNSUPPORTED, "unsupported dtype \"U16\"");
    BAD("dtype not a string", T("\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "expected a string");
    BAD("missing data_offsets", T("\"dtype\":\"F32\",\"shape\":[1]"), 4, DUET_ERR_FORMAT,
        "tensor \"a\": entry at byte 9 lacks \"data_offsets\"");
    BAD("missing shape", T("\"dtype\":\"F32\",\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT, "lacks \"shape\"");
    BAD("missing dtype", T("\"shape\":[1],\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT, "lacks \"dtype\"");
    BAD("empty entry", T(""), 0, DUET_ERR_FORMAT, "lacks \"dtype\"");
    BAD("unknown key", T(F32_4 ",\"offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "tensor \"a\": unknown key \"offsets\"");
    BAD("nested JSON junk", T(F32_4 ",\"x\":{\"y\":[[[{}]]]}"), 4, DUET_ERR_FORMAT, "unknown key \"x\"");
    BAD("entry not an object", "{\"a\":[1,2]}", 0, DUET_ERR_FORMAT, "'{' opening the tensor entry");
    BAD("entry a string", "{\"a\":\"F32\"}", 0, DUET_ERR_FORMAT, "'{' opening the tensor entry");
    BAD("entry null", "{\"a\":null}", 0, DUET_ERR_FORMAT, "'{' opening the tensor entry");
    BAD("duplicate key", T(F32_4 ",\"dtype\":\"F32\""), 4, DUET_ERR_FORMAT, "duplicate key \"dtype\"");
    BAD("duplicate names", "{\"a\":{" F32_4 "},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, DUET_ERR_FORMAT,
        "duplicate tensor name \"a\"");
    BAD("duplicate names via escape", "{\"a\":{" F32_4 "},\"\\u0061\":{\"dtype\":\"F32\",\"shape\":[1],"
        "\"data_offsets\":[4,8]}}", 8, DUET_ERR_FORMAT, "duplicate tensor name \"a\"");
    BAD("empty name", "{\"\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "empty tensor name");
    BAD("duplicate shape", T(F32_4 ",\"shape\":[1]"), 4, DUET_ERR_FORMAT, "duplicate key \"shape\"");
    BAD("duplicate offsets", T(F32_4 ",\"data_offsets\":[0,4]"), 4, DUET_ERR_FORMAT,
        "duplicate key \"data_offsets\"");
    BAD("control char shown as ?", "{\"a\\u0001\\n\":{\"dtype\":\"F8\",\"shape\":[],\"data_offsets\":[0,1]}}", 1,
        DUET_ERR_FORMAT, "tensor \"a??\": unknown dtype \"F8\"");
    {
        /* a 300-byte name (2-byte UTF-8 characters) is cut at a character
         * boundary in the message */
        char h[800], name[301];
        for (int i = 0; i < 300; i += 2) memcpy(name + i, "\xc3\xa9", 2);
        name[300] = '\0';
        snprintf(h, sizeof h, "{\"%s\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", name);
        expect_bad("long name", h, strlen(h), 4, DUET_ERR_FORMAT, "\xc3\xa9...\": data_offsets [0,4] hold 4 bytes");
    }
    BAD("missing colon", "{\"a\" {" F32_4 "}}", 4, DUET_ERR_FORMAT, "':' after a tensor name");
    BAD("key not a string", "{a:{" F32_4 "}}", 4, DUET_ERR_FORMAT, "expected a string");
}

static void test_malformed_strings(void)
{
    BAD("non-UTF-8 name", "{\"\xff\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "invalid UTF-8 in a string at byte 10");
    BAD("Latin-1 name", "{\"caf\xe9\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "invalid UTF-8");
    BAD("overlong UTF-8", "{\"\xc0\xaf\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "invalid UTF-8");
    BAD("UTF-8 surrogate", "{\"\xed\xa0\x80\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "invalid UTF-8");
    BAD("above U+10FFFF", "{\"\xf4\x90\x80\x80\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "invalid UTF-8");
    BAD("truncated UTF-8", "{\"\xe4\xb8\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "invalid UTF-8");
    BAD("lone surrogate escape", "{\"\\ud800\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "unpaired UTF-16 surrogate");
    BAD("low surrogate first", "{\"\\udc00\\ud800\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "unpaired");
    BAD("NUL escape", "{\"a\\u0000b\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "NUL");
    BAD("bad escape", "{\"a\\x\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "invalid escape");
    BAD("short \\u", "{\"a\\u12\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "invalid escape");
    BAD("raw newline in name", "{\"a\nb\":{" F32_4 "}}", 4, DUET_ERR_FORMAT, "raw control character 0x0a");
    BAD("metadata not an object", "{\"__metadata__\":\"x\"}", 0, DUET_ERR_FORMAT, "'{' opening __metadata__");
    BAD("metadata null", "{\"__metadata__\":null}", 0, DUET_ERR_FORMAT, "'{' opening __metadata__");
    BAD("metadata number value", "{\"__metadata__\":{\"epoch\":3}}", 0, DUET_ERR_FORMAT,
        "__metadata__ value of \"epoch\" at byte 33 is not a string");
    BAD("metadata object value", "{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}", 0, DUET_ERR_FORMAT, "not a string");
    BAD("metadata array value", "{\"__metadata__\":{\"k\":[\"y\"]}}", 0, DUET_ERR_FORMAT, "not a string");
    BAD("metadata null value", "{\"__metadata__\":{\"k\":null}}", 0, DUET_ERR_FORMAT, "not a string");
    BAD("metadata bool value", "{\"__metadata__\":{\"k\":true}}", 0, DUET_ERR_FORMAT, "not a string");
    BAD("metadata non-UTF-8", "{\"__metadata__\":{\"k\":\"\xfe\"}}", 0, DUET_ERR_FORMAT, "invalid UTF-8");
    BAD("duplicate metadata", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, DUET_ERR_FORMAT,
        "duplicate \"__metadata__\"");
    BAD("duplicate metadata key", "{\"__metadata__\":{\"k\":\"1\",\"j\":\"2\",\"k\":\"3\"}}", 0, DUET_ERR_FORMAT,
        "duplicate __metadata__ key \"k\"");
}

static void test_accepted_variants(void)
{
    duet_err e;
    duet_err_clear(&e);
    static const struct { const char *label, *hdr; size_t data; } ok[] = {
        {"empty object", "{}", 0},
        {"space padding", "{}      ", 0},
        {"JSON whitespace", "{ \"a\" :\t{\r\n\"shape\" : [ 1 ] , \"data_offsets\":[0,4],\"dtype\":\"F32\"} }\n", 4},
        {"metadata only", "{\"__metadata__\":{}}", 0},
        {"metadata after tensors", "{\"a\":{" F32_4 "},\"__metadata__\":{\"k\":\"v\"}}", 4},
        {"escaped slash", "{\"a\\/b\":{" F32_4 "}}", 4},
        {"surrogate pair", "{\"\\ud83c\\udfb5\":{" F32_4 "}}", 4},
        {"zero-size at end", "{\"a\":{" F32_4 "},\"z\":{\"dtype\":\"I64\",\"shape\":[3,0],\"data_offsets\":[4,4]}}", 4},
        {"zero dims with huge", "{\"z\":{\"dtype\":\"F64\",\"shape\":[0,9223372036854775807,9223372036854775807],"
         "\"data_offsets\":[0,0]}}", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t len;
        unsigned char *b = mk(ok[i].hdr, strlen(ok[i].hdr), ok[i].data, &len);
        duet_st_file *f = NULL;
        duet_status st = duet_st_parse(b, len, &f, &e);
        CHECK_MSG(st == DUET_OK, "%s: %s", ok[i].label, e.msg);
        duet_st_free(f);
        free(b);
    }
    /* misaligned offsets (no padding): the data still comes out aligned */
    const char *h = "{\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                    "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[1,17]}}";
    size_t len;
    unsigned char *b = mk(h, strlen(h), 17, &len);
    double v[2] = {1.25, -3.5};
    b[8 + strlen(h)] = 9;
    memcpy(b + 8 + strlen(h) + 1, v, 16);
    duet_st_file *f = NULL;
    CHECK(duet_st_parse(b, len, &f, &e) == DUET_OK);
    const duet_st_tensor *t = f ? duet_st_get(f, "d") : NULL;
    CHECK(t && (uintptr_t)t->data % 8 == 0 && ((const double *)t->data)[0] == 1.25 &&
          ((const double *)t->data)[1] == -3.5);
    t = f ? duet_st_get(f, "b") : NULL;
    CHECK(t && *(const uint8_t *)t->data == 9);
    CHECK(f && duet_st_at(f, 0) == duet_st_get(f, "b")); /* offset order */
    duet_st_free(f);
    free(b);
    /* a lookup by the decoded name */
    b = mk("{\"\\ud83c\\udfb5\":{" F32_4 "}}", strlen("{\"\\ud83c\\udfb5\":{" F32_4 "}}"), 4, &len);
    f = NULL;
    CHECK(duet_st_parse(b, len, &f, &e) == DUET_OK);
    CHECK(f && duet_st_get(f, "\xf0\x9f\x8e\xb5") != NULL);
    duet_st_free(f);
    free(b);
}

/* Every proper prefix of a valid file is rejected (the data area must be
 * exactly covered), and flipping any byte never crashes. */
static void test_truncation_and_flips(void)
{
    size_t len;
    unsigned char *b = read_file(ST_FIXTURE_GOLDEN, &len);
    REQUIRE(b && len > 100);
    duet_err e;
    int rejected = 0;
    for (size_t n = 0; n < len; n++) {
        duet_st_file *f = NULL;
        duet_err_clear(&e);
        duet_status st = duet_st_parse(b, n, &f, &e);
        if (st != DUET_OK && f == NULL && e.msg[0]) rejected++;
        duet_st_free(f);
    }
    CHECK_MSG((size_t)rejected == len, "%d of %zu truncations rejected", rejected, len);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | b[i];
    int accepted = 0;
    for (size_t i = 0; i < 8 + hl; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            b[i] ^= (unsigned char)(1u << bit);
            duet_st_file *f = NULL;
            duet_err_clear(&e);
            duet_status st = duet_st_parse(b, len, &f, &e);
            if (st == DUET_OK) {
                accepted++;
                for (size_t k = 0; k < duet_st_count(f); k++) {
                    const duet_st_tensor *t = duet_st_at(f, k);
                    volatile unsigned char s = 0;
                    for (size_t q = 0; q < t->nbytes; q++) s ^= ((const unsigned char *)t->data)[q];
                    (void)s;
                }
            } else {
                CHECK(f == NULL && e.msg[0]);
            }
            duet_st_free(f);
            b[i] ^= (unsigned char)(1u << bit);
        }
    }
    /* some flips are harmless (inside names, metadata values), most are not */
    CHECK(accepted > 0 && (size_t)accepted < 3 * (8 + hl));
    free(b);
}

static void test_load_errors(void)
{
    duet_st_file *f = (duet_st_file *)1;
    duet_err e;
    duet_err_clear(&e);
    CHECK(duet_st_load("fixtures/safetensors/does-not-exist.safetensors", &f, &e) == DUET_ERR_IO);
    CHECK(f == NULL && strstr(e.msg, "No such file") != NULL);
    CHECK(duet_st_load("fixtures", &f, &e) == DUET_ERR_IO);
    CHECK(strstr(e.msg, "not a regular file") != NULL);
    CHECK(duet_st_load("", &f, &e) == DUET_ERR_IO);
    /* a FIFO is refused at once (no waiting for a writer) */
    char fifo[96];
    snprintf(fifo, sizeof fifo, "/tmp/duet_test_st_fifo_%ld", (long)getpid());
    remove(fifo);
    if (mkfifo(fifo, 0600) == 0) {
        CHECK(duet_st_load(fifo, &f, &e) == DUET_ERR_IO);
        CHECK(strstr(e.msg, "not a regular file") != NULL);
        remove(fifo);
    }
}

static void test_writer_errors(void)
{
    duet_st_writer *w = NULL;
    duet_err e;
    duet_err_clear(&e);
    REQUIRE(duet_st_writer_new(&w, &e) == DUET_OK);
    float x[4] = {1, 2, 3, 4};
    int64_t s4[1] = {4}, neg[2] = {2, -2}, big[2] = {INT64_MAX, 2}, huge[1] = {INT64_MAX / 2 + 1};
    CHECK(duet_st_writer_add(w, "x", DUET_ST_F32, 1, s4, x, &e) == DUET_OK);
    CHECK(duet_st_writer_add(w, "x", DUET_ST_F32, 1, s4, x, &e) == DUET_ERR_ARG);
    CHECK(strstr(e.msg, "duplicate tensor name \"x\"") != NULL);
    CHECK(duet_st_writer_add(w, "", DUET_ST_F32, 1, s4, x, &e) == DUET_ERR_ARG);
    CHECK(duet_st_writer_add(w, "__metadata__", DUET_ST_F32, 1, s4, x, &e) == DUET_ERR_ARG);
    CHECK(duet_st_writer_add(w, "bad\xff", DUET_ST_F32, 1, s4, x, &e) == DUET_ERR_ARG);
    CHECK(strstr(e.msg, "UTF-8") != NULL);
    CHECK(duet_st_writer_add(w, "n", DUET_ST_F32, 2, neg, x, &e) == DUET_ERR_ARG);
    CHECK(strstr(e.msg, "negative dimension -2") != NULL);
    CHECK(duet_st_writer_add(w, "n", DUET_ST_F32, 9, s4, x, &e) == DUET_ERR_ARG);
    CHECK(duet_st_writer_add(w, "n", DUET_ST_F32, -1, s4, x, &e) == DUET_ERR_ARG);
    CHECK(duet_st_writer_add(w, "n", DUET_ST_F32, 2, big, x, &e) == DUET_ERR_RANGE);
    CHECK(duet_st_writer_add(w, "n", DUET_ST_F32, 1, huge, x, &e) == DUET_ERR_RANGE);
    CHECK(duet_st_writer_add(w, "n", (duet_st_dtype)12, 1, s4, x, &e) == DUET_ERR_ARG);
    CHECK(duet_st_writer_add(w, "n", DUET_ST_F32, 1, s4, NULL, &e) == DUET_ERR_ARG);
    CHECK(duet_st_writer_meta(w, "k", "\xc3", &e) == DUET_ERR_ARG);
    /* unwritable output: error, and nothing left behind */
    CHECK(duet_st_writer_save(w, "/nonexistent-dir/x.safetensors", &e) == DUET_ERR_IO);
    CHECK(e.msg[0] != '\0');
    CHECK(access("/nonexistent-dir/x.safetensors", F_OK) != 0);
    /* a failed save keeps an existing target intact */
    const char *p = tmpfile_path();
    CHECK(write_file(p, "old", 3));
    CHECK(duet_st_writer_save(w, p, &e) == DUET_OK);
    duet_st_file *f = NULL;
    CHECK(duet_st_load(p, &f, &e) == DUET_OK);
    CHECK(f && duet_st_count(f) == 1);
    duet_st_free(f);
    remove(p);
    duet_st_writer_free(w);
    duet_st_writer_free(NULL);
    duet_st_free(NULL);
}

int main(void)
{
    RUN(test_dtype_table);
    RUN(test_roundtrip);
    RUN(test_reference_bytes);
    RUN(test_duet_written_fixture);
    RUN(test_torch_golden);
    RUN(test_get_f32_errors);
    RUN(test_malformed_sizes);
    RUN(test_malformed_tensors);
    RUN(test_malformed_strings);
    RUN(test_accepted_variants);
    RUN(test_truncation_and_flips);
    RUN(test_load_errors);
    RUN(test_writer_errors);
    return check_summary();
}
