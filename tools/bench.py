#!/usr/bin/python3
"""make bench: boot the benchmark task under QEMU with -icount and print its results.

With -icount shift=0,sleep=off -smp 1 the guest's TSC advances once per
executed instruction, so the numbers are instruction counts, the same on
every run and every host. Prints the `bench ...` lines of the serial log
and fails if the task did not finish.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "system"))
import mica  # noqa: E402

ICOUNT = ["-icount", "shift=0,sleep=off", "-smp", "1"]


def main():
    extra = " ".join(sys.argv[1:])  # e.g. bench_n=100
    r = mica.boot(cmdline=f"idle=exit {extra}".strip(),
                  modules=[mica.BUILD / "user" / "bench.elf"], qemu_args=ICOUNT, timeout=120)
    lines = [ln for ln in r.lines if ln.startswith("bench")]
    print("\n".join(ln for ln in lines if ln != "bench: done"))
    if r.rc != mica.EXIT_SUCCESS or "bench: done" not in lines:
        print(r.log, file=sys.stderr)
        print("bench: the benchmark task did not finish", file=sys.stderr)
        return 1
    # The pager's costs: ptest in bench mode, started by the pager.
    r = mica.boot(cmdline="idle=exit pager.exit_when_idle pager.measure init.args=bench",
                  modules=[mica.BUILD / "user" / "pager.elf", mica.BUILD / "user" / "ptest.elf"],
                  qemu_args=ICOUNT, timeout=120)
    lines = [ln for ln in r.lines if ln.startswith("bench")]
    print("\n".join(ln for ln in lines if ln != "bench: done"))
    if r.rc != mica.EXIT_SUCCESS or "bench: done" not in lines:
        print(r.log, file=sys.stderr)
        print("bench: the pager benchmark did not finish", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
