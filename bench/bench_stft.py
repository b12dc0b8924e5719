#!/usr/bin/python3
"""bench/bench_stft.py: the peers of bench/bench_stft.c, on the same signal
length (3 minutes, stereo, 44.1 kHz, float32): scipy.signal.stft/istft and
torch.stft/istft (center=True, periodic Hann), 2 threads for torch, best of
several runs. Prints "RESULT <peer> NFFT HOP SECONDS" lines.
Usage: /usr/bin/python3 bench/bench_stft.py [RUNS] [SECONDS]"""
import sys
import time

import numpy as np
import scipy.signal
import torch


def best_of(runs, fn):
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 180.0
    torch.set_num_threads(2)
    n = int(seconds * 44100)
    rng = np.random.default_rng(1)
    i = np.arange(n)
    x = np.stack([0.1 * rng.standard_normal(n) + 0.3 * np.sin(0.05 * i * (c + 1)) for c in range(2)])
    x = x.astype(np.float32)
    xt = torch.from_numpy(x)
    for nfft, hop in [(2048, 512), (4096, 1024)]:
        def run_scipy():
            _, _, Z = scipy.signal.stft(x, nperseg=nfft, noverlap=nfft - hop, window="hann",
                                        boundary="zeros", padded=True, axis=-1)
            _, y = scipy.signal.istft(Z, nperseg=nfft, noverlap=nfft - hop, window="hann",
                                      boundary=True)
            return y
        win = torch.hann_window(nfft, periodic=True)

        def run_torch():
            with torch.no_grad():
                S = torch.stft(xt, nfft, hop, window=win, center=True, pad_mode="constant",
                               return_complex=True)
                return torch.istft(S, nfft, hop, window=win, center=True, length=n)
        y = run_scipy()
        es = float(np.abs(y[:, :n] - x).max())
        ts = best_of(runs, run_scipy)
        print("scipy  n_fft %d hop %d: %.3f s (best of %d; max reconstruction error %.2g)"
              % (nfft, hop, ts, runs, es))
        print("RESULT scipy %d %d %.6f" % (nfft, hop, ts))
        et = float((run_torch() - xt).abs().max())
        tt = best_of(runs, run_torch)
        print("torch  n_fft %d hop %d: %.3f s (best of %d, %d threads; max reconstruction error %.2g)"
              % (nfft, hop, tt, runs, torch.get_num_threads(), et))
        print("RESULT torch %d %d %.6f" % (nfft, hop, tt))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
