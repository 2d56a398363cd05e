#!/bin/sh
# fixtures.sh - runs zhfix over every fixtures/**/NAME.txt that has an
# expectation beside it and compares bytes:
#   NAME.want.txt   expected output with default options
#   NAME.keep.txt   expected output with --script=keep
#   NAME.args       extra options, one line (optional)
# Every file under fixtures/clean/ is text that must come out byte for byte
# as it went in (the no-harm corpus); it needs no expectation file.
# A fixture with no expectation is an input used elsewhere.
# Inputs that are not UTF-8 are named NAME.ENC.bin (see fixtures/README.md).
. "$(dirname "$0")/setup.sh"
cd "$top_srcdir"

reason_for() {
    while IFS='	' read -r pat why; do
        case "$pat" in ''|\#*) continue ;; esac
        # shellcheck disable=SC2254
        case "$1" in $pat) echo "$why"; return ;; esac
    done < tests/known-failing
}

check() { # NAME INPUT WANT OPTION...
    name=$1 in=$2 want=$3
    shift 3
    got="$TMP/got"
    "$ZHFIX" "$@" "$in" > "$got" 2> "$TMP/err" || true
    why=$(reason_for "$name")
    if cmp -s "$want" "$got"; then pass=1; else pass=0; fi
    if [ -n "$why" ]; then
        todo "$name" "$why" "$pass"
    elif [ "$pass" = 1 ]; then
        ok "$name"
    else
        not_ok "$name" "$(first_diff "$want" "$got")" "$(cat "$TMP/err")"
    fi
}

for in in $(find fixtures -type f \( -name '*.txt' -o -name '*.bin' \) | LC_ALL=C sort); do
    case "$in" in *.want.txt|*.keep.txt) continue ;; esac
    base=${in%.txt}
    base=${base%.bin}
    stem=${base%.*}  # NAME.ENC.bin: the expectation is NAME.want.txt
    [ "${in%.bin}" != "$in" ] || stem=$base
    args=""
    [ -f "$stem.args" ] && args=$(cat "$stem.args")
    rel=${base#fixtures/}
    case "$in" in fixtures/clean/*)
        check "$rel (unchanged)" "$in" "$in"
        continue ;;
    esac
    # shellcheck disable=SC2086
    [ -f "$stem.want.txt" ] && check "$rel" "$in" "$stem.want.txt" $args
    # shellcheck disable=SC2086
    [ -f "$stem.keep.txt" ] && check "$rel (keep)" "$in" "$stem.keep.txt" --script=keep $args
done
done_testing
