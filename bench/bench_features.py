#!/usr/bin/python3
"""bench/bench_features.py: the numpy/scipy peer of bench_features.c.
   bench_features.py mix FILE REPS
   bench_features.py stems MIX VOCALS ACC REPS
Computes the same descriptors with the reference in fixtures/gen_features.py
(librosa's definitions; mono at 22050 Hz input expected) and prints
"seconds_per_audio_minute <best of REPS>" (process CPU time, like the C side)."""
import os
import sys
import time

import warnings

import numpy as np
import scipy.io.wavfile

warnings.filterwarnings("ignore", category=scipy.io.wavfile.WavFileWarning)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import gen_features as ref  # noqa: E402


def load(path):
    sr, y = scipy.io.wavfile.read(path)
    if sr != ref.SR:
        sys.exit("bench_features.py: expected %d Hz input, got %d" % (ref.SR, sr))
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1).astype(np.float32)
    return y


def main():
    stems = sys.argv[1] == "stems"
    mix = load(sys.argv[2])
    if stems:
        voc, acc = load(sys.argv[3]), load(sys.argv[4])
    reps = int(sys.argv[5 if stems else 3])
    best = float("inf")
    for _ in range(max(1, reps)):
        t0 = time.process_time()
        out = ref.describe(mix)
        if stems:
            for name, y in (("vocals", voc), ("accompaniment", acc)):
                f = ref.analyze(y)
                out.update(ref.summarize(name, y, f, ref.loudness(y[None, :], ref.SR, [2.0])))
            out.update(ref.vocal_features(voc, mix, acc))
        best = min(best, time.process_time() - t0)
    print("features %d" % len(out))
    print("seconds_per_audio_minute %.5f" % (best / (len(mix) / ref.SR / 60.0)))


if __name__ == "__main__":
    main()
