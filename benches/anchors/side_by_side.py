#!/usr/bin/env python3
"""hebb, Brian2 (C++ standalone) and NEST side by side, in one session.

    python3 benches/anchors/side_by_side.py --python $HEBB_ANCHORS_PYTHON
        [--hebb target/release/hebb] [--rows cuba4k,brunel,...] [--skip brian2,nest]
        [--repeat K] [--json PATH] [--recurrent-duration S] [--duration S]
        [--timeout S] [--hebb-args='...'] [--brian2-threads 1,2] [--keep]

Rows (default: all, in this order):

  cuba4k           models/cuba.hebb, 4000 neurons, p = 0.02, 1 s
  cuba64k          the same scaled to 64000 neurons, in-degree 80, 1 s
  cuba256k         the same scaled to 256000 neurons, in-degree 80, 1 s
  plastic4k        benches/models/plastic.hebb (cuba + E->E pair STDP), 10 s
  plastic64k       plastic scaled to 64000 neurons, in-degree 80, 1 s
  recurrent        benches/models/recurrent.hebb, 100 s (--recurrent-duration)
  brunel           models/brunel.hebb (12500 neurons), 1 s
  million-static   hebb only: CUBA with 1M neurons, in-degree 100 (1e8 synapses), 1 s
  million-plastic  hebb only: plastic with 1M neurons, in-degree 100, 1 s

For every row: hebb with --threads 1 and --threads 2 (run.json's run_s and
build_s, peak RSS of the hebb process), one more hebb run with --profile at
1 thread (top 3 parts, ns per neuron-step of the `step` kernels), Brian2
standalone (benches/anchors/brian2_models.py) with --threads 1 and 2, NEST
(benches/anchors/nest_models.py) with --threads 2. One process at a time;
the K repeats are interleaved (hebb 1t, hebb 2t, Brian2 1t, Brian2 2t, NEST
2t, then again), and every figure is the median of the K runs.

A Markdown table goes to stdout, progress to stderr, and every raw figure
to the JSON file (written after each row, so an interrupted session keeps
what it measured). See benches/anchors/README.md.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
BRIAN2_SCRIPT = os.path.join(HERE, "brian2_models.py")
NEST_SCRIPT = os.path.join(HERE, "nest_models.py")
CUBA = os.path.join(REPO, "models", "cuba.hebb")
PLASTIC = os.path.join(REPO, "benches", "models", "plastic.hebb")
RECURRENT = os.path.join(REPO, "benches", "models", "recurrent.hebb")
BRUNEL = os.path.join(REPO, "models", "brunel.hebb")
SIMULATORS = ("brian2", "nest")
TAIL = 4000  # characters of stderr kept for a failed run


class Row:
    def __init__(self, name, model, neurons, duration, hebb_file, indegree=None, hebb_only=False,
                 nest=True, description=""):
        self.name = name
        self.model = model            # brian2_models.py / nest_models.py --model
        self.neurons = neurons        # --neurons (None: the script's default)
        self.duration = duration
        self.hebb_file = hebb_file    # the hebb model (scaled when indegree is set)
        self.indegree = indegree
        self.hebb_only = hebb_only
        self.nest = nest
        self.description = description


ROWS = [
    Row("cuba4k", "cuba", 4000, 1.0, CUBA, description="models/cuba.hebb, p = 0.02"),
    Row("cuba64k", "cuba", 64000, 1.0, CUBA, indegree=80, description="cuba at 64k neurons, in-degree 80"),
    Row("cuba256k", "cuba", 256000, 1.0, CUBA, indegree=80, description="cuba at 256k neurons, in-degree 80"),
    Row("plastic4k", "plastic", 4000, 10.0, PLASTIC, description="benches/models/plastic.hebb"),
    Row("plastic64k", "plastic", 64000, 1.0, PLASTIC, indegree=80, description="plastic at 64k neurons, in-degree 80"),
    Row("recurrent", "recurrent", None, 100.0, RECURRENT, nest=False,
        description="benches/models/recurrent.hebb (NEST: needs NESTML)"),
    Row("brunel", "brunel", None, 1.0, BRUNEL, description="models/brunel.hebb, 12500 neurons"),
    Row("million-static", "cuba", 1000000, 1.0, CUBA, indegree=100, hebb_only=True,
        description="cuba at 1M neurons, in-degree 100"),
    Row("million-plastic", "plastic", 1000000, 1.0, PLASTIC, indegree=100, hebb_only=True,
        description="plastic at 1M neurons, in-degree 100"),
]
ROW_NAMES = [r.name for r in ROWS]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="rows: " + ", ".join(ROW_NAMES))
    p.add_argument("--hebb", default="target/release/hebb",
                   help="the hebb binary (default target/release/hebb, relative to the current directory, "
                        "else to the repository)")
    p.add_argument("--hebb-args", default="",
                   help="extra arguments for every `hebb run`, one string split as a shell would: --hebb-args='--no-hoist'")
    p.add_argument("--python", default=os.environ.get("HEBB_ANCHORS_PYTHON", "python3"),
                   help="python with brian2 and nest (default $HEBB_ANCHORS_PYTHON, else python3)")
    p.add_argument("--rows", default=",".join(ROW_NAMES), help="comma-separated rows (default: all)")
    p.add_argument("--skip", default="", help="comma-separated simulators not to run: brian2, nest")
    p.add_argument("--brian2-threads", default="1,2",
                   help="Brian2's thread counts, of 1 and 2 (default 1,2; the ratios need 1)")
    p.add_argument("--repeat", type=int, default=1, help="runs per measurement; the median is reported")
    p.add_argument("--json", default=None,
                   help="where to write the raw figures (default side_by_side-<date>.json in the current directory)")
    p.add_argument("--recurrent-duration", type=float, default=None,
                   help="simulated seconds of the recurrent row (default 100)")
    p.add_argument("--duration", type=float, default=None,
                   help="simulated seconds of every row (for quick checks; default: each row's own)")
    p.add_argument("--timeout", type=float, default=0, help="seconds before a run is killed (0: never)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (models, run dirs, builds)")
    a = p.parse_args()
    rows = [r.strip() for r in a.rows.split(",") if r.strip()]
    bad = [r for r in rows if r not in ROW_NAMES]
    if bad:
        p.error(f"unknown rows {bad}; rows are {ROW_NAMES}")
    a.rows = [r for r in ROWS if r.name in rows]
    a.skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    if a.skip - set(SIMULATORS):
        p.error(f"--skip takes {SIMULATORS}, not {sorted(a.skip - set(SIMULATORS))}")
    try:
        a.brian2_threads = sorted({int(t) for t in a.brian2_threads.split(",") if t.strip()})
    except ValueError:
        a.brian2_threads = None
    if not a.brian2_threads or set(a.brian2_threads) - {1, 2}:
        p.error("--brian2-threads takes 1, 2 or 1,2")
    a.hebb_args = shlex.split(a.hebb_args)
    if a.repeat < 1:
        p.error("--repeat must be at least 1")
    hebb = a.hebb
    if not os.path.isabs(hebb) and not os.path.exists(hebb) and os.path.exists(os.path.join(REPO, hebb)):
        hebb = os.path.join(REPO, hebb)
    a.hebb = os.path.abspath(hebb)
    if not os.access(a.hebb, os.X_OK):
        p.error(f"no hebb binary at {a.hebb} (build it with `cargo build --release`, or pass --hebb)")
    if a.json is None:
        a.json = "side_by_side-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".json"
    return a


# --------------------------------------------------------------------------- processes
def busy_cpu_s():
    """CPU seconds the whole machine has been busy (/proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_process(cmd, timeout=0, cwd=None):
    """Runs cmd to the end; returns rc, stdout, stderr, wall seconds and the
    peak RSS of the process itself (bytes, from wait4's rusage)."""
    load = os.getloadavg()[0]
    busy0 = busy_cpu_s()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, start_new_session=True)
        except OSError as e:
            return {"rc": None, "stdout": "", "stderr": f"cannot start {cmd[0]}: {e}", "wall_s": 0.0,
                    "peak_rss_bytes": None, "loadavg_before": load, "cpu_s": None, "other_cpu_s": None,
                    "start_error": str(e)}
        killed = []
        timer = None
        if timeout and timeout > 0:
            def kill():
                killed.append(True)
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            timer = threading.Timer(timeout, kill)
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            raise
        finally:
            if timer:
                timer.cancel()
        wall = time.perf_counter() - t0
        busy1 = busy_cpu_s()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    # CPU time the rest of the machine used while this ran (the process and
    # its waited-for children excluded): a check that the machine was quiet.
    own = usage.ru_utime + usage.ru_stime
    other = None if busy0 is None or busy1 is None else max(0.0, busy1 - busy0 - own)
    if killed:
        stderr += f"\n[side_by_side: killed after the {timeout:g} s timeout]"
    return {"rc": proc.returncode, "stdout": stdout, "stderr": stderr, "wall_s": wall,
            "peak_rss_bytes": usage.ru_maxrss * 1024, "loadavg_before": load,
            "cpu_s": own, "other_cpu_s": other}


def failure(cmd, res, why):
    return {"ok": False, "error": why, "cmd": cmd, "rc": res.get("rc"), "loadavg_before": res.get("loadavg_before"),
            "other_cpu_s": res.get("other_cpu_s"),
            "stderr_tail": (res.get("stderr") or "")[-TAIL:], "stdout_tail": (res.get("stdout") or "")[-TAIL:]}


# --------------------------------------------------------------------------- hebb
def scale_cuba_text(text, n, indegree):
    """cuba.hebb / plastic.hebb at n neurons (80 % E) and p = indegree / n,
    as benches/core.rs scales cuba to 64k."""
    ne = int(round(0.8 * n))
    p = indegree / n
    p_text = f"{p:.12f}".rstrip("0")
    subs = [("population P = 4000", f"population P = {n}"),
            ("P[0..3200]", f"P[0..{ne}]"),
            ("P[3200..4000]", f"P[{ne}..{n}]"),
            ("p = 0.02", f"p = {p_text}")]
    for old, new in subs:
        if old not in text:
            raise ValueError(f"cannot scale the model: `{old}` not found")
        text = text.replace(old, new)
    return text


def poisson_populations(text):
    return set(re.findall(r"population\s+(\w+)\s*=\s*\d+\s+poisson\b", text))


def hebb_model(row, workdir):
    """The model file hebb runs for a row (a scaled copy for the scaled rows)."""
    if row.indegree is None:
        return row.hebb_file
    with open(row.hebb_file) as f:
        text = scale_cuba_text(f.read(), row.neurons, row.indegree)
    path = os.path.join(workdir, f"{row.name}.hebb")
    with open(path, "w") as f:
        f.write(text)
    return path


def run_hebb(args, model, duration, threads, workdir, profile=False):
    rundir = tempfile.mkdtemp(prefix="hebb-run-", dir=workdir)
    shutil.rmtree(rundir)  # hebb creates it
    cmd = [args.hebb, "run", model, "-o", rundir, "--threads", str(threads),
           "--duration", f"{duration:g}s", "--quiet"] + args.hebb_args + (["--profile"] if profile else [])
    res = run_process(cmd, args.timeout)
    try:
        if res["rc"] != 0:
            return failure(cmd, res, res.get("start_error") or f"exit status {res['rc']}")
        try:
            with open(os.path.join(rundir, "run.json")) as f:
                run = json.load(f)
        except (OSError, ValueError) as e:
            return failure(cmd, res, f"no run.json: {e}")
        if run.get("status") != "ok":
            return failure(cmd, res, f"status {run.get('status')}: {run.get('message')}")
        with open(model) as f:
            sources = poisson_populations(f.read())
        pops = run.get("populations", {})
        neurons = sum(p["size"] for name, p in pops.items() if name not in sources)
        spikes = sum(p["spikes"] for name, p in pops.items() if name not in sources)
        synapses = sum(p.get("synapses", 0) for p in run.get("projections", []))
        t = run.get("timings", {})
        out = {
            "ok": True, "cmd": cmd, "threads": threads, "duration": duration,
            "run_s": t.get("run_s"), "build_s": t.get("build_s"),
            "setup_s": sum(t.get(k, 0.0) for k in ("parse_s", "check_s", "compile_s", "build_s")),
            "timings": t, "wall_s": round(res["wall_s"], 4), "peak_rss_bytes": res["peak_rss_bytes"],
            "loadavg_before": res["loadavg_before"], "cpu_s": res["cpu_s"], "other_cpu_s": res["other_cpu_s"],
            "neurons": neurons, "spikes": spikes,
            "rate_hz": spikes / neurons / duration if neurons else None,
            "rates_hz": {name: p.get("mean_rate_hz") for name, p in pops.items()},
            "synapses": synapses,
            "projections": [{k: p.get(k) for k in ("name", "synapses", "bytes_per_synapse")}
                            for p in run.get("projections", [])],
        }
        if profile and "profile" in run:
            prof = sorted(run["profile"], key=lambda p: -p.get("seconds", 0.0))
            out["profile"] = prof
            out["top3"] = [{"part": p["part"], "seconds": p["seconds"], "share": p.get("share")}
                           for p in prof[:3]]
            ns = {}
            for p in prof:
                m = re.fullmatch(r"step (\w+)", p["part"])
                if m and m.group(1) in pops and p.get("calls"):
                    ns[m.group(1)] = p["seconds"] / (p["calls"] * pops[m.group(1)]["size"]) * 1e9
            out["ns_per_neuron_step"] = ns
        return out
    finally:
        shutil.rmtree(rundir, ignore_errors=True)


# --------------------------------------------------------------------------- Brian2 / NEST
def run_script(args, script, row, duration, threads, extra=()):
    cmd = [args.python, script, "--model", row.model, "--duration", f"{duration:g}",
           "--threads", str(threads)] + (["--neurons", str(row.neurons)] if row.neurons else []) + list(extra)
    res = run_process(cmd, args.timeout)
    lines = [l for l in res["stdout"].splitlines() if l.strip()]
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        data = None
    if res["rc"] != 0 or not isinstance(data, dict) or "run_s" not in data:
        why = res.get("start_error") or (f"exit status {res['rc']}" if res["rc"] != 0 else "no JSON line with run_s")
        return failure(cmd, res, why)
    data.update(ok=True, cmd=cmd, wall_s=round(res["wall_s"], 4), peak_rss_bytes=res["peak_rss_bytes"],
                loadavg_before=res["loadavg_before"], cpu_s=res["cpu_s"], other_cpu_s=res["other_cpu_s"])
    return data


# --------------------------------------------------------------------------- summary
def med(runs, key):
    vals = [r[key] for r in runs if r.get("ok") and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarize(runs, keys=("run_s", "build_s", "setup_s", "compile_s", "peak_rss_bytes", "rate_hz",
                          "synapses", "neurons")):
    ok = [r for r in runs if r.get("ok")]
    s = {"n_ok": len(ok), "n_runs": len(runs)}
    for k in keys:
        v = med(runs, k)
        if v is not None:
            s[k] = v
    if ok and "compile_s" in ok[0]:
        s["compile_s_first"] = ok[0]["compile_s"]   # Brian2: the cold build
    errors = [r for r in runs if not r.get("ok")]
    if errors:
        s["errors"] = errors
    return s


def ratio(a, b):
    return a / b if a is not None and b else None


def measure_row(args, row, workdir):
    duration = row.duration
    if args.duration is not None:
        duration = args.duration
    if row.name == "recurrent" and args.recurrent_duration is not None:
        duration = args.recurrent_duration
    result = {"row": row.name, "description": row.description, "model": row.model,
              "duration": duration, "hebb_only": row.hebb_only}
    try:
        model = hebb_model(row, workdir)
    except (OSError, ValueError) as e:
        result["error"] = str(e)
        return result
    result["hebb_model"] = model
    if row.indegree is not None:
        result["indegree"] = row.indegree
    run_b2 = not row.hebb_only and "brian2" not in args.skip
    run_nest = not row.hebb_only and "nest" not in args.skip and row.nest
    raw = {"hebb_1t": [], "hebb_2t": [], "brian2_1t": [], "brian2_2t": [], "nest_2t": []}
    for k in range(args.repeat):
        tag = f"{row.name} [{k + 1}/{args.repeat}]"
        for t in (1, 2):
            log(f"{tag} hebb {t}t ...")
            raw[f"hebb_{t}t"].append(run_hebb(args, model, duration, t, workdir))
            report(raw[f"hebb_{t}t"][-1])
        if run_b2:
            for t in args.brian2_threads:
                log(f"{tag} brian2 {t}t ...")
                build_dir = os.path.join(workdir, f"brian2-{row.name}-{t}t")
                raw[f"brian2_{t}t"].append(run_script(args, BRIAN2_SCRIPT, row, duration, t,
                                                      ["--build-dir", build_dir]))
                report(raw[f"brian2_{t}t"][-1])
        if run_nest:
            log(f"{tag} nest 2t ...")
            raw["nest_2t"].append(run_script(args, NEST_SCRIPT, row, duration, 2))
            report(raw["nest_2t"][-1])
    log(f"{row.name} hebb 1t --profile ...")
    prof = run_hebb(args, model, duration, 1, workdir, profile=True)
    report(prof)
    # Brian2's build directories hold the whole generated project; keep them only with --keep.
    if not args.keep:
        for t in (1, 2):
            shutil.rmtree(os.path.join(workdir, f"brian2-{row.name}-{t}t"), ignore_errors=True)

    s = {k: summarize(v) for k, v in raw.items() if v}
    result["raw"] = raw
    result["summary"] = s
    result["profile_run"] = prof
    if prof.get("ok"):
        result["profile_top3"] = prof.get("top3")
        result["ns_per_neuron_step"] = prof.get("ns_per_neuron_step")
    h1, h2 = s.get("hebb_1t", {}), s.get("hebb_2t", {})
    b1, b2 = s.get("brian2_1t", {}), s.get("brian2_2t", {})
    n2 = s.get("nest_2t", {})
    result["status"] = {
        "brian2": "hebb only" if row.hebb_only else ("skipped" if "brian2" in args.skip else None),
        "nest": "hebb only" if row.hebb_only else ("skipped" if "nest" in args.skip
                                                   else (None if row.nest else "n/a")),
    }
    if run_b2:
        result["not_run"] = [f"brian2_{t}t" for t in (1, 2) if t not in args.brian2_threads]
    syn = h1.get("synapses") or h2.get("synapses")
    result["synapses"] = syn
    result["neurons"] = h1.get("neurons") or h2.get("neurons")
    if syn and h1.get("peak_rss_bytes"):
        result["bytes_per_synapse_1t"] = h1["peak_rss_bytes"] / syn
    if syn and h2.get("peak_rss_bytes"):
        result["bytes_per_synapse_2t"] = h2["peak_rss_bytes"] / syn
    result["ratios"] = {
        "hebb_2t/hebb_1t": ratio(h2.get("run_s"), h1.get("run_s")),
        "hebb_1t/brian2_1t": ratio(h1.get("run_s"), b1.get("run_s")),
        "hebb_2t/brian2_1t": ratio(h2.get("run_s"), b1.get("run_s")),
        "hebb_2t/brian2_2t": ratio(h2.get("run_s"), b2.get("run_s")),
        "hebb_2t/nest_2t": ratio(h2.get("run_s"), n2.get("run_s")),
    }
    return result


def report(r):
    if r.get("ok"):
        extra = f", compile {r['compile_s']:.2f} s" if r.get("compile_s") else ""
        rate = f", {r['rate_hz']:.2f} Hz" if r.get("rate_hz") is not None else ""
        other = f", other processes {r['other_cpu_s']:.2f} CPU s" if r.get("other_cpu_s") is not None else ""
        log(f"    run {r['run_s']:.4g} s{extra}{rate}{other}")
    else:
        log(f"    error: {r.get('error')}")
        for line in (r.get("stderr_tail") or "").strip().splitlines()[-5:]:
            log(f"      | {line}")


# --------------------------------------------------------------------------- table
def fmt_s(v):
    if v is None:
        return "error"
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def fmt_ratio(v):
    return "" if v is None else f"{v:.2f}"


def cell(res, sim, key, fmt=fmt_s):
    st = res.get("status", {}).get(sim.split("_")[0])
    if st:
        return {"hebb only": "—", "skipped": "skip", "n/a": "n/a"}[st]
    if sim in res.get("not_run", ()):
        return "not run"
    s = res.get("summary", {}).get(sim)
    if not s or s.get(key) is None:
        return "error"
    return fmt(s[key])


def compile_cell(r):
    """Brian2's cold build (code generation + make), 1t / 2t."""
    c = [cell(r, sim, "compile_s_first") for sim in ("brian2_1t", "brian2_2t")]
    if c[0] == c[1] and c[0] in ("—", "skip"):
        return c[0]
    return " / ".join(c)


def fmt_count(v):
    if not v:
        return ""
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.3g}{suf}"
    return str(v)


def tables(results):
    lines = []
    head = ["row", "sim s", "neurons", "synapses",
            "hebb 1t run s", "hebb 2t run s", "hebb build s 1t / 2t", "hebb peak RSS MB 1t", "B/syn",
            "brian2 1t run s", "brian2 2t run s", "brian2 compile s 1t / 2t",
            "nest 2t run s", "rate Hz hebb / brian2 / nest",
            "hebb 2t / 1t", "hebb 1t / brian2 1t", "hebb 2t / brian2 1t"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join("---" for _ in head) + "|")
    for r in results:
        if "summary" not in r:
            lines.append(f"| {r['row']} | {r['duration']:g} | | | error: {r.get('error', '')} |"
                         + " |" * (len(head) - 5))
            continue
        s = r["summary"]
        h1, h2 = s.get("hebb_1t", {}), s.get("hebb_2t", {})
        build = f"{fmt_s(h1.get('build_s'))} / {fmt_s(h2.get('build_s'))}"
        rss = h1.get("peak_rss_bytes")
        bps = r.get("bytes_per_synapse_1t") if r["row"].startswith("million") else None

        rates = " / ".join(cell(r, sim, "rate_hz", lambda v: f"{v:.2f}")
                           for sim in ("hebb_1t", "brian2_1t", "nest_2t"))
        ra = r["ratios"]
        row = [r["row"], f"{r['duration']:g}", fmt_count(r.get("neurons")), fmt_count(r.get("synapses")),
               cell(r, "hebb_1t", "run_s"), cell(r, "hebb_2t", "run_s"), build,
               "error" if rss is None else f"{rss / 2**20:.0f}",
               "" if bps is None else f"{bps:.1f}",
               cell(r, "brian2_1t", "run_s"), cell(r, "brian2_2t", "run_s"),
               compile_cell(r),
               cell(r, "nest_2t", "run_s"), rates,
               fmt_ratio(ra["hebb_2t/hebb_1t"]), fmt_ratio(ra["hebb_1t/brian2_1t"]),
               fmt_ratio(ra["hebb_2t/brian2_1t"])]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("hebb --profile, 1 thread (top 3 parts of the run; ns per neuron-step of each `step` kernel):")
    lines.append("")
    lines.append("| row | top 3 parts (seconds, share) | ns / neuron-step |")
    lines.append("|---|---|---|")
    for r in results:
        prof = r.get("profile_run")
        if not prof:
            continue
        if not prof.get("ok"):
            lines.append(f"| {r['row']} | error | |")
            continue
        top = "; ".join(f"{p['part']} {p['seconds']:.3g} s ({100 * (p.get('share') or 0):.0f} %)"
                        for p in prof.get("top3", []))
        ns = ", ".join(f"{k} {v:.2f}" for k, v in (prof.get("ns_per_neuron_step") or {}).items())
        lines.append(f"| {r['row']} | {top} | {ns} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- session
def cpu_info():
    model, physical = None, set()
    phys_id = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                if k == "model name" and model is None:
                    model = v
                elif k == "physical id":
                    phys_id = v
                elif k == "core id":
                    physical.add((phys_id, v))
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cpu_model": model or platform.processor(), "logical_cores": os.cpu_count(),
            "physical_cores": len(physical) or None, "memory_bytes": mem,
            "system": f"{platform.system()} {platform.release()}", "machine": platform.machine(),
            "loadavg_start": os.getloadavg()}


def versions(args):
    v = {}
    try:
        out = subprocess.run([args.hebb, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        v["hebb"] = out[5:] if out.startswith("hebb ") else out
    except (OSError, subprocess.SubprocessError) as e:
        v["hebb"] = f"error: {e}"
    mods = [m for m in SIMULATORS if m not in args.skip]
    if mods:
        code = "import json, sys, os\nos.dup2(2, 1)\nout = {}\n"
        for m in mods:
            code += (f"try:\n    import {m}\n    out['{m}'] = {m}.__version__\n"
                     f"except Exception as e:\n    out['{m}'] = 'error: ' + repr(e)\n")
        code += "sys.stderr.write('\\nVERSIONS ' + json.dumps(out) + '\\n')\n"
        try:
            p = subprocess.run([args.python, "-c", code], capture_output=True, text=True, timeout=120)
            found = [l for l in p.stderr.splitlines() if l.startswith("VERSIONS ")]
            v.update(json.loads(found[-1][9:]) if found else {m: "error: " + p.stderr[-500:] for m in mods})
        except (OSError, subprocess.SubprocessError) as e:
            v.update({m: f"error: {e}" for m in mods})
        try:
            v["python"] = subprocess.run([args.python, "--version"], capture_output=True, text=True,
                                         timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return v


def main():
    args = parse_args()
    workdir = tempfile.mkdtemp(prefix="hebb-side-by-side-")
    session = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": cpu_info(),
        "versions": versions(args),
        "command": sys.argv,
        "hebb_binary": args.hebb,
        "hebb_args": args.hebb_args,
        "python": args.python,
        "repeat": args.repeat,
        "skip": sorted(args.skip),
        "rows": [],
    }
    log(f"machine: {session['machine']['cpu_model']}, {session['machine']['logical_cores']} cores; "
        f"versions: {session['versions']}")
    log(f"raw figures: {os.path.abspath(args.json)}; work dir: {workdir}")

    def save():
        session["machine"]["loadavg_end"] = os.getloadavg()
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(session, f, indent=1)
        os.replace(tmp, args.json)

    try:
        for row in args.rows:
            session["rows"].append(measure_row(args, row, workdir))
            save()
    except KeyboardInterrupt:
        log("interrupted: the table has the rows measured so far")
        session["interrupted"] = True
    finally:
        save()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    others = [run.get("other_cpu_s") for r in session["rows"]
              for run in [x for v in r.get("raw", {}).values() for x in v] + [r.get("profile_run") or {}]
              if run.get("other_cpu_s") is not None]
    session["max_other_cpu_s"] = max(others) if others else None
    save()
    m, v = session["machine"], session["versions"]
    print(f"{session['date']}; {m['cpu_model']}, {m['logical_cores']} logical cores"
          f" ({m['physical_cores']} physical); load {m['loadavg_start'][0]:.2f} at start; "
          + ", ".join(f"{k} {val}" for k, val in v.items()) + f"; median of {args.repeat}"
          + ("" if not others else f"; other processes used up to {max(others):.2f} CPU s during one run"))
    print()
    print(tables(session["rows"]))
    log(f"raw figures written to {os.path.abspath(args.json)}")


if __name__ == "__main__":
    main()
