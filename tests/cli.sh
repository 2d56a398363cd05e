#!/bin/sh
# cli.sh - the promises of the zhfix program, each checked on real bytes:
# exit statuses, standard input and output, --check, -i (atomic, mode kept,
# backup, clean files untouched), binary and unreadable inputs, -r, --to,
# --diff, --explain, --report, and --help against the man page.
#
# The inputs are chosen so that the expected output does not depend on what
# the repair passes do: clean text (which must come out byte for byte) and
# clean text turned into legacy encodings with iconv (which must come back
# as the UTF-8 original).  --diff and --explain are checked against what the
# output itself says (GNU diff of input and output; the edit's BEFORE text
# at its LINE:COL), so they hold whatever the passes change.
#
# The tests run as root in CI, and root reads and writes through permission
# bits; the cases that need a permission refused run as nobody (setpriv)
# and are skipped, saying so, where that is not possible.
. "$(dirname "$0")/setup.sh"

# state FILE: everything -i must keep or change: inode, mtime, mode, owner,
# size and content.
state() { stat -c '%i %y %a %u:%g %s' "$1" && cksum < "$1"; }
# no_temp DIR: -i left no temporary file behind.
no_temp() { ! ls -A "$1" | grep -q '^\.zhfix-'; }
old_time() { touch -d '2001-02-03 04:05:06' "$@"; }

D=$TMP/d
mkdir "$D"

# Clean Simplified Chinese, full-width punctuation, an English line: text
# every pass must leave alone.  Long enough for detection to be sure of the
# legacy encodings made from it below.
cat > "$D/clean.txt" <<'EOF'
第一章　总则
中华人民共和国是一个历史悠久的国家，有着灿烂的文化和众多的人口。
今天天气很好，我们一起去公园散步吧。路上的行人都在谈论明天的比赛。
这本书讲述了一个普通人在城市里努力工作、照顾家人的故事。
He said that the weather is fine today.
图书馆每天早上八点开门，晚上十点关门，周末照常开放。
EOF
printf '最后一行没有换行' >> "$D/clean.txt"
iconv -f UTF-8 -t GB18030 < "$D/clean.txt" > "$D/gb.txt"
{ printf '\377\376'; iconv -f UTF-8 -t UTF-16LE < "$D/clean.txt"; } > "$D/u16.txt"
{ printf '\357\273\277'; cat "$D/clean.txt"; } > "$D/bom.txt"
sed 's/$/\r/' "$D/clean.txt" > "$D/crlf.txt"
iconv -f UTF-8 -t GB18030 < "$D/crlf.txt" > "$D/crlf-gb.txt"
printf 'first line\nsecond line\n' > "$D/ascii.txt"
printf 'PNG\r\n\032\n\000\000\000\rIHDR\000\000\001\000' > "$D/bin.dat"

# ---- --help, --version, the man page ---------------------------------

run --help
t "--help exits 0 and prints the usage" \
    '[ $rc = 0 ] && grep -q "^Usage: zhfix \[OPTION\]... \[FILE\]..." "$TMP/out" && [ ! -s "$TMP/err" ]'
t "--help documents the exit statuses" \
    'grep -q "Exit status: 0 done, 1 --check" "$TMP/out"'
t "--help fits in 80 columns" '[ "$(awk "length > 79" "$TMP/out")" = "" ]'
grep -o -- '--[a-z][a-z-]*' "$TMP/out" | sort -u > "$TMP/help-opts"
sed 's/\\-/-/g; s/\\f[BIRP]//g' "$top_srcdir/man/zhfix.1" | grep -o -- '--[a-z][a-z-]*' |
    sort -u > "$TMP/man-opts"
t "the man page and --help name the same options" \
    'same "$TMP/help-opts" "$TMP/man-opts" || { diff "$TMP/help-opts" "$TMP/man-opts" >&2; false; }'
t "the man page names every exit status" \
    'for s in 0 1 2 3; do grep -q "^\.B $s\$" "$top_srcdir/man/zhfix.1" || exit 1; done'
if command -v groff > /dev/null; then
    rc=0
    groff -man -Tutf8 -ww -z "$top_srcdir/man/zhfix.1" > "$TMP/err" 2>&1 || rc=$?
    t "the man page formats without warnings" '[ $rc = 0 ] && [ ! -s "$TMP/err" ]'
else
    skip "the man page formats without warnings" "no groff"
fi
run --version
t "--version exits 0 and prints the version" \
    '[ $rc = 0 ] && grep -q "^zhfix [0-9][0-9.]* (libzhfix [0-9][0-9.]*)$" "$TMP/out"'

# ---- usage errors: exit 2, nothing done ------------------------------

usage() { # NAME ARG...: a usage error, reported on stderr, no output
    name=$1
    shift
    run "$@" "$D/ascii.txt"
    t "usage error: $name" \
        '[ $rc = 2 ] && [ ! -s "$TMP/out" ] && grep -q "^zhfix: " "$TMP/err"'
}
usage "unknown option" --frobnicate
usage "unknown short option" -Z
usage "--only with an unknown pass" --only=punct,bogus
usage "--skip with an unknown pass" --skip=nonsense
usage "--only with an empty name" --only=punct,
usage "--script with an unknown mode" --script=martian
usage "--from with an unknown encoding" --from=NO-SUCH-ENCODING
usage "--to with an unknown encoding" --to=NO-SUCH-ENCODING
usage "--report without a name" --report=
usage "--check with -i" --check -i
usage "--check with --diff" --check --diff
usage "-i with standard input" -i -
run --only=bogus < "$D/ascii.txt"
t "an unknown pass names itself" 'grep -q "bogus" "$TMP/err"'
run -i
t "usage error: -i with no FILE" '[ $rc = 2 ] && grep -q "^zhfix: " "$TMP/err"'
run --only=punct,script --skip=script "$D/clean.txt"
t "--only and --skip accept every pass name" '[ $rc = 0 ] && same "$TMP/out" "$D/clean.txt"'
run --only=mojibake --only=pinyin --skip=punct --script=keep "$D/clean.txt"
t "valid options exit 0" '[ $rc = 0 ] && same "$TMP/out" "$D/clean.txt"'

# ---- standard input and output, several files ------------------------

run < "$D/clean.txt"
t "no FILE: standard input to standard output, clean text unchanged" \
    '[ $rc = 0 ] && same "$TMP/out" "$D/clean.txt" && [ ! -s "$TMP/err" ]'
run - < "$D/clean.txt"
t "FILE -: standard input" '[ $rc = 0 ] && same "$TMP/out" "$D/clean.txt"'
cat "$D/gb.txt" | { rc=0; "$ZHFIX" > "$TMP/out" 2> "$TMP/err" || rc=$?; echo $rc > "$TMP/rc"; }
rc=$(cat "$TMP/rc")
t "standard input from a pipe (GB18030) comes out as the UTF-8 original" \
    '[ $rc = 0 ] && same "$TMP/out" "$D/clean.txt"'
run "$D/ascii.txt" - "$D/clean.txt" < "$D/gb.txt"
cat "$D/ascii.txt" "$D/clean.txt" "$D/clean.txt" > "$TMP/want"
t "several FILEs are written in order, like cat" '[ $rc = 0 ] && same "$TMP/out" "$TMP/want"'
run "$D/crlf.txt"
t "CRLF line endings and a missing final newline stay" '[ $rc = 0 ] && same "$TMP/out" "$D/crlf.txt"'
cp "$D/ascii.txt" "$TMP/self.txt"
rc=0
"$ZHFIX" "$TMP/self.txt" "$D/ascii.txt" >> "$TMP/self.txt" 2> "$TMP/err" || rc=$?
cat "$D/ascii.txt" "$D/ascii.txt" > "$TMP/want"
t "input file is output file: refused (exit 3), the others still written" \
    '[ $rc = 3 ] && grep -q "^zhfix: $TMP/self.txt: input file is output file" "$TMP/err" && same "$TMP/self.txt" "$TMP/want"'
run -- "$D/ascii.txt"
t "-- ends the options" '[ $rc = 0 ] && same "$TMP/out" "$D/ascii.txt"'
if [ -w /dev/full ]; then
    rc=0
    "$ZHFIX" "$D/clean.txt" > /dev/full 2> "$TMP/err" || rc=$?
    t "a full disk on standard output: exit 3 and a message" \
        '[ $rc = 3 ] && grep -q "^zhfix: standard output: " "$TMP/err"'
else
    skip "a full disk on standard output" "no /dev/full"
fi

# ---- decoding and --to, at the command line --------------------------

run "$D/gb.txt"
t "GB18030 comes back as the UTF-8 original" '[ $rc = 0 ] && same "$TMP/out" "$D/clean.txt"'
run "$D/u16.txt"
t "UTF-16LE with BOM comes back as the UTF-8 original" '[ $rc = 0 ] && same "$TMP/out" "$D/clean.txt"'
run "$D/bom.txt"
t "a UTF-8 BOM is removed" '[ $rc = 0 ] && same "$TMP/out" "$D/clean.txt"'
run "$D/crlf-gb.txt"
t "GB18030 with CRLF and no final newline keeps both" '[ $rc = 0 ] && same "$TMP/out" "$D/crlf.txt"'
run --from=GB18030 "$D/gb.txt"
t "--from forces the input encoding" '[ $rc = 0 ] && same "$TMP/out" "$D/clean.txt"'
run --to=GB18030 "$D/clean.txt"
t "--to=GB18030 writes GB18030" '[ $rc = 0 ] && same "$TMP/out" "$D/gb.txt"'
printf 'abc\nxy\344\270\255z\n' > "$D/cjk.txt"
run --to=ASCII "$D/ascii.txt" "$D/cjk.txt" "$D/ascii.txt"
t "--to=ASCII on Chinese: exit 3, the file and position named" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/cjk.txt: line 2, column 3: U+4E2D" "$TMP/err"'
t "--to failure: the other files are still processed" 'head -n 2 "$TMP/out" | same - "$D/ascii.txt" && tail -n 2 "$TMP/out" | same - "$D/ascii.txt"'

# ---- binary and unreadable inputs ------------------------------------

run "$D/bin.dat" "$D/ascii.txt"
t "binary input: exit 3, an error naming the file" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/bin.dat: binary" "$TMP/err"'
t "binary input: the other files are still processed" 'same "$TMP/out" "$D/ascii.txt"'
# U+0000 behind a byte order mark: binary too (its UTF-8, written without
# the mark, is what the next run refuses)
printf '\377\376a\000\000\000b\000\n\000' > "$D/bom-nul16.dat"
printf '\357\273\277a\000b\n' > "$D/bom-nul8.dat"
run "$D/bom-nul16.dat" "$D/bom-nul8.dat" "$D/ascii.txt"
t "U+0000 after a byte order mark (UTF-16LE, UTF-8): binary, exit 3" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/bom-nul16.dat: binary" "$TMP/err" && grep -q "^zhfix: $D/bom-nul8.dat: binary" "$TMP/err" && same "$TMP/out" "$D/ascii.txt"'
cp "$D/bin.dat" "$D/bin2.dat"
old_time "$D/bin2.dat"
before=$(state "$D/bin2.dat")
run -i "$D/bin2.dat"
t "-i on a binary file: exit 3, file left as it was, no temporary file" \
    '[ $rc = 3 ] && [ "$(state "$D/bin2.dat")" = "$before" ] && no_temp "$D"'
run "$D/missing.txt" "$D/ascii.txt"
t "a missing file: exit 3, reason given, the others still processed" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/missing.txt: No such file or directory" "$TMP/err" && same "$TMP/out" "$D/ascii.txt"'
mkdir "$D/sub"
run "$D/sub" "$D/ascii.txt"
t "a directory without -r: exit 3, reason given" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/sub: Is a directory" "$TMP/err" && same "$TMP/out" "$D/ascii.txt"'
rmdir "$D/sub"
run -i "$D/nodir/file.txt"
t "-i on a path in a missing directory: exit 3" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/nodir/file.txt: No such file or directory" "$TMP/err"'
mkfifo "$D/fifo"
run -i "$D/fifo"
t "-i on a FIFO: refused at once (no wait for a writer), exit 3" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/fifo: not a regular file" "$TMP/err"'
rm "$D/fifo"

# Undecodable bytes: valid UTF-8 with one byte no encoding explains (0xFF
# starts nothing in UTF-8, GB18030 or Big5).
{ head -n 3 "$D/clean.txt"; printf 'bad \377 byte\n'; tail -n 3 "$D/clean.txt"; } > "$D/bad.txt"
{ head -n 3 "$D/clean.txt"; printf 'bad \357\277\275 byte\n'; tail -n 3 "$D/clean.txt"; } > "$TMP/bad.want"
off=$(head -n 3 "$D/clean.txt" | wc -c)
off=$((off + 4))
run "$D/bad.txt"
t "undecodable byte: U+FFFD in its place, a warning with count and offset" \
    '[ $rc = 0 ] && same "$TMP/out" "$TMP/bad.want" && grep -q "^zhfix: $D/bad.txt: 1 undecodable bytes, first at offset $off, replaced by U+FFFD" "$TMP/err"'
run -q "$D/bad.txt"
t "-q silences the warning" '[ $rc = 0 ] && [ ! -s "$TMP/err" ]'
before=$(state "$D/bad.txt")
run -i "$D/bad.txt"
t "-i refuses a file with undecodable bytes: exit 3, untouched" \
    '[ $rc = 3 ] && [ "$(state "$D/bad.txt")" = "$before" ] && no_temp "$D" && grep -q "force" "$TMP/err"'
run -i --force "$D/bad.txt"
t "-i --force writes U+FFFD" '[ $rc = 0 ] && same "$D/bad.txt" "$TMP/bad.want" && no_temp "$D"'

# ---- --check ---------------------------------------------------------

old_time "$D"/*.txt
before=$(for f in "$D"/*; do state "$f"; done)
run --check "$D/clean.txt" "$D/ascii.txt"
t "--check on clean files: exit 0, nothing listed" '[ $rc = 0 ] && [ ! -s "$TMP/out" ]'
run --check "$D/clean.txt" "$D/gb.txt" "$D/u16.txt" "$D/crlf.txt"
printf '%s\n' "$D/gb.txt" "$D/u16.txt" > "$TMP/want"
t "--check lists the files that need repair, exit 1" '[ $rc = 1 ] && same "$TMP/out" "$TMP/want"'
run --check -q "$D/gb.txt"
t "--check -q: exit 1, nothing listed" '[ $rc = 1 ] && [ ! -s "$TMP/out" ]'
run --check - < "$D/gb.txt"
t "--check on standard input" '[ $rc = 1 ] && [ "$(cat "$TMP/out")" = "-" ]'
run --check - < "$D/clean.txt"
t "--check on clean standard input" '[ $rc = 0 ] && [ ! -s "$TMP/out" ]'
run --check "$D/gb.txt" "$D/missing.txt"
t "--check: an unreadable file outranks the find (exit 3)" '[ $rc = 3 ] && [ "$(cat "$TMP/out")" = "$D/gb.txt" ]'
run --check --to=GB18030 "$D/gb.txt" "$D/clean.txt"
t "--check --to=GB18030: a clean GB18030 file needs nothing" '[ $rc = 1 ] && [ "$(cat "$TMP/out")" = "$D/clean.txt" ]'
# a stateful --from: ASCII comes out as itself, so it needs nothing
# (the decoder compares what it writes with the bytes it read)
run --check --from=UTF-7 "$D/ascii.txt"
t "--check --from=UTF-7 on ASCII: exit 0" '[ $rc = 0 ] && [ ! -s "$TMP/out" ]'
printf 'abc\n\344\270\255\346\226\207\n' | iconv -f UTF-8 -t UTF-7 > "$TMP/u7.txt"
run --check --from=UTF-7 "$TMP/u7.txt"
t "--check --from=UTF-7 on Chinese: exit 1" '[ $rc = 1 ] && [ "$(cat "$TMP/out")" = "$TMP/u7.txt" ]'
after=$(for f in "$D"/*; do state "$f"; done)
t "--check changed no file (content, inode, mtime)" '[ "$before" = "$after" ] && no_temp "$D"'

# ---- -i --------------------------------------------------------------

I=$TMP/inplace
mkdir "$I"
cp "$D/gb.txt" "$I/a.txt"
chmod 640 "$I/a.txt"
old_time "$I/a.txt"
ln "$I/a.txt" "$I/a.link"
inode=$(stat -c %i "$I/a.txt")
run -i "$I/a.txt"
t "-i: GB18030 file rewritten as the UTF-8 original" \
    '[ $rc = 0 ] && same "$I/a.txt" "$D/clean.txt" && [ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ]'
t "-i: mode kept (640)" '[ "$(stat -c %a "$I/a.txt")" = 640 ]'
t "-i: a new inode replaced the old one, which holds the original complete" \
    '[ "$(stat -c %i "$I/a.txt")" != "$inode" ] && same "$I/a.link" "$D/gb.txt"'
t "-i: no temporary file left" 'no_temp "$I"'
rm "$I/a.link"

cp "$D/clean.txt" "$I/clean.txt"
old_time "$I/clean.txt"
before=$(state "$I/clean.txt")
run -i.bak "$I/clean.txt"
t "-i: a clean file is not rewritten (inode, mtime, content)" \
    '[ $rc = 0 ] && [ "$(state "$I/clean.txt")" = "$before" ] && no_temp "$I"'
t "-i: no backup of a file that was not rewritten" '[ ! -e "$I/clean.txt.bak" ]'

cp "$D/u16.txt" "$I/b.txt"
chmod 604 "$I/b.txt"
echo "an old backup" > "$I/b.txt.orig"
run --in-place=.orig "$I/b.txt"
t "-i with SUFFIX: the backup holds the original bytes, replacing an old one" \
    '[ $rc = 0 ] && same "$I/b.txt.orig" "$D/u16.txt" && same "$I/b.txt" "$D/clean.txt" && no_temp "$I"'
t "-i with SUFFIX: the backup keeps the original mode, the file too" \
    '[ "$(stat -c %a "$I/b.txt.orig")" = 604 ] && [ "$(stat -c %a "$I/b.txt")" = 604 ]'
cp "$D/gb.txt" "$I/c.txt"
run -i.bak "$I/c.txt"
t "-iSUFFIX (attached) makes a backup too" '[ $rc = 0 ] && same "$I/c.txt.bak" "$D/gb.txt" && same "$I/c.txt" "$D/clean.txt"'

cp "$D/gb.txt" "$I/d.txt"
cp "$D/bom.txt" "$I/e.txt"
run -i "$I/d.txt" "$I/missing.txt" "$I/e.txt"
t "-i: a missing file is reported (exit 3), the others still edited" \
    '[ $rc = 3 ] && same "$I/d.txt" "$D/clean.txt" && same "$I/e.txt" "$D/clean.txt" && grep -q "^zhfix: $I/missing.txt: " "$TMP/err"'

cp "$D/gb.txt" "$I/target.txt"
ln -s target.txt "$I/link.txt"
run -i "$I/link.txt"
t "-i on a symlink edits its target and keeps the link" \
    '[ $rc = 0 ] && [ -L "$I/link.txt" ] && same "$I/target.txt" "$D/clean.txt" && no_temp "$I"'

cp "$D/crlf-gb.txt" "$I/crlf.txt"
run -i "$I/crlf.txt"
t "-i keeps CRLF and a missing final newline" '[ $rc = 0 ] && same "$I/crlf.txt" "$D/crlf.txt"'

# --to failing late in a file: the temporary file already holds output when
# the error comes, and must go; the original stays.
{ printf '\357\273\277'; i=0; while [ $i -lt 3000 ]; do echo "line $i of plain ASCII text, long enough to fill some blocks"; i=$((i + 1)); done; cat "$D/clean.txt"; } > "$I/late.txt"
cp "$I/late.txt" "$TMP/late.orig"
old_time "$I/late.txt"
before=$(state "$I/late.txt")
run -i --to=ASCII "$I/late.txt"
t "-i --to=ASCII failing late: exit 3, file untouched, temporary file removed" \
    '[ $rc = 3 ] && [ "$(state "$I/late.txt")" = "$before" ] && no_temp "$I" && grep -q "^zhfix: $I/late.txt: line 3001, column 1: U+7B2C" "$TMP/err"'

# Atomicity while it runs: stop zhfix once its temporary file exists; the
# original must still be complete.  Then a SIGTERM must remove the
# temporary file.  (If zhfix is too fast to be caught, the case is skipped.)
A=$TMP/atomic
mkdir "$A"
cp "$D/gb.txt" "$A/big.txt"
i=0
while [ $i -lt 15 ]; do cat "$A/big.txt" "$A/big.txt" > "$A/x" && mv "$A/x" "$A/big.txt"; i=$((i + 1)); done
cp "$A/big.txt" "$TMP/big.orig"
catch() { # start zhfix -i on big.txt and stop it once the temporary file exists
    "$ZHFIX" -i "$A/big.txt" 2> "$TMP/err" &
    pid=$!
    caught=0
    n=0
    while [ $n -lt 5000 ] && kill -0 $pid 2> /dev/null; do
        if ! no_temp "$A"; then
            kill -STOP $pid
            caught=1
            break
        fi
        n=$((n + 1))
    done
}
catch
if [ $caught = 1 ]; then
    t "-i: while the temporary file is written, the original is complete" \
        'same "$A/big.txt" "$TMP/big.orig"'
    kill -CONT $pid
    rc=0
    wait $pid || rc=$?
    iconv -f GB18030 -t UTF-8 < "$TMP/big.orig" > "$TMP/big.want"
    t "-i: then the whole repaired file replaces it" \
        '[ $rc = 0 ] && same "$A/big.txt" "$TMP/big.want" && no_temp "$A"'
else
    wait $pid || true
    skip "-i: while the temporary file is written, the original is complete" "too fast to catch"
    skip "-i: then the whole repaired file replaces it" "too fast to catch"
fi
cp "$TMP/big.orig" "$A/big.txt"
catch
if [ $caught = 1 ]; then
    kill -TERM $pid
    kill -CONT $pid
    rc=0
    { wait $pid; } 2> /dev/null || rc=$?
    t "-i: SIGTERM removes the temporary file, the original stays" \
        '[ $rc = 143 ] && same "$A/big.txt" "$TMP/big.orig" && no_temp "$A"'
else
    wait $pid || true
    skip "-i: SIGTERM removes the temporary file" "too fast to catch"
fi
rm -rf "$A"

# ---- permissions refused: as nobody ----------------------------------

N=$TMP/nobody
mkdir -p "$N/ro" "$N/rw"
chmod 755 "$TMP" "$N"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
cp "$D/gb.txt" "$N/ro/a.txt"
cp "$D/gb.txt" "$N/rw/b.txt"
cp "$D/gb.txt" "$N/rw/secret.txt"
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null &&
    chown -R 65534:65534 "$N" 2> /dev/null &&
    as_nobody "$ZHFIX" --version > /dev/null 2>&1 &&
    ! as_nobody sh -c ": > '$N/../nobody-probe'" 2> /dev/null; then
    chmod 555 "$N/ro"
    chmod 000 "$N/rw/secret.txt"
    before=$(state "$N/ro/a.txt")
    rc=0
    as_nobody "$ZHFIX" -i "$N/ro/a.txt" "$N/rw/b.txt" > "$TMP/out" 2> "$TMP/err" || rc=$?
    t "-i in an unwritable directory: exit 3, reason given, file untouched" \
        '[ $rc = 3 ] && grep -q "^zhfix: $N/ro/a.txt: cannot create a temporary file beside it: Permission denied" "$TMP/err" && [ "$(state "$N/ro/a.txt")" = "$before" ]'
    t "-i in an unwritable directory: the other files are still edited" \
        'same "$N/rw/b.txt" "$D/clean.txt"'
    rc=0
    as_nobody "$ZHFIX" "$N/rw/secret.txt" "$D/ascii.txt" > "$TMP/out" 2> "$TMP/err" || rc=$?
    t "an unreadable file: exit 3, reason given, the others still processed" \
        '[ $rc = 3 ] && grep -q "^zhfix: $N/rw/secret.txt: Permission denied" "$TMP/err" && same "$TMP/out" "$D/ascii.txt"'
    chmod 755 "$N/ro"
else
    skip "-i in an unwritable directory" "cannot run zhfix as nobody here (root bypasses permissions)"
    skip "-i in an unwritable directory: the others" "cannot run zhfix as nobody here"
    skip "an unreadable file" "cannot run zhfix as nobody here (root reads anything)"
fi

# ---- -r --------------------------------------------------------------

R=$TMP/tree
mkdir -p "$R/b/c" "$R/a"
cp "$D/ascii.txt" "$R/a/1.txt"
cp "$D/gb.txt" "$R/b/c/2.txt"
cp "$D/clean.txt" "$R/b/0.txt"
cp "$D/bin.dat" "$R/b/bin.dat"
cp "$D/gb.txt" "$TMP/outside.txt"
ln -s ../../outside.txt "$R/b/c/link.txt"
ln -s .. "$R/a/loop"
mkfifo "$R/a/fifo"
run -r "$R"
cat "$D/ascii.txt" "$D/clean.txt" "$D/clean.txt" > "$TMP/want"
t "-r: text files in sorted order, binary skipped, links and FIFOs not followed" \
    '[ $rc = 0 ] && same "$TMP/out" "$TMP/want"'
t "-r: a notice names the skipped binary file" \
    '[ "$(cat "$TMP/err")" = "zhfix: $R/b/bin.dat: binary file, skipped" ]'
run -r -q "$R"
t "-r -q: no notice" '[ $rc = 0 ] && [ ! -s "$TMP/err" ]'
run -r --check "$R" "$D/gb.txt"
printf '%s\n' "$R/b/c/2.txt" "$D/gb.txt" > "$TMP/want"
t "-r --check lists what needs repair" '[ $rc = 1 ] && same "$TMP/out" "$TMP/want"'
old_time "$R/a/1.txt" "$R/b/0.txt"
keep1=$(state "$R/a/1.txt")
keep0=$(state "$R/b/0.txt")
keepbin=$(state "$R/b/bin.dat")
run -r -i "$R"
t "-r -i edits what needs it, leaves clean and binary files alone" \
    '[ $rc = 0 ] && same "$R/b/c/2.txt" "$D/clean.txt" && [ "$(state "$R/a/1.txt")" = "$keep1" ] && [ "$(state "$R/b/0.txt")" = "$keep0" ] && [ "$(state "$R/b/bin.dat")" = "$keepbin" ]'
t "-r -i does not follow a symbolic link" '[ -L "$R/b/c/link.txt" ] && same "$TMP/outside.txt" "$D/gb.txt"'
cp "$D/gb.txt" "$R/b/c/3.txt"
(cd "$R" && "$ZHFIX" -r --check > "$TMP/out" 2> "$TMP/err") && rc=0 || rc=$?
t "-r with no FILE walks the current directory, names without ./" \
    '[ $rc = 1 ] && [ "$(cat "$TMP/out")" = b/c/3.txt ] && [ "$(cat "$TMP/err")" = "zhfix: b/bin.dat: binary file, skipped" ]'
run "$R/b/bin.dat" -r
t "-r: a binary file named on the command line is still an error" '[ $rc = 3 ]'

# ---- --diff and --explain --------------------------------------------

run --diff "$D/clean.txt" "$D/gb.txt"
t "--diff of clean text (and of an encoding change alone) is empty" \
    '[ $rc = 0 ] && [ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ]'
# The damaged seeds give the passes work; --diff must be exactly what GNU
# diff says of the input and zhfix's own output, --explain must point at
# the BEFORE text of each edit, and count as many edits as --report.
nseed=0
bad_diff=""
bad_explain=""
bad_pos=""
for f in "$top_srcdir"/fixtures/seeds/*.txt; do
    case $f in *.want.txt|*.keep.txt) continue ;; esac
    nseed=$((nseed + 1))
    "$ZHFIX" "$f" > "$TMP/fixed" 2> /dev/null || true
    diff -U3 --label "a/$f" --label "b/$f" "$f" "$TMP/fixed" > "$TMP/want" || true
    "$ZHFIX" --diff "$f" > "$TMP/got" 2> /dev/null || true
    same "$TMP/got" "$TMP/want" || bad_diff="$bad_diff $f"
    "$ZHFIX" --explain --report="$TMP/r.json" "$f" > "$TMP/exp" 2> /dev/null || true
    n=$(grep -o '"edits":{[^}]*}' "$TMP/r.json" | grep -o '[0-9][0-9]*' | awk '{s += $1} END {print s + 0}')
    # every line FILE:LINE:COL: KIND: BEFORE -> AFTER, as many as --report
    # counts; "pos" lines: BEFORE is not found at LINE:COL of the input
    awk -v f="$f" -v n="$n" '
        FNR == NR { line[FNR] = $0; next }
        {
            p = f ":"
            rest = substr($0, length(p) + 1)
            if (substr($0, 1, length(p)) != p || rest !~ /^[0-9]+:[0-9]+: [a-z]+: .* -> /) {
                print "format: " $0
                next
            }
            count++
            split(rest, a, ":")
            ln = a[1]; col = a[2]
            i = index(rest, ": "); rest = substr(rest, i + 2)
            i = index(rest, ": "); rest = substr(rest, i + 2)
            i = index(rest, " -> "); before = substr(rest, 1, i - 1)
            if (before ~ /\\/)
                next  # escaped text: not compared
            s = line[ln]; c = 0; pos = 0
            for (k = 1; k <= length(s); k++) {  # column in characters
                b = substr(s, k, 1)
                if (b < "\200" || b >= "\300") { c++; if (c == col) { pos = k; break } }
            }
            if (pos == 0 || substr(s, pos, length(before)) != before)
                print "pos: " $0
        }
        END { if (count + 0 != n + 0) print "format: " count + 0 " lines, --report counts " n }
    ' "$f" "$TMP/exp" > "$TMP/why"
    grep -q '^format' "$TMP/why" && bad_explain="$bad_explain $(grep -m 1 '^format' "$TMP/why")"
    # (only FILE:LINE:COL: KIND, to keep the TAP line ASCII)
    grep -q '^pos' "$TMP/why" &&
        bad_pos="$bad_pos $(grep -m 1 '^pos' "$TMP/why" | sed 's/^pos: //; s/^\(.*:[0-9]*:[0-9]*: [a-z]*\): .*/\1/')"
done
t "--diff equals GNU diff -u of the input and the output ($nseed seeds)" \
    '[ $nseed -gt 0 ] && [ -z "$bad_diff" ] || { echo "differs:$bad_diff" >&2; false; }'
t "--explain: one FILE:LINE:COL: KIND: BEFORE -> AFTER line per edit --report counts" \
    '[ $nseed -gt 0 ] && [ -z "$bad_explain" ] || { echo "$bad_explain" >&2; false; }'
t "--explain: each edit's BEFORE text is at its LINE:COL of the input" \
    '[ -z "$bad_pos" ] || { echo "misplaced:$bad_pos" >&2; false; }'
# The two cases above pass trivially while no pass changes anything; this
# one says whether they had anything to check.
changes=0
for f in "$top_srcdir"/fixtures/seeds/*.txt; do
    case $f in *.want.txt|*.keep.txt) continue ;; esac
    [ -n "$("$ZHFIX" --diff "$f" 2> /dev/null | head -c 1)" ] && changes=$((changes + 1))
done
if [ "$changes" -gt 0 ]; then
    ok "--diff and --explain had changes to check on $changes seeds"
else
    skip "--diff and --explain had changes to check on the seeds" "no pass changes any seed yet"
fi

run --diff --explain "$D/clean.txt"
t "--diff with --explain: exit 0, clean text gives neither" '[ $rc = 0 ] && [ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ]'
cp "$D/gb.txt" "$I/f.txt"
run -i --diff --explain "$I/f.txt"
t "-i with --diff and --explain still edits the file" '[ $rc = 0 ] && same "$I/f.txt" "$D/clean.txt"'

# ---- --report ----------------------------------------------------------

cp "$D/gb.txt" "$TMP/q\"b\\s
n.txt"
run --check --report="$TMP/report.json" "$D/clean.txt" "$D/gb.txt" "$D/missing.txt" "$D/bin.dat" "$TMP/q\"b\\s
n.txt"
t "--report with --check: exit 3 (missing and binary), one line per input" \
    '[ $rc = 3 ] && [ "$(wc -l < "$TMP/report.json")" = 5 ]'
# (a plain python3 first: a version manager's shim costs a second a call)
py=$(command -v /usr/bin/python3 || command -v python3 || true)
if [ -n "$py" ]; then
    rc=0
    "$py" - "$TMP/report.json" "$D" "$TMP" > "$TMP/err" 2>&1 << 'EOF' || rc=$?
import json, os, sys
rep, d, tmp = sys.argv[1:4]
rows = [json.loads(line) for line in open(rep, encoding="utf-8")]
def want(cond, what):
    if not cond:
        print("report: " + what, rows)
        sys.exit(1)
clean, gb, missing, binary, odd = rows
kinds = {"mojibake", "pinyin", "punct", "comma", "script", "unresolved"}
for r in rows:
    want(set(r["edits"]) == kinds, "edit kinds")
want(clean["path"] == d + "/clean.txt" and clean["status"] == "ok", "clean path/status")
want(clean["encoding"] == "UTF-8" and clean["changed"] is False, "clean encoding/changed")
size = os.path.getsize(d + "/clean.txt")
want(clean["bytes_in"] == size and clean["bytes_out"] == size, "clean sizes")
want(gb["encoding"] == "GB18030" and gb["changed"] is True, "gb encoding/changed")
want(gb["bytes_in"] == os.path.getsize(d + "/gb.txt") and gb["bytes_out"] == size, "gb sizes")
want(gb["bad_bytes"] == 0 and "first_bad_offset" not in gb, "gb bad bytes")
want(missing["status"] == "error" and "No such file" in missing["error"], "missing")
want(binary["status"] == "binary" and binary["changed"] is False, "binary")
want(odd["path"] == tmp + '/q"b\\s\nn.txt' and odd["changed"] is True, "escaped path")
EOF
    t "--report: valid JSON with path, encoding, changed, sizes, status, edits" '[ $rc = 0 ]'
    run --check --report=- "$D/bad.txt"
    rc=0
    "$py" -c '
import json, sys
r = json.loads(sys.stdin.readline())
assert r["bad_bytes"] == 0, r  # bad.txt was repaired by -i --force above
' < "$TMP/out" || rc=$?
    t "--report=- writes to standard output" '[ $rc = 0 ]'
else
    skip "--report: valid JSON" "no python3"
    skip "--report=- writes to standard output" "no python3"
fi
run --report="$TMP/nodir/r.json" "$D/clean.txt"
t "--report to an impossible place: exit 3, nothing processed" \
    '[ $rc = 3 ] && [ ! -s "$TMP/out" ] && grep -q "^zhfix: $TMP/nodir/r.json: " "$TMP/err"'

done_testing
