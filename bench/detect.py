#!/usr/bin/python3
"""Part 4: encoding detection.  Paragraphs and 8-30 character snippets of
the corpus (Simplified and Traditional alternately; Big5 only from the
Traditional book and only where Big5 can hold the text) are encoded in
GB18030, Big5, UTF-16LE and UTF-16BE without BOM, and UTF-8, one file per
sample.  A sample is decoded exactly when

  zhfix --skip=mojibake,pinyin,punct,script FILE

prints the original UTF-8 bytes and exits 0.  Beside it: `uchardet FILE`
and `iconv -f DETECTED -t UTF-8 FILE` (uchardet's answer as it is; an
`unknown` or a failing iconv counts as wrong).

Writes detect.json in BENCH_WORK.
"""
import collections
import concurrent.futures
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

ENCODINGS = [("GB18030", "gb18030"), ("Big5", "big5"), ("UTF-16LE", "utf-16-le"),
             ("UTF-16BE", "utf-16-be"), ("UTF-8", "utf-8")]
SKIP_ALL = ["--skip=mojibake,pinyin,punct,script"]


def han_share(s):
    chars = [c for c in s if not c.isspace()]
    return sum(1 for c in chars if "\u3400" <= c <= "\u9fff") / max(len(chars), 1)


def snippets(paras, rng, count):
    out = []
    tries = 0
    while len(out) < count and tries < count * 50:
        tries += 1
        p = rng.choice(paras)
        n = rng.randint(8, 30)
        if len(p) < n:
            continue
        a = rng.randint(0, len(p) - n)
        s = p[a:a + n]
        if han_share(s) >= 0.5 and s.strip() == s:
            out.append(s)
    return out


def big5_ok(texts):
    """Which texts iconv's BIG5 gives back exactly from Python's Big5 bytes
    (the two tables differ on a few characters)."""
    enc = []
    for s in texts:
        try:
            b = s.encode("big5")
            enc.append(b if b.decode("big5") == s else None)
        except UnicodeEncodeError:
            enc.append(None)
    joined = b"\n".join(b for b in enc if b is not None) + b"\n"
    p = subprocess.run(["iconv", "-f", "BIG5", "-t", "UTF-8"], input=joined, capture_output=True)
    back = iter(p.stdout.decode("utf-8", "replace").split("\n"))
    ok = []
    for s, b in zip(texts, enc):
        ok.append(b is not None and next(back, None) == s)
    return ok


def main():
    hans = common.read_lines(os.path.join(common.WORK, "hans.txt"))
    hant = common.read_lines(os.path.join(common.WORK, "hant.txt"))
    n_par, n_snip = (40, 60) if common.QUICK else (200, 400)
    rng = random.Random("%d:detect" % common.SEED)
    mixed = [x for pair in zip(hans, hant) for x in pair]
    sets = {}
    for label, pyenc in ENCODINGS:
        src = hant if pyenc == "big5" else mixed
        if pyenc == "big5":
            keep = big5_ok(src)
            src = [s for s, k in zip(src, keep) if k]
        pars = rng.sample(src, min(n_par, len(src)))
        snips = snippets(src, rng, n_snip * 2 if pyenc == "big5" else n_snip)
        if pyenc == "big5":
            keep = big5_ok(snips)
            snips = [s for s, k in zip(snips, keep) if k][:n_snip]
        sets[label] = {"paragraphs": pars, "snippets": snips}

    base = os.path.join(common.WORK, "detect")
    results = {}
    zcmd = common.zhfix_cmd() + SKIP_ALL
    for label, pyenc in ENCODINGS:
        for size in ("paragraphs", "snippets"):
            texts = sets[label][size]
            d = os.path.join(base, label, size)
            os.makedirs(d, exist_ok=True)
            paths = []
            for k, s in enumerate(texts):
                path = os.path.join(d, "%04d.bin" % k)
                with open(path, "wb") as f:
                    f.write(s.encode(pyenc))
                paths.append(path)

            def z(k):
                rc, out, _ = common.run(zcmd + [paths[k]], timeout=30)
                if rc == 0 and out == texts[k].encode("utf-8"):
                    return True, None
                rep = os.path.join(d, "%04d.json" % k)
                common.run(zcmd + ["--report=" + rep, paths[k]], timeout=30)
                got = "exit %s" % rc
                try:
                    with open(rep, encoding="utf-8") as f:
                        got = json.loads(f.readline()).get("encoding", got) or got
                except (OSError, ValueError):
                    pass
                return False, str(got)

            def u(k, charset):
                if charset in ("", "unknown", "ASCII"):
                    return False
                rc, out, _ = common.run(["iconv", "-f", charset, "-t", "UTF-8", paths[k]], timeout=30)
                return rc == 0 and out == texts[k].encode("utf-8")

            with concurrent.futures.ThreadPoolExecutor(2) as ex:
                zres = list(ex.map(z, range(len(paths))))
            charsets = []
            for k0 in range(0, len(paths), 200):
                p = subprocess.run(["uchardet"] + paths[k0:k0 + 200], capture_output=True, text=True)
                lines = p.stdout.splitlines()
                if len(paths[k0:k0 + 200]) == 1:
                    charsets.append(lines[0].strip() if lines else "")
                else:
                    got = dict(line.rsplit(": ", 1) for line in lines if ": " in line)
                    charsets.extend(got.get(x, "").strip() for x in paths[k0:k0 + 200])
            with concurrent.futures.ThreadPoolExecutor(2) as ex:
                ures = list(ex.map(u, range(len(paths)), charsets))
            zwrong = collections.Counter(g for ok, g in zres if not ok)
            uwrong = collections.Counter(c or "(none)" for c, ok in zip(charsets, ures) if not ok)
            r = {"n": len(paths),
                 "zhfix": sum(ok for ok, _ in zres) / max(len(paths), 1),
                 "uchardet": sum(ures) / max(len(paths), 1),
                 "zhfix_wrong_as": dict(zwrong.most_common(4)),
                 "uchardet_wrong_as": dict(uwrong.most_common(4)),
                 "zhfix_fail_examples": [texts[k] for k, (ok, _) in enumerate(zres) if not ok][:3]}
            results.setdefault(label, {})[size] = r
            print("detect: %-8s %-10s n=%3d zhfix %5.1f%%  uchardet+iconv %5.1f%%  zhfix wrong as %s"
                  % (label, size, r["n"], 100 * r["zhfix"], 100 * r["uchardet"],
                     r["zhfix_wrong_as"]), flush=True)
    total = {}
    for size in ("paragraphs", "snippets"):
        n = sum(results[l][size]["n"] for l, _ in ENCODINGS)
        total[size] = {
            "n": n,
            "zhfix": sum(results[l][size]["zhfix"] * results[l][size]["n"] for l, _ in ENCODINGS) / max(n, 1),
            "uchardet": sum(results[l][size]["uchardet"] * results[l][size]["n"] for l, _ in ENCODINGS) / max(n, 1)}
    common.save_json("detect.json", {"by_encoding": results, "total": total})


if __name__ == "__main__":
    main()
