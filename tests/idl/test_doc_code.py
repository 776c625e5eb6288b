"""The code of the docs compiles as written: every fenced block of docs/*.md
whose info string is `idl compile` or `c compile[=KIND]` is extracted into a
scratch folder; the IDL blocks are compiled by tools/idlc together with the
tree's interfaces, and each C block, on its own, with the project's flags
for its KIND (the Makefile's RUNTIME_CFLAGS by default, `user` for
USER_CFLAGS, `kernel` for KCFLAGS, all with -Werror) and the scratch
folder's stubs first on the include path. C blocks must also be formatted as
.clang-format says. Mark a block `c` alone for a fragment that is not a
whole file."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.M | re.S)
FLAGS = {"runtime": "RUNTIME_CFLAGS", "user": "USER_CFLAGS", "kernel": "KCFLAGS"}
# Blocks a page must have, so a marker lost in an edit cannot pass by checking nothing.
AT_LEAST = {"ADDING_A_SERVER.md": {"idl": 1, "c": 2}}


def blocks():
    """(doc, index, language, kind, code) for every block marked compile."""
    out = []
    for doc in DOCS:
        for i, m in enumerate(FENCE.finditer(doc.read_text())):
            words = m.group(1).split()
            marks = [w for w in words[1:] if w == "compile" or w.startswith("compile=")]
            if not words or not marks:
                continue
            kind = marks[0].partition("=")[2] or "runtime"
            out.append((doc.name, i, words[0], kind, m.group(2)))
    return out


BLOCKS = blocks()
C_BLOCKS = [b for b in BLOCKS if b[2] == "c"]


def make_var(name):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    p = subprocess.run(["make", "-s", "--no-print-directory", f"--eval=print-var: ; @echo $({name})",
                        "print-var"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip(), p.stdout + p.stderr
    return p.stdout.split()


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    """The stubs of every interface of the tree and of the docs, in <dir>/idl/."""
    d = tmp_path_factory.mktemp("doccode")
    idl_files = sorted((ROOT / "idl").glob("*.idl")) + sorted((ROOT / "tests" / "idl").glob("*.idl"))
    names = {f.stem for f in idl_files}
    for doc, i, lang, _, code in BLOCKS:
        if lang != "idl":
            continue
        m = re.search(r"^\s*interface\s+(\w+)", code, re.M)
        assert m, f"{doc} block {i}: an idl block with no interface"
        assert m.group(1) not in names, f"{doc} block {i}: interface {m.group(1)} exists already"
        f = d / f"{m.group(1)}.idl"
        f.write_text(code)
        idl_files.append(f)
    p = subprocess.run([sys.executable, str(ROOT / "tools" / "idlc" / "idlc.py"), "-o",
                        str(d / "idl"), *map(str, idl_files)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    return d


def test_pages_have_their_blocks():
    for page, want in AT_LEAST.items():
        for lang, n in want.items():
            got = sum(1 for b in BLOCKS if b[0] == page and b[2] == lang)
            assert got >= n, f"{page}: {got} `{lang} compile` blocks, expected at least {n}"


def test_kinds_known():
    for doc, i, lang, kind, _ in BLOCKS:
        assert lang in ("c", "idl"), f"{doc} block {i}: cannot compile `{lang}`"
        assert lang == "idl" or kind in FLAGS, f"{doc} block {i}: unknown kind {kind!r}"


@pytest.mark.parametrize("block", C_BLOCKS, ids=[f"{b[0]}:{b[1]}" for b in C_BLOCKS])
def test_c_block_compiles(gen, block, tmp_path):
    doc, i, _, kind, code = block
    src = tmp_path / f"{Path(doc).stem}_{i}.c"
    src.write_text(code)
    flags = [f for f in make_var(FLAGS[kind]) if not f.startswith(("-MMD", "-MP"))]
    assert "-Werror" in flags
    p = subprocess.run(["gcc", f"-I{gen}", *flags, "-c", str(src), "-o", str(tmp_path / "o.o")],
                       cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, f"{doc} block {i} does not compile:\n{code}\n{p.stderr}"


@pytest.mark.skipif(not shutil.which("clang-format"), reason="no clang-format (tools/deps.sh)")
@pytest.mark.parametrize("block", C_BLOCKS, ids=[f"{b[0]}:{b[1]}" for b in C_BLOCKS])
def test_c_block_formatted(block, tmp_path):
    doc, i, _, _, code = block
    src = tmp_path / f"{Path(doc).stem}_{i}.c"
    src.write_text(code)
    p = subprocess.run(["clang-format", f"--style=file:{ROOT / '.clang-format'}", "--dry-run",
                        "--Werror", str(src)], capture_output=True, text=True)
    assert p.returncode == 0, f"{doc} block {i} is not clang-formatted:\n{p.stderr}"
