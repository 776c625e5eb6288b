#!/usr/bin/python3
"""The IDL compiler's golden files: for each case tests/idl/golden/<case>.idl,
the files idlc must generate from it, as tests/idl/golden/<case>/<file>.golden.

    /usr/bin/python3 tests/idl/goldens.py --regen      (or: make idl-goldens)

rewrites them from the current generator; review the diff before committing.
Each case shows one kind of output (Kazoo's rule: one small test per kind).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path("tests/idl/golden")  # relative to ROOT: it is named in the generated files
sys.path.insert(0, str(ROOT / "tools" / "idlc"))

import gen_c  # noqa: E402
import idlc  # noqa: E402

CASES = ["scalars", "arrays", "handles", "structs", "overflow", "docs"]
KINDS = ["_types.h", "_client.h", "_client.c", "_server.h", "_server.c"]
EXPECTED = len(CASES) * len(KINDS)  # the guard: fewer compared is a failure


def source(case):
    return GOLDEN / f"{case}.idl"


def golden_path(case, name):
    return ROOT / GOLDEN / case / f"{name}.golden"


def generate(case):
    """{file name: text} that idlc generates for the case now (from ROOT)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return gen_c.generate(idlc.load(str(source(case))))
    finally:
        os.chdir(cwd)


def regen():
    for case in CASES:
        folder = ROOT / GOLDEN / case
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.golden"):
            old.unlink()
        for name, text in generate(case).items():
            golden_path(case, name).write_text(text, encoding="utf-8")
        print(f"{GOLDEN / case}/: {len(KINDS)} files")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regen"]:
        sys.exit(__doc__)
    try:
        regen()
    except (idlc.IdlError, idlc.IdlErrors) as e:
        sys.exit(str(e))
