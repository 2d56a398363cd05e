#!/usr/bin/env python3
"""Check the generated Traditional/Simplified tables against OpenCC's files.

Run by hand (not by `make tables`, it writes no header):

    python3 tables/check_ts.py [--driver PATH/pass_driver [--corpus DIR]]

1. Decodes script_chars.h, script_ts.h, script_st.h and words.h back
   into Python and compares them with fresh dumps of OpenCC 1.1.6's
   .ocd2 files: every default (first candidate) must be OpenCC's, every
   phrase must decode to OpenCC's value; each deliberate difference is
   counted by its reason (Taiwan variants, 台 kept, pruned candidates).
2. Round trip through OpenCC's own character tables, listing the one-way
   mappings: Traditional characters that t2s then s2t does not give back
   (乾 -> 干 -> 幹), and Simplified characters that s2t then t2s does not.
3. With --driver, runs the script pass over manpages-zh (rendered with
   man(1); or the *.txt files in --corpus DIR): zh_CN text through
   OpenCC's s2tw and back with --script=hans, zh_TW text through OpenCC's
   t2s and back with --script=hant, and prints the character error rate
   beside OpenCC's own t2s/tw2s and s2tw.  Exits non-zero if part 1 finds a
   difference with no known reason.
"""
import argparse
import collections
import glob
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_script_chars as sc  # noqa: E402


def c_arrays(path):
    """Every `static const T name[N] = { ... };` of a generated header."""
    text = open(path, encoding="utf-8").read()
    arrays = {}
    for m in re.finditer(r"static const (?:struct \w+ \{[^}]*\}|\w+) (\w+)\[\d+\] = \{(.*?)\n\};",
                         text, re.S):
        name, body = m.group(1), m.group(2)
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        if "{" in body:
            rows = re.findall(r"\{([^}]*)\}", body)
            arrays[name] = [tuple(int(x) for x in r.split(",")) for r in rows]
        else:
            arrays[name] = [int(x) for x in body.replace("\n", " ").split(",") if x.strip()]
    defines = dict(re.findall(r"#define (\w+) (\S+)", text))
    return arrays, defines


def read_dict(path, prefix):
    """{key: payload} of one write_dict() table."""
    a, _ = c_arrays(path)
    first, start, koff = a[prefix + "_first"], a[prefix + "_start"], a[prefix + "_koff"]
    keys, val = bytes(a[prefix + "_keys"]), a[prefix + "_val"]
    out = {}
    for g, f in enumerate(first):
        for e in range(start[g], start[g + 1]):
            tail = keys[koff[e]:koff[e + 1]]
            s = chr(f) + "".join(chr(int.from_bytes(tail[i:i + 3], "big"))
                                 for i in range(0, len(tail), 3))
            out[s] = val[e]
    return out


def read_chars(path):
    """{char: (flags, hans_ctx, hans_all, hant_ctx, hant_all)}."""
    a, d = c_arrays(path)
    info, cand = a["zf_script_info"], a["zf_script_cand"]
    stage1, stage2 = a["zf_script_stage1"], a["zf_script_stage2"]
    rows = {}
    for hi, blk in enumerate(stage1):
        for lo in range(256):
            r = stage2[blk * 256 + lo]
            if r:
                rows[chr(hi << 8 | lo)] = r
    for cp, r in zip(a["zf_script_supp_cp"], a["zf_script_supp_row"]):
        rows[chr(cp)] = r
    out = {}
    for c, r in rows.items():
        flags, nh, ho, nt, to = info[r]
        hall = [chr(x) for x in cand[ho:ho + (nh >> 4)]]
        tall = [chr(x) for x in cand[to:to + (nt >> 4)]]
        out[c] = (flags, hall[:nh & 15], hall, tall[:nt & 15], tall)
    return out


def decode_phrase(key, bits, all_of):
    return "".join(all_of(c)[(bits >> (2 * i)) & 3] if all_of(c) else c
                   for i, c in enumerate(key))


def check_tables(d):
    chars = read_chars(os.path.join(HERE, "script_chars.h"))
    notes = collections.Counter()
    bad = []

    def hans_all(c):
        return chars[c][2] if c in chars else []

    def hant_all(c):
        return chars[c][4] if c in chars else []

    # characters, Traditional -> Simplified
    for c, v in sorted(d.TSCharacters.items()):
        got = chars.get(c, (0, [], [], [], []))[1] or [c]
        if got[0] != v[0]:
            bad.append("hans default %s: %s, OpenCC %s" % (c, got[0], v[0]))
        for x in got[1:]:
            if x not in v:
                notes["hans: extra candidate from TWVariants (著 -> 着)"] += 1
        for x in v[1:]:
            if x not in got:
                notes["hans: OpenCC candidate unseen in jieba, dropped"] += 1
    # characters, Simplified -> Traditional
    for c, v in sorted(d.STCharacters.items()):
        got = chars.get(c, (0, [], [], [], []))[3] or [c]
        want = d.TWVariants.get(v[0], [v[0]])[0]
        if got[0] != want:
            if got[0] == c and c in v:
                notes["hant: %s kept, a standard writes %s as %s" % (c, want, c)] += 1
            else:
                bad.append("hant default %s: %s, OpenCC %s" % (c, got[0], want))
        elif want != v[0]:
            notes["hant: Taiwan form as default (爲 -> 為)"] += 1
    for c, v in sorted(d.TWVariants.items()):
        if c not in d.STCharacters:
            got = chars.get(c, (0, [], [], [], []))[3] or [c]
            if got[0] != v[0]:
                bad.append("hant default %s: %s, TWVariants %s" % (c, got[0], v[0]))
            else:
                notes["hant: Taiwan form of a shared character (着 -> 著)"] += 1
        for x in v[1:]:
            if d.TWVariants.get(x, [x])[0] not in got and x != c:
                notes["hant: candidate no word or phrase uses, dropped"] += 1
    # phrases
    ts = read_dict(os.path.join(HERE, "script_ts.h"), "zf_tsphr")
    for k, v in sorted(d.TSPhrases.items()):
        if k not in ts:
            bad.append("TSPhrases %s missing" % k)
        elif decode_phrase(k, ts[k], hans_all) != v[0]:
            bad.append("TSPhrases %s: %s, OpenCC %s" % (k, decode_phrase(k, ts[k], hans_all), v[0]))
    notes["hans phrases from TWVariantsRevPhrases"] = len(ts) - len(d.TSPhrases)
    st = read_dict(os.path.join(HERE, "script_st.h"), "zf_stphr")
    for k, v in sorted(d.STPhrases.items()):
        if k not in st:
            notes["hant: phrase dropped, only the default conversion"] += 1
            continue
        got = decode_phrase(k, st[k], hant_all)
        want = "".join(d.TWVariants.get(x, [x])[0]
                       if k[i] in d.STCharacters or k[i] in d.TWVariants else x
                       for i, x in enumerate(v[0]))
        if got != want:
            diff = [(a, b) for a, b in zip(got, want) if a != b]
            if all(a in d.STCharacters and a in d.STCharacters[a] for a, _ in diff):
                notes["hant: phrase keeps 台 (HKVariants 臺 -> 台)"] += 1
            else:
                bad.append("STPhrases %s: %s, OpenCC %s" % (k, got, want))
    words = read_dict(os.path.join(HERE, "words.h"), "zf_swords")
    twords = read_dict(os.path.join(HERE, "words.h"), "zf_twords")
    print("tables: %d characters, %d+%d phrases, %d+%d words decoded"
          % (len(chars), len(ts), len(st), len(words), len(twords)))
    for k, n in sorted(notes.items()):
        print("  %6d  %s" % (n, k))
    for b in bad[:40]:
        print("  DIFF  " + b)
    print("  %d unexplained differences" % len(bad))
    return not bad


def round_trip(d):
    ts, st = d.TSCharacters, d.STCharacters
    t_one = collections.defaultdict(list)
    for t, v in sorted(ts.items()):
        s = v[0]
        back = st.get(s, [s])[0]
        if back != t:
            t_one[s].append(t)
    s_one = []
    for s, v in sorted(st.items()):
        t = v[0]
        back = ts.get(t, [t])[0]
        if back != s:
            s_one.append((s, t, back))
    print("round trip T -> S -> T: %d of %d Traditional characters do not come back"
          % (sum(map(len, t_one.values())), len(ts)))
    print("  one-way (Simplified <- Traditional forms merged into it, the first is what "
          "s2t gives back):")
    line = []
    for s, lst in sorted(t_one.items()):
        line.append("%s<-%s(%s)" % (s, "".join(lst), st.get(s, [s])[0]))
        if len(line) == 12:
            print("    " + " ".join(line))
            line = []
    if line:
        print("    " + " ".join(line))
    print("round trip S -> T -> S: %d of %d Simplified characters do not come back"
          % (len(s_one), len(st)))
    print("    " + " ".join("%s>%s>%s" % x for x in s_one))


def cer(ref, got):
    a, b = open(ref, encoding="utf-8").read(), open(got, encoding="utf-8").read()
    if len(a) != len(b):
        return "length differs"
    errs = collections.Counter((x, y) for x, y in zip(a, b) if x != y)
    n = sum(errs.values())
    top = " ".join("%s>%s:%d" % (x, y, c) for (x, y), c in errs.most_common(8))
    return "%6d errors in %d characters = %.4f%%  %s" % (n, len(a), 100.0 * n / len(a), top)


def corpus(lang, tmp, src_dir):
    """Lines with six or more Han characters, deduplicated, one file."""
    files = sorted(glob.glob(os.path.join(src_dir, lang, "*.txt"))) if src_dir else \
        sorted(glob.glob("/usr/share/man/%s/man*/*.gz" % lang))
    seen, lines = set(), []
    for f in files:
        if f.endswith(".gz"):
            env = dict(os.environ, MANWIDTH="2000", LANG="C.UTF-8")
            p = subprocess.run(["man", "-l", f], capture_output=True, env=env)
            text = subprocess.run(["col", "-bx"], input=p.stdout,
                                  capture_output=True).stdout.decode("utf-8", "replace")
        else:
            text = open(f, encoding="utf-8", errors="replace").read()
        for line in text.split("\n"):
            line = line.strip()
            if len(re.findall("[\u4e00-\u9fff]", line)) >= 6 and line not in seen:
                seen.add(line)
                lines.append(line)
    path = os.path.join(tmp, lang + ".txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_corpus(driver, src_dir):
    with tempfile.TemporaryDirectory() as tmp:
        def opencc(cfg, src, name):
            out = os.path.join(tmp, name)
            subprocess.run(["opencc", "-c", cfg, "-i", src, "-o", out], check=True)
            return out

        def ours(script, src, name):
            out = os.path.join(tmp, name)
            with open(src, "rb") as i, open(out, "wb") as o:
                subprocess.run([driver, "--only=script", "--script=" + script],
                               stdin=i, stdout=o, check=True)
            return out
        cn = corpus("zh_CN", tmp, src_dir)
        tw = opencc("s2tw", cn, "cn_s2tw.txt")
        print("zh_CN -> OpenCC s2tw -> back to Simplified:")
        print("  OpenCC t2s    " + cer(cn, opencc("t2s", tw, "a.txt")))
        print("  OpenCC tw2s   " + cer(cn, opencc("tw2s", tw, "b.txt")))
        print("  zhfix hans    " + cer(cn, ours("hans", tw, "c.txt")))
        twc = corpus("zh_TW", tmp, src_dir)
        s = opencc("t2s", twc, "tw_t2s.txt")
        print("zh_TW -> OpenCC t2s -> back to Traditional:")
        print("  OpenCC s2tw   " + cer(twc, opencc("s2tw", s, "d.txt")))
        print("  zhfix hant    " + cer(twc, ours("hant", s, "e.txt")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver")
    ap.add_argument("--corpus")
    args = ap.parse_args()
    d = sc.data()
    ok = check_tables(d)
    round_trip(d)
    if args.driver:
        run_corpus(args.driver, args.corpus)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
