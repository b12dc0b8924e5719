#!/usr/bin/python3
"""bench/bench_bsseval.py SIGNALS.f32: mir_eval 0.7 bss_eval_sources
(compute_permutation=True, its default) on the signals bench_bsseval wrote,
timed per clip (best of 3 runs); prints the metrics and "mireval_total_s X"."""
import sys
import time
import warnings
import numpy as np
import mir_eval

warnings.filterwarnings("ignore")
raw = open(sys.argv[1], "rb").read()
pos, total, k = 0, 0.0, 0
while pos < len(raw):
    n = int(np.frombuffer(raw, "<i4", 1, pos)[0])
    pos += 4
    x = np.frombuffer(raw, "<f4", 4 * n, pos).astype(np.float64).reshape(4, n)
    pos += 16 * n
    dt = None
    for rep in range(3):  # best of 3, as bench_bsseval.c
        t0 = time.perf_counter()
        sdr, sir, sar, perm = mir_eval.separation.bss_eval_sources(x[:2], x[2:], True)
        t = time.perf_counter() - t0
        dt = t if dt is None else min(dt, t)
    total += dt
    print("mir_eval clip%d n=%d SDR %.6f %.6f SIR %.6f %.6f SAR %.6f %.6f perm %d %d time %.3f s"
          % (k, n, sdr[0], sdr[1], sir[0], sir[1], sar[0], sar[1], perm[0], perm[1], dt))
    k += 1
print("mireval_total_s %.4f" % total)
