"""pytest setup for the QEMU system tests: before any test runs, `make
system-test-build` builds what they boot (the kernel and every program), so
`/usr/bin/python3 -m pytest tests/system/test_pager.py` works on a fresh
clone. MICA_NO_BUILD=1 skips the build (the tests then need it done)."""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import mica  # noqa: E402

BUILD_TARGET = "system-test-build"  # the Makefile's list of what tests/system boots


def build():
    """Run make for BUILD_TARGET in this tree; on failure, stop the session naming it."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):  # not a sub-make of a -j run
        env.pop(k, None)
    p = subprocess.run(["make", "-s", "--no-print-directory", BUILD_TARGET], cwd=mica.ROOT,
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise SystemExit(f"`make {BUILD_TARGET}` failed (the programs tests/system boots):\n"
                         f"{p.stdout}")


def pytest_sessionstart(session):
    if os.environ.get("MICA_NO_BUILD") != "1":
        build()
    if not mica.KERNEL.exists():
        raise SystemExit(f"{mica.KERNEL} is missing: run `make {BUILD_TARGET}` first")
