#!/usr/bin/python3
"""bench/bench_rec.py: the NumPy peer of bench_rec.c: the same work (scores
U @ V.T in batches of 256 users, mask ~49 training items per user, top-10
with argpartition + a sort of the 10), users per second, best of R runs.
Usage: bench_rec.py [n_users n_items dim reps]"""
import sys
import time

import numpy as np

nu, ni, d, reps = (int(x) for x in (sys.argv[1:] + ["1892", "17632", "64", "5"][len(sys.argv) - 1:])[:4])
rng = np.random.default_rng(2024)
U = (0.1 * rng.standard_normal((nu, d))).astype(np.float32)
V = (0.1 * rng.standard_normal((ni, d))).astype(np.float32)
train = rng.integers(0, ni, size=(nu, 49))
best = 1e30
for _ in range(reps):
    t0 = time.perf_counter()
    out = np.empty((nu, 10), dtype=np.int64)
    for b0 in range(0, nu, 256):
        S = U[b0:b0 + 256] @ V.T
        rows = np.arange(S.shape[0])[:, None]
        S[rows, train[b0:b0 + 256]] = -np.inf
        top = np.argpartition(-S, 10, axis=1)[:, :10]
        order = np.argsort(-S[rows, top], axis=1, kind="stable")
        out[b0:b0 + 256] = top[rows, order]
    best = min(best, time.perf_counter() - t0)
print(f"numpy_users_per_s {nu / best:.1f} ({nu} users x {ni} items, dim {d}, best of {reps}: {best:.4f} s)")
