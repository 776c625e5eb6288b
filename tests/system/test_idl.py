"""The IDL stubs through the kernel: tests/user/idltest/ runs as the first task.

A server thread serves tests/idl/idltest.idl with libipc's loop; the first
thread calls it through the generated stubs (every type at its limits) and
by hand (malformed messages), and has a thread fault and exit on the same
endpoint. Each "TEST <id> PASS|FAIL" line is its own pytest test here.
"""

import re

import pytest

import mica

IDLTEST = mica.BUILD / "user" / "idltest.elf"
IDS = [
    "idl.ints",
    "idl.bools",
    "idl.bytes",
    "idl.strings",
    "idl.structs",
    "idl.handles",
    "idl.status",
    "idl.badge",
    "idl.malformed",
    "idl.kernel_msgs",
    "idl.shutdown",
]


@pytest.fixture(scope="module")
def run():
    r = mica.boot(cmdline="idle=exit", modules=[IDLTEST])
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_idltest(run, test_id):
    assert run.results(test_id) == [f"TEST {test_id} PASS"], run.log


def test_every_idltest_result_is_known(run):
    seen = re.findall(r"^TEST (\S+) ", run.log, re.M)
    assert sorted(seen) == sorted(IDS), run.log
    assert run.has("idltest: done"), run.log


def test_only_the_faulting_thread_was_killed(run):
    kills = re.findall(r"^thread \d+ killed: (.+) at rip 0x[0-9a-f]+$", run.log, re.M)
    assert kills == ["killed by its pager"], run.log
    assert not run.has("PANIC"), run.log


def test_nothing_leaked(run):
    """Every endpoint and handle made during the run is gone with the task."""
    before, after = re.findall(r"^memstats: (.*)$", run.log, re.M)
    assert before == after, run.log
