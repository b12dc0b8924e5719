#!/bin/sh
# tests/test_architecture.sh: the import rules of docs/ARCHITECTURE.md. Every
# '#include "../DIR/..."' of a library folder must name a folder it may use;
# nothing in the library includes cli/.
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
echo "# $pass passed, $fail failed"
[ $fail = 0 ]
