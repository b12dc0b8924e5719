#!/bin/sh
# bench/bench_rec.sh BUILD_DIR: top-10 for every user of a HetRec-sized factor
# model in batched sgemm scoring passes: duet (bench_rec) against NumPy
# (bench_rec.py, Debian's /usr/bin/python3) on the same threads, same run.
# Prints users/s of both and the ratio duet / NumPy.
# Then one NeuMF training epoch, duet against the same model in PyTorch.
B=${1:-build}
ARGS="1892 17632 64 5"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
d=$("$B/bench/bench_rec" $ARGS) || { echo "bench_rec failed"; exit 1; }
echo "$d"
if [ -x /usr/bin/python3 ]; then
    p=$(/usr/bin/python3 bench/bench_rec.py $ARGS) || { echo "bench_rec.py failed"; exit 1; }
    echo "$p"
    du=$(echo "$d" | awk '{print $2}')
    pu=$(echo "$p" | awk '{print $2}')
    awk -v a="$du" -v b="$pu" 'BEGIN { printf "ratio duet/numpy users per second: %.2fx\n", a / b }'
else
    echo "numpy peer skipped: /usr/bin/python3 missing"
fi

# NeuMF training epoch (DeepCF Last.fm sized random data): duet vs PyTorch.
NARGS="1741 2665 39 16 3"
d=$("$B/bench/bench_rec" neumf $NARGS) || { echo "bench_rec neumf failed"; exit 1; }
echo "$d"
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    p=$(/usr/bin/python3 bench/bench_rec.py neumf $NARGS) || { echo "bench_rec.py neumf failed"; exit 1; }
    echo "$p"
    ds=$(echo "$d" | awk '{print $2}')
    ps=$(echo "$p" | awk '{print $2}')
    awk -v a="$ds" -v b="$ps" 'BEGIN { printf "ratio PyTorch/duet NeuMF epoch time: %.2fx (above 1: duet faster)\n", b / a }'
else
    echo "PyTorch peer skipped: torch missing"
fi
