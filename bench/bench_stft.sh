#!/bin/sh
# bench/bench_stft.sh BUILD_DIR: STFT+ISTFT of a 3-minute stereo 44.1 kHz
# signal (2048/512 and 4096/1024), duet (BUILD_DIR/bench/bench_stft) against
# scipy.signal.stft/istft and torch.stft/istft (Debian's /usr/bin/python3,
# bench/bench_stft.py) in the same run; prints speed ratios (> 1: duet faster).
# Goal: duet >= 5x SciPy and faster than torch on 2 cores.
B=${1:-build}
RUNS=${RUNS:-3}
SECONDS_LEN=${SECONDS_LEN:-180}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} "$B/bench/bench_stft" "$RUNS" "$SECONDS_LEN" | tee -a "$tmp" | grep -v '^RESULT' || exit 1
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import scipy, torch' 2>/dev/null; then
    OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_stft.py "$RUNS" "$SECONDS_LEN" | tee -a "$tmp" | grep -v '^RESULT' || exit 1
else
    echo "bench_stft: /usr/bin/python3 with scipy and torch not found; no peer to compare with"
    exit 0
fi
awk '$1 == "RESULT" { t[$2 " " $3 " " $4] = $5; k[$3 " " $4] = 1 }
     END {
       for (c in k) {
         d = t["duet " c]; s = t["scipy " c]; p = t["torch " c]
         split(c, nh, " ")
         printf "n_fft %s hop %s: duet %.3f s, scipy %.3f s, torch %.3f s -> duet vs scipy %.1fx, duet vs torch %.2fx\n", \
                nh[1], nh[2], d, s, p, s / d, p / d
       }
     }' "$tmp" | sort -n -k2
