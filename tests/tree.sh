#!/bin/sh
# tree.sh - zhfix over directory trees: -r with --include, --exclude and
# --exclude-dir, symbolic links (not followed by -r, followed by -R, loops),
# binary files skipped with a notice, -j N giving the bytes of -j 1 in the
# same order (text, messages, --report, -i), the progress line (off when
# standard error is not a terminal, on under a pseudo-terminal) and --stats.
#
# Repairs asked of the library are settled ones: 你好,世界 -> 你好，世界.
. "$(dirname "$0")/setup.sh"


R=$TMP/tree
mkdir -p "$R/docs/sub" "$R/.git" "$R/logs"
printf '你好,世界\n' > "$R/a.txt"
printf '早上好,世界\n' > "$R/b.md"
printf '晚上好,世界\n' > "$R/docs/c.txt"
printf '干净的文本。\n' > "$R/docs/sub/d.txt"
printf '日志,内容\n' > "$R/logs/e.log"
printf '版本库,内容\n' > "$R/.git/f.txt"
printf 'PNG\r\n\032\n\000\000\000\rIHDR\000\000\001\000' > "$R/docs/g.txt"
# names each file's repaired content, for building expected outputs
fixed() { sed 's/,/，/' "$1"; }

# ---- --include, --exclude, --exclude-dir --------------------------------

run -r "$R"
{ fixed "$R/.git/f.txt"; fixed "$R/a.txt"; fixed "$R/b.md"; fixed "$R/docs/c.txt"; cat "$R/docs/sub/d.txt"; fixed "$R/logs/e.log"; } > "$TMP/want"
t "-r: every text file, sorted, binary skipped" '[ $rc = 0 ] && same "$TMP/out" "$TMP/want"'
t "-r: the binary file (found by content, named .txt) is skipped with a notice" \
    '[ "$(cat "$TMP/err")" = "zhfix: $R/docs/g.txt: binary file, skipped" ]'
run -r --include='*.txt' "$R"
{ fixed "$R/.git/f.txt"; fixed "$R/a.txt"; fixed "$R/docs/c.txt"; cat "$R/docs/sub/d.txt"; } > "$TMP/want"
t "--include='*.txt': only those" '[ $rc = 0 ] && same "$TMP/out" "$TMP/want"'
run -r --include='*.txt' --include='*.log' --exclude='c.*' --exclude-dir=.git --exclude-dir='s?b' "$R"
{ fixed "$R/a.txt"; fixed "$R/logs/e.log"; } > "$TMP/want"
t "repeated --include, --exclude winning over it, --exclude-dir" '[ $rc = 0 ] && same "$TMP/out" "$TMP/want"'
run -r --include='*.log' "$R/a.txt" "$R/logs"
{ fixed "$R/a.txt"; fixed "$R/logs/e.log"; } > "$TMP/want"
t "a FILE named on the command line is processed whatever the globs" '[ $rc = 0 ] && same "$TMP/out" "$TMP/want"'
(cd "$R" && "$ZHFIX" -r --check --exclude-dir=.git --exclude='*.md' > "$TMP/out" 2> "$TMP/err") && rc=0 || rc=$?
printf '%s\n' a.txt docs/c.txt logs/e.log > "$TMP/want"
t "-r --check with no FILE: names without ./, globs applied" '[ $rc = 1 ] && same "$TMP/out" "$TMP/want"'

# ---- symbolic links -------------------------------------------------------

L=$TMP/links
mkdir -p "$L/in" "$TMP/outside"
printf '外面,的文件\n' > "$TMP/outside/o.txt"
printf '里面,的文件\n' > "$L/in/i.txt"
ln -s ../../outside/o.txt "$L/in/link.txt"
ln -s ../../outside "$L/in/dirlink"
ln -s .. "$L/in/loop"
ln -s nowhere "$L/in/broken.txt"
cp "$TMP/outside/o.txt" "$TMP/o.orig"
run -r "$L"
fixed "$L/in/i.txt" > "$TMP/want"
t "-r: symbolic links (to files, to directories, loops, broken) not followed" \
    '[ $rc = 0 ] && same "$TMP/out" "$TMP/want" && [ ! -s "$TMP/err" ]'
run -r -i "$L"
t "-r -i: the file behind a link is not edited" 'same "$TMP/outside/o.txt" "$TMP/o.orig" && [ -L "$L/in/link.txt" ]'
printf '里面,的文件\n' > "$L/in/i.txt"
run -R "$L"
{ fixed "$TMP/outside/o.txt"; fixed "$L/in/i.txt"; fixed "$TMP/outside/o.txt"; } > "$TMP/want"
t "-R: links followed (a directory and a file), in sorted order" 'same "$TMP/out" "$TMP/want"'
t "-R: a loop is skipped with a notice, a broken link is an error (exit 3)" \
    '[ $rc = 3 ] && grep -q "^zhfix: $L/in/loop: recursive directory loop, skipped$" "$TMP/err" && grep -q "^zhfix: $L/in/broken.txt: No such file or directory$" "$TMP/err"'
rm "$L/in/broken.txt"
run -R -i "$L"
t "-R -i: the file behind a link is edited, the link kept" \
    '[ $rc = 0 ] && [ -L "$L/in/link.txt" ] && [ "$(cat "$TMP/outside/o.txt")" = "外面，的文件" ]'

# ---- -j N -----------------------------------------------------------------

# Files of very different sizes, so that the workers finish out of order:
# a large one first, small ones after, a binary one, damaged and clean ones.
J=$TMP/jobs
mkdir -p "$J/x" "$J/y"
i=0
while [ $i -lt 3000 ]; do printf '第%d行,你好,世界。这是一段比较长的文字,用来让文件变大。\n' $i; i=$((i + 1)); done > "$J/x/000-big.txt"
i=0
while [ $i -lt 40 ]; do
    case $((i % 4)) in
        0) printf '你好,世界 %d\n' $i > "$J/y/f$i.txt" ;;
        1) printf 'clean text %d\n' $i > "$J/y/f$i.txt" ;;
        2) printf '这是,第%d个文件\n' $i | iconv -f UTF-8 -t GB18030 > "$J/y/f$i.txt" ;;
        3) printf 'bin\000ary %d' $i > "$J/y/f$i.txt" ;;
    esac
    i=$((i + 1))
done
cp "$J/x/000-big.txt" "$J/y/f5.txt"
for n in 1 2 3; do
    rc=0
    "$ZHFIX" -r -j $n --report="$TMP/rep$n" "$J" "$TMP/missing.txt" "$J/x/000-big.txt" > "$TMP/out$n" 2> "$TMP/err$n" || rc=$?
    echo $rc > "$TMP/rc$n"
done
rc=$(cat "$TMP/rc2")
t "-j 2: standard output is the bytes of -j 1" '[ -s "$TMP/out1" ] && same "$TMP/out1" "$TMP/out2"'
t "-j 2: the messages are those of -j 1, in the same order" \
    '[ -s "$TMP/err1" ] && same "$TMP/err1" "$TMP/err2" || diff "$TMP/err1" "$TMP/err2" >&2'
t "-j 2: the --report lines are those of -j 1, in the same order" \
    '[ -s "$TMP/rep1" ] && same "$TMP/rep1" "$TMP/rep2"'
t "-j 2: the same exit status (3: a missing file)" '[ "$(cat "$TMP/rc1")" = 3 ] && [ "$(cat "$TMP/rc2")" = 3 ]'
t "-j 3: the same bytes again" 'same "$TMP/out1" "$TMP/out3" && same "$TMP/err1" "$TMP/err3" && same "$TMP/rep1" "$TMP/rep3"'
run -j 2 - "$J/y/f0.txt" - < "$J/y/f4.txt"
{ fixed "$J/y/f4.txt"; fixed "$J/y/f0.txt"; } > "$TMP/want"
t "-j 2 with standard input: read in its turn, once" '[ $rc = 0 ] && same "$TMP/out" "$TMP/want"'
cp -R "$J" "$TMP/j1"
cp -R "$J" "$TMP/j2"
run -r -i -j 1 "$TMP/j1"
run -r -i -j 2 "$TMP/j2"
t "-j 2 -i: every file edited as -j 1 edits it" 'diff -r "$TMP/j1" "$TMP/j2" > /dev/null && ! ls -AR "$TMP/j2" | grep -q "^\.zhfix-"'
run -j 2 --check -r "$J"
t "-j 2 --check: lists in input order" \
    '[ $rc = 1 ] && [ "$(head -n 1 "$TMP/out")" = "$J/x/000-big.txt" ] && [ "$(sed -n 2p "$TMP/out")" = "$J/y/f0.txt" ]'
run -j 0 "$J/y/f0.txt"
t "usage error: -j 0" '[ $rc = 2 ]'
run -j x "$J/y/f0.txt"
t "usage error: -j x" '[ $rc = 2 ]'

# ---- --stats ----------------------------------------------------------------

S=$TMP/stats
mkdir -p "$S"
printf '你好,世界,早上好\n' > "$S/a.txt"
printf '干净的文本。\n' > "$S/b.txt"
printf 'bin\000ary' > "$S/c.bin"
run -r --stats "$S" "$S/missing"
bytes=$(cat "$S/a.txt" "$S/b.txt" "$S/c.bin" | wc -c)
outb=$(cat "$TMP/out" | wc -c)
cat > "$TMP/want" <<EOF
zhfix: $S/c.bin: binary file, skipped
zhfix: $S/missing: No such file or directory
zhfix: stats: files 4 (changed 1, unchanged 1, skipped 1, failed 1)
zhfix: stats: edits 2 (mojibake 0, pinyin 0, punct 2, comma 0, script 0, unresolved 0)
zhfix: stats: bytes $bytes in, $outb out
EOF
grep -v '^zhfix: stats: time ' "$TMP/err" > "$TMP/got"
t "--stats: files, edits of each kind, bytes" 'same "$TMP/got" "$TMP/want" || diff "$TMP/want" "$TMP/got" >&2'
t "--stats: the time, and MB/s" 'grep -q "^zhfix: stats: time [0-9]*\.[0-9][0-9] s, [0-9]*\.[0-9] MB/s$" "$TMP/err"'
run -q -r --stats "$S"
t "--stats is printed with -q too (notices are not)" \
    '! grep -q "binary" "$TMP/err" && grep -q "^zhfix: stats: files 3 " "$TMP/err"'

# ---- progress ---------------------------------------------------------------

# A run longer than a second: standard input that arrives in two parts.
P=$TMP/prog
mkdir -p "$P"
printf '你好,世界\n' > "$P/a.txt"
cat > "$P/run.sh" <<EOF
#!/bin/sh
{ cat "$P/a.txt"; sleep 1.8; cat "$P/a.txt"; } | "$ZHFIX" \$@ > "$P/out"
EOF
chmod +x "$P/run.sh"
rc=0
"$P/run.sh" 2> "$TMP/err" || rc=$?
t "no progress line when standard error is not a terminal" \
    '[ $rc = 0 ] && [ ! -s "$TMP/err" ]'
if command -v script > /dev/null && script -qec true /dev/null > /dev/null 2>&1; then
    rc=0
    script -qec "$P/run.sh" /dev/null > "$TMP/tty" 2>&1 < /dev/null || rc=$?
    t "a progress line under a pseudo-terminal: files, MB, MB/s, edits, redrawn with CR" \
        'grep -q "zhfix: 0 files, 0\.0 MB, 0\.0 MB/s, 0 edits" "$TMP/tty" && [ "$(tr -cd "\r" < "$TMP/tty" | wc -c)" -ge 2 ]'
    t "... and erased at the end: the last thing written is blanks and a CR" \
        '[ "$(tail -c 1 "$TMP/tty" | od -An -c | tr -d " ")" = "\\r" ]'
    t "... the output itself is not touched" '[ "$(cat "$P/out")" = "$(printf "你好，世界\n你好，世界")" ]'
    rc=0
    script -qec "$P/run.sh -q" /dev/null > "$TMP/tty" 2>&1 < /dev/null || rc=$?
    t "-q: no progress line on a terminal either" '[ ! -s "$TMP/tty" ]'
    rc=0
    script -qec "{ cat '$P/a.txt'; sleep 1.8; } | '$ZHFIX'" /dev/null > "$TMP/tty" 2>&1 < /dev/null || rc=$?
    t "no progress line when the text goes to the same terminal" \
        '! grep -q "files," "$TMP/tty"'
    # The totals and the time left: counted by a walk of the tree made
    # alongside.  A run longer than a second: a big file linked 25 times.
    i=0
    while [ $i -lt 8 ]; do cat "$J/x/000-big.txt"; i=$((i + 1)); done > "$P/big.txt"
    mkdir "$P/many"
    cp "$P/a.txt" "$P/many/a.txt"
    i=0
    while [ $i -lt 25 ]; do ln "$P/big.txt" "$P/many/big$i.txt"; i=$((i + 1)); done
    script -qec "'$ZHFIX' -r '$P/many' > /dev/null" /dev/null > "$TMP/tty" 2>&1 < /dev/null || true
    if grep -q "files" "$TMP/tty"; then
        t "-r: totals (counted alongside) and the time left" \
            'grep -q "zhfix: [0-9]*/26 files, [0-9.]*/[0-9.]* MB, [0-9.]* MB/s, [0-9]* edits, [0-9]*:[0-5][0-9] left" "$TMP/tty"'
    else
        skip "-r: totals and the time left" "the run took less than a second"
    fi
else
    skip "a progress line under a pseudo-terminal" "no working script(1)"
fi

done_testing
