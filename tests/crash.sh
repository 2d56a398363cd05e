#!/bin/sh
# crash.sh - the promise of -i under SIGKILL (issue 5, "Crash safety"): kill
# `zhfix -i` at random moments while it rewrites a large damaged file, and
# check each time that the file's name holds, byte for byte, either the
# whole original or the whole result, with its mode kept.  SIGKILL cannot
# be caught, so the temporary file (.zhfix-XXXXXX beside it) stays behind:
# each must be a prefix of the result (never anything else), must not stop
# the next -i, and the stale ones are counted.
#
# The delays come from a fixed seed (reproducible), spread over the time one
# whole run takes, measured first.  Under AddressSanitizer the file is
# smaller.
. "$(dirname "$0")/setup.sh"

TRIALS=${CRASH_TRIALS:-30}
SEED=${CRASH_SEED:-20261123}
asan=0
grep -q '^[^#]*fsanitize=address' "$top_builddir/Makefile" 2> /dev/null && asan=1
copies=100            # about 3.3 MB of the seeds' damaged text
[ $asan = 1 ] && copies=40

t() {
    if eval "$2"; then ok "$1"; else not_ok "$1" "failed: $2" "$3"; fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

W=$TMP/w
mkdir "$W"
for i in $(seq 1 $copies); do
    cat "$top_srcdir"/fixtures/seeds/[0-9]*_*[0-9a-f].txt
done > "$TMP/orig"
chmod 640 "$TMP/orig"

# the whole result, and how long a whole -i takes
cp -p "$TMP/orig" "$W/f.txt"
start=$(now_ms)
rc=0
"$ZHFIX" -i "$W/f.txt" 2> "$TMP/err" || rc=$?
ms=$(( $(now_ms) - start ))
cp "$W/f.txt" "$TMP/want"
t "a whole -i of $(wc -c < "$TMP/orig") bytes (${ms} ms): exit 0, the file changed, mode kept" \
    '[ $rc = 0 ] && ! cmp -s "$TMP/want" "$TMP/orig" && [ "$(stat -c %a "$W/f.txt")" = 640 ] && [ "$(ls -A "$W")" = f.txt ]' \
    "$(cat "$TMP/err")"
[ "$ms" -ge 50 ] || ms=50

# delays in ms, uniform over 0 .. 1.1 x the whole run (some land after it)
awk -v seed="$SEED" -v n="$TRIALS" -v ms="$ms" \
    'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%d\n", rand() * ms * 1.1 }' > "$TMP/delays"

# temps DIR: the names of the temporary files left in DIR
temps() { ls -A "$1" | grep '^\.zhfix-' || true; }

orig_n=0 result_n=0 trial=0
while read -r d; do
    trial=$((trial + 1))
    cp -p "$TMP/orig" "$W/f.txt"
    "$ZHFIX" -i "$W/f.txt" 2> /dev/null &
    pid=$!
    sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
    kill -KILL $pid 2> /dev/null || true
    wait $pid 2> /dev/null || true
    if cmp -s "$W/f.txt" "$TMP/orig"; then
        what=original
        orig_n=$((orig_n + 1))
    elif cmp -s "$W/f.txt" "$TMP/want"; then
        what=result
        result_n=$((result_n + 1))
    else
        what="neither: $(cmp "$W/f.txt" "$TMP/orig" 2>&1 | head -n 1), size $(wc -c < "$W/f.txt")"
    fi
    t "trial $trial, SIGKILL after $d ms: the file is the whole $what, mode 640" \
        '{ [ "$what" = original ] || [ "$what" = result ]; } && [ "$(stat -c %a "$W/f.txt")" = 640 ]'
done < "$TMP/delays"
echo "# $TRIALS kills: $orig_n left the original, $result_n the result"

# what the kills left behind: temporary files, each a prefix of the result
# (written in order, never the original's bytes or anything else)
left=$(temps "$W" | wc -l)
bad=""
for f in $(temps "$W"); do
    n=$(wc -c < "$W/$f")
    cmp -s -n "$n" "$W/$f" "$TMP/want" || bad="$bad $f"
done
echo "# stale temporary files after $TRIALS kills: $left ($(temps "$W" | tr '\n' ' '))"
t "each stale temporary file is a prefix of the result (${left} left)" '[ -z "$bad" ]' "not a prefix:$bad"
t "the stale temporary files are hidden and named .zhfix-XXXXXX" \
    '[ -z "$(temps "$W" | grep -v "^\.zhfix-[A-Za-z0-9]\{6\}$")" ]'

# they do not stop the next -i, which leaves them alone
ls -A "$W" > "$TMP/before"
cp -p "$TMP/orig" "$W/f.txt"
rc=0
"$ZHFIX" -i "$W/f.txt" 2> "$TMP/err" || rc=$?
ls -A "$W" > "$TMP/after"
t "-i beside stale temporary files: exit 0, the whole result, the others untouched" \
    '[ $rc = 0 ] && cmp -s "$W/f.txt" "$TMP/want" && cmp -s "$TMP/before" "$TMP/after"' \
    "$(cat "$TMP/err")"

# -r must not take them for files of the tree (cli_walk.c skips the name
# cli_inplace.c gives its temporary files): no --report line for them, and
# so no -i -r rewriting them either.
rc=0
"$ZHFIX" -r --report="$TMP/report" "$W" > /dev/null 2>&1 || rc=$?
t "-r passes over stale temporary files" \
    '[ $rc = 0 ] && grep -q "f\.txt" "$TMP/report" && ! grep -q "/\.zhfix-" "$TMP/report"' \
    "$(cat "$TMP/report")"

# An interrupt (SIGTERM, unlike SIGKILL, can be caught) removes the
# temporary file: the handler in cli_inplace.c.
D2=$TMP/term
mkdir "$D2"
cp -p "$TMP/orig" "$D2/f.txt"
"$ZHFIX" -i "$D2/f.txt" 2> /dev/null &
pid=$!
i=0
while [ -z "$(temps "$D2")" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
kill -TERM $pid 2> /dev/null || true
wait $pid 2> /dev/null || true
t "SIGTERM while writing: the original kept, no temporary file left" \
    '[ $i -lt 500 ] && cmp -s "$D2/f.txt" "$TMP/orig" && [ -z "$(temps "$D2")" ]'

done_testing
