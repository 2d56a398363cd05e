#!/usr/bin/python3
"""A damage generator of our own, following /work/shared/damage-model.md
(docs: bench/README.md).  Every kind is deterministic for a given seed:
one random.Random per paragraph, seeded from (seed, kind, paragraph index).

Kinds (a paragraph in, a damaged paragraph out; codec kinds also say
whether the damage is lossless):

  s2t-pinyin     section 1: naive character-by-character s2t.  A character
                 with one Traditional form (OpenCC STCharacters) becomes it;
                 one with several is, by a fixed per-character policy,
                 either left alone or given its first form other than
                 itself, blindly.  Converted characters get their reading
                 `(pinyin)` with probability P_ANNOTATE (kMandarin mostly,
                 sometimes another Unihan reading: any reading is valid).
  s2t            the same conversion without annotations.
  punct-flat     section 2: U+FF01-FF5E -> U+0021-007E (nothing else).
  stray-commas   section 3: an ASCII `,` inserted before ，、。；！？：
                 with probability P_COMMA (full-width marks kept).
  gbk-shift      section 4: GBK-encode, and at one spot after a double-byte
                 character whose trail byte is >= 0x80 decode one byte out
                 of step until back in step; the first (bridging)
                 character is lost as `?`, with its pinyin tail `xxx)` when
                 it is a Traditional character and the annotation coin
                 says so.
  seed-like      sections 1+3+4+2 in the seeds' order: s2t-pinyin, stray
                 commas, GBK out of step at a spot (half the paragraphs),
                 flattened punctuation.
  utf8-as-gbk, utf8-as-gbk-span, gbk-as-latin1, gbk-as-cp1252,
  utf8-as-cp1252, utf8-as-latin1, big5-as-gbk
                 section 5: bytes in the first codec read as the second
                 (WHATWG-style GBK decoding with 0x80 = euro, sloppy CP1252
                 keeping the five undefined bytes as C1 controls).  Lossless
                 when the reading codec accepted every byte; otherwise the
                 bad bytes became U+FFFD (GBK) and the result is lossy.
                 -span garbles one clause inside otherwise good text.
  utf8-as-cp1252-lossy
                 strict CP1252: its five undefined bytes became U+FFFD.
                 (GBK read as strict CP1252 is not here: Simplified text in
                 GBK uses only bytes 0xA1-0xFE, which CP1252 all defines.)
  t2s-partial    Traditional prose with some sentences (P_T2S each) run
                 through a naive t2s (OpenCC TSCharacters, first target).

Usage: damage.py KIND [--seed N] < paragraphs > damaged   (a line each;
codec kinds print `lossless`/`lossy` on stderr at the end as counts).
"""
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tables  # noqa: E402

P_ANNOTATE = 0.6        # converted characters that get (pinyin)
P_OTHER_READING = 0.2   # annotations that use a reading other than kMandarin
P_LEAVE = 0.5           # one-to-many characters the converter leaves alone
P_COMMA = 0.5           # Chinese marks that get a stray comma
P_BRIDGE_ANNOTATE = 0.75  # Traditional bridges that carry a pinyin tail
P_SHIFT_SEEDLIKE = 0.5  # seed-like paragraphs with an out-of-step spot
P_T2S = 0.35            # sentences of t2s-partial run through t2s

CODEC_KINDS = ("utf8-as-gbk", "utf8-as-gbk-span", "gbk-as-latin1", "gbk-as-cp1252",
               "utf8-as-cp1252", "utf8-as-latin1", "big5-as-gbk",
               "utf8-as-cp1252-lossy")
KINDS = ("s2t-pinyin", "s2t", "punct-flat", "stray-commas", "gbk-shift",
         "seed-like", "t2s-partial") + CODEC_KINDS


# ---- code page 936 (GBK as Windows and browsers read it) -----------------

_pair_cache = {}


def gbk_pair(a, b):
    """The character GBK bytes a b decode to, or None."""
    key = (a << 8) | b
    r = _pair_cache.get(key, 0)
    if r == 0:
        try:
            r = bytes((a, b)).decode("gbk")
        except UnicodeDecodeError:
            r = None
        _pair_cache[key] = r
    return r


def gbk_encode(s):
    """GBK bytes of s (0x80 for the euro sign, as code page 936); raises
    UnicodeEncodeError for a character GBK cannot hold."""
    return b"".join(b"\x80" if c == "\u20ac" else c.encode("gbk") for c in s) \
        if "\u20ac" in s else s.encode("gbk")


def gbk_decode(b, strict=False):
    """Decode bytes as code page 936 the way a browser does (WHATWG gbk
    without the four-byte forms, which UTF-8 bytes never make): 0x80 is the
    euro sign; a lead byte with no valid trail is U+FFFD and an ASCII trail
    byte is read again on its own.  strict: raise ValueError instead."""
    out = []
    i, n = 0, len(b)
    while i < n:
        x = b[i]
        if x < 0x80:
            out.append(chr(x))
            i += 1
        elif x == 0x80:
            out.append("\u20ac")
            i += 1
        elif x == 0xFF or i + 1 >= n:
            if strict:
                raise ValueError(i)
            out.append("\ufffd")
            i += 1
        else:
            c = gbk_pair(x, b[i + 1])
            if c is not None:
                out.append(c)
                i += 2
            else:
                if strict:
                    raise ValueError(i)
                out.append("\ufffd")
                i += 1 if b[i + 1] < 0x80 else 2
    return "".join(out)


# ---- helpers -------------------------------------------------------------

def is_han(c):
    o = ord(c)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or
            0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F)


def flatten(s):
    """Section 2: full-width forms U+FF01-FF5E to their ASCII twins."""
    return "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in s)


class Damager:
    def __init__(self, t, seed=1):
        self.t = t
        self.seed = seed
        self._policy = {}

    def rng(self, kind, index):
        return random.Random("%s:%s:%d" % (self.seed, kind, index))

    # -- section 1 --
    def _s2t_target(self, c):
        """What the naive converter makes of c: a fixed choice per
        character, as a table-driven converter would have."""
        tg = self.t.st.get(c)
        if not tg:
            return c
        if len(tg) == 1:
            return tg[0]
        r = self._policy.get(c)
        if r is None:
            others = [x for x in tg if x != c]
            leave = random.Random("%s:policy:%s" % (self.seed, c)).random() < P_LEAVE
            r = c if (leave and c in tg) or not others else others[0]
            self._policy[c] = r
        return r

    def _annotation(self, rng, c):
        rs = self.t.readings.get(c)
        if not rs:
            return None
        if len(rs) > 1 and rng.random() < P_OTHER_READING:
            return rng.choice(rs[1:])
        return rs[0]

    def s2t(self, rng, s, annotate=True):
        out = []
        for c in s:
            t = self._s2t_target(c)
            out.append(t)
            if annotate and t != c and rng.random() < P_ANNOTATE:
                r = self._annotation(rng, t)
                if r:
                    out.append("(%s)" % r)
        return "".join(out)

    # -- section 3 --
    @staticmethod
    def stray_commas(rng, s):
        return "".join("," + c if c in "，、。；！？：" and rng.random() < P_COMMA else c
                       for c in s)

    # -- section 4 --
    def gbk_shift(self, rng, s):
        """One spot of GBK decoded out of step; returns s unchanged when s
        is not GBK or has no spot."""
        try:
            b = gbk_encode(s)
        except UnicodeEncodeError:
            return s
        starts = []          # byte offset of each character
        off = 0
        for c in s:
            starts.append(off)
            off += 1 if ord(c) < 0x80 or c == "\u20ac" else 2
        bounds = set(starts) | {len(b)}
        # Spots: a double-byte character X with trail >= 0x80 followed by a
        # double-byte character, so that the first pair read is a character.
        spots = []
        for i in range(len(s) - 1):
            o = starts[i]
            if (b[o] >= 0x81 and b[o + 1] >= 0x80 and starts[i + 1] == o + 2 and
                    b[o + 2] >= 0x81 and
                    gbk_pair(b[o + 1], b[o + 2]) is not None):
                spots.append(i)
        if not spots:
            return s
        i = rng.choice(spots)
        pos = starts[i] + 1            # X's trail byte, read as a lead
        run = []
        while pos < len(b) and pos not in bounds:
            x = b[pos]
            if x < 0x80:
                run.append(chr(x))      # ASCII: back in step after it
                pos += 1
            elif x == 0x80:
                run.append("\u20ac")    # a single byte in code page 936
                pos += 1
            elif x == 0xFF or pos + 1 >= len(b):
                run.append("?")
                pos += 1
            else:
                y = b[pos + 1]
                c = gbk_pair(x, y)
                if c is not None:
                    run.append(c)       # may swallow an ASCII byte 0x40-0x7E
                    pos += 2
                elif y == 0x28:
                    run.append("?")     # `(` eaten with the lead: `?bào)`
                    pos += 2
                elif y < 0x80:
                    run.append("?")     # the lead alone; the ASCII byte stays
                    pos += 1
                else:
                    run.append("?")
                    pos += 2
        bridge = run[0]
        lost = "?"
        if self.t.traditional(bridge) and rng.random() < P_BRIDGE_ANNOTATE:
            r = self.t.readings.get(bridge)
            if r:
                lost = "?" + r[0] + ")"
        rest = gbk_decode(b[pos:])
        return s[:i + 1] + lost + "".join(run[1:]) + rest

    # -- naive t2s on some sentences --
    def t2s_partial(self, rng, s):
        parts = re.split(r"(?<=[。！？；])", s)
        out = []
        for p in parts:
            if p and rng.random() < P_T2S:
                p = "".join(self.t.ts[c][0] if c in self.t.ts else c for c in p)
            out.append(p)
        return "".join(out)

    # -- section 5 --
    @staticmethod
    def _cp1252(b, lossy):
        out = []
        for x in b:
            if 0x80 <= x <= 0x9F:
                try:
                    out.append(bytes((x,)).decode("cp1252"))
                except UnicodeDecodeError:
                    out.append("\ufffd" if lossy else chr(x))
            else:
                out.append(chr(x))
        return "".join(out)

    def codec(self, rng, kind, s):
        """Returns (damaged, lossless) or None when the text cannot be put
        in the first codec."""
        try:
            if kind.startswith("utf8-as-"):
                b = s.encode("utf-8")
            elif kind.startswith("gbk-as-"):
                b = gbk_encode(s)
            elif kind.startswith("big5-as-"):
                b = s.encode("big5")
                if b.decode("big5") != s:
                    return None
        except UnicodeEncodeError:
            return None
        if kind in ("utf8-as-gbk", "big5-as-gbk"):
            try:
                d = gbk_decode(b, strict=True)
                return d, True
            except ValueError:
                return gbk_decode(b), False
        if kind == "utf8-as-gbk-span":
            # One clause (between CJK marks) of at least 4 characters.
            cl = [m.span() for m in re.finditer(r"[^，。；！？：、]{4,}", s)
                  if any(is_han(c) for c in m.group())]
            if not cl:
                return None
            a, z = rng.choice(cl)
            d, ok = self.codec(rng, "utf8-as-gbk", s[a:z])
            return s[:a] + d + s[z:], ok
        if kind.endswith("-as-latin1"):
            return b.decode("latin-1"), True
        if kind.endswith("-as-cp1252"):
            return self._cp1252(b, False), True
        if kind.endswith("-as-cp1252-lossy"):
            d = self._cp1252(b, True)
            return d, "\ufffd" not in d
        raise ValueError(kind)

    def damage(self, kind, index, s):
        """Damage paragraph s (number index); returns (damaged, lossless)
        or None when this kind cannot apply to s."""
        rng = self.rng(kind, index)
        if kind == "s2t-pinyin":
            return self.s2t(rng, s), True
        if kind == "s2t":
            return self.s2t(rng, s, annotate=False), True
        if kind == "punct-flat":
            return flatten(s), True
        if kind == "stray-commas":
            return self.stray_commas(rng, s), True
        if kind == "gbk-shift":
            d = self.gbk_shift(rng, s)
            return (d, True) if d != s else None
        if kind == "seed-like":
            d = self.stray_commas(rng, self.s2t(rng, s))
            if rng.random() < P_SHIFT_SEEDLIKE:
                d = self.gbk_shift(rng, d)
            return flatten(d), True
        if kind == "t2s-partial":
            return self.t2s_partial(rng, s), True
        return self.codec(rng, kind, s)


def main():
    import argparse
    ap = argparse.ArgumentParser(description="Damage Chinese paragraphs (a line each).")
    ap.add_argument("kind", choices=KINDS)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache", default=os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                    "zhfix-bench-cache"))
    a = ap.parse_args()
    d = Damager(tables.load(a.cache), a.seed)
    counts = {True: 0, False: 0, None: 0}
    for i, line in enumerate(sys.stdin.read().splitlines()):
        r = d.damage(a.kind, i, line)
        if r is None:
            counts[None] += 1
            print(line)
        else:
            counts[r[1]] += 1
            print(r[0])
    print("%s: %d lossless, %d lossy, %d not applicable (left as is)"
          % (a.kind, counts[True], counts[False], counts[None]), file=sys.stderr)


if __name__ == "__main__":
    main()
