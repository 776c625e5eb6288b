"""The user runtime in Mica: a program the pager starts with argc and argv,
printf over the debug console, and malloc over the pager's sbrk
(tests/user/rthello/, runtime/)."""

import mica
import pytest

PAGER = mica.BUILD / "user" / "pager.elf"
RTHELLO = mica.BUILD / "user" / "rthello.elf"
IDS = ["args", "printf", "float", "calloc_realloc", "malloc"]


@pytest.fixture(scope="module")
def run():
    r = mica.boot(cmdline="idle=exit pager.exit_when_idle init=rthello.elf init.args=one",
                  modules=[PAGER, RTHELLO])
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_runtime(run, test_id):
    assert run.results(f"runtime.{test_id}") == [f"TEST runtime.{test_id} PASS"], run.log


def test_every_result_is_known(run):
    assert run.result_ids("runtime") == sorted(IDS), run.log


def test_program_exits_cleanly(run):
    assert run.has("rthello: 2 arguments: rthello.elf one"), run.log
    assert not run.has("pager: killing"), run.log
    assert not run.has("PANIC"), run.log


def test_every_frame_back_in_the_pager(run):
    """After the program (and its heap, grown and given back) ends, the pool is whole again."""
    assert run.frames_back(), run.log
