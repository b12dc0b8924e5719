#!/bin/sh
# bench/bench_bsseval.sh BUILD_DIR: duet's bss_eval_sources against mir_eval
# 0.7 (Debian's /usr/bin/python3) on the same 5 MIR-1K clips (read in place
# from ../shared/data/sep/mir1k), same float signals, permutation search on
# (mir_eval's default), each clip timed as the best of 3 runs on each side. Prints both times, the ratio and the
# largest difference in the metrics.
B=${1:-build}
DATA=../shared/data/sep/mir1k
CLIPS="bobon_1_01 fdps_2_03 amy_1_01 yifen_3_01 Kenshin_1_01"
if [ ! -d "$DATA" ]; then echo "bench_bsseval: $DATA not found: skipped"; exit 0; fi
if [ ! -x "$B/bench/bench_bsseval" ]; then echo "bench_bsseval: $B/bench/bench_bsseval not built"; exit 1; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files=""
for c in $CLIPS; do files="$files $DATA/$c.flac"; done
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$B/bench/bench_bsseval" "$tmp/sig.f32" $files > "$tmp/duet.txt" || exit 1
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/bench_bsseval.py "$tmp/sig.f32" > "$tmp/mir.txt" || exit 1
cat "$tmp/duet.txt" "$tmp/mir.txt"
/usr/bin/python3 - "$tmp/duet.txt" "$tmp/mir.txt" <<'PY'
import sys
def rows(p, tag):
    out, tot = [], None
    for line in open(p):
        w = line.split()
        if w[0] == tag:
            out.append([float(w[i]) for i in (4, 5, 7, 8, 10, 11)])
        elif w[0].endswith("_total_s"):
            tot = float(w[1])
    return out, tot
d, td = rows(sys.argv[1], "duet")
m, tm = rows(sys.argv[2], "mir_eval")
diff = max(abs(a - b) for x, y in zip(d, m) for a, b in zip(x, y))
print("bss_eval_sources on %d MIR-1K clips: duet %.3f s, mir_eval %.3f s, ratio %.1fx faster; max |metric difference| %.2g dB"
      % (len(d), td, tm, tm / td, diff))
PY
