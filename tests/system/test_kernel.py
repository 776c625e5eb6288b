"""The kernel core seen from user mode: tests/user/ktest.c runs as the first task.

ktest prints "TEST <id> PASS|FAIL <reason>" lines; each is its own pytest
test here. The kernel's own lines show thread exits and kills and the frame
counts before the task started and after every user thread is gone.
"""

import re

import pytest

import mica

KTEST = mica.BUILD / "user" / "ktest.elf"
IDS = [
    "syscall.debug_write",
    "syscall.bad_pointer",
    "syscall.bad_number",
    "syscall.regs_preserved",
    "sched.bad_create",
    "sched.preemption",
    "fault.kill_thread",
    "ipc.words_badges",
    "ipc.buffers",
    "ipc.handle_transfer",
    "ipc.errors",
    "ipc.peer_gone",
    "ipc.endpoint_closed",
]


@pytest.fixture(scope="module")
def run():
    r = mica.boot(cmdline="idle=exit", modules=[KTEST])
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_ktest(run, test_id):
    lines = [ln for ln in run.lines if ln.startswith(f"TEST {test_id} ")]
    assert lines == [f"TEST {test_id} PASS"], run.log


def test_every_ktest_result_is_known(run):
    seen = re.findall(r"^TEST (\S+) ", run.log, re.M)
    assert sorted(seen) == sorted(IDS), run.log


def test_user_output_and_task_start(run):
    assert run.has("hello from user mode"), run.log
    assert run.line('boottask: "ktest.elf" started'), run.log
    assert run.has("ktest: done"), run.log


def test_faulting_threads_are_killed_and_named(run):
    kills = re.findall(r"^thread \d+ killed: (.+) at rip 0x[0-9a-f]+$", run.log, re.M)
    assert kills == ["#UD invalid opcode", "#PF page fault", "#PF page fault",
                     "#GP general protection"], run.log
    assert not run.has("PANIC"), run.log


def test_exit_codes_reported(run):
    codes = [int(c) for c in re.findall(r"^thread \d+ exited: code (-?\d+)$", run.log, re.M)]
    # main 0, the endpoint-closed waiter 0, the echo server 7 (asked to die), spinners 100, 101
    assert sorted(codes) == [0, 0, 7, 100, 101], run.log


def test_frames_return_to_their_boot_values(run):
    """Every frame the task and its threads used is free again at the end."""
    counts = re.findall(r"^frames: total=(\d+) free=(\d+) used=(\d+)$", run.log, re.M)
    assert len(counts) == 2, run.log
    assert counts[0] == counts[1], run.log
