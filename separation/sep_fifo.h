/* separation/sep_fifo.h: a growable planar float FIFO (internal to
 * separation/): push n frames of C channels at the back, pop from the front. */
#ifndef DUET_SEPARATION_SEP_FIFO_H
#define DUET_SEPARATION_SEP_FIFO_H

#include <stdint.h>

typedef struct duet_sep_fifo {
    int channels;
    float **ch;          /* ch[c][head .. head + len) valid */
    int64_t head, len, cap;
} duet_sep_fifo;

/* 0, or -1 (out of memory). */
int duet_sep_fifo_init(duet_sep_fifo *f, int channels);
/* Append src[c][0..n); 0, or -1 (out of memory: the FIFO is unchanged). */
int duet_sep_fifo_push(duet_sep_fifo *f, const float *const *src, int64_t n);
/* Move min(n, len) frames into dst[c] (dst may be NULL to drop them); returns how many. */
int64_t duet_sep_fifo_pop(duet_sep_fifo *f, float *const *dst, int64_t n);
int64_t duet_sep_fifo_len(const duet_sep_fifo *f);
void duet_sep_fifo_free(duet_sep_fifo *f);

#endif
