"""Helpers the table generators share: the two-stage table layout, the
C array writers and the reader of OpenCC dictionaries.  Not a generator
itself (tables/regen runs gen_*.py only).

Two-stage table (utf8proc's layout): the code points are cut into blocks of
`size`; stage1[cp // size] names a block in stage2, and equal blocks
(above all the empty ones, which share block 0) are stored once.
"""
import os
import subprocess
import tempfile


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


def two_stage(value, nblocks, size, empty):
    """Split value(cp) for cp < nblocks * size into (stage1, blocks).

    `empty` is the block every missing code point falls in (block 0);
    value() must return the same kind of sequence (tuple or bytes), so that
    equal blocks compare equal.
    """
    blocks = [empty]
    index = {empty: 0}
    stage1 = []
    for hi in range(nblocks):
        blk = value(hi * size, size)
        if blk not in index:
            index[blk] = len(blocks)
            blocks.append(blk)
        stage1.append(index[blk])
    return stage1, blocks


def write_array(out, ctype, name, values, per_line, sep=", ", nonempty=False):
    """static const ctype name[n] = {...}; per_line values a line.
    nonempty: an empty array is written as one 0 (C has no empty arrays)."""
    n = len(values)
    out.write("static const %s %s[%d] = {\n" % (ctype, name, max(1, n) if nonempty else n))
    for i in range(0, n, per_line):
        out.write("    " + sep.join(str(v) for v in values[i:i + per_line]) + ",\n")
    if nonempty and not n:
        out.write("    0,\n")
    out.write("};\n")


def write_blocks(out, ctype, name, blocks, size, per_line, fmt=str):
    """stage2 of a two-stage table: the blocks one after the other, each
    under a comment with its number; fmt writes one value."""
    out.write("static const %s %s[%d] = {\n" % (ctype, name, len(blocks) * size))
    for bi, blk in enumerate(blocks):
        out.write("    /* block %d */\n" % bi)
        for i in range(0, size, per_line):
            out.write("    " + ",".join(fmt(x) for x in blk[i:i + per_line]) + ",\n")
    out.write("};\n")
