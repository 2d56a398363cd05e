#!/usr/bin/env python3
"""Generate readings.h: the Mandarin readings of every BMP Han character.

Source: Unihan (Debian package unicode-data), Unihan_Readings.txt fields
kMandarin, kHanyuPinyin, kXHC1983, kTGHZ2013 and kHanyuPinlu (the last is
the only one that lists neutral-tone readings such as 們 men, 發 fa), and
Unihan_Variants.txt fields kSimplifiedVariant and kTraditionalVariant.

Why the variants: the damage (shared/damage-model.md section 1) annotated a
Traditional character produced by a naive converter with the reading its
Simplified source had in context.  Where the converter chose one of several
Traditional forms blindly (发 -> 發 also in 头发 fà; 着 -> 著 in 着急 zháo),
the reading belongs to the Simplified character, not to the form it was
turned into.  So a character's set is its own readings plus those of every
Simplified character it can stand for: the characters in its
kSimplifiedVariant, and every character that lists it in kTraditionalVariant
(干 lists 乾, so 乾 also gets gàn).

Only the BMP is covered: every character that reached the seeds went
through GBK (damage-model.md section 4), which has no supplementary-plane
characters, and a table for the supplementary planes would be three times
the size of this one for characters a converter practically never emits.

Representation (read by src/readings.c):
  - A syllable is its base spelling (ASCII letters, 'v' for u-umlaut, 'E'
    for e-circumflex) and a tone 1-5 (5 = neutral).  The bases are sorted
    in zf_py_bases; syllable id = base index * 5 + tone - 1, which fits in
    12 bits.  The parser turns any spelling into a base and a tone, so the
    id costs one binary search over the bases and no second table.
  - Each distinct set of syllable ids is stored once in zf_py_pool, its ids
    sorted, the last one flagged with 0x8000.
  - A two-stage table (utf8proc's layout) maps a code point to 1 + the
    pool offset of its set, 0 when it has no reading: zf_py_stage1[cp >> 8]
    names a 256-entry block of zf_py_stage2; empty blocks share block 0.

Script classes, from the same two Unihan variant fields (read by
zf_is_trad_only() and zf_is_simp_only() in src/readings.c):
  - Traditional-only: the character has a Simplified form other than
    itself and is not its own Simplified form (長 -> 长, 網 -> 网).  Clean
    Simplified text does not use it, so a converter wrote it: in seeds
    000-003, 804 of the 808 annotations follow one.  Not 乾 著 復 瞭 藉 裡
    and the like, which Unihan lists as their own Simplified form too
    (乾坤, 著名): Simplified text uses them, so they prove nothing.
  - Simplified-only: the mirror image (长 网 发; not 干 后 里 台, which
    are their own Traditional forms too).  A naive converter leaves none of
    these behind, so they tell Simplified text from converted text.
  Both are BMP only, like the readings.  2 bits per character (bit 0
  Traditional-only, bit 1 Simplified-only; 苧 has both) in a two-stage
  table: zf_sc_stage1[cp >> 8] names a block of 64 bytes in zf_sc_stage2,
  four characters per byte, character cp & 3 of its byte in bits
  2 * (cp & 3); identical blocks are shared.
Deterministic: no timestamps, everything sorted.
"""
import bz2
import sys
import unicodedata

import common

READINGS = "/usr/share/unicode/Unihan_Readings.txt.bz2"
VARIANTS = "/usr/share/unicode/Unihan_Variants.txt.bz2"
FIELDS = ("kMandarin", "kHanyuPinyin", "kXHC1983", "kTGHZ2013", "kHanyuPinlu")
MAXCP = 0x10000
TONE_MARKS = {"\u0304": 1, "\u0301": 2, "\u030c": 3, "\u0300": 4}
END = 0x8000


def unihan(path):
    """Yield (code point, field, value) from a Unihan file; also its version."""
    with bz2.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                if line.startswith("# Unicode version:"):
                    yield None, "version", line.split(":", 1)[1].strip()
                continue
            u, field, value = line.rstrip("\n").split("\t")
            yield int(u[2:], 16), field, value


def split_reading(s):
    """'zhǎng' -> ('zhang', 3); 'lǘ' -> ('lv', 2); 'men' -> ('men', 5)."""
    tone = 5
    base = ""
    for ch in unicodedata.normalize("NFD", s):
        if ch in TONE_MARKS:
            if tone != 5:
                raise ValueError("two tone marks in %r" % s)
            tone = TONE_MARKS[ch]
        elif ch == "\u0308" and base.endswith("u"):
            base = base[:-1] + "v"
        elif ch == "\u0302" and base.endswith("e"):
            base = base[:-1] + "E"
        elif "a" <= ch <= "z":
            base += ch
        else:
            raise ValueError("unexpected %r in reading %r" % (ch, s))
    if not 1 <= len(base) <= 6:
        raise ValueError("bad base in %r" % s)
    return base, tone


def readings_of(field, value):
    if field == "kMandarin":
        return value.split()
    if field == "kHanyuPinlu":            # xiàng(1143) xiáng(68)
        return [e.split("(")[0] for e in value.split()]
    out = []                              # 10056.100:qián,gān 0352.091:gān
    for e in value.split():
        out.extend(e.split(":", 1)[1].split(","))
    return out


def main():
    own = {}
    version = None
    for cp, field, value in unihan(READINGS):
        if field == "version":
            version = value
        elif field in FIELDS and cp < MAXCP:
            for r in readings_of(field, value):
                own.setdefault(cp, set()).add(split_reading(r))
    simp_of = {}                          # Traditional -> Simplified forms
    trad_of = {}                          # Simplified -> Traditional forms
    for cp, field, value in unihan(VARIANTS):
        if field not in ("kSimplifiedVariant", "kTraditionalVariant"):
            continue
        targets = [int(v.split("<")[0][2:], 16) for v in value.split()]
        for t in targets:
            if field == "kSimplifiedVariant":
                simp_of.setdefault(cp, set()).add(t)
                trad_of.setdefault(t, set()).add(cp)
            else:
                simp_of.setdefault(t, set()).add(cp)
                trad_of.setdefault(cp, set()).add(t)
    full = {}
    widened = 0
    for cp in sorted(set(own) | set(simp_of)):
        if cp >= MAXCP:
            continue
        s = set(own.get(cp, ()))
        for v in sorted(simp_of.get(cp, ())):
            if v != cp:
                s |= own.get(v, set())
        if not s:
            continue
        if s != own.get(cp, set()):
            widened += 1
        full[cp] = s

    bases = sorted({b for s in full.values() for b, _ in s})
    bindex = {b: i for i, b in enumerate(bases)}

    def sid(r):
        return bindex[r[0]] * 5 + r[1] - 1

    sets = sorted({tuple(sorted(sid(r) for r in s)) for s in full.values()})
    pool = []
    offset = {}
    for t in sets:
        offset[t] = len(pool)
        pool.extend(t[:-1])
        pool.append(t[-1] | END)
    assert len(pool) + 1 < 0x10000 and len(bases) * 5 < END
    value = {cp: offset[tuple(sorted(sid(r) for r in s))] + 1 for cp, s in full.items()}

    stage1, blocks = common.two_stage(
        lambda base, size: tuple(value.get(base + lo, 0) for lo in range(size)),
        MAXCP >> 8, 256, (0,) * 256)
    assert len(blocks) < 256
    toned = len({r for s in full.values() for r in s})

    def only(forms):
        """Code points that have another form and are not their own."""
        return {cp for cp, f in forms.items()
                if cp < MAXCP and cp not in f and any(x != cp for x in f)}

    trad_only = only(simp_of)
    simp_only = only(trad_of)
    def classes(base, size):
        """size bytes of four 2-bit classes each: the 4 * size code points
        from base (a block of 64 bytes covers 256 code points)."""
        blk = []
        for q in range(size):
            byte = 0
            for j in range(4):
                cp = base + (q << 2) | j
                cls = (1 if cp in trad_only else 0) | (2 if cp in simp_only else 0)
                byte |= cls << (2 * j)
            blk.append(byte)
        return tuple(blk)

    sc_stage1, sc_blocks = common.two_stage(lambda base, size: classes(base * 4, size),
                                            MAXCP >> 8, 64, (0,) * 64)
    assert len(sc_blocks) < 256

    out = sys.stdout
    out.write("/* Generated by tables/gen_readings.py from Unihan %s (unicode-data: "
              "kMandarin kHanyuPinyin kXHC1983 kTGHZ2013 kHanyuPinlu, "
              "kSimplifiedVariant kTraditionalVariant); do not edit. */\n" % version)
    out.write("/* %d characters (%d widened by their Simplified forms), "
              "%d readings, %d toned syllables over %d bases, %d distinct sets, "
              "pool %d, %d blocks. */\n"
              % (len(full), widened, sum(len(s) for s in full.values()), toned,
                 len(bases), len(sets), len(pool), len(blocks)))
    out.write("#define ZF_PY_MAXCP 0x%X\n" % MAXCP)
    out.write("#define ZF_PY_NBASES %d\n" % len(bases))
    out.write("#define ZF_PY_END 0x%X\n" % END)
    out.write("static const char zf_py_bases[%d][7] = {\n" % len(bases))
    for i in range(0, len(bases), 8):
        out.write("    " + ", ".join('"%s"' % b for b in bases[i:i + 8]) + ",\n")
    out.write("};\n")
    out.write("static const uint16_t zf_py_pool[%d] = {\n" % len(pool))
    for i in range(0, len(pool), 16):
        out.write("    " + ",".join(str(x) for x in pool[i:i + 16]) + ",\n")
    out.write("};\n")
    common.write_array(out, "uint8_t", "zf_py_stage1", stage1, 32, ",")
    common.write_blocks(out, "uint16_t", "zf_py_stage2", blocks, 256, 16)
    out.write("/* %d Traditional-only and %d Simplified-only characters, "
              "%d blocks. */\n" % (len(trad_only), len(simp_only), len(sc_blocks)))
    common.write_array(out, "uint8_t", "zf_sc_stage1", sc_stage1, 32, ",")
    common.write_blocks(out, "uint8_t", "zf_sc_stage2", sc_blocks, 64, 16)

if __name__ == "__main__":
    main()
