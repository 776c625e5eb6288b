#!/usr/bin/python3
"""Where a bench figure's instructions go, per function (docs/PERFORMANCE.md, PROFILING.md).

  tools/itrace.py FIGURE... [--n N] [--top K] [--sequence] [--log FILE]
  make itrace FIG=FIGURE [ITRACE_ARGS="--sequence"]

FIGURE is a name make bench prints that is timed with rdtsc in a user
program: syscall.null, ipc.call_reply.* (the kernel benchmark task,
tests/user/bench/) or pager.fault.zero, pager.touch.resident,
pager.unmap.per_page, pager.map_fill.per_page, pager.spawn_exit (ptest in
bench mode under the pager), or pager.window.map, pager.window.unmap (timed
in the pager itself, one region per operation: the pager is the program
under study). Several figures of the same run are traced in one boot.

It boots that run under QEMU with -icount shift=0,sleep=off -smp 1 and
-singlestep -d exec,nochain, so QEMU logs one line per executed guest
instruction, limited by -dfilter to user programs and the kernel. The log
goes through a pipe, not to disk. ptest is linked at 0x20000000 for the
trace (build/itrace/ptest.elf) so that its addresses do not collide with
the pager's. Each timed region of the program under study (from one of
its rdtsc instructions to the next) is cut out of the stream; the region
whose length over its operation count matches FIGURE's printed value is
FIGURE's (this checks the method: it prints both). Then it prints:

  - instructions per operation by component (kernel, pager, the program)
    and by function, highest first;
  - with --sequence, one steady operation (the middle one, cut at the loop
    head: the first address of the program visited exactly once per
    operation) step by step: the functions in the order they ran, with the
    instructions each step took.

--n sets the kernel task's operation count (bench_n, default 200: the log
is processed as it comes, about a million lines a minute). --log FILE also
keeps the raw log (large: ~100 bytes an instruction).
"""
import argparse
import bisect
import os
import re
import subprocess
import sys
import tempfile
import threading
from array import array
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "system"))
import mica  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
import bench  # noqa: E402  (its QEMU flags)

BUILD = mica.BUILD
USER = BUILD / "user"
TRACE_BASE = 0x20000000  # where ptest is linked for a trace
DFILTER = "0x400000..0x3fffffff,0xffff800000000000..0xffffffffffffffff"
BENCH_LINE = re.compile(r"^bench (\S+) (\d+(?:\.\d+)?) instr/op n=(\d+)$")
KERNEL_FIGURES = ("syscall.null", "ipc.")
PAGER_FIGURES = ("pager.window.",)  # timed by the pager itself, one operation a region


class Symbols:
    """Address to `component:function`, from nm of each ELF (a sorted table per ELF)."""

    def __init__(self):
        self.starts, self.ends, self.names = [], [], []
        self.cache = {}

    def add(self, elf, component):
        out = subprocess.run(["nm", "-n", "-S", "--defined-only", str(elf)], check=True,
                             capture_output=True, text=True).stdout
        rows = []
        for ln in out.splitlines():
            f = ln.split()
            if len(f) == 4 and f[2].lower() in "tw":
                rows.append((int(f[0], 16), int(f[0], 16) + int(f[1], 16), f"{component}:{f[3]}"))
            elif len(f) == 3 and f[1].lower() in "tw":  # no size: up to the next symbol
                rows.append((int(f[0], 16), None, f"{component}:{f[2]}"))
        rows.sort(key=lambda r: r[0])
        for i, (s, e, n) in enumerate(rows):
            if e is None:
                e = rows[i + 1][0] if i + 1 < len(rows) else s + 1
            self.starts.append(s)
            self.ends.append(e)
            self.names.append(n)
        order = sorted(range(len(self.starts)), key=lambda i: self.starts[i])
        self.starts = [self.starts[i] for i in order]
        self.ends = [self.ends[i] for i in order]
        self.names = [self.names[i] for i in order]

    def name(self, pc):
        n = self.cache.get(pc)
        if n is None:
            i = bisect.bisect_right(self.starts, pc) - 1
            n = self.names[i] if i >= 0 and pc < self.ends[i] else f"?:{pc:#x}"
            self.cache[pc] = n
        return n


def rdtsc_pcs(elf):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(elf)], check=True,
                         capture_output=True, text=True).stdout
    return {int(m[1], 16) for m in re.finditer(r"^\s*([0-9a-f]+):\s+rdtsc\s*$", out, re.M)}


def relinked_ptest():
    """ptest.elf linked at TRACE_BASE (the Makefile's own link command, another script)."""
    cmds = subprocess.run(["make", "-n", "--always-make", "build/user/ptest.elf"], cwd=ROOT,
                          capture_output=True, text=True).stdout
    link = [c for c in cmds.splitlines() if "-o build/user/ptest.elf" in c]
    if not link:
        sys.exit("itrace: cannot find the link command of build/user/ptest.elf (make -n)")
    out_dir = BUILD / "itrace"
    out_dir.mkdir(parents=True, exist_ok=True)
    script = out_dir / "user-trace.ld"
    text = (ROOT / "tests/user/user.ld").read_text()
    script.write_text(text.replace(". = 0x400000;", f". = {TRACE_BASE:#x};"))
    cmd = link[-1].replace("tests/user/user.ld", str(script)).replace(
        "-o build/user/ptest.elf", f"-o {out_dir / 'ptest.elf'}")
    subprocess.run(cmd, shell=True, check=True, cwd=ROOT)
    return out_dir / "ptest.elf"


def setup(figure, n):
    """(cmdline, modules, symbols, the studied program's ELF) for the run holding figure."""
    syms = Symbols()
    syms.add(mica.KERNEL, "kernel")
    if figure.startswith(KERNEL_FIGURES):
        study = USER / "bench.elf"
        syms.add(study, "bench")
        return f"idle=exit bench_n={n} itrace", [study], syms, study
    if figure.startswith(PAGER_FIGURES):
        study = USER / "pager.elf"
        syms.add(study, "pager")
        cmdline = "idle=exit pager.exit_when_idle pager.measure init.args=bench itrace"
        return cmdline, [study, USER / "ptest.elf"], syms, study
    study = relinked_ptest()
    syms.add(USER / "pager.elf", "pager")
    syms.add(study, "ptest")
    cmdline = "idle=exit pager.exit_when_idle init.args=bench itrace"
    return cmdline, [USER / "pager.elf", study], syms, study


def per_op_regions(regions, n, value):
    """n regions, one per operation, every other one or consecutive, whose mean matches value.

    A program that reads the clock around each operation (the pager's window loop: map,
    then unmap) leaves one short region per operation; they are joined into one."""
    for stride in (2, 1):
        for k in range(len(regions) - stride * (n - 1)):
            pick = regions[k:k + stride * n:stride]
            if len(pick) == n and abs(sum(len(r) for r in pick) / n - value) <= max(1.5, value / 1000):
                joined = array("Q")
                for r in pick:
                    joined.extend(r)
                return joined
    return None


def trace(cmdline, modules, rdtsc, keep_log):
    """Boot, read the instruction log; the timed regions (arrays of PCs), serial log, status.

    QEMU runs through mica.boot (the system tests' and make bench's command line,
    with make bench's -icount flags) in a thread, logging to a pipe this reads.
    """
    with tempfile.TemporaryDirectory() as tmp:
        fifo = Path(tmp) / "trace"
        os.mkfifo(fifo)
        flags = bench.ICOUNT + ["-singlestep", "-d", "exec,nochain", "-dfilter", DFILTER,
                                "-D", str(fifo)]
        done = {}

        def run():
            try:
                done["run"] = mica.boot(cmdline=cmdline, modules=modules, qemu_args=flags,
                                        timeout=3600)
            except AssertionError as e:  # a timeout
                done["error"] = str(e)
            finally:
                # Unblock the reader if QEMU never opened the pipe.
                try:
                    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    pass

        qemu = threading.Thread(target=run)
        qemu.start()
        regions, cur = [], None
        keep = open(keep_log, "w") if keep_log else None
        with open(fifo, "r", buffering=1 << 20) as log:
            for line in log:
                if keep:
                    keep.write(line)
                if not line.startswith("Trace"):
                    continue
                i = line.find("/")
                pc = int(line[i + 1:i + 17], 16)
                if pc in rdtsc:
                    if cur is None:
                        cur = array("Q")
                    else:
                        regions.append(cur)
                        cur = None
                        continue
                if cur is not None:
                    cur.append(pc)
        if keep:
            keep.close()
        qemu.join()
    if "error" in done:
        sys.exit(f"itrace: {done['error']}")
    return regions, done["run"].log, done["run"].rc


def loop_head(region, n, owner_of):
    """The first address of the program under study visited exactly n times, or None."""
    counts = Counter(region)
    for pc in region:
        if counts[pc] == n and owner_of(pc):
            return pc
    return None


def report(figure, value, n, regions, syms, study, args):
    """Print where figure's instructions go: the region matching it, by component and function."""
    # The region whose length per operation is nearest the figure (rdtsc's own line excluded;
    # a faulting instruction is logged twice, so each fault adds one: a 0.1% margin).
    region = min(regions, key=lambda r: abs(len(r) / n - value), default=None)
    if figure.startswith(PAGER_FIGURES):
        region = per_op_regions(regions, n, value)
    if region is None or abs(len(region) / n - value) > max(1.5, value / 1000):
        sys.exit(f"itrace: no timed region matches {figure} = {value:g} over {n} ops "
                 f"(regions per op: {[round(len(r) / n, 1) for r in regions]})")
    print(f"\n{figure}: traced {len(region)} instructions over {n} operations = "
          f"{len(region) / n:.1f} per operation; the run printed {value:g}")

    by_fn = Counter(syms.name(pc) for pc in region)
    by_comp = Counter()
    for fn, c in by_fn.items():
        by_comp[fn.split(":")[0]] += c
    print("\nper operation, by component:")
    for comp, c in by_comp.most_common():
        print(f"  {c / n:10.1f}  {100 * c / len(region):5.1f}%  {comp}")
    print(f"\nper operation, by function (top {args.top}):")
    for fn, c in by_fn.most_common(args.top):
        print(f"  {c / n:10.1f}  {100 * c / len(region):5.1f}%  {fn}")

    if args.sequence:
        head = loop_head(region, n, lambda pc: syms.name(pc).startswith(study.stem + ":"))
        if head is None:
            print("\nno loop head found (no address of the program visited once per operation)")
            return
        cuts = [i for i, pc in enumerate(region) if pc == head]
        mid = len(cuts) // 2
        one = region[cuts[mid - 1]:cuts[mid]] if mid >= 1 else region[:cuts[0]]
        print(f"\none steady operation (operation {mid} of {n}, cut at {syms.name(head)} "
              f"{head:#x}): {len(one)} instructions, step by step:")
        step_fn, step_n = None, 0
        for pc in one:
            fn = syms.name(pc)
            if fn != step_fn and step_fn is not None:
                print(f"  {step_n:6d}  {step_fn}")
                step_n = 0
            step_fn = fn
            step_n += 1
        if step_fn is not None:
            print(f"  {step_n:6d}  {step_fn}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("figures", nargs="+", metavar="figure")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--sequence", action="store_true")
    ap.add_argument("--log", type=Path)
    args = ap.parse_args()

    runs = {(f.startswith(KERNEL_FIGURES), f.startswith(PAGER_FIGURES)) for f in args.figures}
    if len(runs) > 1:
        sys.exit("itrace: trace the kernel task's figures and the pager's in separate runs")
    cmdline, modules, syms, study = setup(args.figures[0], args.n)
    rdtsc = rdtsc_pcs(study)
    if not rdtsc:
        sys.exit(f"itrace: no rdtsc in {study}")
    print(f"itrace: booting {' '.join(m.name for m in modules)} with {cmdline!r} "
          "(one log line per instruction; this takes a while)", file=sys.stderr, flush=True)
    regions, log, rc = trace(cmdline, modules, rdtsc, args.log)
    if rc != mica.EXIT_SUCCESS:
        print(log, file=sys.stderr)
        sys.exit(f"itrace: the run did not end well (QEMU exit status {rc})")

    figures = {}
    for ln in log.splitlines():
        m = BENCH_LINE.match(ln)
        if m:
            figures[m[1]] = (float(m[2]), int(m[3]))
    for name in args.figures:
        if name not in figures:
            sys.exit(f"itrace: the run printed no figure {name}; it printed "
                     f"{', '.join(figures) or 'none'}")
    for name in args.figures:
        report(name, *figures[name], regions, syms, study, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
