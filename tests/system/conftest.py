"""pytest setup for the QEMU system tests: the kernel must be built first."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import mica  # noqa: E402


def pytest_sessionstart(session):
    if not mica.KERNEL.exists():
        raise SystemExit(f"{mica.KERNEL} is missing: run `make` (or `make test`) first")
