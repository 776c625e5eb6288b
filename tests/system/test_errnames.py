"""Errors people read are printed by name (include/mica/errname.h): init's
line for a manifest entry whose module is missing, and the pager's for a
missing init module, say `error ENOENT`, not `error -5`."""

import mica

USER = mica.BUILD / "user"


def test_init_names_the_error_of_a_missing_module():
    r = mica.boot(cmdline=mica.SYSTEM_CMDLINE,
                  modules=[USER / "pager.elf", USER / "init.elf", USER / "rthello.elf",
                           mica.ROOT / "tests" / "system" / "manifests" / "missing" / "manifest"])
    assert "init: cannot start tally.elf: error ENOENT" in r.lines, r.log
    assert not r.has("error -"), r.log
    # The entries after it still start, and the run ends.
    assert r.has("init: started rthello.elf pid"), r.log
    assert r.rc is not None and "PANIC" not in r.log, r.log


def test_pager_names_the_error_of_a_missing_init():
    r = mica.boot(cmdline="idle=exit pager.exit_when_idle init=nosuch.elf",
                  modules=[USER / "pager.elf", USER / "rthello.elf"], timeout=60)
    assert r.rc == mica.EXIT_FAILURE, r.log
    assert 'pager: cannot start init "nosuch.elf": error ENOENT' in r.lines, r.log
