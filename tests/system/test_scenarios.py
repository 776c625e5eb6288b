"""Named scenarios (scenarios/, tools/scenario.py, docs/SCENARIOS.md): every
scenario reads; the default is what `make run` booted before scenarios
existed; a server a manifest names is booted with no Makefile edit; bad
scenario files are refused with their line; `make run SCENARIO=` picks one
(its modules, memory and command line, CMDLINE= added); the default boots
and runs its programs; and the scenarios marked `test`, which `make
test-inside` boots, hold every test program."""

import os
import re
import subprocess
from pathlib import Path

import mica
import pytest

TOOL = mica.ROOT / "tools" / "scenario.py"
NAMES = sorted(p.name for p in (mica.ROOT / "scenarios").iterdir())
USER = "build/user/"


def tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location("scenario", TOOL)
    t = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(t)
    return t


def make_n(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=mica.ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_reads(name):
    s = mica.scenario(name)
    assert s.modules, name
    for m in s.modules:
        assert not m.startswith("/"), (name, m)


def test_default_is_what_make_run_booted():
    s = mica.scenario("default")
    assert s.modules == [USER + "pager.elf", USER + "init.elf", USER + "memview.elf",
                         "boot/manifest", "boot/tests", USER + "console.elf", USER + "kv.elf",
                         USER + "fs.elf", USER + "kvclient.elf", USER + "rthello.elf",
                         USER + "msh.elf", USER + "nametest.elf"]
    assert (s.mem, s.cmdline, s.test) == ("128M", "", False)


def test_a_server_in_a_manifest_is_a_module(tmp_path):
    """`server tally.elf` in a manifest needs no other edit: its module is booted too."""
    t = tool()
    man = tmp_path / "manifest"
    man.write_text("server tally.elf restart=never\nprogram kvclient.elf # a comment\n")
    s = t.parse("x", f"module pager.elf\nmodule init.elf\nmanifest {man}\n")
    assert s.modules == [USER + "pager.elf", USER + "init.elf", str(man), USER + "tally.elf",
                         USER + "kvclient.elf"]
    s = t.parse("x", "module pager.elf\nmodule init.elf\nserver tally.elf\nprogram kv.elf a b\n"
                     "module build/other/kv.elf\n")
    assert s.modules == [USER + "pager.elf", USER + "init.elf", "build/other/kv.elf",
                         "build/scenarios/x/manifest", USER + "tally.elf"]
    assert s.inline == ["server tally.elf", "program kv.elf a b"]


@pytest.mark.parametrize("text,why", [
    ("", "no modules"),
    ("module pager.elf\nmem 12\n", ':2: mem "12": a size such as 128M or 5G'),
    ("module pager.elf\nmem 1M\nmem 2M\n", ":3: mem given twice"),
    ("module\n", ":1: module takes one file"),
    ("module a.elf b.elf\n", ":1: module takes one file"),
    ("manifest boot/nosuch\n", ':1: manifest "boot/nosuch": no such file'),
    ("module pager.elf\nserver\n", ":2: server needs a module"),
    ("module pager.elf\nmodules x\n", ':2: unknown word "modules"'),
    ("module pager.elf\ntest yes\n", ":2: test takes nothing"),
    ("module pager.elf\nmanifest boot/manifest\nserver kv.elf\n", "init would read only one"),
])
def test_bad_scenarios_refused(text, why):
    t = tool()
    with pytest.raises(t.Refused) as e:
        t.parse("bad", text)
    assert why in str(e.value), str(e.value)


def test_bad_names_refused():
    for bad in ["", "Big", "../x", "a b"]:
        p = subprocess.run(["/usr/bin/python3", str(TOOL), "show", bad], capture_output=True,
                           text=True)
        assert p.returncode == 2 and "scenario: bad scenario name" in p.stderr, (bad, p.stderr)


def test_make_run_picks_the_scenario():
    r = make_n("run", "SCENARIO=ptest", "CMDLINE=fault=pf", "MEM=256M")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ('tools/mkiso.sh build/kernel.elf build/mica.iso "idle=exit pager.exit_when_idle '
            'fault=pf" multiboot2 "build/user/pager.elf build/user/ptest.elf"') in r.stdout
    assert "-m 256M " in r.stdout, r.stdout
    r = make_n("run")
    assert ('"" multiboot2 "build/user/pager.elf build/user/init.elf build/user/memview.elf '
            'boot/manifest boot/tests build/user/console.elf') in r.stdout and "-m 128M " in r.stdout, r.stdout


def test_make_run_refuses_an_unknown_scenario():
    r = make_n("run", "SCENARIO=nosuch")
    assert r.returncode != 0
    assert re.search(r'scenario: no scenario "nosuch" \(scenarios/nosuch\); there are: .*\bdefault\b',
                     r.stderr), r.stderr
    assert 'no usable scenario "nosuch"' in r.stderr, r.stderr


def test_the_default_scenario_boots():
    """`make run`'s system, made to end: init starts kv and its programs, which pass."""
    r = mica.boot_scenario("default", cmdline="idle=exit pager.exit_when_idle init.exit_when_done")
    assert r.rc == mica.EXIT_SUCCESS, r.log
    assert r.has("init: kv registered by pid") and r.has("init: ready"), r.log
    assert r.has("init: done, 0 programs failed") and "PANIC" not in r.log, r.log
    assert not [ln for ln in r.lines if ln.startswith("TEST ") and " PASS" not in ln], r.log
    assert r.frames_back(), r.log


def test_test_scenarios_hold_every_test_program():
    """make test-inside runs every test program: each tests/user/<program>/ (but the benchmark
    and the shared helpers) is a module of a scenario marked test."""
    booted = set()
    for name in NAMES:
        s = mica.scenario(name)
        if s.test:
            booted |= {Path(m).name for m in s.modules}
    programs = {p.name + ".elf" for p in (mica.ROOT / "tests" / "user").iterdir()
                if p.is_dir() and list(p.glob("*.c")) and p.name not in ("bench", "lib")}
    assert programs and programs <= booted, sorted(programs - booted)
