"""The pager in QEMU: it boots as the first task and starts tests/user/ptest/.

ptest prints "TEST pager.<id> PASS|FAIL" for each case (some in child
processes it spawns); the pager prints its free-frame count at start and
once every process has ended (pager.exit_when_idle), when it exits so that
idle=exit ends the run.
"""

import re

import pytest

import mica

PAGER = mica.BUILD / "user" / "pager.elf"
PTEST = mica.BUILD / "user" / "ptest.elf"
IDS = [
    "startup",
    "image",
    "image_dirty",
    "demand_zero",
    "heap",
    "heap_limits",
    "map",
    "sparse_unmap",
    "regions",
    "procs",
    "kill_unmapped",
    "kill_wtext",
    "kill_wrodata",
    "kill_xdata",
    "stack_growth",
    "stack_overflow",
    "spawn_many",
    "spawn_limit",
    "orphans",
    "adopt",
    "kill_tree",
    "mem_limit",
    "procs_limit",
    "spawn_errors",
    "kill",
    "bad_requests",
    "share",
    "share_readonly",
    "give",
    "oom",
    "donate",
    "free_blocks",
    "counts",
]
COUNTS = mica.PAGER_COUNTS


@pytest.fixture(scope="module")
def run():
    r = mica.boot(cmdline="idle=exit pager.exit_when_idle kstack=measure",
                  modules=[PAGER, PTEST])
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


def test_kernel_stacks_have_room(run):
    """kstack=measure: the pager's calls (spawn, destroy, map) leave half of each kernel stack."""
    m = re.search(r"^kstack: deepest (\d+) of (\d+) bytes \(thread \d+\)$", run.log, re.M)
    assert m, run.log
    assert 0 < int(m[1]) <= int(m[2]) // 2, run.log


@pytest.mark.parametrize("test_id", IDS)
def test_ptest(run, test_id):
    assert run.results(f"pager.{test_id}") == [f"TEST pager.{test_id} PASS"], run.log


def test_every_ptest_result_is_known(run):
    assert run.result_ids("pager") == sorted(IDS), run.log
    assert run.has("ptest: done"), run.log


def test_frames_all_back(run):
    """Every frame is back in the pool (or given to the kernel) once all processes ended."""
    counts = COUNTS.findall(run.log)
    assert [c[0] for c in counts] == ["start", "idle"], run.log
    start, idle = counts
    assert int(idle[1]) + int(idle[4]) == int(start[1]), run.log
    assert idle[2] == start[2], run.log


def test_bad_accesses_kill_only_the_offender(run):
    kills = re.findall(r"^pager: killing ptest\.elf pid \d+: (.+) at 0x", run.log, re.M)
    assert sorted(kills) == sorted([
        "address in no region",
        "access not allowed",
        "access not allowed",
        "access not allowed",
        "stack overflow",
        "access not allowed",
        "out of memory",
        "memory limit",
        "memory limit",
    ]), run.log
    assert not run.has("PANIC"), run.log
    assert not run.has("pager: bug"), run.log


def test_init_by_name():
    """init=<module> picks the program: a module it does not have ends the pager, and the run
    fails (the first task's exit code is the run's verdict)."""
    r = mica.boot(cmdline="idle=exit pager.exit_when_idle init=nosuch.elf",
                  modules=[PAGER, PTEST], timeout=60)
    assert r.rc == mica.EXIT_FAILURE, r.log
    assert r.has("kernel: the first task failed"), r.log
    assert r.has('pager: cannot start init "nosuch.elf"'), r.log


def test_small_memory():
    """At 32 MiB the kernel's reserve is small: the pager feeds it (from 2 MiB pages of its
    physmap too, which it splits first), and every case still passes."""
    r = mica.boot(cmdline="idle=exit pager.exit_when_idle", mem="32M", modules=[PAGER, PTEST])
    assert r.rc == mica.EXIT_SUCCESS, r.log
    results = re.findall(r"^TEST pager\.(\S+) (\S+)", r.log, re.M)
    assert sorted(results) == sorted((i, "PASS") for i in IDS), r.log
    start, idle = COUNTS.findall(r.log)
    assert int(idle[1]) + int(idle[4]) == int(start[1]), r.log
    assert int(idle[4]) > 0, r.log
    assert not r.has("pager: bug"), r.log


def test_kernel_counts_back(run):
    """The kernel's counts after the run: nothing mapped, no extra table or object; the
    frames the pager donated moved from the pool to the reserve, and are free there."""
    stats = [dict(kv.split("=") for kv in line.split())
             for line in re.findall(r"^memstats: (.*)$", run.log, re.M)]
    assert len(stats) == 2, run.log
    before, after = ({k: int(v) for k, v in s.items()} for s in stats)
    donated = int(COUNTS.findall(run.log)[-1][4])
    assert after["pool_mapped"] == after["mappings"] == 0, run.log
    assert (after["tables"], after["objects"]) == (before["tables"], before["objects"]), run.log
    assert after["pool"] == before["pool"] - donated, run.log
    assert after["reserve"] == before["reserve"] + donated, run.log
    assert after["reserve_free"] == before["reserve_free"] + donated, run.log


def test_init_ending_ends_what_is_left():
    """Init (here ptest, in mode leave) starts children, one of which would run for ever,
    and ends: nothing can supervise them, so the pager kills what still runs, the run
    ends and every frame comes back."""
    r = mica.boot(cmdline="idle=exit pager.exit_when_idle init.args=leave",
                  modules=[PAGER, PTEST], timeout=90)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    assert len(re.findall(r"^pager: init ended: killing ptest\.elf pid \d+$", r.log, re.M)) >= 1, \
        r.log
    assert not r.has("adopted by init"), r.log
    assert r.frames_back(), r.log
