"""Per-process limits set in init's manifest (mem=, procs=; servers/init/README.md): each
entry's ptest checks, from the pager's stats, that its limits arrived and hold (a spawn past
procs is refused with MICA_ELIMIT, growth past mem too); one without them gets init's
defaults; a bad value skips the line; nametest's malloc past mem= returns NULL. Every frame
comes back."""

import re

import mica

USER = mica.BUILD / "user"
MODULES = [USER / "pager.elf", USER / "init.elf", USER / "ptest.elf", USER / "nametest.elf",
           mica.ROOT / "tests" / "system" / "manifests" / "limits" / "manifest"]
IDS = ["malloc", "manifest_default", "manifest_order", "manifest_set"]


def test_manifest_limits():
    r = mica.boot(cmdline=mica.SYSTEM_CMDLINE, modules=MODULES)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    assert r.result_ids("limits") == IDS, r.log
    for i in IDS:
        assert r.results(f"limits.{i}") == [f"TEST limits.{i} PASS"], r.log
    assert r.has("init: manifest line 6: bad mem limit, skipped"), r.log
    refusals = re.findall(r"^pager: ptest\.elf pid \d+: (\w+) limit$", r.log, re.M)
    assert sorted(refusals) == ["descendants"] * 3 + ["memory"] * 2, r.log
    assert r.has("init: done, 0 programs failed"), r.log
    assert r.frames_back(), r.log
