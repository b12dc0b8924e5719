#!/bin/sh
# bench/run.sh BUILD_DIR: run every benchmark script bench/bench_*.sh in turn.
# Each script receives the build directory, runs duet's benchmark program and
# its peer (SciPy, PyTorch, gensim, mir_eval: Debian's /usr/bin/python3) in the
# same run, and prints the comparison as a ratio. Long runs belong here, not
# in `make test`.
B=${1:-build}
status=0
for s in bench/bench_*.sh; do
    [ -f "$s" ] || continue
    echo "== $s"
    sh "$s" "$B" || { echo "bench: $s failed"; status=1; }
done
exit $status
