"""Shared by the benchmark parts: where things are, how zhfix is run, the
edit distance.  bench/run sets the environment:

  BENCH_WORK     scratch directory (removed by bench/run at the end)
  BENCH_BUILD    the build directory (src/zhfix, .libs)
  BENCH_SRC      the source directory
  BENCH_QUICK    1 for the short smoke run
  BENCH_SEED     the damage generator's seed (default 1)
"""
import json
import os
import subprocess

WORK = os.environ.get("BENCH_WORK", "/tmp/zhfix-bench")
BUILD = os.environ.get("BENCH_BUILD", os.getcwd())
SRC = os.environ.get("BENCH_SRC", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SEED = int(os.environ.get("BENCH_SEED", "1"))
CACHE = os.path.join(WORK, "cache")


def zhfix_cmd():
    """The program itself, not libtool's wrapper script (which would add a
    shell's start-up to every run): src/.libs/zhfix with the build's
    library on LD_LIBRARY_PATH (set by bench/run), or src/zhfix when the
    build is static."""
    real = os.path.join(BUILD, "src", ".libs", "zhfix")
    if os.path.exists(real):
        return [real]
    return [os.path.join(BUILD, "src", "zhfix")]


def zhfix_env():
    env = dict(os.environ)
    libs = os.path.join(BUILD, ".libs")
    env["LD_LIBRARY_PATH"] = libs + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env["LC_ALL"] = "C.UTF-8"
    return env


def run(cmd, data=None, timeout=120, env=None):
    """Run cmd; returns (exit status or 'timeout', stdout bytes, stderr bytes)."""
    try:
        p = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout,
                           env=env or zhfix_env())
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", b"", b""


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def save_json(name, obj):
    with open(os.path.join(WORK, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)


def load_json(name):
    path = os.path.join(WORK, name)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def levenshtein(a, b):
    """Edit distance between strings a and b (insertions, deletions and
    substitutions of code points), by Myers' bit-parallel algorithm as
    Hyyrö gives it for the global distance: O(len(b)) big-integer steps."""
    if a == b:
        return 0
    # The common prefix and suffix cost nothing.
    i = 0
    n = min(len(a), len(b))
    while i < n and a[i] == b[i]:
        i += 1
    j = 0
    while j < n - i and a[len(a) - 1 - j] == b[len(b) - 1 - j]:
        j += 1
    a = a[i:len(a) - j]
    b = b[i:len(b) - j]
    if not a:
        return len(b)
    if not b:
        return len(a)
    m = len(a)
    full = (1 << m) - 1
    last = 1 << (m - 1)
    peq = {}
    for k, c in enumerate(a):
        peq[c] = peq.get(c, 0) | (1 << k)
    pv, mv, score = full, 0, m
    for c in b:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & full) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
    return score


def _lev_dp(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def self_test():
    import random
    r = random.Random(7)
    for _ in range(3000):
        a = "".join(r.choice("abc甲乙") for _ in range(r.randint(0, 30)))
        b = "".join(r.choice("abc甲乙") for _ in range(r.randint(0, 30)))
        assert levenshtein(a, b) == _lev_dp(a, b), (a, b)


if __name__ == "__main__":
    self_test()
    print("levenshtein: ok")
