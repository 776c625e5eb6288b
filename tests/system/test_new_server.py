"""make new-server works: in a scratch copy of the tree, make new-server
NAME=demo, build with no Makefile edit, boot it with `make run
SCENARIO=demo` (the scenario it made, scenarios/demo) and see the server
register and its client pass, and run the generated test_demo.py there
(tools/new-server.py, docs/ADDING_A_SERVER.md, docs/SCENARIOS.md). The build
folder is copied too (without its ISOs), so only what demo changes is
rebuilt."""

import os
import re
import shutil
import subprocess
import sys

import mica
import pytest

NAME = "demo"
GENERATED = [f"servers/{NAME}/", f"idl/{NAME}.idl", f"tests/user/{NAME}client/",
             f"scenarios/{NAME}", f"tests/system/test_{NAME}.py"]


def tree_files():
    """The tree's files: tracked and untracked, not ignored (git), else everything."""
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                             cwd=mica.ROOT, capture_output=True, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = [str(p.relative_to(mica.ROOT)) for p in mica.ROOT.rglob("*")
                 if p.is_file() and not p.relative_to(mica.ROOT).parts[0] in ("build", ".git")]
    return [f for f in files if not any(f.startswith(g) for g in GENERATED)]


def env():
    e = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        e.pop(k, None)
    return e


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    root = tmp_path_factory.mktemp("newserver") / "mica"
    for f in tree_files():
        src = mica.ROOT / f
        if src.is_file():
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / f)
    if mica.BUILD.is_dir():
        shutil.copytree(mica.BUILD, root / "build", symlinks=True,
                        ignore=shutil.ignore_patterns("test-isos"))
    return root


def make(root, *args, timeout=120):
    return subprocess.run(["make", "-s", *args], cwd=root, env=env(), capture_output=True,
                          text=True, timeout=timeout)


def test_bad_names_refused(scratch):
    for bad in ["", "Demo", "9lives", "pager", "kv", "int", "democlient"]:
        r = make(scratch, "new-server", f"NAME={bad}")
        assert r.returncode != 0 and "new-server: " in r.stderr, (bad, r.stdout, r.stderr)
    assert not (scratch / "servers" / "Demo").exists()


def test_new_server_builds_boots_and_passes(scratch):
    r = make(scratch, "new-server", f"NAME={NAME}")
    assert r.returncode == 0, r.stdout + r.stderr
    r = make(scratch, "new-server", f"NAME={NAME}")
    assert r.returncode != 0 and "is taken" in r.stderr, r.stdout + r.stderr
    c_files = [str(scratch / "servers" / NAME / "main.c"),
               str(scratch / "tests" / "user" / f"{NAME}client" / "main.c")]
    r = subprocess.run(["clang-format", "--dry-run", "--Werror", *c_files], cwd=scratch,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # The generic rules: `servers` builds every servers/*/ and tests/user/*client/.
    r = make(scratch, "build/kernel.elf", "build/user/pager.elf", "build/user/init.elf", "servers")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (scratch / "build" / "user" / f"{NAME}.elf").exists()
    assert (scratch / "build" / "user" / f"{NAME}client.elf").exists()
    # make run SCENARIO=demo: the scenario new-server wrote boots the server (it registers)
    # and its client; its command line ends the run (QEMU's status 33: make reports it).
    r = subprocess.run(["make", "-s", "run", f"SCENARIO={NAME}"], cwd=scratch, env=env(),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=mica.BOOT_TIMEOUT)
    log = r.stdout.replace("\r", "")
    assert re.search(rf"^init: {NAME} registered by pid \d+$", log, re.M), log + r.stderr
    assert f"TEST {NAME}.ping PASS" in log and "init: ready" in log, log
    assert "init: done, 0 programs failed" in log, log
    # Into make run itself: one line in boot/manifest, no Makefile edit (the default
    # scenario boots every program its manifests name); made to end by CMDLINE.
    with open(scratch / "boot" / "manifest", "a") as f:
        f.write(f"server {NAME}.elf\n")
    r = subprocess.run(["make", "-s", "run", "CMDLINE=idle=exit pager.exit_when_idle "
                        "init.exit_when_done"], cwd=scratch, env=env(), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=mica.BOOT_TIMEOUT)
    log = r.stdout.replace("\r", "")
    assert re.search(rf"^init: {NAME} registered by pid \d+$", log, re.M), log + r.stderr
    assert "init: kv registered by pid" in log and "cannot start" not in log, log
    assert "init: done, 0 programs failed" in log, log
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"tests/system/test_{NAME}.py"], cwd=scratch, env=env(),
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " passed" in r.stdout and "failed" not in r.stdout, r.stdout


def test_new_memory_server_builds_boots_and_passes(scratch):
    """make new-server NAME=... MEMOBJ=1: a memory server (docs/MEMORY_SERVERS.md) whose
    client maps its object and reads the server's bytes; its own test passes."""
    name = "memdemo"
    r = make(scratch, "new-server", f"NAME={name}", "MEMOBJ=1")
    assert r.returncode == 0, r.stdout + r.stderr
    c_files = [str(scratch / "servers" / name / "main.c"),
               str(scratch / "tests" / "user" / f"{name}client" / "main.c")]
    r = subprocess.run(["clang-format", "--dry-run", "--Werror", *c_files], cwd=scratch,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = make(scratch, "build/kernel.elf", "build/user/pager.elf", "build/user/init.elf", "servers")
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"tests/system/test_{name}.py"], cwd=scratch, env=env(),
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "7 passed" in r.stdout and "failed" not in r.stdout, r.stdout
