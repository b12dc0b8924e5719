/* common/progress.h: a progress line on stderr (only when stderr is a
 * terminal, unless forced), rate-limited, with rate and ETA. The state lives
 * in a caller-owned struct; nothing global. */
#ifndef DUET_COMMON_PROGRESS_H
#define DUET_COMMON_PROGRESS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_progress {
    const char *label;   /* shown before the bar; not owned */
    double total;        /* units of work expected (0 = unknown) */
    double start_s;      /* monotonic time at init */
    double last_s;       /* last time a line was drawn */
    int enabled;         /* 1 when drawing */
} duet_progress;

/* Monotonic clock in seconds. */
double duet_now(void);

/* Start a progress display. force: 1 = draw even if stderr is not a tty,
 * -1 = never draw, 0 = draw only on a tty. */
void duet_progress_init(duet_progress *p, const char *label, double total, int force);

/* Report `done` units finished; `extra` (may be NULL) is appended to the line.
 * Draws at most 5 times a second. */
void duet_progress_update(duet_progress *p, double done, const char *extra);

/* Finish the line (prints a newline when something was drawn). */
void duet_progress_done(duet_progress *p);

#ifdef __cplusplus
}
#endif

#endif
