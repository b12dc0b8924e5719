#!/bin/sh
# tests/test_architecture.sh: the import rules of docs/ARCHITECTURE.md. Every
# '#include "../DIR/..."' of a library folder must name a folder it may use;
# nothing in the library includes cli/; every exported symbol starts with duet_.
set -u
cd "$(dirname "$0")/.." || exit 1
pass=0
fail=0
allowed() {
    case "$1" in
    common) echo "" ;;
    audio) echo "common" ;;
    nn) echo "common" ;;
    features) echo "common audio" ;;
    separation) echo "common audio nn" ;;
    recommender) echo "common nn" ;;
    esac
}
for d in common audio nn features separation recommender; do
    ok=1
    for inc in $(grep -ho '#include "\.\./[a-z_]*/' $d/*.c $d/*.h 2>/dev/null | sed 's|#include "\.\./||; s|/$||' | sort -u); do
        case " $(allowed $d) " in
        *" $inc "*) ;;
        *) echo "  $d/ includes $inc/, which docs/ARCHITECTURE.md does not allow"; ok=0 ;;
        esac
    done
    if [ $ok = 1 ]; then echo "ok - $d/ includes only: $(allowed $d)"; pass=$((pass + 1));
    else echo "not ok - $d/ imports"; fail=$((fail + 1)); fi
done
# the folders the document lists are the library's folders (Makefile LIB_DIRS)
dirs=$(sed -n 's/^LIB_DIRS *:= *//p' Makefile)
for d in $dirs; do
    if grep -q "^| \`$d/\`" docs/ARCHITECTURE.md; then pass=$((pass + 1)); echo "ok - $d/ is documented";
    else fail=$((fail + 1)); echo "not ok - $d/ is missing from docs/ARCHITECTURE.md"; fi
done
# every symbol the library exports carries the duet_ prefix (no rec_*, w2v_* or
# helper names leak into a program that links libduet): the static archive and
# the shared object, both as built by make
lib_dir=${B:-build}
for lib in "$lib_dir/libduet.a" "$lib_dir"/libduet.so.*.*.*; do
    [ -f "$lib" ] || { echo "not ok - $lib is not built"; fail=$((fail + 1)); continue; }
    case "$lib" in *.so.*) opt=-D ;; *) opt= ;; esac
    bad=$(nm -g --defined-only $opt "$lib" 2>/dev/null | awk 'NF >= 3 && $2 ~ /^[TDBRVWGS]$/ {print $3}' |
          grep -v '^duet_' | grep -v '^\.gomp_critical_user_duet_' | sort -u)
    total=$(nm -g --defined-only $opt "$lib" 2>/dev/null | awk 'NF >= 3 && $2 ~ /^[TDBRVWGS]$/' | wc -l)
    if [ "$total" -gt 0 ] && [ -z "$bad" ]; then
        echo "ok - $(basename "$lib"): all $total exported symbols start with duet_"; pass=$((pass + 1))
    else
        echo "not ok - $(basename "$lib") exports $(echo "$bad" | grep -c .) symbols without duet_ (of $total):"
        echo "$bad" | head -20 | sed 's/^/    /'
        fail=$((fail + 1))
    fi
done
echo "# $pass passed, $fail failed"
[ $fail = 0 ]
