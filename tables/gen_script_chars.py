#!/usr/bin/env python3
"""Generate script_chars.h: what the script pass knows about each character.

Sources (Debian packages, versions in tables/README.md):
  unicode-data 15.0.0: Unihan_Variants.txt (kTraditionalVariant);
  opencc 1.1.6 (libopencc-data): TSCharacters, STCharacters, TWVariants,
      HKVariants, TSPhrases, STPhrases, TWVariantsRevPhrases (.ocd2, dumped
      with `opencc_dict -f ocd2 -t text`);
  python3-jieba 0.42.1: dict.txt, Simplified words with corpus counts.

This file is also the module the other script generators import
(gen_script_ts.py, gen_script_st.py, gen_words.py): the candidate sets
below decide which phrases and words those tables need, so they are
computed in one place.

Candidates.  Traditional -> Simplified ("hans") of a character c is
TSCharacters[c]; Taiwan text writes some characters in a variant form
(TWVariants maps OpenCC's standard form to Taiwan's: 着 -> 著), so the
standard forms a Taiwan character stands for are candidates too, run
through TSCharacters (著 -> 著 or 着: the seeds' particle 著 is 着).  A
candidate other than the first is kept only if jieba's Simplified corpus
uses it: one it never saw can never win on context, and keeping it would
only make more characters ambiguous.

Simplified -> Traditional ("hant") of c is STCharacters[c] written in
Taiwan's forms (TWVariants), matching the seeds' converted text (為, 著).
Where OpenCC itself lists c among its own Traditional forms and a
Traditional standard writes one of the other forms as c (HKVariants
臺 -> 台), that form is replaced by c: the change would only swap two
valid Traditional spellings, not the script.  Non-first candidates that no
Traditional word or phrase uses are dropped for the same reason as above.

Script classes, for the auto decision: TRAD when TSCharacters (OpenCC's
own table) always changes the character, SIMP when STCharacters always
does and neither Taiwan's nor Hong Kong's variants write it either (群,
峰, 床 are Taiwan's forms of OpenCC's 羣, 峯, 牀: the seeds' converted text
has them).  MANY when Unihan (unicode-data 15.0.0, kTraditionalVariant)
lists several Traditional forms: the characters a naive converter leaves
alone (干 后 里 于 并 采).  Unihan, not OpenCC, because OpenCC also splits
characters that Taiwan writes one way in the words concerned (布 in 公布,
游 in 游標); Unihan gives 布 and 游 no Traditional variant.

Layout: for the BMP a two-stage table (utf8proc's layout, as in
charfreq.h): stage1[cp >> 8] names a block of 256 uint16 in stage2 holding
an index into zf_script_info (0: nothing known).  O(1) per character, which
matters because hans/hant look up every Han character; about 56 KB.  The
1500 characters above the BMP (OpenCC keys from the extension blocks,
rare in text) are spread so thinly that blocks would triple the size, so
they are a sorted array searched by bisection.
Each info row has flags and two slices of the candidate pool: hans
candidates then hant candidates.  A slice holds first the candidates the
context choice may pick (n_* low nibble), then forms only phrase values
use (high nibble counts all), so a phrase value can be stored as small
candidate indices (see gen_script_ts.py).
"""
import bz2
import math
import os
import subprocess
import sys
import tempfile

import common

OPENCC_DIR = "/usr/share/opencc"
JIEBA_DICT = "/usr/lib/python3/dist-packages/jieba/dict.txt"
UNIHAN_VARIANTS = "/usr/share/unicode/Unihan_Variants.txt.bz2"

# flag bits, mirrored in src/script_map.c
F_TRAD = 0x01       # only Traditional uses it
F_SIMP = 0x02       # only Simplified uses it
F_TSP = 0x04        # starts a Traditional->Simplified phrase
F_STP = 0x08        # starts a Simplified->Traditional phrase
F_SWORD = 0x10      # starts a Simplified word (words.h)
F_TWORD = 0x20      # starts a Traditional word (words.h)
F_MANY = 0x40       # Unihan gives it several Traditional forms
F_HCAND = 0x80      # a context candidate of a Simplified character toward
                    # Traditional (游 and 遊 for 游): the document's own
                    # spelling of it is evidence (script_map.c)


def dump_ocd2(name, tmpdir):
    src = os.path.join(OPENCC_DIR, name + ".ocd2")
    out = os.path.join(tmpdir, name + ".txt")
    subprocess.run(["opencc_dict", "-i", src, "-o", out, "-f", "ocd2", "-t", "text"],
                   check=True, stdout=subprocess.DEVNULL)
    table = {}
    with open(out, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            key, vals = line.split("\t")
            table[key] = vals.split(" ")
    return table


def load_trad_variants():
    """Unihan's kTraditionalVariant: {char: [Traditional forms]}."""
    out = {}
    with bz2.open(UNIHAN_VARIANTS, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cp, key, val = line.rstrip("\n").split("\t")
            if key == "kTraditionalVariant":
                out[chr(int(cp[2:], 16))] = [chr(int(v[2:].split("<")[0], 16))
                                             for v in val.split()]
    return out


def load_jieba():
    words = {}
    with open(JIEBA_DICT, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                words[parts[0]] = words.get(parts[0], 0) + int(parts[1])
    return words


def cost_of(freq, total):
    """-log2 p in tenths of a bit, capped to a byte (25.5 bits)."""
    return max(1, min(255, int(round(-math.log2(freq / total) * 10))))


class Data:
    """Every table the script generators derive, computed once."""

    def __init__(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("TSCharacters", "STCharacters", "TWVariants", "HKVariants",
                         "TSPhrases", "STPhrases", "TWVariantsRevPhrases"):
                setattr(self, name, dump_ocd2(name, tmp))
        self.jieba = load_jieba()
        self.jieba_total = sum(self.jieba.values())
        self.jieba_chars = set("".join(self.jieba))
        self._hans()
        self._hant()
        self._words()

    # ---- one-way conversions, OpenCC's way: forward maximum matching
    # over the phrase table, first candidate otherwise -------------------
    @staticmethod
    def _convert(text, phrases, maxlen, chars):
        out = []
        i = 0
        while i < len(text):
            for n in range(min(maxlen, len(text) - i), 1, -1):
                v = phrases.get(text[i:i + n])
                if v:
                    out.append(v[0])
                    i += n
                    break
            else:
                out.append(chars.get(text[i], [text[i]])[0])
                i += 1
        return "".join(out)

    def t2s(self, text):
        return self._convert(text, self.TSPhrases, self.tsp_max, self.TSCharacters)

    def s2tw(self, text):
        std = self._convert(text, self.STPhrases, self.stp_max, self.STCharacters)
        return self.hant_value(text, std)

    # ---- Traditional -> Simplified -----------------------------------
    def _hans(self):
        ts = self.TSCharacters
        self.tsp_max = max(map(len, self.TSPhrases))
        tw_std = {}  # Taiwan form -> standard forms it stands for
        for std, tw in sorted(self.TWVariants.items()):
            tw_std.setdefault(tw[0], []).append(std)
        cands = {}
        for c in sorted(set(ts) | set(tw_std)):
            first = ts.get(c, [c])
            lst = [first[0]] + [x for x in first[1:] if x in self.jieba_chars]
            for std in tw_std.get(c, []):
                for x in ts.get(std, [std]):
                    if x not in lst and x in self.jieba_chars:
                        lst.append(x)
            if lst != [c]:
                cands[c] = lst
        self.hans = cands                     # c -> candidates (first = default)
        self.hans_amb = {c for c, v in cands.items() if len(v) > 1}
        # phrases: OpenCC's TSPhrases, plus TWVariantsRevPhrases (the Taiwan
        # phrases whose 著 stays 著, 吃 that is 喫 ...) run through TS
        self.hans_phrases = {}
        for k, v in self.TSPhrases.items():
            self.hans_phrases[k] = v[0]
        for k, v in self.TWVariantsRevPhrases.items():
            if k not in self.hans_phrases:
                self.hans_phrases[k] = self.t2s(v[0])
        self.trad = {c for c, v in ts.items() if c not in v}

    def hans_default(self, c):
        return self.hans.get(c, [c])[0]

    # ---- Simplified -> Traditional -----------------------------------
    def _tw(self, t):
        return self.TWVariants.get(t, [t])[0]

    def _hant(self):
        st = self.STCharacters
        self.stp_max = max(map(len, self.STPhrases))
        variant_of = {}  # c -> forms a Traditional standard writes as c
        for table in (self.TWVariants, self.HKVariants):
            for k, v in table.items():
                for c in v:
                    variant_of.setdefault(c, set()).add(k)
        self.variant_of = variant_of
        raw = {}
        for c in sorted(set(st) | set(self.TWVariants)):
            if c in st:
                lst = []
                for t in st[c]:
                    t = self._tw(t)
                    if c in st[c] and t in variant_of.get(c, ()):
                        t = c
                    if t not in lst:
                        lst.append(t)
            else:
                lst = [self._tw(c)]
            if lst != [c]:
                raw[c] = lst
        self.hant_raw = raw
        # Simplified-only: no Traditional standard writes it (群 is Taiwan's
        # and Hong Kong's form of OpenCC's 羣, so it is no evidence).
        self.simp = set()
        for c, v in st.items():
            forms = set(v)
            for t in v:
                forms.add(self._tw(t))
                forms.update(self.HKVariants.get(t, []))
            if c not in forms:
                self.simp.add(c)

    def hant_value(self, key, std):
        """A standard-Traditional conversion of key, in Taiwan forms, with
        the variant swaps of _hant undone."""
        out = []
        for a, b in zip(key, std):
            t = self._tw(b)
            if a in self.STCharacters and a in self.STCharacters[a] \
                    and t in self.variant_of.get(a, ()):
                t = a
            if a not in self.STCharacters and a not in self.TWVariants:
                t = b
            out.append(t)
        return "".join(out)

    # ---- words: which jieba words the context choice needs ------------
    def _words(self):
        jb = self.jieba
        # A jieba word is used only if OpenCC's t2s leaves it alone: the list
        # has Traditional leftovers (适用於) that would vote for the wrong side.
        ts_chars = set(self.TSCharacters) | set("".join(self.TSPhrases))
        clean = {w: f for w, f in sorted(jb.items())
                 if not any(ch in ts_chars for ch in w) or self.t2s(w) == w}
        self.jieba_clean = clean
        hans_cand_chars = set()
        for c in self.hans_amb:
            hans_cand_chars.update(self.hans[c])
        self.hans_cand_chars = hans_cand_chars
        # Simplified words: those holding a candidate of an ambiguous
        # Traditional character; the others never decide anything.
        self.swords = {w: f for w, f in clean.items()
                       if any(ch in hans_cand_chars for ch in w)}
        # Traditional words: the Taiwan form of every clean jieba word that
        # holds a Simplified character with several Traditional forms.
        hant_amb_raw = {c for c, v in self.hant_raw.items() if len(v) > 1}
        twords = {}
        for w, f in clean.items():
            if any(ch in hant_amb_raw for ch in w):
                t = self.s2tw(w)
                twords[t] = twords.get(t, 0) + f
        # phrase values, after the same Taiwan/variant treatment
        self.hant_phrases = {}
        for k, v in self.STPhrases.items():
            self.hant_phrases[k] = self.hant_value(k, v[0])
        # prune hant candidates nothing can ever choose
        used = set("".join(twords)) | set("".join(self.hant_phrases.values()))
        hant = {}
        for c, lst in self.hant_raw.items():
            keep = [lst[0]] + [t for t in lst[1:] if t in used]
            hant[c] = keep
        self.hant = hant
        self.hant_amb = {c for c, v in hant.items() if len(v) > 1}
        self.twords = twords

    def hant_default(self, c):
        return self.hant.get(c, [c])[0]


_DATA = None


def data():
    global _DATA
    if _DATA is None:
        _DATA = Data()
    return _DATA


def pack3(s):
    """Characters as 3-byte big-endian code points: fixed width, and byte
    order is code point order, so keys compare with memcmp."""
    return b"".join(ord(c).to_bytes(3, "big") for c in s)


def write_dict(out, prefix, entries, payload_type, what):
    """A dictionary of keys (at least two characters) with a payload each.

    Keys are grouped by first character: prefix_first[] lists the first
    characters in order, prefix_start[g]..prefix_start[g+1] are group g's
    entries.  An entry's key without its first character (its tail) is at
    prefix_keys + prefix_koff[i], 3 bytes per character (pack3), up to
    prefix_koff[i + 1].  Entries are sorted by tail inside a group, so a
    longest match narrows a range one character at a time with binary
    searches and never builds a string.  Returns the size in bytes."""
    entries = sorted(entries, key=lambda e: pack3(e[0]))
    firsts, start, koff, keys, pay = [], [], [], bytearray(), []
    for key, val in entries:
        if not firsts or firsts[-1] != ord(key[0]):
            firsts.append(ord(key[0]))
            start.append(len(koff))
        koff.append(len(keys))
        keys += pack3(key[1:])
        pay.append(val)
    start.append(len(koff))
    koff.append(len(keys))
    out.write("/* %s: %s; %d entries, %d first characters. */\n"
              % (prefix, what, len(entries), len(firsts)))
    out.write("#define %s_NFIRST %d\n" % (prefix.upper(), len(firsts)))
    common.write_array(out, "uint32_t", prefix + "_first", firsts, 12, nonempty=True)
    common.write_array(out, "uint32_t", prefix + "_start", start, 12, nonempty=True)
    common.write_array(out, "uint32_t", prefix + "_koff", koff, 12, nonempty=True)
    common.write_array(out, "uint8_t", prefix + "_keys", bytes(keys), 24, ",", nonempty=True)
    common.write_array(out, payload_type, prefix + "_val", pay, 12, nonempty=True)
    psize = {"uint8_t": 1, "uint16_t": 2, "uint32_t": 4}[payload_type]
    return 4 * len(firsts) + 4 * len(start) + 4 * len(koff) + len(keys) + psize * len(pay)


def cand_indices(key, value, cands):
    """A phrase value as 2-bit indices into each key character's candidate
    slice (all of it, phrase-only forms included), position 0 in the low
    bits.  Keys are at most 16 characters, so 32 bits hold any value."""
    bits = 0
    for i, (a, b) in enumerate(zip(key, value)):
        lst = cands(a)
        bits |= lst.index(b) << (2 * i)
    return bits


def phrase_extras(phrases, cands):
    """Forms that phrase values put at a key character and that the
    character's own candidates lack."""
    extra = {}
    for k, v in sorted(phrases.items()):
        for a, b in zip(k, v):
            if b not in cands.get(a, [a]):
                lst = extra.setdefault(a, [])
                if b not in lst:
                    lst.append(b)
    return extra


def hans_all(d):
    extra = phrase_extras(d.hans_phrases, d.hans)
    return lambda c: d.hans.get(c, [c]) + extra.get(c, [])


def hant_all(d):
    extra = phrase_extras(d.hant_phrases, d.hant)
    return lambda c: d.hant.get(c, [c]) + extra.get(c, [])


def variant_pairs(d):
    """Taiwan spellings (TWVariants) of OpenCC's standard forms that the
    standard itself never writes: (Taiwan form, standard form, evidence).
    The hant candidates are in Taiwan's forms (為, 啟, 裡); a document
    that writes the standard ones (爲, 啓, 裏: OpenCC's s2t, so much
    converted text) wants them in what is converted too.  Evidence pairs
    are those whose both forms only Traditional writes: seeing either in
    a document says which family it spells in (群 or 床 say nothing,
    Simplified writes them)."""
    st, ts = d.STCharacters, d.TSCharacters
    pairs = []
    for std, tw in sorted(d.TWVariants.items()):
        t = tw[0]
        if len(std) != 1 or len(t) != 1 or std == t:
            continue
        simp = ts.get(t, [t])[0]
        if t in st.get(simp, [simp]):
            continue  # the standard writes t too (著 in 著名)
        pairs.append((t, std, std in d.trad and t in d.trad))
    return sorted(pairs, key=lambda p: ord(p[0]))


def write_variants(d, out):
    pairs = variant_pairs(d)
    out.write("/* Taiwan form -> OpenCC standard form, sorted by the Taiwan form; "
              "evid: both forms only Traditional writes (variant_pairs()). */\n")
    out.write("#define ZF_SCRIPT_NVARIANT %d\n" % len(pairs))
    out.write("static const struct { uint32_t tw, std; uint8_t evid; } "
              "zf_script_variant[%d] = {\n" % len(pairs))
    for t, std, ev in pairs:
        out.write("    {0x%04X, 0x%04X, %d}, /* %s %s */\n" % (ord(t), ord(std), ev, t, std))
    out.write("};\n")


def main():
    d = data()
    import gen_words  # the word lists decide the F_SWORD/F_TWORD flags
    swords, twords = gen_words.select(d)
    flags = {}

    def setf(c, f):
        flags[c] = flags.get(c, 0) | f
    for c in d.trad:
        setf(c, F_TRAD)
    for c in d.simp:
        setf(c, F_SIMP)
    for c, v in load_trad_variants().items():
        if len(set(v)) > 1:
            setf(c, F_MANY)
    for k in d.hans_phrases:
        setf(k[0], F_TSP)
    for k in d.hant_phrases:
        setf(k[0], F_STP)
    for w in swords:
        setf(w[0], F_SWORD)
    for w in twords:
        setf(w[0], F_TWORD)
    for c in d.hant_amb:
        for t in d.hant[c]:
            setf(t, F_HCAND)
    hans_extra = phrase_extras(d.hans_phrases, d.hans)
    hant_extra = phrase_extras(d.hant_phrases, d.hant)
    chars = sorted(set(flags) | set(d.hans) | set(d.hant) | set(hans_extra)
                   | set(hant_extra), key=ord)
    pool = []
    pool_index = {}

    def slice_of(lst):
        key = tuple(lst)
        if not lst:
            return 0
        if key not in pool_index:
            pool_index[key] = len(pool)
            pool.extend(ord(x) for x in lst)
        return pool_index[key]
    rows = [(0, 0, 0, 0, 0)]
    index = {}
    for c in chars:
        hs = d.hans.get(c, [c]) if (c in d.hans or c in hans_extra) else []
        hx = hans_extra.get(c, [])
        if hx and not hs:
            hs = [c]
        tt = d.hant.get(c, [c]) if (c in d.hant or c in hant_extra) else []
        tx = hant_extra.get(c, [])
        if tx and not tt:
            tt = [c]
        hall, tall = hs + hx, tt + tx
        assert len(hall) <= 15 and len(tall) <= 15, c
        assert len(hall) <= 4 and len(tall) <= 4, (c, hall, tall)
        row = (flags.get(c, 0), len(hs) | (len(hall) << 4), slice_of(hall),
               len(tt) | (len(tall) << 4), slice_of(tall))
        index[c] = len(rows)
        rows.append(row)
    assert len(rows) < 65536 and len(pool) < 65536
    stage1, blocks = common.two_stage(
        lambda base, size: tuple(index.get(chr(base + lo), 0) for lo in range(size)),
        0x100, 256, (0,) * 256)
    supp = [c for c in chars if ord(c) >= 0x10000]
    out = sys.stdout
    out.write("/* Generated by tables/gen_script_chars.py from opencc 1.1.6 "
              "(TSCharacters, STCharacters, TWVariants, HKVariants) and "
              "python3-jieba 0.42.1 dict.txt and unicode-data 15.0.0 "
              "(Unihan kTraditionalVariant); do not edit. */\n")
    size = (len(stage1) + len(blocks) * 256 + len(supp) * 3) * 2 + len(rows) * 8 \
        + len(pool) * 4
    out.write("/* %d characters, %d blocks, %d candidates; %d Traditional-only, "
              "%d Simplified-only, %d ambiguous to Simplified, %d ambiguous to "
              "Traditional; about %d bytes. */\n"
              % (len(rows) - 1, len(blocks), len(pool), len(d.trad), len(d.simp),
                 len(d.hans_amb), len(d.hant_amb), size))
    for name, val in (("TRAD", F_TRAD), ("SIMP", F_SIMP), ("TSP", F_TSP),
                      ("STP", F_STP), ("SWORD", F_SWORD), ("TWORD", F_TWORD),
                      ("MANY", F_MANY), ("HCAND", F_HCAND)):
        out.write("#define ZF_SC_%s 0x%02X\n" % (name, val))
    out.write("/* flags, hans count (low nibble: context choices, high: all), "
              "hans offset, hant count, hant offset */\n")
    out.write("static const struct zf_script_info { uint8_t flags, nhans; uint16_t hans;"
              " uint8_t nhant; uint16_t hant; } zf_script_info[%d] = {\n" % len(rows))
    for r in rows:
        out.write("    {%d, %d, %d, %d, %d},\n" % r)
    out.write("};\n")
    common.write_array(out, "uint32_t", "zf_script_cand", pool, 12, nonempty=True)
    common.write_array(out, "uint16_t", "zf_script_stage1", stage1, 16, nonempty=True)
    out.write("#define ZF_SCRIPT_NSUPP %d\n" % len(supp))
    common.write_array(out, "uint32_t", "zf_script_supp_cp", [ord(c) for c in supp], 12,
                       nonempty=True)
    common.write_array(out, "uint16_t", "zf_script_supp_row", [index[c] for c in supp], 12,
                       nonempty=True)
    write_variants(d, out)
    common.write_blocks(out, "uint16_t", "zf_script_stage2", blocks, 256, 16)

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
