#!/bin/sh
# properties.sh - what must hold for any input (issue 5, "Properties"),
# checked over every fixture input (fixtures/**: the seeds, the clean
# corpus, the encodings, every pass's cases) and over generated inputs
# (random bytes, random mixes and mutations of fixture lines, from a fixed
# seed, so a failure is reproducible; the fuzzers' reproducers):
#   utf8        the output is valid UTF-8 (iconv -f UTF-8 -t UTF-8 reads it)
#   idempotent  zhfix(zhfix(x)) = zhfix(x), byte for byte
#   check       `zhfix --check x` exits 1 exactly when zhfix's output differs
#               from x's bytes, else 0 (man/zhfix.1: "A file needs repair when
#               the output would differ from its bytes: an edit, a legacy
#               encoding, a byte order mark, an undecodable byte"), and
#               lists x exactly then; binary input (refused, exit 3) is
#               refused by --check too
#   check-stdin the same with x on standard input
# All with default options.  A property that fails on an input is a bug in
# a pass or the decoder: the case is listed in tests/properties-known-failing
# (a shell glob matched against the case name printed here, a TAB, the
# reason) and runs as a TAP TODO, so it shows as XFAIL, and as XPASS (which
# fails the suite) once it is fixed.
. "$(dirname "$0")/setup.sh"

SEED=${PROPERTIES_SEED:-5}
KNOWN=$top_srcdir/tests/properties-known-failing
PY=$(command -v python3 || true)

reason_for() {
    [ -f "$KNOWN" ] || return 0
    while IFS='	' read -r pat why; do
        case "$pat" in ''|\#*) continue ;; esac
        # shellcheck disable=SC2254
        case "$1" in $pat) echo "$why"; return ;; esac
    done < "$KNOWN"
}

# prop NAME PASSED DETAIL...: a case, a TODO when it is listed as known.
# (its own variable names: the caller's $name and $pass stay as they were)
prop() {
    p_name=$1 p_pass=$2
    shift 2
    p_why=$(reason_for "$p_name")
    if [ -n "$p_why" ]; then
        todo "$p_name" "$p_why" "$p_pass"
    elif [ "$p_pass" = 1 ]; then
        ok "$p_name"
    else
        not_ok "$p_name" "$@"
    fi
}

# zf OUT ERR ARG...: zhfix under timeout; sets $zrc
zf() {
    o=$1 e=$2
    shift 2
    zrc=0
    timeout 60 "$ZHFIX" "$@" > "$o" 2> "$e" || zrc=$?
}

# props NAME FILE: the four properties of one input
props() {
    name=$1 x=$2
    zf "$TMP/o1" "$TMP/e1" "$x"
    rc1=$zrc
    if [ $rc1 = 3 ] && grep -q 'binary file' "$TMP/e1"; then
        # refused: nothing to hold but that it is refused the same way
        prop "utf8: $name (binary: no output)" "$( [ ! -s "$TMP/o1" ] && echo 1 || echo 0)"
        zf "$TMP/c" "$TMP/ce" --check "$x"
        prop "check: $name (binary: exit 3)" "$( [ $zrc = 3 ] && echo 1 || echo 0)" \
            "--check exit $zrc, $(head -c 300 "$TMP/ce")"
        return
    fi
    if [ $rc1 != 0 ]; then
        not_ok "run: $name" "exit $rc1" "$(head -c 300 "$TMP/e1")"
        return
    fi
    # utf8
    pass=1
    iconv -f UTF-8 -t UTF-8 < "$TMP/o1" > /dev/null 2> "$TMP/ie" || pass=0
    prop "utf8: $name" $pass "$(head -c 300 "$TMP/ie")"
    # idempotent
    zf "$TMP/o2" "$TMP/e2" "$TMP/o1"
    pass=0
    [ $zrc = 0 ] && cmp -s "$TMP/o1" "$TMP/o2" && pass=1
    prop "idempotent: $name" $pass "second run exit $zrc: $(head -c 200 "$TMP/e2")" \
        "$(first_diff "$TMP/o1" "$TMP/o2")"
    # check, by name and on stdin
    if cmp -s "$x" "$TMP/o1"; then want=0; else want=1; fi
    zf "$TMP/c" "$TMP/ce" --check "$x"
    pass=0
    if [ $want = 1 ]; then
        [ $zrc = 1 ] && [ "$(cat "$TMP/c")" = "$x" ] && pass=1
    else
        [ $zrc = 0 ] && [ ! -s "$TMP/c" ] && pass=1
    fi
    prop "check: $name" $pass "output differs from input: $want; --check exit $zrc" \
        "listed: $(head -c 200 "$TMP/c")" "$(head -c 200 "$TMP/ce")"
    zrc=0
    timeout 60 "$ZHFIX" --check -q < "$x" > "$TMP/c" 2> "$TMP/ce" || zrc=$?
    pass=0
    [ $zrc = $want ] && pass=1
    prop "check-stdin: $name" $pass "output differs from input: $want; --check exit $zrc" \
        "$(head -c 200 "$TMP/ce")"
}

# ---- the fixtures --------------------------------------------------------

cd "$top_srcdir"
for x in $(find fixtures -type f \( -name '*.txt' -o -name '*.bin' \) | LC_ALL=C sort); do
    case "$x" in *.want.txt|*.keep.txt) continue ;; esac
    props "${x#fixtures/}" "$x"
done

# ---- generated inputs ----------------------------------------------------

if [ -z "$PY" ]; then
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - generated inputs # SKIP python3 is needed to make them"
    done_testing
    exit 0
fi
G=$TMP/gen
mkdir "$G"
find fixtures -type f \( -name '*.txt' -o -name '*.bin' \) | LC_ALL=C sort > "$TMP/list"
"$PY" - "$G" "$SEED" "$TMP/list" <<'EOF'
import random, sys
out, seed, listing = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = random.Random(seed)
lines = []
for path in open(listing).read().split():
    with open(path, 'rb') as f:
        lines += f.read().splitlines(keepends=True)
lines.sort()  # independent of the listing order
def put(name, data):
    with open('%s/%s' % (out, name), 'wb') as f:
        f.write(data)
# random bytes: all 256 values, or text-like (mostly ASCII with high-bit
# pairs, as in GBK or mojibake), of sizes around nothing and 64 KiB
for i in range(12):
    n = r.choice([1, 2, 3, 7, 100, 1000, 5000, 65535, 65537, 70000])
    if i % 2 == 0:
        b = bytes(r.getrandbits(8) for _ in range(n))
    else:
        b = bytearray()
        while len(b) < n:
            c = r.random()
            if c < 0.6:
                b.append(r.choice(b' abcdefghij,.\n'))
            else:
                b += bytes([r.randrange(0x81, 0xFF), r.randrange(0x40, 0xFF)])
        b = bytes(b[:n])
    put('random-%02d.bin' % i, b)
# random mixes of fixture lines: text in several encodings, scripts and
# kinds of damage side by side
for i in range(16):
    k = r.choice([3, 10, 40, 200])
    put('mix-%02d.txt' % i, b''.join(r.choice(lines) for _ in range(k)))
# mutated lines: a mix with bytes dropped, doubled or flipped
for i in range(12):
    b = bytearray(b''.join(r.choice(lines) for _ in range(r.choice([5, 30]))))
    for _ in range(max(1, len(b) // 200)):
        if not b:
            break
        j = r.randrange(len(b))
        op = r.randrange(3)
        if op == 0:
            del b[j]
        elif op == 1:
            b.insert(j, b[j])
        else:
            b[j] ^= 1 << r.randrange(8)
    put('mutated-%02d.txt' % i, bytes(b))
EOF
# the fuzzers' reproducers (fuzz/corpus/repro-*): their input bytes, after
# the two option bytes, run here with default options
for f in fuzz/corpus/repro-*; do
    [ -f "$f" ] || continue
    tail -c +3 "$f" > "$G/fuzz-${f#fuzz/corpus/}"
done
for x in "$G"/*; do
    props "gen/$(basename "$x")" "$x"
done

done_testing
