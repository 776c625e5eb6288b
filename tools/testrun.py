#!/usr/bin/python3
"""Running tests by id, and inside Mica.

  tools/testrun.py inside     boot the pager and init with every test program
                              (init.args=manifest=tests: boot/tests); print
                              the TEST lines; exit 0 only if QEMU says all passed
  tools/testrun.py one ID     run the one pytest test whose id is ID, as its
                              program prints it: `TEST <ID> ...` (e.g.
                              ipc.words_badges, pager.heap, kv.put, init.restart)
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "system"))
import mica  # noqa: E402
import test_init  # noqa: E402  (its INSIDE list is the one module list)

PYTEST = ["/usr/bin/python3", "-m", "pytest"]


def inside():
    r = mica.boot(cmdline=test_init.INSIDE_CMDLINE, modules=test_init.INSIDE, timeout=300)
    for ln in r.lines:
        if ln.startswith(("TEST ", "init: done", "kernel: the first task")):
            print(ln)
    ok = r.rc == mica.EXIT_SUCCESS
    print("all passed" if ok else f"FAILED (QEMU exit status {r.rc})")
    return 0 if ok else 1


def one(test_id):
    """The pytest node whose parameter is test_id, or <file's group>.<parameter>."""
    out = subprocess.run(PYTEST + ["--collect-only", "-q", "tests/system"], cwd=ROOT,
                         capture_output=True, text=True).stdout
    nodes = []
    for node in out.splitlines():
        if "[" not in node or "::" not in node:
            continue
        param = node[node.index("[") + 1:-1]
        group = Path(node.split("::")[0]).stem.removeprefix("test_")
        if test_id in (param, f"{group}.{param}"):
            nodes.append(node)
    if not nodes:
        print(f"testrun: no test with id {test_id!r}", file=sys.stderr)
        return 2
    return subprocess.run(PYTEST + ["-v"] + nodes, cwd=ROOT).returncode


if __name__ == "__main__":
    if sys.argv[1:2] == ["inside"]:
        sys.exit(inside())
    if sys.argv[1:2] == ["one"] and len(sys.argv) == 3:
        sys.exit(one(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
