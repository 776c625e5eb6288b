#!/usr/bin/python3
"""Running tests by id, and inside Mica.

  tools/testrun.py inside     boot every scenario marked `test` (scenarios/,
                              docs/SCENARIOS.md: every test program, those
                              under init from one manifest, boot/tests, the
                              others in boots of their own); print the TEST
                              lines and a verdict per scenario; exit 0 only if
                              every boot passed (QEMU's status, no FAIL line)
  tools/testrun.py one ID     run the one pytest test whose id is ID, as its
                              program prints it: `TEST <ID> ...` (e.g.
                              ipc.words_badges, pager.heap, kv.put_get,
                              init.restart)
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "system"))
import mica  # noqa: E402

PYTEST = ["/usr/bin/python3", "-m", "pytest"]


def test_scenarios():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "scenario.py"), "list"],
                         capture_output=True, text=True, check=True).stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.endswith(" test")]


def inside():
    failed = []
    names = test_scenarios()
    for name in names:
        r = mica.boot_scenario(name, timeout=300)
        for ln in r.lines:
            if ln.startswith(("TEST ", "init: done", "kernel: the first task")):
                print(ln)
        bad = [ln for ln in r.lines if re.match(r"TEST \S+ FAIL", ln)]
        ok = r.rc == mica.EXIT_SUCCESS and not bad and "PANIC" not in r.log
        tests = len([ln for ln in r.lines if ln.startswith("TEST ")])
        print(f"scenario {name}: {tests} TEST lines, "
              + ("passed" if ok else f"FAILED (QEMU exit status {r.rc})"))
        if not ok:
            failed.append(name)
    print(f"{len(names) - len(failed)} of {len(names)} scenarios passed"
          + (f"; failed: {' '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def nodes(test_id):
    """The pytest nodes whose parameter is test_id, or <file's group>.<parameter>."""
    out = subprocess.run(PYTEST + ["--collect-only", "-q", "tests/system"], cwd=ROOT,
                         capture_output=True, text=True).stdout
    found = []
    for node in out.splitlines():
        if "[" not in node or "::" not in node:
            continue
        param = node[node.index("[") + 1:-1]
        group = Path(node.split("::")[0]).stem.removeprefix("test_")
        if test_id in (param, f"{group}.{param}"):
            found.append(node)
    return found


def one(test_id):
    found = nodes(test_id)
    if not found:
        print(f"testrun: no test with id {test_id!r}", file=sys.stderr)
        return 2
    return subprocess.run(PYTEST + ["-v"] + found, cwd=ROOT).returncode


if __name__ == "__main__":
    if sys.argv[1:2] == ["inside"]:
        sys.exit(inside())
    if sys.argv[1:2] == ["one"] and len(sys.argv) == 3:
        sys.exit(one(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
