"""fork and copy on write (tests/user/forktest/, servers/pager/fork.c and cow.c,
runtime/fork.c): fork's two returns, a child writing every page, the parent or
the child ending first, both writing, nested forks, fork with threads and from
a thread, a forked subtree killed, fork past a memory limit and with the pool empty, bad arguments;
every frame back after each case and at the end."""

import re

import pytest

import mica

PAGER = mica.BUILD / "user" / "pager.elf"
FORKTEST = mica.BUILD / "user" / "forktest.elf"
IDS = ["basic", "child_writes", "parent_first", "both_write", "nested", "share_give", "threads", "kill_tree", "limit",
       "oom", "errors"]


@pytest.fixture(scope="module")
def run():
    r = mica.boot_scenario("fork", timeout=240)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_fork(run, test_id):
    assert run.results(f"fork.{test_id}") == [f"TEST fork.{test_id} PASS"], run.log


def test_every_result_is_known(run):
    assert run.result_ids("fork") == sorted(IDS), run.log
    assert run.has("forktest: done, 0 failures"), run.log


def test_child_prints_through_its_own_handles(run):
    """The child's startup info is its own: its pid, and output that works."""
    assert re.search(r"^forktest: child pid \d+ says hello$", run.log, re.M), run.log


def test_orphan_adopted(run):
    """The parent that ends first leaves its child to init (forktest here)."""
    assert re.search(r"^pager: forktest\.elf pid \d+ adopted by init$", run.log, re.M), run.log


def test_copy_without_a_frame_kills_the_writer(run):
    """With the pool empty, the write that needs a copy kills that process alone."""
    kills = re.findall(r"^pager: killing forktest\.elf pid \d+: (.+) at 0x", run.log, re.M)
    assert kills == ["out of memory"], run.log
    assert re.search(r"^pager: forktest\.elf pid \d+: memory limit", run.log, re.M), run.log
    assert not run.has("PANIC"), run.log
    assert not run.has("pager: bug"), run.log
    assert not run.has("contents lost"), run.log


def test_every_frame_back_in_the_pager(run):
    assert run.frames_back(), run.log
