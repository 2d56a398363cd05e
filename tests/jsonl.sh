#!/bin/sh
# jsonl.sh - zhfix --jsonl: records repaired field by field, every other
# byte kept; escapes, surrogate pairs, nested objects, fields that are not
# strings; invalid lines under each --jsonl-invalid policy; CRLF, a last
# line without newline; --report, --check, -i, --diff, --explain, --stats;
# and GNU parallel --pipe giving the bytes of a single process.
#
# The repair asked of the library is one that is settled: ASCII punctuation
# between Chinese characters made full-width (你好,世界 -> 你好，世界).
# Every expected output is written out here byte for byte.
. "$(dirname "$0")/setup.sh"

state() { stat -c '%i %y %a %s' "$1" && cksum < "$1"; }
py=$(command -v /usr/bin/python3 || command -v python3 || true)

# ---- round trip: one case per line, input and expected output ----------

# each case: NAME, then the input line, then the expected line
cat > "$TMP/cases" <<'EOF'
plain text field
{"id":1,"text":"你好,世界","n":1.5e3}
{"id":1,"text":"你好，世界","n":1.5e3}
escapes kept (quote, backslash, slash, newline, tab); u-escape of a raw UTF-8 value decoded
{"text":"a\"b\\c\/d\n你好,世界\t\u4e16"}
{"text":"a\"b\\c\/d\n你好，世界\t世"}
an all-ASCII value stays ASCII, lower-case hex
{"text":"\u4f60\u597d,\u4e16\u754c"}
{"text":"\u4f60\u597d\uff0c\u4e16\u754c"}
an all-ASCII value stays ASCII, upper-case hex
{"text":"\u4F60\u597D,\u4E16\u754C"}
{"text":"\u4F60\u597D\uFF0C\u4E16\u754C"}
a surrogate pair is one character (raw UTF-8 value)
{"text":"\ud83d\ude00你好,世界"}
{"text":"😀你好，世界"}
a surrogate pair stays a pair in an all-ASCII value
{"text":"\ud83d\ude00\u4f60\u597d,\u4e16\u754c"}
{"text":"\ud83d\ude00\u4f60\u597d\uff0c\u4e16\u754c"}
a raw emoji next to the repair
{"text":"😀你好,世界"}
{"text":"😀你好，世界"}
an unchanged value keeps its escapes byte for byte
{"text":"\u4f60\u597d\uff0c\u4e16\u754c \/ \u0041"}
{"text":"\u4f60\u597d\uff0c\u4e16\u754c \/ \u0041"}
spacing, key order, numbers, literals and other fields kept
{ "z" : -0.5E+10 ,"text" :	"你好,世界" , "a":[ "你好,世界" ,true,null,false, 0 ], "b" : {"text":"你好,世界"} }
{ "z" : -0.5E+10 ,"text" :	"你好，世界" , "a":[ "你好,世界" ,true,null,false, 0 ], "b" : {"text":"你好,世界"} }
a number where the field should be a string is left alone
{"text":12,"x":"你好,世界"}
{"text":12,"x":"你好,世界"}
null, an array and an object under the field are left alone
{"text":null,"t2":["你好,世界"],"t3":{"text":"你好,世界"}}
{"text":null,"t2":["你好,世界"],"t3":{"text":"你好,世界"}}
a record without the field is copied
{"title":"你好,世界"}
{"title":"你好,世界"}
a key written with escapes is the same key
{"t\u0065xt":"你好,世界"}
{"t\u0065xt":"你好，世界"}
a key given twice: both values repaired
{"text":"你好,世界","text":"早上好,世界"}
{"text":"你好，世界","text":"早上好，世界"}
an empty object and an empty value
{}
{}
an empty value
{"text":""}
{"text":""}
a control character the repair keeps is escaped as it was
{"text":"你好,世界\u0001"}
{"text":"你好，世界\u0001"}
a value starting with U+FEFF keeps it
{"text":"\ufeff你好,世界"}
{"text":"﻿你好，世界"}
EOF
n=0
: > "$TMP/in.jsonl"
: > "$TMP/want.jsonl"
while IFS= read -r name && IFS= read -r in && IFS= read -r want; do
    n=$((n + 1))
    printf '%s\n' "$in" > "$TMP/one.in"
    printf '%s\n' "$want" > "$TMP/one.want"
    printf '%s\n' "$in" >> "$TMP/in.jsonl"
    printf '%s\n' "$want" >> "$TMP/want.jsonl"
    run --jsonl "$TMP/one.in"
    t "round trip: $name" '[ $rc = 0 ] && same "$TMP/out" "$TMP/one.want" && [ ! -s "$TMP/err" ]'
done < "$TMP/cases"
run --jsonl "$TMP/in.jsonl"
t "all $n records in one file: one output line per input line" \
    '[ $rc = 0 ] && same "$TMP/out" "$TMP/want.jsonl"'
run --jsonl < "$TMP/in.jsonl"
t "the same from standard input" '[ $rc = 0 ] && same "$TMP/out" "$TMP/want.jsonl"'
if [ -n "$py" ]; then
    rc=0
    "$py" -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
b = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(a) == len(b)
for x, y in zip(a, b):
    # what the records mean: only "text" may differ, by the comma
    assert set(x) == set(y), (x, y)
    for k in x:
        if k == "text" and isinstance(x[k], str):
            assert x[k].replace(",", "\uff0c") == y[k], (x[k], y[k])
        else:
            assert x[k] == y[k], (k, x[k], y[k])
' "$TMP/in.jsonl" "$TMP/out" > "$TMP/err" 2>&1 || rc=$?
    t "python's json reads the same records, text aside" '[ $rc = 0 ]'
fi

# ---- fields -------------------------------------------------------------

printf '%s\n' '{"text":"你好,世界","meta":{"title":"你好,世界","text":"你好,世界","a":{"b":"你好,世界"}}}' > "$TMP/f.jsonl"
run --jsonl=meta.title,meta.a.b "$TMP/f.jsonl"
t "--jsonl=a.b,a.c.d: nested fields, only those" \
    '[ $rc = 0 ] && [ "$(cat "$TMP/out")" = "{\"text\":\"你好,世界\",\"meta\":{\"title\":\"你好，世界\",\"text\":\"你好,世界\",\"a\":{\"b\":\"你好，世界\"}}}" ]'
run --jsonl=text,text "$TMP/f.jsonl"
t "a field named twice is repaired once" \
    '[ $rc = 0 ] && [ "$(cat "$TMP/out")" = "{\"text\":\"你好，世界\",\"meta\":{\"title\":\"你好,世界\",\"text\":\"你好,世界\",\"a\":{\"b\":\"你好,世界\"}}}" ]'
run --jsonl=meta "$TMP/f.jsonl"
t "a field holding an object is left alone" '[ $rc = 0 ] && same "$TMP/out" "$TMP/f.jsonl"'

# ---- line ends -----------------------------------------------------------

printf '{"text":"你好,世界"}\r\n{"text":"好,的"}\r\n' > "$TMP/crlf.jsonl"
printf '{"text":"你好，世界"}\r\n{"text":"好，的"}\r\n' > "$TMP/crlf.want"
run --jsonl "$TMP/crlf.jsonl"
t "CRLF line endings kept" '[ $rc = 0 ] && same "$TMP/out" "$TMP/crlf.want"'
printf '{"text":"你好,世界"}\n\n   \n{"text":"好,的"}' > "$TMP/nonl.jsonl"
printf '{"text":"你好，世界"}\n\n   \n{"text":"好，的"}' > "$TMP/nonl.want"
run --jsonl "$TMP/nonl.jsonl"
t "blank lines kept, last line without newline stays so" \
    '[ $rc = 0 ] && same "$TMP/out" "$TMP/nonl.want"'
printf '\357\273\277{"text":"你好,世界"}\n' > "$TMP/bom.jsonl"
printf '\357\273\277{"text":"你好，世界"}\n' > "$TMP/bom.want"
run --jsonl "$TMP/bom.jsonl"
t "a byte order mark before the first record is kept" \
    '[ $rc = 0 ] && same "$TMP/out" "$TMP/bom.want"'
# a record longer than the read block (64 KiB), cut across blocks
"$py" -c '
import json
print(json.dumps({"id": 7, "text": "你好,世界。" * 20000}, ensure_ascii=False))
print(json.dumps({"text": "你好,世界"}, ensure_ascii=False))
' > "$TMP/long.jsonl"
sed 's/,/，/g; s/"id"：/"id":/; s/7，/7,/' "$TMP/long.jsonl" > "$TMP/long.want"
run --jsonl "$TMP/long.jsonl"
t "a 360 KB record across read blocks" '[ $rc = 0 ] && same "$TMP/out" "$TMP/long.want"'

# ---- lone surrogates, U+0000 ------------------------------------------

printf '%s\n' '{"text":"\ud83d 你好,世界","title":"你好,世界"}' '{"text":"你好,世界 \udc00"}' '{"text":"x\u0000你好,世界"}' > "$TMP/lone.jsonl"
printf '%s\n' '{"text":"\ud83d 你好,世界","title":"你好，世界"}' '{"text":"你好,世界 \udc00"}' '{"text":"x\u0000你好，世界"}' > "$TMP/lone.want"
run --jsonl=text,title "$TMP/lone.jsonl"
t "a lone surrogate: that value kept, the record still repaired; U+0000 repaired" \
    '[ $rc = 0 ] && same "$TMP/out" "$TMP/lone.want"'
t "... with a warning naming FILE:LINE and the field" \
    'grep -q "^zhfix: $TMP/lone.jsonl:1: text: a lone surrogate" "$TMP/err" && grep -q "^zhfix: $TMP/lone.jsonl:2: text: a lone surrogate" "$TMP/err" && [ "$(wc -l < "$TMP/err")" = 2 ]'
run -q --jsonl "$TMP/lone.jsonl"
t "-q: no warning" '[ $rc = 0 ] && [ ! -s "$TMP/err" ]'

# ---- invalid lines ----------------------------------------------------------

# Each is valid to jsmn's tokenizer or fails it; none is RFC 8259 JSON
# object text.  (The \x bytes are written by printf below.)
cat > "$TMP/bad.list" <<'EOF'
{"text":"a" "b":1}
{"text":"a",}
{"text" "a"}
{"text"::"a"}
{,"text":"a"}
{"a":[1,,2]}
{"a":[1,2,]}
{"a":tru}
{"a":nul}
{"a":01}
{"a":1.}
{"a":.5}
{"a":-}
{"a":1.2.3}
{"a":1e}
{"a":NaN}
{"a":"\x"}
{"a":"\u12"}
{"a":1}{"b":2}
{"a":1} x
{"a":[1}
{"a":1
{"a":'b'}
{a:1}
[1,2]
"text"
12
null
{"a":"tab	inside"}
EOF
printf '{"a":"\377"}\n{"a":"\300\200"}\n{"a":"\355\240\200"}\n{"a":"x\001y"}\n' >> "$TMP/bad.list"
nbad=$(wc -l < "$TMP/bad.list")
allbad=""
i=0
while IFS= read -r line; do
    i=$((i + 1))
    printf '%s\n' "$line" > "$TMP/b.jsonl"
    rc=0
    "$ZHFIX" --jsonl "$TMP/b.jsonl" > "$TMP/out" 2> "$TMP/err" || rc=$?
    if [ $rc != 3 ] || [ -s "$TMP/out" ] || ! grep -q "^zhfix: $TMP/b.jsonl:1: invalid JSON: " "$TMP/err"; then
        allbad="$allbad $i"
    fi
done < "$TMP/bad.list"
t "each of $nbad invalid lines is refused (exit 3, FILE:1 named)" \
    '[ -z "$allbad" ] || { echo "accepted lines:$allbad" >&2; false; }'
{ cat "$TMP/long.jsonl"; printf '{"a":"nul\000"}\n'; } > "$TMP/nul.jsonl"
run --jsonl --jsonl-invalid=pass "$TMP/nul.jsonl"
{ cat "$TMP/long.want"; printf '{"a":"nul\000"}\n'; } > "$TMP/want"
t "a raw NUL byte past the first block: that line is invalid" \
    '[ $rc = 0 ] && same "$TMP/out" "$TMP/want" && grep -q ":3: invalid JSON: NUL byte at column 10" "$TMP/err"'
printf '{"a":"nul\000"}\n' > "$TMP/nul.jsonl"
run --jsonl --jsonl-invalid=pass "$TMP/nul.jsonl"
t "a NUL byte at the start: a binary file (exit 3, as without --jsonl)" \
    '[ $rc = 3 ] && grep -q "binary" "$TMP/err"'
cat > "$TMP/good.jsonl" <<'EOF'
{"a":[1,{"b":[]},{}],"c":{"d":{"e":[[]]}},"n":[-0,0.5e-3,1E+2,-12.25e10,0,1e0]}
{"a":"\u0000\u001f\b\f\n\r\t\"\\\/","t":true,"f":false,"z":null}
	{"text"	:	"你好,世界"	}	
{"a":"\ud800\udc00\uDBFF\uDFFF","b":"DEL  ok"}
EOF
printf '%s\n' '{"k":"\u2028\u2029 "}' >> "$TMP/good.jsonl"
sed 's/你好,世界/你好，世界/' "$TMP/good.jsonl" > "$TMP/good.want"
run --jsonl "$TMP/good.jsonl"
t "valid corner cases (numbers, escapes, nesting, tabs, DEL, U+2028) are records" \
    '[ $rc = 0 ] && same "$TMP/out" "$TMP/good.want" && [ ! -s "$TMP/err" ]'

printf '%s\n' '{"text":"你好,世界"}' '{"text":"a" "b"}' '{"text":"好,的"}' > "$TMP/mix.jsonl"
run --jsonl --jsonl-invalid=pass "$TMP/mix.jsonl"
printf '%s\n' '{"text":"你好，世界"}' '{"text":"a" "b"}' '{"text":"好，的"}' > "$TMP/want"
t "--jsonl-invalid=pass: the line is kept as it was" '[ $rc = 0 ] && same "$TMP/out" "$TMP/want"'
want_err="zhfix: $TMP/mix.jsonl:2: invalid JSON: ',' or '}' expected at column 13; passed as it is"
t "--jsonl-invalid=pass: a warning names FILE:LINE and the column" \
    '[ "$(cat "$TMP/err")" = "$want_err" ]'
run --jsonl --jsonl-invalid=drop "$TMP/mix.jsonl"
printf '%s\n' '{"text":"你好，世界"}' '{"text":"好，的"}' > "$TMP/want"
t "--jsonl-invalid=drop: the line is left out, with a warning" \
    '[ $rc = 0 ] && same "$TMP/out" "$TMP/want" && grep -q ":2: invalid JSON: .*; dropped$" "$TMP/err"'
run --jsonl "$TMP/mix.jsonl"
t "--jsonl-invalid=fail (default): exit 3, FILE:LINE named, output stops before the line" \
    '[ $rc = 3 ] && [ "$(cat "$TMP/out")" = "{\"text\":\"你好，世界\"}" ] && grep -q "^zhfix: $TMP/mix.jsonl:2: invalid JSON: " "$TMP/err"'
cp "$TMP/mix.jsonl" "$TMP/edit.jsonl"
touch -d '2001-02-03 04:05:06' "$TMP/edit.jsonl"
before=$(state "$TMP/edit.jsonl")
run -i --jsonl "$TMP/edit.jsonl"
t "--jsonl-invalid=fail with -i: exit 3, the file untouched, no temporary file" \
    '[ $rc = 3 ] && [ "$(state "$TMP/edit.jsonl")" = "$before" ] && ! ls -A "$TMP" | grep -q "^\.zhfix-" && grep -q ":2: invalid JSON" "$TMP/err"'
run -i --jsonl --jsonl-invalid=pass "$TMP/edit.jsonl"
printf '%s\n' '{"text":"你好，世界"}' '{"text":"a" "b"}' '{"text":"好，的"}' > "$TMP/want"
t "-i --jsonl-invalid=pass rewrites the file" '[ $rc = 0 ] && same "$TMP/edit.jsonl" "$TMP/want"'
cp "$TMP/want.jsonl" "$TMP/clean.jsonl"
before=$(state "$TMP/clean.jsonl")
run -i --jsonl "$TMP/clean.jsonl"
t "-i --jsonl: a file with nothing to repair is not rewritten" \
    '[ $rc = 0 ] && [ "$(state "$TMP/clean.jsonl")" = "$before" ]'
run --jsonl-invalid=maybe --jsonl "$TMP/mix.jsonl"
t "usage error: --jsonl-invalid=maybe" '[ $rc = 2 ] && [ ! -s "$TMP/out" ]'

# ---- --check, --report, --explain, --diff, --stats -------------------------

run --check --jsonl "$TMP/in.jsonl" "$TMP/clean.jsonl"
t "--check --jsonl lists the file with records to repair, exit 1" \
    '[ $rc = 1 ] && [ "$(cat "$TMP/out")" = "$TMP/in.jsonl" ]'
run --jsonl --jsonl-invalid=pass --report="$TMP/rep" "$TMP/mix.jsonl" "$TMP/lone.jsonl"
if [ -n "$py" ]; then
    rc=0
    "$py" - "$TMP/rep" "$TMP" > "$TMP/err" 2>&1 << 'EOF' || rc=$?
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
d = sys.argv[2]
want = [("mix", 1, "ok"), ("mix", 2, "invalid"), ("mix", 3, "ok"), ("mix", None, "ok"),
        ("lone", 1, "ok"), ("lone", 2, "ok"), ("lone", 3, "ok"), ("lone", None, "ok")]
got = [(r["path"][len(d) + 1:].split(".")[0], r.get("line"), r["status"]) for r in rows]
assert got == want, got
m1, m2, m3, mf = rows[:4]
assert m1["changed"] is True and m1["values_changed"] == 1 and m1["edits"]["punct"] == 1, m1
assert m2["error"] == "',' or '}' expected at column 13" and m2["action"] == "pass", m2
assert mf["records"] == 3 and mf["records_changed"] == 2 and mf["records_invalid"] == 1, mf
assert mf["changed"] is True and mf["edits"]["punct"] == 2, mf
l1, l2, l3, lf = rows[4:]
assert l1["values_kept"] == 1 and l1["changed"] is False, l1
assert l2["values_kept"] == 1 and l2["changed"] is False, l2
assert l3["values_kept"] == 0 and l3["changed"] is True, l3
assert lf["values_kept"] == 2 and lf["records"] == 3 and lf["records_changed"] == 1, lf
EOF
    t "--report --jsonl: a line per record changed, kept or invalid, then the file's" '[ $rc = 0 ]'
fi
run --jsonl --explain "$TMP/mix.jsonl" --jsonl-invalid=pass
t "--explain --jsonl: FILE:LINE: FIELD: KIND: BEFORE -> AFTER" \
    '[ $rc = 0 ] && [ "$(head -n 1 "$TMP/out")" = "$TMP/mix.jsonl:1: text: punct: , -> ，" ] && [ "$(wc -l < "$TMP/out")" = 2 ]'
run --jsonl --diff --jsonl-invalid=pass "$TMP/mix.jsonl"
"$ZHFIX" --jsonl --jsonl-invalid=pass "$TMP/mix.jsonl" > "$TMP/fixed" 2> /dev/null
diff -u --label "a/$TMP/mix.jsonl" --label "b/$TMP/mix.jsonl" "$TMP/mix.jsonl" "$TMP/fixed" > "$TMP/want" || true
t "--diff --jsonl equals GNU diff -u of input and output" '[ $rc = 0 ] && same "$TMP/out" "$TMP/want"'
run --jsonl --diff --jsonl-invalid=drop "$TMP/mix.jsonl"
t "usage error: --diff with --jsonl-invalid=drop" '[ $rc = 2 ]'
run --jsonl --to=GB18030 "$TMP/mix.jsonl"
t "usage error: --jsonl with --to" '[ $rc = 2 ] && grep -q "JSON text is UTF-8" "$TMP/err"'
run --jsonl --from=GB18030 "$TMP/mix.jsonl"
t "usage error: --jsonl with --from" '[ $rc = 2 ]'
run --jsonl=text,,x "$TMP/mix.jsonl"
t "usage error: an empty field name" '[ $rc = 2 ]'
run --jsonl --jsonl-invalid=pass --stats "$TMP/mix.jsonl"
t "--stats --jsonl: the records line" \
    'grep -q "^zhfix: stats: records 3 (changed 2, invalid 1; values left as they were 0)$" "$TMP/err"'

# ---- scale-out: GNU parallel --pipe -----------------------------------------

if command -v parallel > /dev/null && [ -n "$py" ]; then
    # 20000 records made from the seed documents: one record per line of a
    # seed, the text in raw UTF-8 or all-ASCII \u escapes by turns, ids,
    # nested metadata, a few invalid lines
    "$py" - "$top_srcdir/fixtures/seeds" > "$TMP/big.jsonl" << 'EOF'
import glob, json, os, sys
lines = []
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.txt"))):
    if f.endswith(".want.txt") or f.endswith(".keep.txt"):
        continue
    with open(f, encoding="utf-8", errors="replace") as fh:
        lines += [l.rstrip("\n") for l in fh if l.strip()]
for i in range(20000):
    rec = {"id": i, "text": lines[i % len(lines)], "meta": {"src": "seed", "n": i * 0.5}}
    s = json.dumps(rec, ensure_ascii=(i % 2 == 0), separators=(",", ":") if i % 3 else (", ", ": "))
    if i % 997 == 0:
        s = s[:-1]  # an invalid line now and then
    print(s)
EOF
    "$ZHFIX" --jsonl --jsonl-invalid=pass < "$TMP/big.jsonl" > "$TMP/one.out" 2> /dev/null
    rc=0
    parallel --will-cite --pipe --keep-order -N 1000 "$ZHFIX" --jsonl --jsonl-invalid=pass \
        < "$TMP/big.jsonl" > "$TMP/par.out" 2> /dev/null || rc=$?
    t "parallel --pipe --keep-order -N 1000: the bytes of a single process (20000 records)" \
        '[ $rc = 0 ] && same "$TMP/par.out" "$TMP/one.out" && [ "$(wc -l < "$TMP/par.out")" = 20000 ]'
    t "... and the repair changed records (the test has something to compare)" \
        '! same "$TMP/one.out" "$TMP/big.jsonl"'
    rc=0
    parallel --will-cite --pipe --keep-order --block 64k "$ZHFIX" --jsonl --jsonl-invalid=pass \
        < "$TMP/big.jsonl" > "$TMP/par.out" 2> /dev/null || rc=$?
    t "parallel --pipe --block 64k (cut by size, at line ends): the same bytes" \
        '[ $rc = 0 ] && same "$TMP/par.out" "$TMP/one.out"'
else
    tap_n=$((tap_n + 1)); echo "ok $tap_n - parallel --pipe # SKIP no GNU parallel or python3"
fi

done_testing
