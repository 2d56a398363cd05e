#!/usr/bin/python3
"""Part 3: repair quality.  For each damage kind, the clean paragraphs of
the corpus are damaged (bench/damage.py), grouped into documents of
DOC_PARAS paragraphs (a file each, as a crawled page would be), repaired by
`zhfix FILE` with default options, and compared with the originals:

  CER = sum of edit distances / sum of reference lengths (code points),
  before repair, after zhfix, and after OpenCC on the same input where a
  script conversion is a meaningful baseline;
  exact = share of paragraphs that come back byte for byte.

Clean paragraphs (no damage) must come out byte-identical; `--explain`
lines are counted as the number of edits zhfix made to them.

Writes quality.json in BENCH_WORK.
"""
import concurrent.futures
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import damage  # noqa: E402
import tables  # noqa: E402

DOC_PARAS = 8
CER_PUNCT = 0.0005

# name, corpus, damage kind (None: clean), reference script, baselines,
# goal: ("cer", limit) | ("exact", share) | ("zero", 0) | None
KINDS = [
    ("clean Simplified", "hans", None, ["t2s"], ("zero", 0)),
    ("clean Traditional", "hant", None, [], ("zero", 0)),
    ("s2t-pinyin", "hans", "s2t-pinyin", ["t2s"], ("cer", CER_PUNCT)),
    ("s2t (no pinyin)", "hans", "s2t", ["t2s"], None),
    ("punct-flat", "hans", "punct-flat", [], ("cer", CER_PUNCT)),
    ("punct-flat (Traditional)", "hant", "punct-flat", [], ("cer", CER_PUNCT)),
    ("stray-commas", "hans", "stray-commas", [], ("cer", CER_PUNCT)),
    ("t2s-partial (Traditional)", "hant", "t2s-partial", ["s2t", "s2tw"], ("cer", 0.003)),
    ("gbk-shift", "hans", "gbk-shift", [], ("cer", 0.005)),
    ("seed-like", "hans", "seed-like", ["t2s"], None),
    ("utf8-as-gbk", "hans", "utf8-as-gbk", [], "codec"),
    ("utf8-as-gbk-span", "hans", "utf8-as-gbk-span", [], "codec"),
    ("gbk-as-latin1", "hans", "gbk-as-latin1", [], "codec"),
    ("gbk-as-cp1252", "hans", "gbk-as-cp1252", [], "codec"),
    ("utf8-as-cp1252", "hans", "utf8-as-cp1252", [], "codec"),
    ("utf8-as-cp1252-lossy", "hans", "utf8-as-cp1252-lossy", [], "codec"),
    ("utf8-as-latin1", "hans", "utf8-as-latin1", [], "codec"),
    ("utf8-as-cp1252 (Traditional)", "hant", "utf8-as-cp1252", [], "codec"),
    ("big5-as-gbk", "hant", "big5-as-gbk", [], "codec"),
]
LOSSY_CER = 0.02


def opencc(config, path):
    try:
        p = subprocess.run(["opencc", "-c", config, "-i", path], capture_output=True, timeout=600)
    except subprocess.TimeoutExpired:
        return None
    if p.returncode != 0:
        return None
    return p.stdout.decode("utf-8", "replace")


def repair_docs(docdir, docs, explain=False):
    """zhfix each document file; returns a list of (lines or None, edits,
    error) per document."""
    cmd = common.zhfix_cmd() + (["--explain"] if explain else [])

    def one(k):
        path = os.path.join(docdir, "%04d.txt" % k)
        rc, out, err = common.run(cmd + [path], timeout=60)
        if rc != 0:
            return None, 0, "exit %s: %s" % (rc, err.decode("utf-8", "replace").strip()[:200])
        text = out.decode("utf-8", "replace")
        if explain:
            return None, len(text.splitlines()), None
        return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 0, None

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        return list(ex.map(one, range(len(docs))))


def measure(name, corpus_name, kind, baselines, goal, paras, dmg):
    docdir = os.path.join(common.WORK, "quality", name.replace(" ", "_").replace("(", "").replace(")", ""))
    os.makedirs(docdir, exist_ok=True)
    items = []   # (reference, damaged, lossless)
    for i, p in enumerate(paras):
        if kind is None:
            items.append((p, p, True))
            continue
        r = dmg.damage(kind, i, p)
        if r is not None:
            items.append((p, r[0], r[1]))
    docs = [items[k:k + DOC_PARAS] for k in range(0, len(items), DOC_PARAS)]
    for k, d in enumerate(docs):
        with open(os.path.join(docdir, "%04d.txt" % k), "w", encoding="utf-8") as f:
            f.write("".join(x[1] + "\n" for x in d))
    t0 = time.time()
    results = repair_docs(docdir, docs)
    errors = [e for _, _, e in results if e]
    # Baselines over all damaged paragraphs at once (line by line).
    base_out = {}
    allpath = os.path.join(docdir, "all.txt")
    with open(allpath, "w", encoding="utf-8") as f:
        f.write("".join(x[1] + "\n" for x in items))
    for b in baselines:
        out = opencc(b, allpath)
        base_out[b] = out.split("\n") if out is not None else None
    # Per paragraph scores, split by lossless/lossy for codec kinds.
    groups = {}
    for k, d in enumerate(docs):
        lines, _, err = results[k]
        if lines is None or len(lines) != len(d):
            lines = None
        for j, (ref, dm, lossless) in enumerate(d):
            g = groups.setdefault(lossless if goal == "codec" else True, {
                "n": 0, "chars": 0, "before": 0, "after": 0, "exact": 0, "changed_clean": 0,
                "base": {b: 0 for b in baselines}, "examples": []})
            out = lines[j] if lines is not None else dm
            g["n"] += 1
            g["chars"] += len(ref)
            g["before"] += common.levenshtein(dm, ref)
            dist = common.levenshtein(out, ref)
            g["after"] += dist
            g["exact"] += out == ref
            if dist and len(g["examples"]) < 3:
                g["examples"].append({"want": ref[:160], "damaged": dm[:160], "got": out[:160]})
            idx = k * DOC_PARAS + j
            for b in baselines:
                bo = base_out[b]
                g["base"][b] += common.levenshtein(bo[idx] if bo and idx < len(bo) else dm, ref)
    rows = []
    for lossless, g in sorted(groups.items(), key=lambda x: not x[0]):
        row = {"name": name, "corpus": corpus_name, "kind": kind, "n": g["n"],
               "chars": g["chars"],
               "cer_before": g["before"] / max(g["chars"], 1),
               "cer_after": g["after"] / max(g["chars"], 1),
               "exact": g["exact"] / max(g["n"], 1),
               "baselines": {b: v / max(g["chars"], 1) for b, v in g["base"].items()},
               "errors": len(errors), "error_sample": errors[:2],
               "examples": g["examples"], "seconds": round(time.time() - t0, 1)}
        if goal == "codec":
            if lossless:
                row["name"] = name + " (lossless)"
                row["goal"] = ("exact", 1.0)
            else:
                row["name"] = name + " (lossy)"
                row["goal"] = ("cer", LOSSY_CER)
        else:
            row["goal"] = goal
        if isinstance(goal, tuple) and goal[0] == "zero":
            ex = repair_docs(docdir, docs, explain=True)
            row["edits"] = sum(e for _, e, _ in ex)
            row["changed_paras"] = g["n"] - g["exact"]
        rows.append(row)
    return rows


def main():
    t = tables.load(common.CACHE)
    dmg = damage.Damager(t, common.SEED)
    corpus = {c: common.read_lines(os.path.join(common.WORK, c + ".txt")) for c in ("hans", "hant")}
    if common.QUICK:
        corpus = {c: v[:120] for c, v in corpus.items()}
    only = os.environ.get("BENCH_KINDS")
    rows = []
    for name, cname, kind, baselines, goal in KINDS:
        if only and name not in only.split(","):
            continue
        for row in measure(name, cname, kind, baselines, goal, corpus[cname], dmg):
            rows.append(row)
            print("quality: %-34s n=%4d CER before %7.3f%% after %7.3f%% exact %5.1f%% %s"
                  % (row["name"], row["n"], 100 * row["cer_before"], 100 * row["cer_after"],
                     100 * row["exact"],
                     " ".join("%s %.3f%%" % (b, 100 * v) for b, v in row["baselines"].items())),
                  flush=True)
    common.save_json("quality.json", {"rows": rows, "doc_paras": DOC_PARAS,
                                      "paragraphs": {c: len(v) for c, v in corpus.items()},
                                      "params": {k: getattr(damage, k) for k in dir(damage)
                                                 if k.startswith("P_")}})


if __name__ == "__main__":
    main()
