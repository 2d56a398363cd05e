#!/bin/sh
# hostile.sh - inputs meant to break a text filter (issue 5, "Hostile
# input"): a 100 MB line, invalid UTF-8 everywhere, multibyte characters
# split or truncated at the 64 KiB read boundary, NUL bytes, empty files,
# files that are not there, are directories, vanish or become unreadable
# between listing and reading.  Each must give a clear error that names the
# file with a non-zero exit, or a correct result: never a crash, a hang
# (every run is under timeout(1)) or a lost byte (outputs are compared with
# cmp against bytes computed here, not against what zhfix printed before).
#
# Under AddressSanitizer (the build's Makefile has -fsanitize=address) the
# long line is 20 MB and peak memory is not checked (ASan's shadow memory
# is not zhfix's).
. "$(dirname "$0")/setup.sh"

PY=$(command -v python3 || true)
asan=0
# (a disabled automake conditional leaves its lines commented out with '#')
grep -q '^[^#]*fsanitize=address' "$top_builddir/Makefile" 2> /dev/null && asan=1

# run ARG...: zhfix under timeout; $TMP/out, $TMP/err, $rc (124: hung).
run() {
    rc=0
    timeout 60 "$ZHFIX" "$@" > "$TMP/out" 2> "$TMP/err" || rc=$?
}
# run_in FILE ARG...: the same, reading FILE on standard input.
run_in() {
    f=$1
    shift
    rc=0
    timeout 60 "$ZHFIX" "$@" < "$f" > "$TMP/out" 2> "$TMP/err" || rc=$?
}
t() {
    if eval "$2"; then
        ok "$1"
    else
        not_ok "$1" "failed: $2" "exit status: $rc" \
            "stderr: $(head -c 400 "$TMP/err" 2>/dev/null)" \
            "stdout: $(head -c 200 "$TMP/out" 2>/dev/null | od -c | head -n 4)"
    fi
}
# crashed: a signal (128+N) or timeout's 124, which no zhfix exit is
crashed() { [ "$rc" -ge 124 ]; }
D=$TMP/d
mkdir "$D"

if [ -z "$PY" ]; then
    skip "hostile inputs" "python3 is needed to make them"
    done_testing
    exit 0
fi

# ---- a 100 MB line ----------------------------------------------------

mb=100
[ $asan = 1 ] && mb=20
# clean Chinese and ASCII, no newline at all: must come out as it went in
long_line() { # FILE MB
"$PY" - "$1" "$2" <<'EOF'
import sys
unit = ('长行测试：中华人民共和国是一个历史悠久的国家，有着灿烂的文化。'
        'The quick brown fox jumps over the lazy dog. ').encode()
n = int(sys.argv[2]) * 1024 * 1024 // len(unit)
with open(sys.argv[1], 'wb') as f:
    f.write(unit * n)
EOF
}
long_line "$D/long.txt" "$mb"
size=$(wc -c < "$D/long.txt")
TIME=/usr/bin/time
[ -x $TIME ] && $TIME -f %M true > /dev/null 2>&1 || TIME=

# long CASE ARG...: the long file through zhfix, by name or on stdin.
for how in file stdin; do
    rc=0
    if [ "$how" = file ]; then set -- "$D/long.txt"; else set -- -; fi
    start=$(date +%s)
    if [ -n "$TIME" ]; then
        timeout 60 $TIME -f %M -o "$TMP/rss" "$ZHFIX" "$@" < "$D/long.txt" > "$TMP/out" 2> "$TMP/err" || rc=$?
    else
        timeout 60 "$ZHFIX" "$@" < "$D/long.txt" > "$TMP/out" 2> "$TMP/err" || rc=$?
    fi
    secs=$(( $(date +%s) - start ))
    t "$mb MB without a newline ($how, ${secs}s): exit 0, output = input" \
        '[ $rc = 0 ] && [ ! -s "$TMP/err" ] && same "$TMP/out" "$D/long.txt"'
    if [ -z "$TIME" ]; then
        skip "$mb MB line ($how): peak memory" "/usr/bin/time is not installed"
    elif [ $asan = 1 ]; then
        skip "$mb MB line ($how): peak memory" "AddressSanitizer build"
    else
        kb=$(tail -n 1 "$TMP/rss")
        t "$mb MB line ($how): peak RSS ${kb} KB <= 32 MB" '[ "$kb" -le 32768 ]'
    fi
done

# the same bytes in GB18030: decoded back to exactly the UTF-8 original
long_line "$D/long20.txt" 20
iconv -f UTF-8 -t GB18030 < "$D/long20.txt" > "$D/long20.gb"
run "$D/long20.gb"
t "20 MB GB18030 line: exit 0, output = the UTF-8 original" \
    '[ $rc = 0 ] && same "$TMP/out" "$D/long20.txt"'
rm -f "$D/long.txt" "$D/long20.txt" "$D/long20.gb"

# ---- the 64 KiB read boundary ------------------------------------------

# a character whose bytes straddle offset 65536 (the CLI reads 64 KiB
# blocks, the stream cuts 64 KiB pieces): every split of 3- and 4-byte
# characters, after ASCII and after Chinese, by name and on stdin
"$PY" - "$D" <<'EOF'
import sys
d = sys.argv[1]
zh = '文字处理，中华人民共和国。'.encode()
tail = '跨界的字符后面还有中文。\n'.encode()
for ch, tag in (('中', '3'), ('😀', '4')):
    c = ch.encode()
    for k in range(1, len(c) + 1):          # k bytes before the boundary
        for lead, name in ((b'a', 'ascii'), (zh, 'zh')):
            pre = (lead * (65536 // len(lead) + 1))
            # cut the lead at a character boundary, then pad with ASCII
            # so that exactly k bytes of c come before 65536
            cut = 65536 - k
            while cut and (pre[cut] & 0xC0) == 0x80:
                cut -= 1
            pre = pre[:cut] + b'x' * (65536 - k - cut)
            assert len(pre) == 65536 - k
            with open('%s/split%s-%s-%d.txt' % (d, tag, name, k), 'wb') as f:
                f.write(pre + c + tail * 50)
EOF
for f in "$D"/split*.txt; do
    n=$(basename "$f" .txt)
    run "$f"
    t "$n: a character across offset 65536 (file)" '[ $rc = 0 ] && same "$TMP/out" "$f"'
    run_in "$f"
    t "$n: a character across offset 65536 (stdin)" '[ $rc = 0 ] && same "$TMP/out" "$f"'
done

# truncated sequences at the boundary: the first 1 or 2 bytes of 中 end
# just before 65536, an ASCII letter follows.  In UTF-8 text each stray
# byte becomes one U+FFFD (warning: count and offset), nothing else moves.
"$PY" - "$D" <<'EOF'
import sys
d = sys.argv[1]
zh = '文字处理，中华人民共和国。'.encode()
body = '后面是正常的中文文本，还有标点符号。\n'.encode() * 50
for k in (1, 2):
    pre = zh * (65536 // len(zh) + 1)
    cut = 65536 - k
    while (pre[cut] & 0xC0) == 0x80:
        cut -= 1
    pre = pre[:cut] + b'x' * (65536 - k - cut)
    bad = '中'.encode()[:k]
    with open('%s/trunc%d.txt' % (d, k), 'wb') as f:
        f.write(pre + bad + b'b' + body)
    with open('%s/trunc%d.want' % (d, k), 'wb') as f:
        f.write(pre + '\ufffd'.encode() * k + b'b' + body)
EOF
for k in 1 2; do
    f=$D/trunc$k.txt
    off=$((65536 - k))
    run "$f"
    t "truncated sequence ($k of 3 bytes) before 65536 (file): U+FFFD each, warning" \
        '[ $rc = 0 ] && same "$TMP/out" "$D/trunc$k.want" && grep -q "^zhfix: $f: $k undecodable bytes, first at offset $off" "$TMP/err"'
    run_in "$f"
    t "truncated sequence ($k of 3 bytes) before 65536 (stdin)" \
        '[ $rc = 0 ] && same "$TMP/out" "$D/trunc$k.want"'
    run --from=UTF-8 "$f"
    t "truncated sequence ($k of 3 bytes) before 65536 (--from=UTF-8)" \
        '[ $rc = 0 ] && same "$TMP/out" "$D/trunc$k.want"'
done

# a sequence cut short inside a line, in a file of that one line: GB18030
# reads those bytes cleanly (`Hello 涓栫晫涓 done`), but UTF-8 with one
# damaged spot is the better reading; the lost bytes become U+FFFD
"$PY" - "$D" <<'EOF'
import sys
d = sys.argv[1]
cut = '中'.encode()[:2]
for name, a, b in (('cut-latin', 'Hello 世界', ' done\n'),
                   ('cut-han', '这是一段正常的中文文本', '文本继续，还有更多内容。\n')):
    with open('%s/%s.txt' % (d, name), 'wb') as f:
        f.write(a.encode() + cut + b.encode())
    with open('%s/%s.want' % (d, name), 'wb') as f:
        f.write((a + '\ufffd\ufffd' + b).encode())
# the same line among good UTF-8 lines: decided line by line
good = '这是正常的一行中文，没有任何问题。\n'.encode() * 20
with open('%s/cut-latin.txt' % d, 'rb') as f:
    bad = f.read()
with open('%s/cut-latin.want' % d, 'rb') as f:
    fixed = f.read()
with open('%s/cut-lines.txt' % d, 'wb') as f:
    f.write(good + bad + good)
with open('%s/cut-lines.want' % d, 'wb') as f:
    f.write(good + fixed + good)
EOF
for n in cut-latin cut-han cut-lines; do
    run "$D/$n.txt"
    t "$n: a line of UTF-8 with a sequence cut short stays UTF-8 (U+FFFD each, warning)" \
        '[ $rc = 0 ] && same "$TMP/out" "$D/$n.want" && grep -q "^zhfix: $D/$n.txt: 2 undecodable bytes" "$TMP/err"'
done

# ---- invalid UTF-8 everywhere -----------------------------------------

# Chinese prose with a stray byte (a lone lead, continuation, C0, FE or FF)
# after about every 20th character; the expectation replaces each by U+FFFD
"$PY" - "$D" <<'EOF'
import random, sys
d = sys.argv[1]
r = random.Random(5)
text = ('中华人民共和国是一个历史悠久的国家，有着灿烂的文化和众多的人口。\n'
        '今天天气很好，我们一起去公园散步吧。路上的行人都在谈论明天的比赛。\n') * 1500
inp, want, n = bytearray(), bytearray(), 0
for ch in text:
    inp += ch.encode()
    want += ch.encode()
    if r.random() < 0.05:
        inp.append(r.choice([0x80, 0xBF, 0xC0, 0xC1, 0xE4, 0xF0, 0xF5, 0xFE, 0xFF]))
        want += '\ufffd'.encode()
        n += 1
open(d + '/invalid.txt', 'wb').write(inp)
open(d + '/invalid.want', 'wb').write(want)
open(d + '/invalid.n', 'w').write('%d\n' % n)
EOF
nbad=$(cat "$D/invalid.n")
run "$D/invalid.txt"
t "invalid UTF-8 everywhere: each stray byte one U+FFFD, the rest kept, warning counts $nbad" \
    '[ $rc = 0 ] && same "$TMP/out" "$D/invalid.want" && grep -q "^zhfix: $D/invalid.txt: $nbad undecodable bytes" "$TMP/err"'
run_in "$D/invalid.txt"
t "invalid UTF-8 everywhere (stdin): the same bytes" '[ $rc = 0 ] && same "$TMP/out" "$D/invalid.want"'
cp "$D/invalid.txt" "$D/invalid-i.txt"
run -i "$D/invalid-i.txt"
t "invalid UTF-8 everywhere, -i: refused (exit 3, named), file untouched" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/invalid-i.txt: $nbad undecodable bytes" "$TMP/err" && same "$D/invalid-i.txt" "$D/invalid.txt"'
run -i --force "$D/invalid-i.txt"
t "invalid UTF-8 everywhere, -i --force: rewritten to the expected bytes" \
    '[ $rc = 0 ] && same "$D/invalid-i.txt" "$D/invalid.want"'
run --check "$D/invalid.txt"
t "invalid UTF-8 everywhere, --check: needs repair (exit 1)" '[ $rc = 1 ]'

# random bytes: refused as binary or decoded to valid UTF-8, never a crash
"$PY" - "$D" <<'EOF'
import random, sys
r = random.Random(7)
for i in range(8):
    n = r.choice([1, 2, 3, 100, 5000, 70000, 200000])
    hi = r.choice([0x100, 0x80]) # all bytes, or ASCII only (with NULs)
    b = bytes(r.randrange(hi) for _ in range(n)) if hi == 0x80 else r.randbytes(n)
    open('%s/random%d.bin' % (sys.argv[1], i), 'wb').write(b)
EOF
for f in "$D"/random*.bin; do
    run "$f"
    v=0
    "$PY" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$TMP/out" 2> /dev/null && v=1
    t "$(basename "$f") ($(wc -c < "$f") random bytes): binary error naming it, or valid UTF-8" \
        '! crashed && { { [ $rc = 3 ] && grep -q "^zhfix: $f: binary file" "$TMP/err" && [ ! -s "$TMP/out" ]; } || { [ $rc = 0 ] && [ $v = 1 ]; }; }'
done

# ---- NUL bytes ----------------------------------------------------------

printf 'abc\000def\n' > "$D/nul.txt"
run "$D/nul.txt" "$D/invalid.want"
t "a NUL byte: binary error naming the file, exit 3, the next file still done" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/nul.txt: binary file" "$TMP/err" && same "$TMP/out" "$D/invalid.want"'
# even where UTF-16 reads it as two characters (a, U+0A62) that lose the line
printf 'a\000b\n' > "$D/nul16.txt"
run "$D/nul16.txt"
t "a NUL byte that UTF-16LE could read: binary error, exit 3, no output" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/nul16.txt: binary file" "$TMP/err" && [ ! -s "$TMP/out" ]'
# or as garbage keeping its lines (`\0V8n...a\n\0` as 嘀游啛뿯...): valid
# UTF-8 with NUL bytes is never read as UTF-16
printf '\000V8n[U\357\277\275\035\357\277\275,\346\267\261a\n\000' > "$D/nul16low.txt"
run "$D/nul16low.txt"
t "valid UTF-8 with NUL bytes that UTF-16LE reads as CJK: binary error, exit 3, no output" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/nul16low.txt: binary file" "$TMP/err" && [ ! -s "$TMP/out" ]'
printf 'a\006\000\n' > "$D/nul16be.txt"
run "$D/nul16be.txt"
t "valid UTF-8 with a NUL byte that UTF-16BE reads as 愆: binary error, exit 3, no output" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/nul16be.txt: binary file" "$TMP/err" && [ ! -s "$TMP/out" ]'
# while UTF-16 that is not valid UTF-8 is still read without a BOM
printf '社区防疫受到影响\n' > "$D/utf16le.want"
iconv -f UTF-8 -t UTF-16LE "$D/utf16le.want" > "$D/utf16le.txt"
run "$D/utf16le.txt"
t "UTF-16LE Chinese without BOM: decoded" \
    '[ $rc = 0 ] && same "$TMP/out" "$D/utf16le.want"'
run_in "$D/nul.txt"
t "a NUL byte on stdin: binary error, exit 3, no output" \
    '[ $rc = 3 ] && grep -q "^zhfix: .*binary file" "$TMP/err" && [ ! -s "$TMP/out" ]'
cp "$D/nul.txt" "$D/nul-i.txt"
run -i "$D/nul-i.txt"
t "a NUL byte, -i: exit 3, file untouched" '[ $rc = 3 ] && same "$D/nul.txt" "$D/nul-i.txt"'
# a NUL after the detection sample: the file was taken for text by then;
# it must pass through as U+0000, not be dropped or cut
{ head -c 200000 /dev/zero | tr '\0' a; printf '\000b\n'; } > "$D/latenul.txt"
run "$D/latenul.txt"
t "a NUL byte past the first 64 KiB: kept (U+0000), nothing lost" \
    '[ $rc = 0 ] && same "$TMP/out" "$D/latenul.txt"'

# ---- empty files --------------------------------------------------------

: > "$D/empty.txt"
run "$D/empty.txt"
t "an empty file: exit 0, no output, no message" '[ $rc = 0 ] && [ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ]'
run_in "$D/empty.txt"
t "empty stdin: exit 0, no output" '[ $rc = 0 ] && [ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ]'
run --check "$D/empty.txt"
t "an empty file, --check: nothing to repair (exit 0)" '[ $rc = 0 ] && [ ! -s "$TMP/out" ]'
before=$(stat -c '%i %Y %s' "$D/empty.txt")
run -i "$D/empty.txt"
t "an empty file, -i: exit 0, not rewritten" \
    '[ $rc = 0 ] && [ "$(stat -c "%i %Y %s" "$D/empty.txt")" = "$before" ]'

# ---- names that are not readable files ---------------------------------

printf '中文一行\n' > "$D/ok.txt"
ln -s "$D/nowhere" "$D/dangling.txt"
mkdir "$D/dir.txt"
run "$D/dangling.txt" "$D/ok.txt"
t "a dangling symlink: error naming it, exit 3, the next file still done" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/dangling.txt: No such file or directory" "$TMP/err" && same "$TMP/out" "$D/ok.txt"'
run "$D/dir.txt" "$D/ok.txt"
t "a directory named like a file: error naming it, exit 3, the next file still done" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/dir.txt: Is a directory" "$TMP/err" && same "$TMP/out" "$D/ok.txt"'
run -i "$D/dir.txt"
t "a directory named like a file, -i: error naming it, exit 3" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/dir.txt: " "$TMP/err"'
run "$D/missing.txt"
t "a missing file: error naming it, exit 3" \
    '[ $rc = 3 ] && grep -q "^zhfix: $D/missing.txt: No such file or directory" "$TMP/err"'
mkfifo "$D/fifo"
( printf '管道里的中文\n' > "$D/fifo" ) &
run "$D/fifo"
wait
t "a FIFO named on the command line is read like a file" \
    '[ $rc = 0 ] && [ "$(cat "$TMP/out")" = "管道里的中文" ]'

# a tree with a dangling link, a FIFO (never opened: no hang) and a file
T=$TMP/tree
mkdir "$T"
printf '中文一行\n' > "$T/b.txt"
ln -s "$T/nowhere" "$T/a.txt"
mkfifo "$T/c.fifo"
run -r "$T"
t "-r: the dangling link and the FIFO are passed over, the file done" \
    '[ $rc = 0 ] && same "$TMP/out" "$T/b.txt"'
run -R "$T"
t "-R: the dangling link is an error naming it, exit 3, the file still done" \
    '[ $rc = 3 ] && grep -q "^zhfix: $T/a.txt: " "$TMP/err" && same "$TMP/out" "$T/b.txt"'
rm -f "$T/c.fifo"

# ---- files that vanish or change after the listing ----------------------

# -r lists a directory, then reads its files in order.  a.txt is big enough
# to take a while; once zhfix has it open (so the listing is done) z.txt is
# removed and y.txt replaced by a directory.
V=$TMP/vanish
mkdir "$V"
for i in $(seq 1 200); do cat "$top_srcdir"/fixtures/seeds/[0-9]*_*[0-9a-f].txt; done > "$V/a.txt"
printf '中文一行\n' > "$V/y.txt"
printf '中文一行\n' > "$V/z.txt"
"$ZHFIX" "$V/a.txt" > "$TMP/a.want" 2> /dev/null || true
cat "$TMP/a.want" > "$TMP/vanish.want"
# opened NAME PID: does process PID have NAME open?  (zhfix runs in the
# background without timeout(1), so that $! is zhfix itself; setpriv execs.)
opened() { ls -l "/proc/$2/fd" 2> /dev/null | grep -q -- "$1"; }
if [ -d /proc/self/fd ]; then
    rc=0
    "$ZHFIX" -r "$V" > "$TMP/out" 2> "$TMP/err" &
    pid=$!
    i=0
    while ! opened "$V/a.txt" $pid && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
    rm "$V/z.txt" "$V/y.txt"
    mkdir "$V/y.txt"
    wait $pid || rc=$?
    t "a file removed after the listing: error naming it, exit 3, the rest done" \
        '[ $i -lt 500 ] && [ $rc = 3 ] && grep -q "^zhfix: $V/z.txt: No such file or directory" "$TMP/err" && same "$TMP/out" "$TMP/vanish.want"'
else
    skip "a file removed after the listing" "no /proc to see when zhfix opened the first file"
fi

# a file that becomes unreadable after the listing: root reads anything,
# so zhfix runs as nobody (setpriv), as in cli.sh
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
N=$TMP/nobody
mkdir -p "$N"
chmod 755 "$TMP" "$N"
cp "$V/a.txt" "$N/a.txt"
printf '中文一行\n' > "$N/b.txt"
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null && [ -d /proc/self/fd ] &&
    chown -R 65534:65534 "$N" 2> /dev/null &&
    as_nobody "$ZHFIX" --version > /dev/null 2>&1 &&
    ! as_nobody sh -c ": > '$TMP/nobody-probe'" 2> /dev/null; then
    rc=0
    setpriv --reuid=65534 --regid=65534 --clear-groups "$ZHFIX" -r "$N" > "$TMP/out" 2> "$TMP/err" &
    pid=$!
    i=0
    while ! opened "$N/a.txt" $pid && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
    chmod 000 "$N/b.txt"
    wait $pid || rc=$?
    t "a file made unreadable after the listing: error naming it, exit 3, the rest done" \
        '[ $i -lt 500 ] && [ $rc = 3 ] && grep -q "^zhfix: $N/b.txt: Permission denied" "$TMP/err" && same "$TMP/out" "$TMP/a.want"'
else
    skip "a file made unreadable after the listing" "cannot run zhfix as nobody here (root reads anything)"
fi

done_testing
