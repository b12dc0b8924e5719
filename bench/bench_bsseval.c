/* bench/bench_bsseval.c: duet's bss_eval_sources (mir_eval 0.7 convention,
 * 512-tap filters, permutation search on, as mir_eval's default) on MIR-1K
 * clips, for bench/bench_bsseval.sh, which times mir_eval on the very same
 * float signals in the same run.
 *
 * usage: bench_bsseval OUT.f32 CLIP.flac...
 * For each clip (left = accompaniment, right = voice): references =
 * (vocals, accompaniment); estimates = a fixed imperfect separation,
 * vocals_hat = 0.8 v + 0.25 a + 0.05 tanh(4 a), accompaniment_hat =
 * 0.9 a + 0.15 v + 0.05 tanh(4 v), computed in float. Appends to OUT.f32,
 * per clip: int32 n, then ref0, ref1, est0, est1 (n float32 each). Prints
 * one line per clip with the metrics and the time (the best of BENCH_REPS
 * runs, as the peer's), then "duet_total_s X". */
#include "../audio/audio.h"
#include "../common/progress.h"
#include "../separation/bsseval.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BENCH_REPS 3

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_bsseval OUT.f32 CLIP...\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "wb");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    double total = 0;
    for (int i = 2; i < argc; i++) {
        duet_audio a;
        duet_err err = {0};
        if (duet_audio_read(argv[i], NULL, &a, NULL, &err) || a.channels != 2) {
            fprintf(stderr, "%s: %s\n", argv[i], err.msg[0] ? err.msg : "not a stereo MIR-1K clip");
            return 1;
        }
        int64_t n = a.frames;
        float *buf = malloc(sizeof(float) * (size_t)n * 4);
        float *rv = buf, *ra = buf + n, *ev = buf + 2 * n, *ea = buf + 3 * n;
        for (int64_t t = 0; t < n; t++) {
            rv[t] = a.ch[1][t];
            ra[t] = a.ch[0][t];
            ev[t] = 0.8f * rv[t] + 0.25f * ra[t] + 0.05f * tanhf(4.0f * ra[t]);
            ea[t] = 0.9f * ra[t] + 0.15f * rv[t] + 0.05f * tanhf(4.0f * rv[t]);
        }
        int32_t n32 = (int32_t)n;
        fwrite(&n32, sizeof n32, 1, out);
        fwrite(buf, sizeof(float), (size_t)n * 4, out);
        const float *ref[2] = {rv, ra}, *est[2] = {ev, ea};
        duet_bss_result r;
        double dt = 0;
        for (int rep = 0; rep < BENCH_REPS; rep++) {
            if (rep) duet_bss_result_free(&r);
            double t0 = duet_now();
            duet_status st = duet_bss_eval_sources(ref, est, 2, n, 1, &r, &err);
            double t = duet_now() - t0;
            if (st) {
                fprintf(stderr, "%s: %s\n", argv[i], err.msg);
                return 1;
            }
            if (rep == 0 || t < dt) dt = t;
        }
        total += dt;
        printf("duet %s n=%lld SDR %.6f %.6f SIR %.6f %.6f SAR %.6f %.6f perm %d %d time %.3f s\n", argv[i],
               (long long)n, r.sdr[0], r.sdr[1], r.sir[0], r.sir[1], r.sar[0], r.sar[1], r.perm[0], r.perm[1], dt);
        duet_bss_result_free(&r);
        free(buf);
        duet_audio_free(&a);
    }
    fclose(out);
    printf("duet_total_s %.4f\n", total);
    return 0;
}
