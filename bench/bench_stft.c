/* bench/bench_stft.c: STFT + ISTFT throughput of audio/stft.h on a 3-minute
 * stereo 44.1 kHz signal (deterministic noise plus tones), for 2048/512 and
 * 4096/1024, best of several runs. Prints "RESULT duet NFFT HOP SECONDS" lines
 * for bench/bench_stft.sh, which compares them with SciPy and torch measured
 * in the same run (bench/bench_stft.py). The reconstruction error is printed
 * too, so a fast but wrong transform cannot pass unnoticed. */
#include "../audio/stft.h"
#include "../common/progress.h"
#include "../common/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    double seconds = argc > 2 ? atof(argv[2]) : 180.0;
    if (runs < 1) runs = 1;
    const int64_t n = (int64_t)(seconds * 44100);
    const int channels = 2;
    float *x = malloc(sizeof(float) * (size_t)n * channels);
    float *y = malloc(sizeof(float) * (size_t)n);
    if (!x || !y) return 1;
    duet_rng rng;
    duet_rng_seed(&rng, 1);
    for (int c = 0; c < channels; c++)
        for (int64_t i = 0; i < n; i++)
            x[c * n + i] = 0.1f * duet_rng_normal(&rng) + 0.3f * (float)sin(0.05 * (double)i * (c + 1));
    const int cfg[2][2] = {{2048, 512}, {4096, 1024}};
    for (int k = 0; k < 2; k++) {
        duet_stft *s;
        duet_err err = {0};
        if (duet_stft_new(cfg[k][0], cfg[k][1], DUET_WIN_HANN, &s, &err) != DUET_OK) {
            fprintf(stderr, "bench_stft: %s\n", err.msg);
            return 1;
        }
        int64_t T = duet_stft_n_frames(s, n);
        float *spec = malloc(sizeof(float) * (size_t)T * (size_t)duet_stft_n_bins(s) * 2);
        if (!spec) return 1;
        double best = 1e30, maxerr = 0;
        for (int r = 0; r < runs; r++) {
            double t0 = duet_now();
            for (int c = 0; c < channels; c++) {
                if (duet_stft_forward(s, x + c * n, n, spec, NULL) != DUET_OK ||
                    duet_stft_inverse(s, spec, T, y, n, NULL) != DUET_OK)
                    return 1;
                if (r == 0)
                    for (int64_t i = 0; i < n; i++) {
                        double d = fabs((double)y[i] - x[c * n + i]);
                        if (d > maxerr) maxerr = d;
                    }
            }
            double dt = duet_now() - t0;
            if (dt < best) best = dt;
        }
        printf("duet   n_fft %d hop %d: STFT+ISTFT of %.0f s stereo in %.3f s (best of %d; max |x - istft(stft(x))| %.2g)\n",
               cfg[k][0], cfg[k][1], seconds, best, runs, maxerr);
        printf("RESULT duet %d %d %.6f\n", cfg[k][0], cfg[k][1], best);
        free(spec);
        duet_stft_free(s);
    }
    free(x);
    free(y);
    return 0;
}
