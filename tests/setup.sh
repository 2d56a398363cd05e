# setup.sh - sourced by every shell test: strict mode, C locale, a private
# temporary directory removed on exit, and TAP helpers.
set -eu
LC_ALL=C
export LC_ALL
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${ZHFIX:=$top_builddir/src/zhfix}"
# A libtool wrapper script costs a shell start per call and the tests call
# zhfix hundreds of times: run the real binary when it runs.
real=$(dirname "$ZHFIX")/.libs/$(basename "$ZHFIX")
if [ -x "$real" ] && head -c 300 "$ZHFIX" | grep -q libtool &&
    LD_LIBRARY_PATH="$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        "$real" --version > /dev/null 2>&1; then
    LD_LIBRARY_PATH="$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export LD_LIBRARY_PATH
    ZHFIX=$real
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/zhfix-test.XXXXXX")
trap 'chmod -R u+rwx "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT
tap_n=0
tap_failed=0
# ok NAME: report a passing case.  not_ok NAME WHY: a failing one.
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
not_ok() {
    tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
    echo "not ok $tap_n - $1"
    shift
    printf '%s\n' "$@" | sed 's/^/# /'
}
# todo NAME WHY PASSED: a known failure (TAP TODO): passes as XFAIL, and is
# flagged XPASS once it starts passing, so the list cannot go stale.
todo() {
    tap_n=$((tap_n + 1))
    if [ "$3" = 1 ]; then echo "ok $tap_n - $1 # TODO $2"; else echo "not ok $tap_n - $1 # TODO $2"; fi
}
# first_diff WANT GOT: where two files first differ, as line and byte offset.
first_diff() {
    cmp "$1" "$2" 2>&1 | head -n 1 || true
    diff "$1" "$2" 2>/dev/null | head -n 4 || true
}
done_testing() { echo "1..$tap_n"; }
# run ARG...: zhfix with its output in $TMP/out, $TMP/err and $rc.
run() {
    rc=0
    "$ZHFIX" "$@" > "$TMP/out" 2> "$TMP/err" || rc=$?
}
# t NAME CONDITION: a case passes when the shell CONDITION holds; a failure
# shows the exit status and the start of both outputs of the last run.
t() {
    if eval "$2"; then
        ok "$1"
    else
        not_ok "$1" "failed: $2" "exit status: ${rc-}" \
            "stderr: $(head -c 600 "$TMP/err" 2>/dev/null)" \
            "stdout: $(head -c 600 "$TMP/out" 2>/dev/null)"
    fi
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
# same A B: identical bytes.
same() { cmp -s "$1" "$2"; }
