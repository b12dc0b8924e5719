/* features/png.c: spectrogram rendering and PNG output (see png.h). The
 * colour ramp is a hand-picked approximation of matplotlib's "magma"
 * (black - purple - orange - pale yellow); the glyphs are our own 5x7 font. */
#include "png.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/atomic_file.h"
#include "mel.h"

#define FONT_SCALE 2
#define GLYPH_W 5
#define GLYPH_H 7
#define ADVANCE ((GLYPH_W + 1) * FONT_SCALE)
#define TEXT_H (GLYPH_H * FONT_SCALE)

typedef struct glyph {
    char c;
    unsigned char rows[GLYPH_H];
} glyph;

static const glyph FONT[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'a', {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F}}, {'b', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E}},
    {'c', {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E}}, {'d', {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F}},
    {'e', {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}}, {'f', {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08}},
    {'g', {0x00, 0x00, 0x0F, 0x11, 0x0F, 0x01, 0x0E}}, {'h', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}},
    {'i', {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E}}, {'j', {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C}},
    {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}}, {'l', {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'m', {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}}, {'n', {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}},
    {'o', {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E}}, {'p', {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10}},
    {'q', {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01}}, {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
    {'s', {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E}}, {'t', {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06}},
    {'u', {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D}}, {'v', {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'w', {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A}}, {'x', {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11}},
    {'y', {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E}}, {'z', {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}}, {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}}, {'/', {0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}}, {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
};

typedef struct canvas {
    int w, h;
    unsigned char *px; /* RGB */
} canvas;

static void put(canvas *c, int x, int y, const unsigned char rgb[3])
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    memcpy(c->px + ((size_t)y * c->w + x) * 3, rgb, 3);
}

static const unsigned char INK[3] = {230, 230, 230};
static const unsigned char BG[3] = {24, 24, 28};

static void draw_text(canvas *c, int x, int y, const char *s)
{
    for (; *s; s++, x += ADVANCE) {
        char ch = *s;
        if (ch >= 'A' && ch <= 'Z' && ch != 'H' && ch != 'B') ch = (char)(ch - 'A' + 'a');
        const glyph *g = NULL;
        for (size_t i = 0; i < sizeof FONT / sizeof *FONT; i++)
            if (FONT[i].c == ch) g = &FONT[i];
        if (!g) continue;
        for (int r = 0; r < GLYPH_H; r++)
            for (int b = 0; b < GLYPH_W; b++)
                if (g->rows[r] & (0x10 >> b))
                    for (int dy = 0; dy < FONT_SCALE; dy++)
                        for (int dx = 0; dx < FONT_SCALE; dx++)
                            put(c, x + b * FONT_SCALE + dx, y + r * FONT_SCALE + dy, INK);
    }
}

static int text_width(const char *s) { return (int)strlen(s) * ADVANCE; }

/* magma-like ramp, t in [0, 1] */
static void colour(double t, unsigned char rgb[3])
{
    static const double stops[][3] = {{0, 0, 4},      {40, 11, 84},    {101, 21, 110}, {159, 42, 99},
                                      {212, 72, 66},  {245, 125, 21},  {250, 193, 39}, {252, 253, 191}};
    const int n = (int)(sizeof stops / sizeof *stops);
    if (!(t > 0)) t = 0;
    if (t > 1) t = 1;
    double p = t * (n - 1);
    int i = (int)p;
    if (i >= n - 1) i = n - 2;
    double f = p - i;
    for (int k = 0; k < 3; k++) rgb[k] = (unsigned char)lrint(stops[i][k] + f * (stops[i + 1][k] - stops[i][k]));
}

static void fmt_hz(char *buf, size_t n, double hz)
{
    if (hz >= 1000) snprintf(buf, n, "%gk", hz / 1000);
    else snprintf(buf, n, "%g", hz);
}

typedef struct png_ctx {
    jmp_buf jb;
} png_ctx;

static void png_err_fn(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_ctx *pc = png_get_error_ptr(png);
    longjmp(pc->jb, 1);
}

static void png_warn_fn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static duet_status write_png(const char *path, const canvas *c, duet_err *err)
{
    duet_atomic_file *af;
    duet_status st = duet_atomic_open(path, &af, err);
    if (st != DUET_OK) return st;
    png_ctx pc;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &pc, png_err_fn, png_warn_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep *rows = malloc(sizeof(png_bytep) * (size_t)c->h);
    if (!png || !info || !rows) {
        if (png) png_destroy_write_struct(&png, info ? &info : NULL);
        free(rows);
        duet_atomic_abort(af);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    if (setjmp(pc.jb)) {
        int e = errno; /* a failed write's (e.g. ENOSPC), 0 for a libpng error */
        png_destroy_write_struct(&png, &info);
        free(rows);
        duet_atomic_abort(af);
        return duet_err_set(err, DUET_ERR_IO, "cannot write the picture: %s", e ? strerror(e) : "libpng error");
    }
    errno = 0;
    png_init_io(png, duet_atomic_fp(af));
    png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < c->h; y++) rows[y] = c->px + (size_t)y * c->w * 3;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    return duet_atomic_commit(af, err);
}

duet_status duet_png_spectrogram(const char *path, const duet_spec_panel *panels, int n_panels, int width,
                                 int height, duet_err *err)
{
    if (n_panels < 1 || n_panels > 8) return duet_err_set(err, DUET_ERR_ARG, "1 to 8 panels");
    int64_t max_frames = 0;
    float vmax = -INFINITY;
    for (int p = 0; p < n_panels; p++) {
        const duet_spec_panel *sp = &panels[p];
        if (sp->n_frames < 1 || sp->n_mels < 2 || !sp->mel_db || !(sp->seconds_per_frame > 0) || !(sp->fmax > sp->fmin))
            return duet_err_set(err, DUET_ERR_ARG, "empty or malformed spectrogram panel %d", p);
        if (sp->n_frames > max_frames) max_frames = sp->n_frames;
        size_t n = (size_t)sp->n_frames * sp->n_mels;
        for (size_t i = 0; i < n; i++)
            if (sp->mel_db[i] > vmax) vmax = sp->mel_db[i];
    }
    if (!isfinite(vmax)) vmax = 0;
    const float range = 80.0f;
    if (width <= 0) width = max_frames < 400 ? 400 : max_frames > 1600 ? 1600 : (int)max_frames;
    if (height <= 0) height = 256;
    if (width < 64 || width > 8192 || height < 32 || height > 4096)
        return duet_err_set(err, DUET_ERR_ARG, "picture size %dx%d outside 64..8192 x 32..4096", width, height);
    const int left = 6 * ADVANCE + 8, right = 16, title_h = TEXT_H + 10, axis_h = TEXT_H + 12, top = 4;
    const int panel_h = title_h + height + axis_h;
    canvas c;
    c.w = left + width + right;
    c.h = top + n_panels * panel_h + TEXT_H + 8;
    c.px = malloc((size_t)c.w * c.h * 3);
    if (!c.px) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < (size_t)c.w * c.h; i++) memcpy(c.px + i * 3, BG, 3);
    for (int p = 0; p < n_panels; p++) {
        const duet_spec_panel *sp = &panels[p];
        int y0 = top + p * panel_h, py = y0 + title_h;
        draw_text(&c, left, y0 + 4, sp->title ? sp->title : "");
        double secs = (double)sp->n_frames * sp->seconds_per_frame;
        /* cells: column x covers frames [x * T / width, (x+1) * T / width); row y a mel band */
        for (int x = 0; x < width; x++) {
            int64_t t0 = (int64_t)((double)x * sp->n_frames / width);
            int64_t t1 = (int64_t)((double)(x + 1) * sp->n_frames / width);
            if (t1 <= t0) t1 = t0 + 1;
            if (t1 > sp->n_frames) t1 = sp->n_frames;
            for (int y = 0; y < height; y++) {
                int m = (int)((double)(height - 1 - y) * sp->n_mels / height);
                double s = 0;
                for (int64_t t = t0; t < t1; t++) s += sp->mel_db[(size_t)t * sp->n_mels + m];
                double db = s / (double)(t1 - t0);
                unsigned char rgb[3];
                colour((db - (vmax - range)) / range, rgb);
                put(&c, left + x, py + y, rgb);
            }
        }
        /* frequency ticks */
        double mlo = duet_hz_to_mel(sp->fmin), mhi = duet_hz_to_mel(sp->fmax);
        static const double hz_ticks[] = {0, 100, 200, 500, 1000, 2000, 5000, 10000, 20000};
        int last_label_y = 1 << 30;
        for (size_t i = 0; i < sizeof hz_ticks / sizeof *hz_ticks; i++) {
            double hz = hz_ticks[i];
            if (hz < sp->fmin || hz > sp->fmax) continue;
            int y = py + height - 1 - (int)lrint((duet_hz_to_mel(hz) - mlo) / (mhi - mlo) * (height - 1));
            for (int k = 1; k <= 5; k++) put(&c, left - k, y, INK);
            if (last_label_y - y < TEXT_H + 2) continue;
            char lab[16];
            fmt_hz(lab, sizeof lab, hz);
            draw_text(&c, left - 8 - text_width(lab), y - TEXT_H / 2, lab);
            last_label_y = y;
        }
        if (p == 0) draw_text(&c, 4, y0 + 4, "Hz");
        /* time ticks: the first step giving >= 70 px between ticks */
        static const double steps[] = {0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600};
        double step = steps[sizeof steps / sizeof *steps - 1];
        for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
            if (steps[i] / secs * width >= 70) {
                step = steps[i];
                break;
            }
        for (int k = 0;; k++) {
            double ts = k * step;
            if (ts > secs) break;
            int x = left + (int)lrint(ts / secs * (width - 1));
            for (int j = 0; j < 5; j++) put(&c, x, py + height + j, INK);
            char lab[24];
            snprintf(lab, sizeof lab, "%g", ts);
            int tx = x - text_width(lab) / 2;
            if (tx + text_width(lab) <= left + width + right) draw_text(&c, tx, py + height + 8, lab);
        }
        /* frame */
        for (int x = left - 1; x <= left + width; x++) {
            put(&c, x, py - 1, INK);
            put(&c, x, py + height, INK);
        }
        for (int y = py - 1; y <= py + height; y++) {
            put(&c, left - 1, y, INK);
            put(&c, left + width, y, INK);
        }
    }
    const char *xl = "time (s)";
    draw_text(&c, left + width - text_width(xl), c.h - TEXT_H - 4, xl);
    char scale[64];
    snprintf(scale, sizeof scale, "log-mel, 80 dB range");
    draw_text(&c, left, c.h - TEXT_H - 4, scale);
    duet_status st = write_png(path, &c, err);
    free(c.px);
    return st;
}
