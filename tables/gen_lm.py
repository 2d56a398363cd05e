#!/usr/bin/env python3
"""Generate lm.h: a compact character model of Chinese text.

Sources: jieba's dict.txt (Debian package python3-jieba), 349046 words with
corpus frequencies; OpenCC's TSCharacters (Debian package libopencc-data),
to read Traditional text with the same statistics.

The model scores a span of text as the sum of its characters' unigram
costs minus a bonus for each adjacent pair that occurs inside words:

    cost(c1..cn) = sum unigram(ci) - sum bonus(ci-1, ci)

where bonus(a, b) is the pointwise mutual information log2 P(ab) / (P(a)
P(b)), estimated from the words of dict.txt (each word counted with its
frequency; a pair is two adjacent characters of one word).  With the true
PMI that is exactly a bigram model, -log2 P(b|a) = -log2 P(b) - PMI(a, b);
estimated from a word list it rewards the pairs real words are made of,
which is what tells text from garbled text (damage-model.md section 4:
`看到群众` against `吹饺罕姷`).  Pairs across word boundaries get no bonus.

Traditional text: a Traditional-only character (a TSCharacters key that
does not list itself as a Simplified form) is folded onto its first
Simplified form before counting and at lookup (顏 -> 颜, 後 -> 后, but 乾
and 著 stay themselves), so the model serves the naive s2t text of the
seeds and Simplified text alike.

Representation (read by src/lm.c), costs in tenths of a bit:
  - zf_lm_stage1[cp / 64] names a 64-entry block of zf_lm_stage2, which
    holds a character's index (1..N, 0 = not in the model); 64-entry
    blocks because Traditional forms are scattered (48 KB instead of 53).
    BMP Han only.
  - zf_lm_unigram[index]: -log2 P(c) * 10, 1..249.
  - zf_lm_pair_off[a] .. zf_lm_pair_off[a + 1]: the pairs (a, b) kept, as
    uint16 (b << 2 | level), sorted by b; the bonus of a level is
    zf_lm_levels[level].  Kept: count >= MIN_COUNT and PMI >= MIN_PMI.
Deterministic: no timestamps, everything sorted.
"""
import math
import os
import subprocess
import sys
import tempfile

DICT = "/usr/lib/python3/dist-packages/jieba/dict.txt"
OCD = "/usr/share/opencc/TSCharacters.ocd2"
MIN_COUNT = 10
MIN_PMI = 2.0
# Bonus (tenths of a bit) of each 2-bit level, and the PMI where a level
# starts: the midpoints of the bands [2, 4.5) [4.5, 7) [7, 9.5) [9.5, ...).
LEVELS = [30, 55, 80, 110]
BOUNDS = [4.5, 7.0, 9.5]
MAXCP = 0x10000
BLOCK = 64


def read_opencc(path):
    """OpenCC dictionary as {key: [values]}, via opencc_dict's text dump."""
    with tempfile.TemporaryDirectory() as tmp:
        txt = os.path.join(tmp, "d.txt")
        subprocess.run(["opencc_dict", "-i", path, "-o", txt, "-f", "ocd2",
                        "-t", "text"], check=True)
        d = {}
        with open(txt, encoding="utf-8") as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("\t")
                d[k] = v.split(" ")
    return d


def main():
    ts = read_opencc(OCD)
    fold = {}
    for k, v in sorted(ts.items()):
        if len(k) == 1 and k not in v and len(v[0]) == 1:
            fold[ord(k)] = ord(v[0])
    uni = {}
    pairs = {}
    with open(DICT, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            w = [fold.get(ord(c), ord(c)) for c in parts[0]]
            n = int(parts[1])
            if n <= 0:
                continue
            for c in w:
                uni[c] = uni.get(c, 0) + n
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + n
    # Han and CJK symbols of the BMP only: dict.txt also spells words with
    # Latin letters (T恤), which the model must not score as Chinese, and
    # GBK, the codec the mojibake pass works in, has nothing beyond the BMP.
    chars = sorted(c for c in uni if 0x2E80 <= c < MAXCP)
    idx = {c: i + 1 for i, c in enumerate(chars)}
    total = sum(uni[c] for c in chars)
    ptotal = sum(pairs.values())
    unigram = [250] + [max(1, min(249, int(round(-math.log2(uni[c] / total) * 10))))
                       for c in chars]
    rows = [[] for _ in range(len(chars) + 1)]
    for (a, b), n in sorted(pairs.items()):
        if n < MIN_COUNT or a not in idx or b not in idx:
            continue
        pmi = math.log2((n / ptotal) / ((uni[a] / total) * (uni[b] / total)))
        if pmi < MIN_PMI:
            continue
        level = sum(1 for x in BOUNDS if pmi >= x)
        rows[idx[a]].append((idx[b] << 2) | level)
    if len(chars) >= 1 << 14:
        sys.exit("gen_lm.py: too many characters for 14-bit indices")
    # code point -> index, Traditional-only forms folded
    cpidx = dict(idx)
    for t, s in fold.items():
        if s in idx and t < MAXCP:
            cpidx[t] = idx[s]
    blocks = [tuple([0] * 256)]
    bindex = {blocks[0]: 0}
    stage1 = []
    for hi in range(MAXCP // BLOCK):
        blk = tuple(cpidx.get(hi * BLOCK + lo, 0) for lo in range(BLOCK))
        if blk not in bindex:
            bindex[blk] = len(blocks)
            blocks.append(blk)
        stage1.append(bindex[blk])
    off = [0]
    flat = []
    for r in rows:
        flat.extend(sorted(r))
        off.append(len(flat))
    size = len(stage1) * 2 + len(blocks) * BLOCK * 2 + len(unigram) + len(off) * 4 + len(flat) * 2
    out = sys.stdout
    out.write("/* Generated by tables/gen_lm.py from python3-jieba dict.txt and OpenCC "
              "TSCharacters; do not edit. */\n")
    out.write("/* %d characters (%d Traditional forms folded), %d pairs "
              "(count >= %d, PMI >= %.1f), %d blocks, %d bytes. */\n"
              % (len(chars), len(cpidx) - len(idx), len(flat), MIN_COUNT, MIN_PMI,
                 len(blocks), size))
    out.write("#define ZF_LM_MAXCP 0x%X\n" % MAXCP)
    out.write("#define ZF_LM_BLOCK %d\n" % BLOCK)
    out.write("#define ZF_LM_NCHARS %d\n" % len(chars))
    out.write("static const int16_t zf_lm_levels[4] = {%s};\n"
              % ", ".join(str(x) for x in LEVELS))
    out.write("static const uint16_t zf_lm_stage1[%d] = {\n" % len(stage1))
    for i in range(0, len(stage1), 16):
        out.write("    " + ", ".join(str(x) for x in stage1[i:i + 16]) + ",\n")
    out.write("};\n")
    out.write("static const uint16_t zf_lm_stage2[%d] = {\n" % (len(blocks) * BLOCK))
    for bi, blk in enumerate(blocks):
        out.write("    /* block %d */\n" % bi)
        for i in range(0, BLOCK, 16):
            out.write("    " + ",".join(str(x) for x in blk[i:i + 16]) + ",\n")
    out.write("};\n")
    out.write("static const uint8_t zf_lm_unigram[%d] = {\n" % len(unigram))
    for i in range(0, len(unigram), 32):
        out.write("    " + ",".join(str(x) for x in unigram[i:i + 32]) + ",\n")
    out.write("};\n")
    out.write("static const uint32_t zf_lm_pair_off[%d] = {\n" % len(off))
    for i in range(0, len(off), 12):
        out.write("    " + ",".join(str(x) for x in off[i:i + 12]) + ",\n")
    out.write("};\n")
    out.write("static const uint16_t zf_lm_pairs[%d] = {\n" % len(flat))
    for i in range(0, len(flat), 16):
        out.write("    " + ",".join(str(x) for x in flat[i:i + 16]) + ",\n")
    out.write("};\n")


if __name__ == "__main__":
    main()
