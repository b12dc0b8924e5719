#!/bin/sh
# bench/bench_word2vec.sh BUILD_DIR: duet's word2vec against gensim 4 (Debian's
# /usr/bin/python3) on the HetRec Last.fm-2k corpus, same hyperparameters, same
# run: tokens/s with 1 and 2 threads (ratio duet/gensim) and quality over 3
# seeds (Spearman of cosine vs co-listening Jaccard, top-10 neighbour overlap).
# Optional environment: W2V_BENCH_REPS (timing repetitions, default 3),
# W2V_BENCH_SEEDS (default 3), W2V_BENCH_QUALITY=0 (throughput only).
B=${1:-build}
DATA=${HETREC_DIR:-../shared/data/rec/hetrec2011-lastfm-2k}
[ -d "$DATA" ] || DATA=/work/shared/data/rec/hetrec2011-lastfm-2k
make --no-print-directory -s "$B/bench/bench_word2vec" "$B/duet" >/dev/null || exit 1
exec nice /usr/bin/python3 bench/bench_word2vec.py "$B" "$DATA"
