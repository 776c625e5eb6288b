"""The command line, read by one parser in the kernel and the pager
(lib/cmdparse.c): every word counts (idle=exit past the 32nd word), the
last of a repeated option counts in both, and what is ignored is logged."""

import mica
import pytest

PAGER = mica.BUILD / "user" / "pager.elf"
RTHELLO = mica.BUILD / "user" / "rthello.elf"

# The pager's options first: its boot-info copy holds 127 characters.
PAGER_WORDS = "pager.exit_when_idle init=nosuch.elf init=rthello.elf init.args=zero init.args=one"
FILLER = " ".join(f"x{i}" for i in range(40))
CMDLINE = f"{PAGER_WORDS} reserve=abc =bad {FILLER} idle=exit"


@pytest.fixture(scope="module")
def run():
    assert len(CMDLINE.split()) > 32 and CMDLINE.split().index("idle=exit") >= 32
    # Without every word read, idle=exit is lost and the run hangs: a short timeout.
    r = mica.boot(cmdline=CMDLINE, modules=[PAGER, RTHELLO], timeout=60)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


def test_idle_exit_past_word_32_is_honoured(run):
    assert run.has("kernel: ready"), run.log
    assert not run.has("PANIC"), run.log


def test_pager_takes_the_last_of_a_repeat(run):
    """init= and init.args= given twice: the pager starts the last with the last."""
    assert run.has('pager: started init "rthello.elf"'), run.log
    assert run.has("rthello: 2 arguments: rthello.elf one"), run.log
    assert run.has("cmdline: init given 2 times: the last (init=rthello.elf) counts"), run.log
    assert run.has("cmdline: init.args given 2 times: the last (init.args=one) counts"), run.log


def test_bad_values_are_logged(run):
    assert run.has("cmdline: reserve=abc: not a number, ignored"), run.log
    assert run.has('cmdline: "=bad": no option name, ignored'), run.log
    # The default reserve was used: the pool is there.
    assert run.line("pool: "), run.log


def test_first_task_cut_is_logged(run):
    """The boot info holds 127 characters; the kernel says which words it leaves out."""
    assert run.has("cmdline: the first task's boot info holds 127 characters"), run.log
