#!/usr/bin/python3
"""make bench: Mica's figures, measured, saved, charted and checked (docs/PERFORMANCE.md).

  tools/bench.py [CMDLINE...]       run every benchmark, print the figures, write
                                    build/bench.json and the charts (tools/benchchart.py)
  tools/bench.py --check            the same without charts, then fail (exit 1) when a
                                    figure is more than its tolerance (10%) above
                                    tools/bench-baseline.json, or a baselined figure is
                                    missing (make bench-check, part of make test)
  tools/bench.py --update-baseline  run, then write the figures into the baseline,
                                    keeping its goals (make bench-baseline)
  tools/bench.py --from FILE ...    use a bench.json instead of running (with --check,
                                    --update-baseline or alone for the charts)

CMDLINE words (e.g. bench_n=100) go to the kernel benchmark task's command line.

The figures come from six runs. Under QEMU with -icount shift=0,sleep=off
-smp 1 the guest's time stamp counter advances once per executed
instruction, so QEMU figures are instruction counts, the same on every run
and host:
  1. tests/user/bench/ as the first task: syscall, IPC, kernel bytes per object
  2. the pager with ptest in bench mode (pager.measure): faults, windows, spawn,
     kernel bytes per process; and with memtest in bench mode: pager.fault.object
  3. the system make run boots (the pager, init, boot/manifest and the programs it
     names) at 128 MiB with pager.meta: boot.kernel_ready, boot.init_ready and the
     meta.*_per_frame figures
  4. the same at 4 GiB: the same names with the suffix .4G
  5. the file server (servers/fs/) and its client in bench mode
     (tests/user/fsclient/): fs.read_4k
  6. on the host, the pager's buddy allocator under valgrind's callgrind
     (tools/bench_buddy.c): buddy.order0.pair, buddy.order9.pair
"""
import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "system"))
import mica  # noqa: E402

ICOUNT = ["-icount", "shift=0,sleep=off", "-smp", "1"]
USER = mica.BUILD / "user"
BASELINE = ROOT / "tools" / "bench-baseline.json"
OUT_JSON = mica.BUILD / "bench.json"
BUDDY_DRIVER = mica.BUILD / "host" / "bench_buddy"
TOLERANCE = 0.10  # a figure may rise this much above its baseline

# `bench <name> <value> <unit> [n=<ops>]`, as the benchmark programs print them.
BENCH_LINE = re.compile(r"^bench (\S+) (\d+(?:\.\d+)?) (\S+)(?: n=(\d+))?$")
# `boot: <event> <time stamp>`: the kernel's and init's time stamps (docs/ARCHITECTURE.md).
BOOT_LINE = re.compile(r"^boot: (kernel_entry|kernel_ready|init_ready) (\d+)$")


class BenchError(Exception):
    pass


def number(text):
    v = float(text)
    return int(v) if v.is_integer() and "." not in text else v


def parse_bench_lines(lines, suffix=""):
    """The figures in a serial log's `bench` lines: {name: {value, unit[, n]}}."""
    figs = {}
    for ln in lines:
        m = BENCH_LINE.match(ln)
        if m:
            fig = {"value": number(m[2]), "unit": m[3]}
            if m[4]:
                fig["n"] = int(m[4])
            figs[m[1] + suffix] = fig
    return figs


def boot_figures(lines, suffix=""):
    """boot.kernel_ready and boot.init_ready: time stamps less the kernel's entry stamp."""
    stamps = {}
    for ln in lines:
        m = BOOT_LINE.match(ln)
        if m and m[1] not in stamps:
            stamps[m[1]] = int(m[2])
    if "kernel_entry" not in stamps:
        return {}
    return {f"boot.{k}{suffix}": {"value": stamps[k] - stamps["kernel_entry"], "unit": "instr"}
            for k in ("kernel_ready", "init_ready") if k in stamps}


def qemu_run(what, cmdline, modules, mem="128M", done=None):
    """One boot under -icount; its serial lines. Fails unless it ended well (and printed done)."""
    r = mica.boot(cmdline=cmdline, mem=mem, modules=modules, qemu_args=ICOUNT, timeout=300)
    if r.rc != mica.EXIT_SUCCESS or (done and done not in r.lines):
        print(r.log, file=sys.stderr)
        raise BenchError(f"{what} did not finish (QEMU exit status {r.rc})")
    return r.lines


def system_modules():
    """What make run boots: the pager, init, boot/manifest and every program it names."""
    manifest = ROOT / "boot" / "manifest"
    mods = [USER / "pager.elf", USER / "init.elf", manifest]
    for ln in manifest.read_text().splitlines():
        words = ln.split("#")[0].split()
        if len(words) >= 2 and words[0] in ("server", "program"):
            path = USER / words[1]
            if path not in mods:
                mods.append(path)
    return mods


def run_kernel(extra):
    lines = qemu_run("the kernel benchmark task", f"idle=exit {extra}".strip(),
                     [USER / "bench.elf"], done="bench: done")
    return parse_bench_lines(lines)


def run_pager():
    lines = qemu_run("the pager benchmark (ptest bench)",
                     "idle=exit pager.exit_when_idle pager.measure init.args=bench",
                     [USER / "pager.elf", USER / "ptest.elf"], done="bench: done")
    return parse_bench_lines(lines)


def run_memobj():
    """pager.fault.object: faults served by a memory server (tests/user/memtest bench)."""
    lines = qemu_run("the memory-object benchmark (memtest bench)",
                     "idle=exit pager.exit_when_idle init.args=bench",
                     [USER / "pager.elf", USER / "memtest.elf"], done="bench: done")
    return parse_bench_lines(lines)


def run_fs():
    man = ROOT / "tests" / "system" / "manifests" / "fsbench" / "manifest"
    lines = qemu_run("the file server benchmark (fsclient bench)", mica.SYSTEM_CMDLINE,
                     [USER / "pager.elf", USER / "init.elf", USER / "fs.elf",
                      USER / "fsclient.elf", man], done="bench: done")
    return parse_bench_lines(lines)


def run_exec():
    """pager.spawn_file_exit: a program spawned from a file of fs (tests/user/exectest bench)."""
    man = ROOT / "tests" / "system" / "manifests" / "execbench" / "manifest"
    lines = qemu_run("the spawn-from-a-file benchmark (exectest bench)", mica.SYSTEM_CMDLINE,
                     [USER / "pager.elf", USER / "init.elf", USER / "fs.elf",
                      USER / "exectest.elf", man], done="bench: done")
    return parse_bench_lines(lines)


def run_boot(mem, suffix):
    lines = qemu_run(f"the system at {mem}", mica.SYSTEM_CMDLINE + " pager.meta",
                     system_modules(), mem=mem, done="init: ready")
    figs = parse_bench_lines(lines, suffix)
    figs.update(boot_figures(lines, suffix))
    for name in (f"boot.kernel_ready{suffix}", f"boot.init_ready{suffix}"):
        if name not in figs:
            raise BenchError(f"the system at {mem} printed no time stamp for {name}")
    return figs


def run_buddy():
    """buddy.*.pair: the median batch of measured pairs, in instructions per pair."""
    if not BUDDY_DRIVER.exists():
        raise BenchError(f"{BUDDY_DRIVER} is not built (make bench builds it)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        p = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                            "--toggle-collect=measured_pair", f"--callgrind-out-file={out}",
                            str(BUDDY_DRIVER)], capture_output=True, text=True)
        if p.returncode != 0:
            print(p.stdout + p.stderr, file=sys.stderr)
            raise BenchError("the buddy benchmark failed under valgrind")
        pairs = {m[1]: int(m[2]) for m in re.finditer(r"^(\S+) batches=\d+ pairs=(\d+)$",
                                                      p.stdout, re.M)}
        batches = {}
        for dump in Path(tmp).glob("callgrind.out.*"):
            text = dump.read_text()
            trigger = re.search(r"^desc: Trigger: Client Request: (\S+)$", text, re.M)
            total = re.search(r"^totals: (\d+)", text, re.M)
            if trigger and total and trigger[1] in pairs:
                batches.setdefault(trigger[1], []).append(int(total[1]) / pairs[trigger[1]])
    if not batches:
        raise BenchError("the buddy benchmark's callgrind dumps name no figure")
    return {name: {"value": round(statistics.median(v)), "unit": "instr/op",
                   "n": pairs[name] * len(v)} for name, v in batches.items()}


def git_commit():
    p = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                       capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


def measure(extra):
    figs = {}
    for part in (lambda: run_kernel(extra), run_pager, run_memobj, lambda: run_boot("128M", ""),
                 lambda: run_boot("4G", ".4G"), run_fs, run_exec, run_buddy):
        got = part()
        for name, fig in got.items():
            print(f"bench {name} {fig['value']} {fig['unit']}"
                  + (f" n={fig['n']}" if "n" in fig else ""), flush=True)
        figs.update(got)
    return {"commit": git_commit(), "figures": figs}


def load_baseline():
    return json.loads(BASELINE.read_text())


def check(result, baseline):
    """Problems (figure too high, or missing), and notes (improved, new). Prints both."""
    tol = baseline.get("tolerance", TOLERANCE)
    figs = result["figures"]
    bad, notes = [], []
    for name, base in sorted(baseline["figures"].items()):
        if base.get("value") is None:
            continue
        if name not in figs:
            bad.append(f"{name}: missing from the run (baseline {base['value']})")
            continue
        v, b = figs[name]["value"], base["value"]
        if v > b * (1 + tol):
            bad.append(f"{name}: {v} is {100 * (v - b) / b:.1f}% above its baseline {b} "
                       f"(limit {100 * tol:.0f}%)")
        elif v < b * (1 - tol):
            notes.append(f"{name}: {v} is {100 * (b - v) / b:.1f}% below its baseline {b}: "
                         "update it (make bench-baseline) in the same commit")
    for name in sorted(set(figs) - set(baseline["figures"])):
        notes.append(f"{name}: new figure, not in the baseline (make bench-baseline adds it)")
    for n in notes:
        print(f"bench-check: note: {n}")
    for b in bad:
        print(f"bench-check: FAIL {b}")
    return bad


def summary(result, baseline):
    """Each figure beside its baseline and goal, as a table."""
    bases = baseline.get("figures", {})
    names = sorted(set(result["figures"]) | set(bases))
    width = max(len(n) for n in names)
    print(f"{'figure':{width}}  {'now':>12}  {'baseline':>12}  {'goal':>12}")

    def fmt(v):
        return "-" if v is None else f"{v:,}"
    for name in names:
        now = result["figures"].get(name, {}).get("value")
        base = bases.get(name, {})
        print(f"{name:{width}}  {fmt(now):>12}  {fmt(base.get('value')):>12}  "
              f"{fmt(base.get('goal')):>12}")


def update_baseline(result, baseline):
    """The baseline with this run's values; goals and figures it lacks are kept."""
    figs = baseline.setdefault("figures", {})
    for name, fig in result["figures"].items():
        entry = figs.setdefault(name, {"goal": None})
        entry["value"] = fig["value"]
        entry["unit"] = fig["unit"]
    baseline["commit"] = result["commit"]
    baseline["figures"] = {k: {"value": v.get("value"), "unit": v.get("unit"),
                               "goal": v.get("goal")} for k, v in sorted(figs.items())}
    BASELINE.write_text(json.dumps(baseline, indent=1) + "\n")
    print(f"bench: baseline {BASELINE.relative_to(ROOT)} updated ({len(figs)} figures)")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--update-baseline", action="store_true")
    ap.add_argument("--from", dest="source", type=Path)
    ap.add_argument("--no-chart", action="store_true")
    ap.add_argument("cmdline", nargs="*")
    args = ap.parse_args()
    try:
        if args.source:
            result = json.loads(args.source.read_text())
        else:
            result = measure(" ".join(args.cmdline))
            OUT_JSON.parent.mkdir(parents=True, exist_ok=True)
            OUT_JSON.write_text(json.dumps(result, indent=1) + "\n")
            print(f"bench: figures in {OUT_JSON.relative_to(ROOT)}")
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    baseline = load_baseline()
    if args.update_baseline:
        update_baseline(result, baseline)
        return 0
    if args.check:
        bad = check(result, baseline)
        print("bench-check: " + (f"{len(bad)} figure(s) failed" if bad else
                                 f"no figure more than "
                                 f"{100 * baseline.get('tolerance', TOLERANCE):.0f}% above "
                                 f"its baseline ({len(baseline['figures'])} checked)"))
        return 1 if bad else 0
    summary(result, baseline)
    if not args.no_chart:
        import benchchart
        benchchart.draw(result, baseline, mica.BUILD / "bench")
    return 0


if __name__ == "__main__":
    sys.exit(main())
