/* separation/sep_fifo.c: growable planar FIFO (sep_fifo.h). */
#include "sep_fifo.h"

#include <stdlib.h>
#include <string.h>

int duet_sep_fifo_init(duet_sep_fifo *f, int channels)
{
    memset(f, 0, sizeof *f);
    f->channels = channels;
    f->ch = calloc((size_t)channels, sizeof *f->ch);
    return f->ch ? 0 : -1;
}

int64_t duet_sep_fifo_len(const duet_sep_fifo *f) { return f->len; }

int duet_sep_fifo_push(duet_sep_fifo *f, const float *const *src, int64_t n)
{
    if (n <= 0) return 0;
    if (f->head + f->len + n > f->cap) {
        if (f->head > 0) { /* slide the live frames to the front first */
            for (int c = 0; c < f->channels; c++) memmove(f->ch[c], f->ch[c] + f->head, sizeof(float) * (size_t)f->len);
            f->head = 0;
        }
        if (f->len + n > f->cap) {
            int64_t cap = f->cap ? f->cap : 65536;
            while (cap < f->len + n) cap *= 2;
            for (int c = 0; c < f->channels; c++) {
                float *p = realloc(f->ch[c], sizeof(float) * (size_t)cap);
                if (!p) return -1; /* channels grown so far keep their data; cap unchanged */
                f->ch[c] = p;
            }
            f->cap = cap;
        }
    }
    for (int c = 0; c < f->channels; c++) memcpy(f->ch[c] + f->head + f->len, src[c], sizeof(float) * (size_t)n);
    f->len += n;
    return 0;
}

int64_t duet_sep_fifo_pop(duet_sep_fifo *f, float *const *dst, int64_t n)
{
    if (n > f->len) n = f->len;
    if (n <= 0) return 0;
    if (dst)
        for (int c = 0; c < f->channels; c++) memcpy(dst[c], f->ch[c] + f->head, sizeof(float) * (size_t)n);
    f->head += n;
    f->len -= n;
    if (f->len == 0) f->head = 0;
    return n;
}

void duet_sep_fifo_free(duet_sep_fifo *f)
{
    if (!f->ch) return;
    for (int c = 0; c < f->channels; c++) free(f->ch[c]);
    free(f->ch);
    memset(f, 0, sizeof *f);
}
