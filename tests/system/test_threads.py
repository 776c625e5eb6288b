"""Threads in the pager's processes and the pager without fixed limits
(tests/user/threadtest/, runtime/thread.c, servers/pager/thread.c): many
threads on their own stacks and the shared heap, a thread past its guard,
join errors, killing a process with many threads, main returning while
threads run, 120 and 1,000 processes running at once (the pager's kernel
handle table grows past the address space's own frame and gives its pages
back: kernel objects and reserve frames are counted), 1,000 processes in
waves, 10,000 regions in one process."""

import re

import pytest

import mica

PAGER = mica.BUILD / "user" / "pager.elf"
THREADTEST = mica.BUILD / "user" / "threadtest.elf"
IDS = ["many", "ipcbuf", "guard", "errors", "kill", "main_returns", "limit", "regions_10000", "live_120",
       "live_1000", "procs_1000"]


@pytest.fixture(scope="module")
def run():
    r = mica.boot(cmdline="idle=exit pager.exit_when_idle init=threadtest.elf",
                  modules=[PAGER, THREADTEST], mem="256M", timeout=240)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_threads(run, test_id):
    assert run.results(f"thread.{test_id}") == [f"TEST thread.{test_id} PASS"], run.log


def test_every_result_is_known(run):
    assert run.result_ids("thread") == sorted(IDS), run.log


def test_guard_kill_has_a_reason(run):
    """The thread past its guard is killed by the pager, which says why; the process lives on."""
    assert re.search(r"^pager: killing threadtest\.elf pid 1: stack overflow at 0x", run.log,
                     re.M), run.log
    assert run.has("threadtest: done, 0 failures"), run.log
    assert not run.has("PANIC"), run.log


def test_thread_limit_is_logged(run):
    """The child past its memory limit is refused a thread, and the pager says why."""
    assert re.search(r"^pager: threadtest\.elf pid \d+: memory limit", run.log, re.M), run.log


def test_thousand_processes_ran(run):
    """Pids count up and are never reused: the last of the 1,000 children has pid 1000 or more."""
    pids = [int(p) for p in re.findall(r"^pager: threadtest\.elf pid (\d+) ended", run.log, re.M)]
    assert len(pids) >= 1000 and max(pids) >= 1000, run.log


def test_thousand_running_at_once(run):
    """1,000 children blocked at once, all killed: 1,000 kill notices in the pager's log."""
    killed = re.findall(r"^pager: threadtest\.elf pid \d+ ended: reason 3 code 4$", run.log, re.M)
    assert len(killed) >= 1120, run.log


def test_every_frame_back_in_the_pager(run):
    assert run.frames_back(), run.log
