/* common/progress.c: terminal progress line with rate and ETA. */

#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double duet_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void duet_progress_init(duet_progress *p, const char *label, double total, int force)
{
    p->label = label ? label : "";
    p->total = total;
    p->start_s = duet_now();
    p->last_s = 0.0;
    p->enabled = force > 0 ? 1 : force < 0 ? 0 : isatty(STDERR_FILENO);
}

static void fmt_time(char *buf, size_t n, double s)
{
    if (s < 0 || s > 1e7) {
        snprintf(buf, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else snprintf(buf, n, "%02ld:%02ld", t / 60, t % 60);
}

void duet_progress_update(duet_progress *p, double done, const char *extra)
{
    if (!p->enabled) return;
    double now = duet_now();
    if (now - p->last_s < 0.2 && !(p->total > 0 && done >= p->total)) return;
    p->last_s = now;
    double el = now - p->start_s;
    double rate = el > 0 ? done / el : 0;
    char eta[32], els[32];
    fmt_time(els, sizeof els, el);
    if (p->total > 0) {
        double frac = done / p->total;
        if (frac > 1) frac = 1;
        int w = 24, fill = (int)(frac * w);
        char bar[32];
        for (int i = 0; i < w; i++) bar[i] = i < fill ? '#' : '.';
        bar[w] = '\0';
        fmt_time(eta, sizeof eta, rate > 0 ? (p->total - done) / rate : -1);
        fprintf(stderr, "\r%s [%s] %5.1f%% %s elapsed, ETA %s %s\033[K", p->label, bar,
                100 * frac, els, eta, extra ? extra : "");
    } else {
        fprintf(stderr, "\r%s %.0f done, %s elapsed %s\033[K", p->label, done, els,
                extra ? extra : "");
    }
    fflush(stderr);
}

void duet_progress_done(duet_progress *p)
{
    if (p->enabled && p->last_s > 0) fputc('\n', stderr);
    p->enabled = 0;
}
