#!/bin/sh
# bench/bench_rec.sh BUILD_DIR: the recommender benchmarks, duet against its
# peers (bench_rec.py, Debian's /usr/bin/python3) in the same run, 2 threads
# each (OMP_NUM_THREADS / OPENBLAS_NUM_THREADS, torch.set_num_threads).
#
# 1. NeuMF training epoch on the DeepCF Last.fm training set (NCF files under
#    $DUET_REC_DATA, default ../shared/data/rec relative to the repository):
#    duet against the same NeuMF in PyTorch (same sizes, data, 4 negatives,
#    batch 256, Adam lr 0.001), in two rows: both with dense Adam on every
#    parameter, and both with lazy/sparse Adam on the embedding tables (duet
#    duet_adam_update_rows, PyTorch SparseAdam). Seconds per epoch (wall and
#    process CPU), best of $BENCH_REC_EPOCHS (2) epochs after one warm-up.
#    Ratio = PyTorch s / duet s (goal: >= 2).
# 2. Top-10 for every user of a HetRec-sized factor model (1,892 x 17,632,
#    64 factors) by batched sgemm scoring (256 users per sgemm): duet's
#    duet_rec_recommend against NumPy argpartition on the very same scores (duet
#    writes its factors to a temporary directory); users per second and ratio.
B=${1:-build}
cd "$(dirname "$0")/.." || exit 2
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
DATA=${DUET_REC_DATA:-../shared/data/rec}
PREFIX=$DATA/deepcf-lastfm/lastfm
PY=/usr/bin/python3
REPS=${BENCH_REC_EPOCHS:-2}
status=0
echo "threads: OMP_NUM_THREADS=$OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS"

if [ -f "$PREFIX.train.rating" ]; then
    d=$("$B/bench/bench_rec" neumf "$PREFIX" 16 $REPS) || { echo "bench_rec neumf failed"; exit 1; }
    echo "$d"
    if $PY -c "import torch" 2>/dev/null; then
        for mode in dense lazy; do
            p=$($PY bench/bench_rec.py neumf "$PREFIX" $mode 16 $REPS) || { echo "bench_rec.py neumf $mode failed"; status=1; continue; }
            echo "$p"
            ds=$(echo "$d" | awk -v m=$mode '$1 == "duet_neumf_epoch_s" && $2 == m {print $3, $5}')
            ps=$(echo "$p" | awk '{print $3, $5}')
            echo "$ds $ps" | awk -v m=$mode '{ printf "ratio PyTorch/duet NeuMF epoch, %s Adam: wall %.2fx (duet %.3f s, PyTorch %.3f s), CPU %.2fx (duet %.3f s, PyTorch %.3f s); goal >= 2x\n", m, $3 / $1, $1, $3, $4 / $2, $2, $4 }'
        done
    else
        echo "PyTorch peer skipped: torch missing from $PY"
    fi
else
    echo "NeuMF epoch skipped: $PREFIX.train.rating not found (set DUET_REC_DATA)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/duet_bench_rec.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
d=$("$B/bench/bench_rec" topk "$tmp" 1892 17632 64 5) || { echo "bench_rec topk failed"; exit 1; }
echo "$d"
if [ -x $PY ]; then
    p=$($PY bench/bench_rec.py topk "$tmp" 5) || { echo "bench_rec.py topk failed"; exit 1; }
    echo "$p"
    du=$(echo "$d" | awk '{print $2}')
    pu=$(echo "$p" | awk '{print $2}')
    awk -v a="$du" -v b="$pu" 'BEGIN { printf "ratio duet/NumPy top-10 users per second: %.2fx\n", a / b }'
else
    echo "NumPy peer skipped: $PY missing"
fi
exit $status
