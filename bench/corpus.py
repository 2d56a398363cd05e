#!/usr/bin/python3
"""Chinese prose for the benchmarks, from a Debian package, not the seeds.

Source: debian-reference-zh-cn and debian-reference-zh-tw (the Debian
Reference, Simplified and Traditional), /usr/share/debian-reference/
*.zh-cn.html and *.zh-tw.html.  The text of every <p> outside tables,
titles and <pre> blocks is one paragraph; line breaks the HTML puts inside
a paragraph are dropped between CJK characters and become one space
elsewhere.

A paragraph is kept as *clean prose* when
  - it has at least MIN_CHARS characters and at least half of its
    non-space characters are Han;
  - its punctuation is already right: no ASCII , ; : ? ! ( ) touches a Han
    character or a CJK mark (the damage generator flattens full-width marks
    to ASCII, so ASCII ones in the original would make the expected output
    ambiguous);
  - it is in one script: the Simplified book has no character that OpenCC's
    TSCharacters always changes, the Traditional one none that
    STCharacters always changes.
Duplicates are dropped; order is the book's order.

Usage: corpus.py OUTDIR  -> OUTDIR/hans.txt, OUTDIR/hant.txt (a paragraph a
line) and prints the counts.
"""
import html.parser
import glob
import os
import re
import sys

import tables

DOCDIR = "/usr/share/debian-reference"
MIN_CHARS = 20


def is_han(c):
    o = ord(c)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or
            0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F)


def is_cjk_mark(c):
    o = ord(c)
    return 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF60 or c in "“”‘’…—·"


class _Paras(html.parser.HTMLParser):
    """Collects the text of each <p> that is not inside a table, a <pre> or
    a title paragraph."""

    SKIP = {"table", "pre", "script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paras = []
        self.skip = 0
        self.cur = None
        self.depth_p = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        if tag == "p":
            cls = dict(attrs).get("class") or ""
            if self.skip == 0 and self.cur is None and "title" not in cls:
                self.cur = []
                self.depth_p = 1
            elif self.cur is not None:
                self.depth_p += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        if tag == "p" and self.cur is not None:
            self.depth_p -= 1
            if self.depth_p == 0:
                self.paras.append("".join(self.cur))
                self.cur = None

    def handle_data(self, data):
        if self.cur is not None and self.skip == 0:
            self.cur.append(data)


def _join_lines(text):
    """Undo the HTML's line breaks: none between CJK, one space elsewhere."""
    def repl(m):
        a, b = m.group(1), m.group(2)
        if (is_han(a) or is_cjk_mark(a)) or (is_han(b) or is_cjk_mark(b)):
            return a + b
        return a + " " + b
    text = re.sub(r"(\S)[ \t]*\n\s*(\S)", repl, text)
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


_BAD_ASCII = re.compile(r"[,;:?!()]")


def punctuation_ok(p):
    for m in _BAD_ASCII.finditer(p):
        i = m.start()
        for j in (i - 1, i + 1):
            if 0 <= j < len(p) and (is_han(p[j]) or is_cjk_mark(p[j])):
                return False
    return True


def han_ratio(p):
    chars = [c for c in p if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if is_han(c)) / len(chars)


def one_script(p, other_only):
    return not any(c in other_only for c in p)


def paragraphs(lang):
    out = []
    for path in sorted(glob.glob(os.path.join(DOCDIR, "*.%s.html" % lang))):
        if os.path.basename(path).startswith("index."):
            continue  # the table of contents: titles, not prose
        parser = _Paras()
        with open(path, encoding="utf-8") as f:
            parser.feed(f.read())
        out.extend(_join_lines(p) for p in parser.paras)
    return out


def clean_prose(lang, t):
    """Clean prose paragraphs of one book ('zh-cn' or 'zh-tw')."""
    # Characters that only the other script uses: those that the converter
    # towards this script always changes.
    if lang == "zh-cn":
        other = {c for c, tg in t.ts.items() if c not in tg}
    else:
        other = {c for c, tg in t.st.items() if c not in tg}
    seen = set()
    keep = []
    for p in paragraphs(lang):
        if (len(p) >= MIN_CHARS and han_ratio(p) >= 0.5 and
                punctuation_ok(p) and one_script(p, other) and p not in seen):
            seen.add(p)
            keep.append(p)
    return keep


def main():
    outdir = sys.argv[1]
    t = tables.load(os.path.join(outdir, "cache"))
    for lang, name in (("zh-cn", "hans"), ("zh-tw", "hant")):
        allp = paragraphs(lang)
        keep = clean_prose(lang, t)
        with open(os.path.join(outdir, name + ".txt"), "w", encoding="utf-8") as f:
            for p in keep:
                f.write(p + "\n")
        print("corpus: %s: %d paragraphs in the book, %d clean prose kept (%d chars)"
              % (lang, len(allp), len(keep), sum(len(p) for p in keep)))


if __name__ == "__main__":
    main()
