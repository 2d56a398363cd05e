"""Conversion tables and readings the damage generator uses, read from the
Debian packages (nothing from zhfix's own tables/, so the benchmark does
not grade the library against its own data):

  opencc        /usr/share/opencc/STCharacters.ocd2, TSCharacters.ocd2,
                dumped with `opencc_dict -f ocd2 -t text`
  unicode-data  /usr/share/unicode/Unihan_Readings.txt.bz2 (kMandarin,
                kHanyuPinyin, kXHC1983, kTGHZ2013) and
                Unihan_Variants.txt.bz2 (kTraditionalVariant, only for
                Simplified characters OpenCC's STCharacters leaves out,
                such as 着, which the seeds' converter turned into 著)

load(cachedir) returns a Tables object and keeps a pickle in cachedir.
"""
import bz2
import os
import pickle
import re
import subprocess

OPENCC = "/usr/share/opencc"
UNIHAN = "/usr/share/unicode"


class Tables:
    def __init__(self):
        self.st = {}        # Simplified char -> [Traditional targets] (OpenCC order)
        self.ts = {}        # Traditional char -> [Simplified targets]
        self.readings = {}  # char -> [pinyin with tone marks], kMandarin first
        self.versions = {}

    def traditional(self, c):
        """A character a naive s2t converter produces: a Traditional form
        that t2s would change."""
        tg = self.ts.get(c)
        return bool(tg) and tg[0] != c


def _dump_ocd2(name, cachedir):
    out = os.path.join(cachedir, name + ".txt")
    if not os.path.exists(out):
        subprocess.run(["opencc_dict", "-i", os.path.join(OPENCC, name + ".ocd2"),
                        "-o", out, "-f", "ocd2", "-t", "text"], check=True)
    table = {}
    with open(out, encoding="utf-8") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            if k and v:
                table[k] = v.split(" ")
    return table


def _cp(s):
    return chr(int(s[2:].split("<")[0], 16))


def _unihan(path, fields):
    with bz2.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("U+"):
                cp, field, value = line.rstrip("\n").split("\t", 2)
                if field in fields:
                    yield _cp(cp), field, value


def _pkg_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


def _build(cachedir):
    t = Tables()
    t.st = _dump_ocd2("STCharacters", cachedir)
    t.ts = _dump_ocd2("TSCharacters", cachedir)
    # Readings: kMandarin first (the common reading), then the others.
    order = ("kMandarin", "kHanyuPinyin", "kXHC1983", "kTGHZ2013")
    raw = {}
    for ch, field, value in _unihan(os.path.join(UNIHAN, "Unihan_Readings.txt.bz2"), order):
        if field == "kMandarin":
            rs = value.split()
        else:
            # "10099.080:cè,zhà 10100.010:x" -> cè zhà x
            rs = [r for part in value.split() for r in part.split(":", 1)[-1].split(",")]
        raw.setdefault(ch, {}).setdefault(field, []).extend(rs)
    for ch, fs in raw.items():
        seen = []
        for field in order:
            for r in fs.get(field, []):
                r = r.strip()
                if r and re.fullmatch(r"[a-zü\u0300-\u036f\u00e0-\u01dc]+", r) and r not in seen:
                    seen.append(r)
        if seen:
            t.readings[ch] = seen
    # Simplified characters OpenCC does not map but Unihan gives a
    # Traditional variant for (着 -> 着 著): a naive converter has them too.
    for ch, field, value in _unihan(os.path.join(UNIHAN, "Unihan_Variants.txt.bz2"),
                                    ("kTraditionalVariant",)):
        targets = [_cp(v) for v in value.split()]
        if ch not in t.st and any(x != ch for x in targets):
            t.st[ch] = targets
    t.versions = {p: _pkg_version(p) for p in ("opencc", "unicode-data")}
    return t


def load(cachedir):
    os.makedirs(cachedir, exist_ok=True)
    path = os.path.join(cachedir, "tables.pickle")
    if os.path.exists(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    t = _build(cachedir)
    with open(path, "wb") as f:
        pickle.dump(t, f)
    return t
