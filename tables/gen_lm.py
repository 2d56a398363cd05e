#!/usr/bin/env python3
"""Generate lm.h: a compact character model of Chinese text.

Sources: jieba's dict.txt (Debian package python3-jieba 0.42.1), 349046
words with corpus frequencies, and jieba's part-of-speech HMM
(jieba/posseg/prob_trans.py, prob_emit.py: 256 states, emission and
transition probabilities trained on running text); OpenCC's TSCharacters
(Debian package libopencc-data 1.1.6), to read Traditional text with the
same statistics.  The HMM files are read as data (ast.literal_eval), not
imported.

Two experts (src/lm.c combines them, taking the more optimistic):
  - the HMM: P(b | a) = sum over states s of a, t of b of
    P(s | a) P(t | s) P(b | t), computed at run time from the pruned
    emissions (states with posterior P(s | c) >= MIN_POST) and the sparse
    transitions; it knows running text across word boundaries, and gives
    the unigram costs of the characters it knows (running text: 的 is 5
    bits, where the word list says 8);
  - pairs inside words, below.

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

Representation (read by src/lm.c), costs in tenths of a bit unless said:
  - zf_lm_stage1[cp / 64] names a 64-entry block of zf_lm_stage2, which
    holds a character's index (1..N, 0 = not in the model); 64-entry
    blocks because Traditional forms are scattered (48 KB instead of 53).
    BMP Han only.
  - zf_lm_unigram[index]: -log2 P(c) * 10, 1..249.
  - zf_lm_canon[index]: the model's (Simplified) character of an index, so
    a code point whose canon differs is a folded Traditional-only form;
    bit `index` of zf_lm_twin: the character has such forms (it converts).
  - zf_lm_hmm_off[index] .. zf_lm_hmm_off[index + 1]: the HMM states of a
    character, as uint16 (state << 8 | -log2 P(c | state) in eighths of a
    bit); zf_lm_logpi[state]: -log2 of the stationary distribution (1/8
    bit); zf_lm_trans_off / zf_lm_trans: the transitions of each state, as
    (next << 8 | -log2 P in eighths of a bit); zf_lm_exp8[x] = 2^(-x/8);
    zf_lm_log2m[i]: log2(1 + (i + 0.5) / 64) in thousandths (so src/lm.c
    needs no libm).
  - zf_lm_pair_off[a] .. zf_lm_pair_off[a + 1]: the pairs (a, b) kept, as
    uint16 (b << 2 | level), sorted by b; the bonus of a level is
    zf_lm_levels[level].  Kept: count >= MIN_COUNT and PMI >= MIN_PMI.
Deterministic: no timestamps, everything sorted.
"""
import ast
import math
import sys

import common

DICT = "/usr/lib/python3/dist-packages/jieba/dict.txt"
POSSEG = "/usr/lib/python3/dist-packages/jieba/posseg/"
# posterior P(state | char) below which a state is dropped from a character
MIN_POST = 0.03
OCD = "/usr/share/opencc/TSCharacters.ocd2"
MIN_COUNT = 10
MIN_PMI = 2.0
# Bonus (tenths of a bit) of each 2-bit level, and the PMI where a level
# starts: the midpoints of the bands [2, 4.5) [4.5, 7) [7, 9.5) [9.5, ...).
LEVELS = [30, 55, 80, 110]
BOUNDS = [4.5, 7.0, 9.5]
MAXCP = 0x10000
BLOCK = 64


def q8(p):
    """-log2 p in eighths of a bit, in a byte."""
    return max(0, min(255, int(round(-math.log2(p) * 8)))) if p > 0 else 255


def read_p(path):
    """A jieba probability module (`P={...}`), read as data, not run."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return ast.literal_eval(text[text.index("P=") + 2:])


def read_hmm(fold):
    """jieba's part-of-speech HMM: states, stationary distribution,
    transitions and emissions, as probabilities (not logs)."""
    trans = read_p(POSSEG + "prob_trans.py")
    emit = read_p(POSSEG + "prob_emit.py")
    states = sorted(set(trans) | set(emit))
    sid = {st: i for i, st in enumerate(states)}
    T = [dict() for _ in states]
    for st, row in trans.items():
        for t, lp in row.items():
            if lp > -100:
                T[sid[st]][sid[t]] = math.exp(lp)
    # stationary distribution by power iteration (the chain mixes fast)
    pi = [1.0 / len(states)] * len(states)
    for _ in range(200):
        nxt = [0.0] * len(states)
        for i, row in enumerate(T):
            for j, pr in row.items():
                nxt[j] += pi[i] * pr
        z = sum(nxt)
        pi = [x / z for x in nxt]
    E = {}
    for st, row in emit.items():
        for ch, lp in row.items():
            if len(ch) != 1 or lp < -100:
                continue
            c = fold.get(ord(ch), ord(ch))
            E.setdefault(c, {})
            E[c][sid[st]] = E[c].get(sid[st], 0.0) + math.exp(lp)
    return states, pi, T, E


def main():
    ts = common.read_opencc(OCD)
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
    states, pi, T, E = read_hmm(fold)
    unigram = [250]
    hmm_off = [0, 0]
    hmm = []
    for c in chars:
        e = E.get(c)
        if e:
            p = sum(pi[st] * x for st, x in e.items())
        else:
            p = uni[c] / total
        unigram.append(max(1, min(249, int(round(-math.log2(p) * 10)))))
        if e:
            post = {st: pi[st] * x for st, x in e.items()}
            z = sum(post.values())
            for st in sorted(post):
                if post[st] / z >= MIN_POST:
                    hmm.append((st << 8) | q8(e[st]))
        hmm_off.append(len(hmm))
    if len(hmm) > 0xFFFF or len(states) > 256:
        sys.exit("gen_lm.py: HMM too large for 16-bit entries")
    logpi = [q8(x) for x in pi]
    trans_off = [0]
    trans = []
    for row in T:
        for t in sorted(row):
            if row[t] >= 1e-6:
                trans.append((t << 8) | q8(row[t]))
        trans_off.append(len(trans))
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
    # script of each model character: 1 = it has Traditional-only forms
    # folded onto it (a Simplified character that converts), so with
    # zf_lm_canon a caller can tell 电 (Simplified) from 電 (Traditional)
    twin = [0] * (len(chars) + 1)
    for t, s_ in fold.items():
        if s_ in idx and t < MAXCP:
            twin[idx[s_]] = 1
    off = [0]
    flat = []
    for r in rows:
        flat.extend(sorted(r))
        off.append(len(flat))
    canon = [0] + chars
    size = (len(stage1) * 2 + len(blocks) * BLOCK * 2 + len(unigram) + len(off) * 4
            + len(flat) * 2 + len(canon) * 2 + (len(twin) + 7) // 8
            + len(hmm_off) * 2 + len(hmm) * 2 + len(logpi) + len(trans_off) * 2
            + len(trans) * 2 + 256 * 4 + 64 * 2)
    out = sys.stdout
    out.write("/* Generated by tables/gen_lm.py from python3-jieba 0.42.1 dict.txt and "
              "posseg HMM, libopencc-data 1.1.6 TSCharacters; do not edit. */\n")
    out.write("/* %d characters (%d Traditional forms folded), %d pairs "
              "(count >= %d, PMI >= %.1f), %d blocks, %d bytes. */\n"
              % (len(chars), len(cpidx) - len(idx), len(flat), MIN_COUNT, MIN_PMI,
                 len(blocks), size))
    out.write("/* HMM: %d states, %d transitions, %d (character, state) entries "
              "(posterior >= %.2f). */\n" % (len(states), len(trans), len(hmm), MIN_POST))
    out.write("#define ZF_LM_MAXCP 0x%X\n" % MAXCP)
    out.write("#define ZF_LM_NSTATES %d\n" % len(states))
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
    out.write("static const uint16_t zf_lm_canon[%d] = {\n" % len(canon))
    for i in range(0, len(canon), 16):
        out.write("    " + ",".join(str(x) for x in canon[i:i + 16]) + ",\n")
    out.write("};\n")
    bits = [0] * ((len(twin) + 7) // 8)
    for i, b in enumerate(twin):
        if b:
            bits[i // 8] |= 1 << (i % 8)
    out.write("static const uint8_t zf_lm_twin[%d] = {\n" % len(bits))
    for i in range(0, len(bits), 32):
        out.write("    " + ",".join(str(x) for x in bits[i:i + 32]) + ",\n")
    out.write("};\n")
    def arr(ctype, name, vals, per=16):
        out.write("static const %s %s[%d] = {\n" % (ctype, name, len(vals)))
        for i in range(0, len(vals), per):
            out.write("    " + ",".join(str(x) for x in vals[i:i + per]) + ",\n")
        out.write("};\n")
    arr("uint16_t", "zf_lm_hmm_off", hmm_off)
    arr("uint16_t", "zf_lm_hmm", hmm)
    arr("uint8_t", "zf_lm_logpi", logpi)
    arr("uint16_t", "zf_lm_trans_off", trans_off)
    arr("uint16_t", "zf_lm_trans", trans)
    def flt(x):
        v = "%.9g" % x
        return (v if "." in v or "e" in v else v + ".0") + "f"
    arr("float", "zf_lm_exp8", [flt(2.0 ** (-x / 8.0)) for x in range(256)], 8)
    arr("uint16_t", "zf_lm_log2m", [int(round(math.log2(1 + (i + 0.5) / 64) * 1000))
                                    for i in range(64)])
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
