#!/usr/bin/python3
"""Part 5: speed and memory.

Inputs (made here in BENCH_WORK/speed, never committed), SIZE bytes each
(100 MB; 10 MB with BENCH_QUICK), whole paragraphs repeated in a new
shuffled order each round:
  clean-hans   clean Simplified prose
  clean-hant   clean Traditional prose
  seed-like    the seeds' damage chain (damage.py seed-like; four variants
               of each paragraph)
  mojibake     every paragraph garbled: UTF-8 read as GBK (whole and in a
               clause), GBK read as Latin-1, UTF-8 read as CP1252, GBK out
               of step
  lost-bytes   clean Simplified prose once decoded with bytes lost: in
               each paragraph one Han character became one to three
               U+FFFD (each sets off the mojibake pass's search for lost
               bytes)

Throughput.  Each tool is first timed once on a 1 MB prefix of each input
(0.25 MB quick).  So that the whole `make bench` fits its time budget, a
tool that would need more than RUN_SECONDS (8 s; 2 s quick) of wall-clock
time for the whole input reads a prefix of half, a quarter, ... of it
instead (at least the calibration prefix); the tools stream, so their speed
does not depend on the size, and tools of the same speed share a file.
BENCH_FULL_SIZE=1 never cuts.  In each of RUNS rounds (3; 1 quick), per
input, in this order: zhfix FILE, zhfix < FILE, opencc -c t2s -i FILE -o
/dev/null, iconv -f utf-8 -t gb18030 FILE, under /usr/bin/time -f
'%e %U %S %M'; medians of wall and CPU (user+sys) time.

Memory.  zhfix FILE on every whole SIZE input, killed after MEM_SECONDS
(15 s; 3 s quick) if not done, and zhfix reading stdin from a pipe that this
script feeds with a 4 MiB block again and again: 1 GiB of clean Simplified
prose (128 MiB quick), and seed-like text until 1 GiB or MEM_SECONDS.
Peak RSS is /usr/bin/time's %M.

Start-up: hyperfine -N on 1 KB files (else a loop of runs).

Profile: perf record on up to 10 MB of seed-like text (as much as zhfix
does in 8 s of CPU time) and on 10 MB of clean Traditional text, callgrind
on as much seed-like text as zhfix does in 0.2 s.

Writes speed.json in BENCH_WORK.
"""
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import damage  # noqa: E402
import tables  # noqa: E402

MB = 1000 * 1000
MiB = 1024 * 1024
Q = common.QUICK
SIZE = int(float(os.environ.get("BENCH_SIZE_MB", 10 if Q else 100)) * MB)
RUNS = int(os.environ.get("BENCH_RUNS", 1 if Q else 3))
RUN_SECONDS = float(os.environ.get("BENCH_RUN_SECONDS", 2 if Q else 8))
MEM_SECONDS = float(os.environ.get("BENCH_MEM_SECONDS", 3 if Q else 15))
FULL_SIZE = os.environ.get("BENCH_FULL_SIZE", "") not in ("", "0")
CAL_BYTES = (MB // 4) if Q else MB
BIG = (128 if Q else 1024) * MiB
PROFILE_BYTES = (1 if Q else 10) * MB
WATCHDOG = 300  # seconds: a run that hangs is killed and counted as failed
SPD = os.path.join(common.WORK, "speed")
MOJI_KINDS = ("utf8-as-gbk", "utf8-as-gbk-span", "gbk-as-latin1", "utf8-as-cp1252", "gbk-shift")


def log(msg):
    print("speed: " + msg, flush=True)


def make_inputs():
    t = tables.load(common.CACHE)
    hans = common.read_lines(os.path.join(common.WORK, "hans.txt"))
    hant = common.read_lines(os.path.join(common.WORK, "hant.txt"))
    blocks = {"clean-hans": hans, "clean-hant": hant}
    seed = []
    for v in range(4):
        d = damage.Damager(t, common.SEED + v)
        seed.extend(d.damage("seed-like", i, p)[0] for i, p in enumerate(hans))
    blocks["seed-like"] = seed
    d = damage.Damager(t, common.SEED)
    moji = []
    for i, p in enumerate(hans):
        for kind in MOJI_KINDS:
            r = d.damage(kind, i, p)
            if r is not None:
                moji.append(r[0])
    blocks["mojibake"] = moji
    rng = random.Random("%d:speed:lost-bytes" % common.SEED)
    lost = []
    for p in hans:
        han = [k for k, c in enumerate(p) if "\u4e00" <= c <= "\u9fff"]
        if han:
            k = rng.choice(han)
            p = p[:k] + "\ufffd" * rng.choice((1, 2, 3)) + p[k + 1:]
        lost.append(p)
    blocks["lost-bytes"] = lost
    os.makedirs(SPD, exist_ok=True)
    files = {}
    for name, lines in blocks.items():
        path = os.path.join(SPD, name + ".txt")
        rng = random.Random("%d:speed:%s" % (common.SEED, name))
        data = [(line + "\n").encode("utf-8") for line in lines]
        size = 0
        with open(path, "wb") as f:
            while size < SIZE:
                rng.shuffle(data)
                for b in data:
                    f.write(b)
                    size += len(b)
                    if size >= SIZE:
                        break
        files[name] = path
    return files


def prefix(src, nbytes, dst):
    """Write the first nbytes of src, cut after a newline, to dst."""
    with open(src, "rb") as f:
        data = f.read(nbytes)
    cut = data.rfind(b"\n") + 1
    with open(dst, "wb") as f:
        f.write(data[:cut] if cut else data)
    return dst


def _time_file():
    return os.path.join(SPD, "time.out")


def timed(cmd, stdin=None, kill_after=None):
    """Run cmd under /usr/bin/time -f '%e %U %S %M', output to /dev/null.
    Peak RSS is time's %M; CPU time (user+sys) comes from wait4() on the
    time process, which includes its child's, to the microsecond (time
    prints hundredths).  kill_after: kill cmd (not time) after so many
    seconds.  Returns dict wall, cpu, rss_kb, rc, killed, err."""
    errf = os.path.join(SPD, "time.err")
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    with open(errf, "wb") as ferr:
        t0 = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%e %U %S %M", "-o", _time_file()] + cmd,
                             stdin=fin, stdout=subprocess.DEVNULL, stderr=ferr, env=common.zhfix_env())
        killed = []

        def kill():
            try:
                with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                    for pid in f.read().split():
                        os.kill(int(pid), signal.SIGKILL)
                        killed.append(pid)
            except OSError:
                pass
        timer = threading.Timer(kill_after, kill) if kill_after else None
        if timer:
            timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if timer:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    if stdin:
        fin.close()
    with open(_time_file()) as f:
        lines = f.read().strip().splitlines()
    with open(errf, "rb") as f:
        err = f.read()[-300:].decode("utf-8", "replace")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime,
            "rss_kb": int(lines[-1].split()[3]) if lines else 0,
            "rc": p.returncode, "killed": bool(killed), "err": err}


def tools(path):
    z = common.zhfix_cmd()
    return [("zhfix", z + [path], None),
            ("zhfix stdin", z, path),
            ("opencc t2s", ["opencc", "-c", "t2s", "-i", path, "-o", "/dev/null"], None),
            ("iconv", ["iconv", "-f", "utf-8", "-t", "gb18030", path], None)]


def calibrate(files):
    """Time each tool once on a CAL_BYTES prefix of each input and choose
    the size it is measured on: the whole input, or the largest of SIZE/2,
    SIZE/4, ... (at least the calibration prefix) it reads in RUN_SECONDS.
    Tools of the same speed share a file.  Returns {name: {"files": {tool:
    path}, "cal": {tool: MB/s wall}}}."""
    out = {}
    for name, path in files.items():
        cal = prefix(path, CAL_BYTES, os.path.join(SPD, "cal-" + name + ".txt"))
        csize = os.path.getsize(cal)
        speeds, paths = {}, {}
        for tool, cmd, stdin in tools(cal):
            m = timed(cmd, stdin, kill_after=WATCHDOG)
            speeds[tool] = csize / max(m["wall"], 1e-3)
            n = SIZE
            while not FULL_SIZE and n > csize and n / speeds[tool] > RUN_SECONDS:
                n //= 2
            n = max(n, csize)
            if n >= SIZE:
                paths[tool] = path
            else:
                paths[tool] = os.path.join(SPD, "m-%s-%d.txt" % (name, n))
                if not os.path.exists(paths[tool]):
                    prefix(path, n, paths[tool])
        out[name] = {"files": paths, "cal": {t: v / MB for t, v in speeds.items()}}
        log("%-10s calibration (MB/s wall): %s; measured on %s"
            % (name, ", ".join("%s %.1f" % (t, v / MB) for t, v in speeds.items()),
               ", ".join("%s %.1f MB" % (t, os.path.getsize(p) / MB) for t, p in paths.items())))
    return out


def throughput(meas):
    res = {}
    for name, mm in meas.items():
        for p in set(mm["files"].values()):
            subprocess.run(["cat", p], stdout=subprocess.DEVNULL)  # page cache
        full = max(mm["files"].values(), key=os.path.getsize)
        res[name] = {"calibration_mbps_wall": mm["cal"],
                     "bytes": {t: os.path.getsize(p) for t, p in mm["files"].items()},
                     "runs": {}}
        res[name]["bytes"]["cat"] = os.path.getsize(full)
        res[name]["runs"]["cat"] = [timed(["cat", full])]
    for r in range(RUNS):
        for name, mm in meas.items():
            for tool, _, _ in tools(""):
                path = mm["files"][tool]
                cmd, stdin = [(c, i) for t, c, i in tools(path) if t == tool][0]
                m = timed(cmd, stdin, kill_after=WATCHDOG)
                res[name]["runs"].setdefault(tool, []).append(m)
                log("round %d %-10s %-12s %6.1f MB wall %6.2fs cpu %6.2fs rss %6.1f MB%s"
                    % (r + 1, name, tool, os.path.getsize(path) / MB, m["wall"], m["cpu"],
                       m["rss_kb"] / 1024,
                       "" if m["rc"] == 0 else "  exit %d %s" % (m["rc"], m["err"].strip())))
    for name, r in res.items():
        r["median"] = {}
        for tool, ms in r["runs"].items():
            wall = statistics.median(m["wall"] for m in ms)
            cpu = statistics.median(m["cpu"] for m in ms)
            n = r["bytes"][tool]
            r["median"][tool] = {
                "bytes": n, "wall": wall, "cpu": cpu,
                "mbps_wall": n / MB / wall if wall else None,
                "mbps_cpu": n / MB / cpu if cpu else None,
                "rss_mb": max(m["rss_kb"] for m in ms) / 1024,
                "failed": sum(1 for m in ms if m["rc"] != 0)}
    return res


def memory_files(files):
    """zhfix FILE on each whole input, stopped after MEM_SECONDS."""
    out = {}
    for name, path in files.items():
        m = timed(common.zhfix_cmd() + [path], kill_after=MEM_SECONDS)
        out[name] = {"bytes": os.path.getsize(path), "rss_mb": m["rss_kb"] / 1024, "wall": m["wall"],
                     "cpu": m["cpu"], "completed": m["rc"] == 0, "killed": m["killed"], "rc": m["rc"]}
        log("memory: zhfix %s (%.0f MB file): rss %.1f MB, %s"
            % (name, out[name]["bytes"] / MB, out[name]["rss_mb"],
               "done in %.1fs" % m["wall"] if m["rc"] == 0 else
               "stopped after %.0fs" % MEM_SECONDS if m["killed"] else "exit %s" % m["rc"]))
    return out


def stdin_feed(src, total, seconds):
    """zhfix reading a pipe that is fed a 4 MiB block of src (whole lines)
    again and again until total bytes or seconds have gone by; nothing of
    that size touches the disk."""
    with open(src, "rb") as f:
        data = f.read(4 * MiB + 65536)
    block = data[:data[:4 * MiB].rfind(b"\n") + 1]
    p = subprocess.Popen(["/usr/bin/time", "-f", "%e %U %S %M", "-o", _time_file()] + common.zhfix_cmd(),
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=common.zhfix_env())
    err = []
    t = threading.Thread(target=lambda: err.append(p.stderr.read()))
    t.start()

    def kill():  # zhfix hangs: stop it, so the write below fails
        try:
            with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                for pid in f.read().split():
                    os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
    watchdog = threading.Timer(seconds + WATCHDOG, kill)
    watchdog.start()
    fed = 0
    t0 = time.perf_counter()
    try:
        while fed < total and time.perf_counter() - t0 < seconds:
            for k in range(0, len(block), 65536):
                p.stdin.write(block[k:k + 65536])
                fed += len(block[k:k + 65536])
                if time.perf_counter() - t0 >= seconds:
                    break
        p.stdin.close()
    except BrokenPipeError:
        pass
    p.wait()
    watchdog.cancel()
    wall = time.perf_counter() - t0
    t.join()
    with open(_time_file()) as f:
        last = f.read().strip().splitlines()[-1].split()
    r = {"cpu": float(last[1]) + float(last[2]), "rss_kb": int(last[3])}
    return {"bytes": fed, "goal_bytes": total, "wall": wall, "cpu": r["cpu"], "rss_mb": r["rss_kb"] / 1024,
            "rc": p.returncode, "complete": fed >= total,
            "err": (err[0] if err else b"").decode("utf-8", "replace")[-300:]}


def memory_stdin(files):
    out = {}
    for name, seconds in (("clean-hans", 600), ("seed-like", MEM_SECONDS)):
        r = stdin_feed(files[name], BIG, seconds)
        out[name] = r
        log("memory: stdin %s: %.2f GB in %.1fs, rss %.1f MB, exit %s"
            % (name, r["bytes"] / 1e9, r["wall"], r["rss_mb"], r["rc"]))
    return out


def startup(files):
    """Start-up on 1 KB files: the first whole lines of the clean Simplified
    and the seed-like input up to 1 KB."""
    out = {}
    small = {}
    for name in ("clean-hans", "seed-like"):
        small[name] = prefix(files[name], 1024, os.path.join(SPD, "1k-" + name + ".txt"))
    runs = 30 if Q else 200
    z = common.zhfix_cmd()
    cmds = [("zhfix 1 KB " + n, z + [p]) for n, p in small.items()] + \
           [("cat 1 KB", ["cat", small["seed-like"]])]
    out["_bytes"] = {n: os.path.getsize(p) for n, p in small.items()}
    if shutil.which("valgrind"):
        # Instructions executed: a start-up figure the machine's load does
        # not change.
        ir = {}
        for label, c in cmds:
            cg = os.path.join(SPD, "callgrind-startup.out")
            try:
                r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg] + c,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=common.zhfix_env(), timeout=WATCHDOG)
            except subprocess.TimeoutExpired:
                continue
            if r.returncode == 0:
                a = _annotate(cg, "yes")
                ir[label] = {"total": a["total_ir"],
                             "dl_start": next((x["pct"] for x in a["rows"] if x["fn"].startswith("_dl_start")), None),
                             "main": next((x["pct"] for x in a["rows"] if x["fn"].startswith("main (")), None)}
        out["_ir"] = ir
    if shutil.which("hyperfine"):
        js = os.path.join(SPD, "hyperfine.json")
        args = ["hyperfine", "-N", "--warmup", "5" if Q else "20", "--runs", str(runs),
                "--export-json", js]
        for label, c in cmds:
            args += ["-n", label, " ".join(c)]
        try:
            p = subprocess.run(args, capture_output=True, text=True, env=common.zhfix_env(), timeout=900)
        except subprocess.TimeoutExpired:
            p = None
        if p is not None and p.returncode == 0:
            with open(js) as f:
                for r in json.load(f)["results"]:
                    out[r["command"]] = {"mean_ms": r["mean"] * 1000, "median_ms": r["median"] * 1000,
                                         "stddev_ms": r["stddev"] * 1000, "runs": len(r["times"]),
                                         "cpu_ms": (r["user"] + r["system"]) * 1000, "tool": "hyperfine"}
            return out
    for label, c in cmds:
        ts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(c, stdout=subprocess.DEVNULL, env=common.zhfix_env())
            ts.append(time.perf_counter() - t0)
        out[label] = {"mean_ms": statistics.mean(ts) * 1000, "median_ms": statistics.median(ts) * 1000,
                      "stddev_ms": statistics.pstdev(ts) * 1000, "runs": runs, "cpu_ms": None,
                      "tool": "loop"}
    return out


def _annotate(cg, inclusive):
    """Top functions from callgrind_annotate: [{ir, pct, fn}], total."""
    ann = subprocess.run(["callgrind_annotate", "--inclusive=" + inclusive, "--auto=no", cg],
                         capture_output=True, text=True)
    rows, total = [], None
    for line in ann.stdout.splitlines():
        s = line.strip()
        if not s or not s[0].isdigit() or "(" not in s:
            continue
        ir, rest = s.split(" ", 1)
        pct = float(rest[rest.find("(") + 1:rest.find("%")])
        fn = rest[rest.find(")") + 1:].strip()
        if fn == "PROGRAM TOTALS":
            total = ir
            continue
        fn = fn.split(" [")[0]
        if "???" in fn or "below main" in fn or "libc_start" in fn:
            continue
        if ":" in fn:
            path, _, func = fn.rpartition(":")
            fn = "%s (%s)" % (func, os.path.basename(path))
        rows.append({"ir": ir, "pct": pct, "fn": fn})
    return {"total_ir": total, "rows": rows[:20 if inclusive == "yes" else 15]}


def _perf(path):
    """perf record (cpu-clock) of zhfix FILE: the top functions by self
    time, or {"error": ...}."""
    pd = os.path.join(SPD, "perf.data")
    env = common.zhfix_env()
    try:
        r = subprocess.run(["perf", "record", "-q", "-F", "9999", "-o", pd] + common.zhfix_cmd() + [path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=WATCHDOG)
    except subprocess.TimeoutExpired:
        return {"error": "perf record: timed out"}
    if r.returncode != 0:
        return {"error": r.stderr.decode("utf-8", "replace")[-300:]}
    rep = subprocess.run(["perf", "report", "-i", pd, "--stdio", "--no-children",
                          "--sort", "dso,symbol", "--percent-limit", "0.5"],
                         capture_output=True, text=True, env=env)
    rows, samples = [], "?"
    for line in rep.stdout.splitlines():
        if line.startswith("# Samples:"):
            samples = line.split()[2]
        parts = line.split()
        if line.startswith("#") or len(parts) < 4 or not parts[0].endswith("%"):
            continue
        sym = [w for w in parts[3:] if w != "-"]
        rows.append({"pct": float(parts[0].rstrip("%")), "dso": parts[1], "symbol": " ".join(sym)})
    return {"rows": rows[:15], "samples": samples, "bytes": os.path.getsize(path)}


def profile(files, zhfix_mbps_cpu):
    out = {}
    z = common.zhfix_cmd()
    env = common.zhfix_env()
    src = files["seed-like"]
    if shutil.which("perf"):
        n = int(min(PROFILE_BYTES, max(MB // 4, zhfix_mbps_cpu * MB * (2 if Q else 8))))
        r = _perf(prefix(src, n, os.path.join(SPD, "profile-perf.txt")))
        out["perf" if "rows" in r else "perf_error"] = r if "rows" in r else r["error"]
        # Clean text, where zhfix should cost about what reading does.
        r = _perf(prefix(files["clean-hant"], PROFILE_BYTES, os.path.join(SPD, "profile-clean.txt")))
        if "rows" in r:
            out["perf_clean"] = r
    if shutil.which("valgrind") and shutil.which("callgrind_annotate"):
        n = int(min(PROFILE_BYTES, max(20000 if Q else 50000, zhfix_mbps_cpu * MB * (0.05 if Q else 0.2))))
        path = prefix(src, n, os.path.join(SPD, "profile-cg.txt"))
        cg = os.path.join(SPD, "callgrind.out")
        try:
            r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg] + z + [path],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=WATCHDOG)
        except subprocess.TimeoutExpired as e:
            r = subprocess.CompletedProcess(e.cmd, 1, b"", b"callgrind: timed out")
        if r.returncode == 0 and os.path.exists(cg):
            with open(path, "rb") as f:
                qmarks = f.read().count(b"?")
            out["callgrind"] = {"self": _annotate(cg, "no"), "inclusive": _annotate(cg, "yes"),
                                "bytes": os.path.getsize(path), "question_marks": qmarks}
        else:
            out["callgrind_error"] = r.stderr.decode("utf-8", "replace")[-300:]
    return out


def main():
    t0 = time.time()
    res = {"size": SIZE, "runs": RUNS, "run_seconds": RUN_SECONDS, "mem_seconds": MEM_SECONDS,
           "full_size": FULL_SIZE, "load_before": os.getloadavg()}
    files = make_inputs()
    log("inputs of %.0f MB made in %.0fs" % (SIZE / MB, time.time() - t0))
    meas = calibrate(files)
    res["throughput"] = throughput(meas)
    res["startup"] = startup(files)
    res["memory_files"] = memory_files(files)
    res["memory_stdin"] = memory_stdin(files)
    res["profile"] = profile(files, res["throughput"]["seed-like"]["median"]["zhfix"]["mbps_cpu"] or 1)
    res["load_after"] = os.getloadavg()
    res["seconds"] = time.time() - t0
    common.save_json("speed.json", res)
    if not os.environ.get("BENCH_KEEP"):
        for name in os.listdir(SPD):
            if name.endswith(".txt"):
                os.remove(os.path.join(SPD, name))


if __name__ == "__main__":
    main()
